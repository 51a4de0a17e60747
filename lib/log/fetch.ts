/**
 * Fetch (docs/ARCHITECTURE.md, "Read path"): stable view → find the entry holding the offset → plan entries for the
 * byte/record budget (fetch-plan.ts, holes skipped) → ranged reads (cache first, adjacent
 * ranges merged) → decode, patch base offsets → cut the records (fetch-plan.ts).
 *
 * Every read goes through one read session (read-session.ts), which owns the long poll:
 * `fetch()` answers with its first batch, `fetchMany()` races one session per partition, and
 * a streaming route can follow one.
 *
 * As in Kafka: a fetch at exactly the high watermark answers empty (or long-polls); below the
 * log start offset or above the high watermark answers OFFSET_OUT_OF_RANGE with both bounds; the
 * first record is returned even if it alone exceeds maxBytes, so a consumer always progresses.
 */
import type { DecodedRecord } from '../codec/record-batch.ts';
import { FETCH_READ_AHEAD, PAGE_SIZES, TUNING_DEFAULTS } from '../config.ts';
import type { Clock } from '../deps.ts';
import { OffsetOutOfRangeError, SluiceError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import type { LogRecord } from '../model/record.ts';
import type { TopicPartition } from '../model/topic.ts';
import type { IndexEntry, IndexStore } from '../storage/index-store.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import type { CommitSignal } from './commit-signal.ts';
import { cutRecords, fetchBudget, planEntries, readAhead, type DecodedEntry, type FetchBudget } from './fetch-plan.ts';
import type { PartitionIndex, StableView } from './partition-index.ts';
import { readSession, type OffsetSpec, type ReadBatch } from './read-session.ts';
import { recordBudgetBytes } from './record-size.ts';
import { stableEntryPages } from './stable-entries.ts';
import { decodeStored } from './stored-batches.ts';
import { readEntryChunks } from './entry-chunks.ts';
import type { TopicCache } from './topic-cache.ts';

export { resolveOffset, type OffsetSpec } from './read-session.ts';

const FETCH_READ_AHEAD_BYTES = FETCH_READ_AHEAD.bytes;
const READ_AHEAD_ENTRIES = FETCH_READ_AHEAD.entries;

export interface FetchInput {
  readonly offset: OffsetSpec;
  readonly maxRecords: number;
  readonly maxBytes: number;
  /** Long-poll time at the high watermark; capped at LIMITS.maxWaitMs here (only here). */
  readonly waitMs: number;
}

export type FetchResult = ReadBatch;

export interface PartitionFetchRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: OffsetSpec;
}

export interface PartitionFetchResult extends Partial<FetchResult> {
  readonly topic: string;
  readonly partition: number;
  /** The partition's error; the API layer turns it into the error body (and logs a 5xx). */
  readonly error?: SluiceError;
}

/** What a session reads per batch, and how. */
export interface SessionOptions {
  readonly maxRecords: number;
  readonly maxBytes: number;
  /** Clock time (ms) after which the session stops waiting at the high watermark. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
}

export interface FetchOptions {
  /** Re-check interval of a long poll when no in-process commit wakes it. */
  readonly pollIntervalMs: number;
}

export const DEFAULT_FETCH_OPTIONS: FetchOptions = { pollIntervalMs: TUNING_DEFAULTS.pollIntervalMs };

/** A decoded record on its way to the cut: its size for the budget, its answer timestamp. */
interface CutCandidate {
  readonly offset: number;
  readonly bytes: number;
  readonly record: DecodedRecord;
  readonly timestamp: number;
}

export class FetchService {
  constructor(
    private readonly topics: TopicCache,
    private readonly index: IndexStore,
    private readonly partitions: PartitionIndex,
    private readonly segments: SegmentStore,
    private readonly clock: Clock,
    private readonly signal: CommitSignal,
    private readonly opts: FetchOptions = DEFAULT_FETCH_OPTIONS,
  ) {}

  /** The partition a fetch names (UNKNOWN_TOPIC_OR_PARTITION if the topic lacks it). */
  async topicPartition(topicName: string, partition: number): Promise<TopicPartition> {
    const topic = await this.topics.withPartition(topicName, partition);
    return { topicId: topic.topicId, partition };
  }

  /** A read session from `from` (read-session.ts: what it yields, when it waits). */
  session(tp: TopicPartition, from: OffsetSpec, opts: SessionOptions): AsyncGenerator<ReadBatch, void, undefined> {
    const budget = fetchBudget(opts);
    return readSession(
      { clock: this.clock, commits: this.signal, pollIntervalMs: this.opts.pollIntervalMs },
      { view: (p) => this.partitions.view(p), read: (view, offset) => this.read(view, offset, budget) },
      tp,
      from,
      { deadline: opts.deadline, signal: opts.signal },
    );
  }

  /** One answer: the session's first batch. */
  async fetch(topicName: string, partition: number, input: FetchInput): Promise<FetchResult> {
    const tp = await this.topicPartition(topicName, partition);
    for await (const batch of this.session(tp, input.offset, { ...input, deadline: this.deadline(input.waitMs) })) return batch;
    throw new Error('a read session ended without a batch');
  }

