/**
 * A read session on one partition (the unary fetch runs one, POST /v1/fetch one per
 * partition): from an offset, batches of records in offset order. At the high watermark it
 * waits for a commit: the in-process CommitSignal wakes it at once, and it re-reads every
 * pollIntervalMs to see commits made by other instances. It waits until its deadline or its
 * abort signal.
 *
 * What it yields:
 *  - every read that hands something out (records, or a nextOffset past holes): so below the
 *    high watermark a batch comes without waiting;
 *  - once its wait is over (deadline passed, or aborted) while at the high watermark: one
 *    empty batch with nextOffset = the offset and the bounds as last read; then it ends.
 * So a consumer that takes the first batch gets exactly the unary fetch answer (records, an
 * empty answer at the high watermark after the long poll, or holes skipped), and one that
 * keeps iterating follows the log.
 *
 * Errors (OFFSET_OUT_OF_RANGE, storage) are thrown from `next()` and end the session. An
 * 'earliest' or 'latest' start is resolved once, on the first view.
 */
import type { Clock } from '../deps.ts';
import type { LogRecord } from '../model/record.ts';
import type { TopicPartition } from '../model/topic.ts';
import type { CommitSignal } from './commit-signal.ts';
import type { StableView } from './partition-index.ts';

export type OffsetSpec = number | 'earliest' | 'latest';

/**
 * One batch of a session, in the shape of a fetch answer; its records are bytes (the API
 * encodes them for the wire).
 */
export interface ReadBatch {
  readonly partition: number;
  readonly records: LogRecord[];
  /** Where to continue; skips holes. */
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

export interface SessionWait {
  /** Clock time (ms) after which the session stops waiting at the high watermark. */
  readonly deadline: number;
  /** Ends the wait early (the client went away, or another partition answered). */
  readonly signal?: AbortSignal;
}

/** What a session reads through: views of the partition, and one batch from a view. */
export interface SessionReader {
  view(tp: TopicPartition): Promise<StableView>;
  read(view: StableView, offset: number): Promise<ReadBatch>;
}

export interface SessionDeps {
  readonly clock: Clock;
  readonly commits: CommitSignal;
  /** Re-read interval while waiting, for commits no in-process signal announces. */
  readonly pollIntervalMs: number;
}

export function resolveOffset(spec: OffsetSpec, view: Pick<StableView, 'logStartOffset' | 'highWatermark'>): number {
  if (spec === 'earliest') return view.logStartOffset;
  if (spec === 'latest') return view.highWatermark;
  return spec;
}

/** The one poll loop of the read path. */
export async function* readSession(
  deps: SessionDeps,
  reader: SessionReader,
  tp: TopicPartition,
  from: OffsetSpec,
  wait: SessionWait,
): AsyncGenerator<ReadBatch, void, undefined> {
  let offset: number | undefined;
  const over = () => wait.signal?.aborted === true || wait.deadline - deps.clock.now() <= 0;
  for (;;) {
    const view = await reader.view(tp);
    offset ??= resolveOffset(from, view);
    const batch = await reader.read(view, offset);
    if (batch.records.length > 0 || batch.nextOffset > offset) {
      yield batch;
      offset = batch.nextOffset;
      continue;
    }
    // At the high watermark: nothing to hand out until a commit.
    if (over()) {
      yield batch;
      return;
    }
    const remaining = wait.deadline - deps.clock.now();
    await deps.commits.wait([tp], Math.min(remaining, deps.pollIntervalMs), wait.signal);
    if (wait.signal?.aborted) {
      // Answer with what was read last rather than reading again for a caller that is done.
      yield batch;
      return;
    }
  }
}
