/**
 * Carries out one merge run (merge-plan.ts decides which): read the run's chunks, check them,
 * write ONE per-partition segment object (format version 2: its footer names the topic id,
 * partition and each chunk's offsets, so the partition's index can be rebuilt from S3 alone),
 * then repoint the entries to it in transactions conditional on their old pointers.
 *
 * Safety, step by step (a crash may stop it anywhere):
 *  - before the PUT nothing is written; after the PUT and before any repoint the new object is
 *    an orphan, unreferenced, collected after the grace period;
 *  - repoints go in chunks of at most 100 entries; each entry points at the same bytes before
 *    and after, so a crash between chunks leaves a correct, partly merged partition that a
 *    later pass merges further (the next plan sees the moved entries as one unit);
 *  - a chunk whose entries changed meanwhile (another runner merged them, the topic was
 *    deleted) is cancelled whole: nothing half-applied, and the loser's object is an orphan;
 *  - no repoint is sent once the new object is older than half the GC grace: the collector
 *    never deletes an object an entry is about to point at (it waits the full grace from the
 *    object's PUT, and only deletes objects no entry references);
 *  - the sources' way to garbage collection is marked before each repoint transaction
 *    (`beforeRepoint`: the sweep item's dirty mark), so a crash right after one cannot leave
 *    them unswept, and a sweep that started between two chunks still hears of the later one.
 * Batches are copied byte for byte (not re-batched or recompressed; BENCHMARKS.md has both
 * measured): offsets, CRCs, compression and producer fields stay exactly as produced.
 * A chunk that fails its CRC is not copied (the run is skipped and reported): corruption
 * stays where it was found, visible to an operator, and is never spread into a new object.
 */
import { encodeSegment, type SegmentChunkInput } from '../codec/segment.ts';
import { verifyRecordBatches } from '../codec/record-batch.ts';
import type { Clock, IdGenerator } from '../deps.ts';
import { MissingSegmentError } from '../errors.ts';
import type { TopicPartition } from '../model/topic.ts';
import type { IndexEntry, IndexStore } from '../storage/index-store.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import type { MergeRun } from './merge-plan.ts';

export interface MergeDeps {
  readonly index: Pick<IndexStore, 'repoint'>;
  readonly segments: Pick<SegmentStore, 'read' | 'put' | 'objectKeyFor'>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Called before each repoint transaction (garbage collection must hear of moves before they happen). */
  readonly beforeRepoint: () => Promise<void>;
}

export interface MergeOptions {
  readonly gcGraceMs: number;
  /** Source ranges read at once (each is one ranged GET unless adjacent). */
  readonly readConcurrency: number;
}

export type MergeOutcome =
  | {
      readonly kind: 'merged';
      readonly object: string;
      readonly entries: number;
      /** Entries that stayed where they were (another runner moved them first, or a crash/stop). */
      readonly lost: number;
      readonly bytes: number;
      readonly sourceObjects: number;
      readonly moved: readonly number[];
    }
  | { readonly kind: 'skipped'; readonly reason: 'source-moved' | 'corrupt' | 'too-slow'; readonly detail?: string };

export async function executeMerge(
  deps: MergeDeps,
  opts: MergeOptions,
  tp: TopicPartition,
  run: MergeRun,
  entries: ReadonlyMap<number, IndexEntry>,
): Promise<MergeOutcome> {
  const placed = run.entries;
  const chunks: Uint8Array[] = [];
  try {
    for (let i = 0; i < placed.length; i += opts.readConcurrency) {
      const part = placed.slice(i, i + opts.readConcurrency);
      chunks.push(...(await deps.segments.read(part.map((p) => ({ object: p.from.object, position: p.from.position, length: p.from.length })))));
    }
  } catch (err) {
    // A source was moved and collected by a concurrent runner: its plan is stale, not wrong.
    if (err instanceof MissingSegmentError) return { kind: 'skipped', reason: 'source-moved', detail: err.object };
    throw err;
  }
  const inputs: SegmentChunkInput[] = [];
  for (let i = 0; i < placed.length; i++) {
    const e = entries.get(placed[i]!.slot)!;
    if (!verifyRecordBatches(chunks[i]!)) return { kind: 'skipped', reason: 'corrupt', detail: `${e.object} slot ${e.slot}` };
    inputs.push({
      topicId: tp.topicId,
      partition: tp.partition,
      batches: chunks[i]!,
      recordCount: e.recordCount ?? e.end - e.base,
      minTimestamp: e.minTimestamp ?? 0,
      maxTimestamp: e.maxTimestamp ?? 0,
      baseOffset: e.base,
      endOffset: e.end,
    });
  }
  const segment = encodeSegment(inputs);
  // M4: the encoder lays chunks out exactly as planned (gapless, in slot order).
  segment.chunks.forEach((c, i) => {
    if (c.byteOffset !== placed[i]!.position) throw new Error(`merge layout mismatch at slot ${placed[i]!.slot}`);
  });
  const putAt = deps.clock.now();
  const object = await deps.segments.put(deps.segments.objectKeyFor(deps.ids.newId(), putAt), segment.bytes);
  const result = await deps.index.repoint(
    tp,
    placed.map((p) => ({ slot: p.slot, from: { object: p.from.object, position: p.from.position }, to: { object, position: p.position } })),
    async () => {
      if (deps.clock.now() - putAt >= opts.gcGraceMs / 2) return false;
      await deps.beforeRepoint();
      return true;
    },
  );
  if (result.moved.length === 0 && result.stopped) return { kind: 'skipped', reason: 'too-slow' };
  return {
    kind: 'merged',
    object,
    entries: result.moved.length,
    lost: placed.length - result.moved.length,
    bytes: run.bytes,
    sourceObjects: new Set(placed.map((p) => p.from.object)).size,
    moved: result.moved,
  };
}