  /**
   * Several partitions; answers as soon as any has records (or the wait ends). A partition's
   * error (unknown partition, out of range) is reported in its slot, not for the whole request.
   */
  async fetchMany(
    requests: readonly PartitionFetchRequest[],
    shared: Omit<FetchInput, 'offset'>,
  ): Promise<PartitionFetchResult[]> {
    const deadline = this.deadline(shared.waitMs);
    // Records in one partition end every other partition's wait.
    const answered = new AbortController();
    return Promise.all(
      requests.map(async (r): Promise<PartitionFetchResult> => {
        try {
          const tp = await this.topicPartition(r.topic, r.partition);
          let last: ReadBatch | undefined;
          for await (const batch of this.session(tp, r.offset, { ...shared, deadline, signal: answered.signal })) {
            last = batch;
            if (batch.records.length > 0) {
              answered.abort();
              break;
            }
          }
          return { topic: r.topic, ...last! };
        } catch (err) {
          // Kafka answers fetch errors per partition; only a failure that is not ours aborts.
          if (!(err instanceof SluiceError)) {
            answered.abort();
            throw err;
          }
          return { topic: r.topic, partition: r.partition, error: err };
        }
      }),
    );
  }

  /** The one place waitMs is capped. */
  private deadline(waitMs: number): number {
    return this.clock.now() + Math.min(waitMs, LIMITS.maxWaitMs);
  }

  /** One batch at `offset` from one view (the view's snapshot serves the whole batch). */
  private async read(view: StableView, offset: number, budget: FetchBudget): Promise<ReadBatch> {
    const { highWatermark, logStartOffset } = view;
    if (offset < logStartOffset || offset > highWatermark) {
      throw new OffsetOutOfRangeError(offset, logStartOffset, highWatermark);
    }
    const partition = view.tp.partition;
    // Field order as answers have always had it.
    const bounds = { partition, highWatermark, logStartOffset };
    if (offset === highWatermark) return { ...bounds, records: [], nextOffset: offset };

    const { planned, following } = await this.entriesFrom(view, offset, budget);
    // Entries after the plan in the same merged segment come along in a GET made anyway.
    const ahead = readAhead(planned, following, FETCH_READ_AHEAD_BYTES);
    const { entries, chunks, moved } = await readEntryChunks(this.index, this.segments, view.tp, planned, ahead);
    // Entries maintenance moved: later reads from this process's cache go straight to them.
    if (moved.length > 0) this.partitions.repointed(view.tp, moved);
    const cut = cutRecords(
      entries.map((e) => decodedEntry(e, chunks.get(e.slot))),
      offset,
      budget,
      highWatermark,
    );
    return { ...bounds, records: cut.records.map((c) => logRecord(partition, c.record, c.timestamp)), nextOffset: cut.nextOffset };
  }

  /**
   * The planned entries from the one holding `offset`, and the entries known after them (for
   * read-ahead). Served from the cached window when it reaches back far enough; else located
   * via the byOffset index and read page by page until the plan is covered (pages that reach
   * the window come from memory).
   */
  private async entriesFrom(
    view: StableView,
    offset: number,
    budget: FetchBudget,
  ): Promise<{ planned: readonly IndexEntry[]; following: readonly IndexEntry[] }> {
    const split = (all: readonly IndexEntry[], planned: readonly IndexEntry[]) => {
      const last = planned[planned.length - 1];
      const at = last === undefined ? all.length : all.indexOf(last) + 1;
      return { planned, following: all.slice(at, at + READ_AHEAD_ENTRIES) };
    };
    if (view.windowStartOffset <= offset && view.window.length > 0) return split(view.window, planEntries(view.window, offset, budget).entries);
    const from = (await this.index.slotAtOrBefore(view.tp, offset)) ?? 0;
    const collected: IndexEntry[] = [];
    for await (const page of stableEntryPages(this.index, view, from, PAGE_SIZES.fetchWalk)) {
      collected.push(...page);
      const plan = planEntries(collected, offset, budget);
      const last = plan.entries[plan.entries.length - 1];
      if (plan.covered || (last && last.end >= view.highWatermark)) return split(collected, plan.entries);
    }
    return split(collected, planEntries(collected, offset, budget).entries);
  }
}

/** A planned entry decoded lazily: the cut pulls records only until the budget is spent. */
function decodedEntry(entry: IndexEntry, chunk: Uint8Array | undefined): DecodedEntry<CutCandidate> {
  return {
    end: entry.end,
    records: chunk === undefined ? [] : candidates(entry, chunk),
  };
}

function* candidates(entry: IndexEntry, chunk: Uint8Array): Generator<CutCandidate> {
  for (const batch of decodeStored(entry, chunk)) {
    const logAppend = batch.timestampType === 'LogAppendTime';
    for (const r of batch.records) {
      yield {
        offset: r.offset,
        bytes: recordBudgetBytes(
          (r.key?.byteLength ?? 0) +
            (r.value?.byteLength ?? 0) +
            r.headers.reduce((n, h) => n + Buffer.byteLength(h.key) + (h.value?.byteLength ?? 0), 0),
        ),
        record: r,
        timestamp: logAppend ? batch.maxTimestamp : r.timestamp,
      };
    }
  }
}

/** A decoded record as the log hands it back: bytes, the answer's timestamp. */
function logRecord(partition: number, r: DecodedRecord, timestamp: number): LogRecord {
  return { partition, offset: r.offset, timestamp, key: r.key, value: r.value, headers: r.headers };
}
