/**
 * Log compaction of one partition on its pass (the decision: compaction-plan.ts C1-C8), streamed
 * as Kafka's cleaner does it, so memory is the key map, not the partition:
 *  1. The entries from the first not emptied by retention to the stable end (index metadata
 *     only, at most `maxEntries`), the dirty part from the checkpoint (`cTo`) on, and the
 *     compactable end (the first entry within min.compaction.lag.ms, by its largest timestamp).
 *  2. Due only when the dirty part holds at least half the bytes (Kafka's
 *     min.cleanable.dirty.ratio 0.5), its oldest record is older than max.compaction.lag.ms,
 *     or a kept tombstone's delete horizon has passed.
 *  3. The key map (KeyMap: a fixed number of keys, an MD5 hash each) over the dirty part,
 *     read chunk by chunk; with more keys than fit, the pass covers up to the first record whose
 *     key did not fit (the new checkpoint), and the next pass goes on from there.
 *  4. Every entry before min(checkpoint, compactable end) read again, chunk by chunk: records
 *     only removed, never reordered; batches re-encoded with their own offsets (offset deltas
 *     and lastOffsetDelta kept, so offsets never change), compression, producer fields and
 *     timestamps; a batch left without records stays as an empty batch (the offsets after it
 *     keep their place), an entry left without records becomes an empty range (a hole).
 *     Cleaned entries go into new per-partition segments (format 2) of at most the target size.
 *  5. Each segment: PUT, then (GC hears first: dirty mark) the entries it holds are repointed
 *     in transactions conditional on their old pointers, with the summary reset to a recount
 *     (the next pass recounts; the checkpoint moves with the last transaction only).
 * Crashes: before a PUT nothing changed; after it the object is an orphan; between
 * transactions some entries are cleaned (holding exactly the records a plan keeps) and the
 * checkpoint has not moved, so the next pass plans the same range again and removes nothing
 * more from the cleaned ones (C8). A concurrent merge or retention makes a transaction lose;
 * the pass stops and the next one starts over.
 */
import { createHash } from 'node:crypto';
import { encodeRecordBatch, type RecordBatch } from '../codec/record-batch.ts';
import { encodeSegment, type SegmentChunkInput } from '../codec/segment.ts';
import type { Clock, IdGenerator } from '../deps.ts';
import { MissingSegmentError } from '../errors.ts';
import type { TopicConfig, TopicPartition } from '../model/topic.ts';
import { recordBudgetBytes } from '../log/record-size.ts';
import { decodeStored } from '../log/stored-batches.ts';
import type { EntryRewrite, IndexEntry, IndexStore, MaintenanceSummary } from '../storage/index-store.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import { KeyMap, compactableEndOf, dirtyFromOf, retainOf, type CompactionRecord } from './compaction-plan.ts';

export interface CompactionDeps {
  readonly index: Pick<IndexStore, 'entries' | 'rewriteEntries'>;
  readonly segments: Pick<SegmentStore, 'read' | 'put' | 'objectKeyFor'>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Before entries are repointed or emptied: their old objects may become garbage. */
  readonly beforeRewrite: () => Promise<void>;
}

export interface CompactionOptions {
  /** Keys one pass maps (each ~100 bytes of memory): Kafka's cleaner offset map. */
  readonly maxKeys: number;
  /** Entries one pass looks at (index metadata, ~300 bytes each). */
  readonly maxEntries: number;
  readonly targetBytes: number;
  readonly readConcurrency: number;
}

export type CompactionConfig = Pick<TopicConfig, 'cleanup.policy' | 'min.compaction.lag.ms' | 'max.compaction.lag.ms' | 'delete.retention.ms'>;

export interface CompactionReport {
  readonly cleaned: boolean;
  readonly reason?: 'dirty-ratio' | 'max-lag' | 'tombstones';
  readonly keys: number;
  readonly removed: number;
  readonly emptied: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** The new checkpoint, and whether keys were left for another pass (the map filled). */
  readonly compactedTo: number;
  readonly more: boolean;
  /**
   * When the partition needs a pass for compaction even if nothing is written (ms; 0: none):
   * young entries leave the lag, max.compaction.lag.ms runs out, or a tombstone's horizon passes.
   */
  readonly nextDue: number;
}

const NOT_DUE: CompactionReport = { cleaned: false, keys: 0, removed: 0, emptied: 0, bytesBefore: 0, bytesAfter: 0, compactedTo: 0, more: false, nextDue: 0 };

/** The earliest of the times given that are set (> 0 and finite), else 0. */
function earliest(...times: number[]): number {
  const set = times.filter((t) => t > 0 && Number.isFinite(t) && t < Number.MAX_SAFE_INTEGER);
  return set.length === 0 ? 0 : Math.min(...set);
}

export function keyHash(key: Uint8Array | null): string {
  return createHash('md5').update(key ?? new Uint8Array()).digest('hex');
}

export async function compactPartition(
  deps: CompactionDeps,
  opts: CompactionOptions,
  tp: TopicPartition,
  stableSlots: number,
  config: CompactionConfig,
  summary: MaintenanceSummary,
): Promise<{ summary: MaintenanceSummary; report: CompactionReport }> {
  if (!config['cleanup.policy'].includes('compact')) return { summary, report: NOT_DUE };
  const now = deps.clock.now();
  const from = summary.cleared;
  const to = Math.min(stableSlots, from + opts.maxEntries);
  if (to <= from) return { summary, report: NOT_DUE };
  const entries = await deps.index.entries(tp, from, to, to - from);
  const data = entries.filter((e) => !e.hole);
  if (data.length === 0) return { summary, report: NOT_DUE };
  const start = entries[0]!.base;
  const end = entries[entries.length - 1]!.end;
  const dirtyFrom = dirtyFromOf(start, end, summary.compactedTo > 0 ? summary.compactedTo : undefined);
  const compactableEnd = compactableEndOf(
    data.map((e) => ({ base: e.base, maxTimestamp: e.maxTimestamp ?? Infinity })),
    end,
    { now, minCompactionLagMs: config['min.compaction.lag.ms'] },
  );
  const dirty = data.filter((e) => e.end > dirtyFrom && e.base < compactableEnd);
  const bytes = (list: readonly IndexEntry[]) => list.reduce((n, e) => n + (e.length ?? 0), 0);
  const tombstonesDue = data.some((e) => e.tombstonesAt !== undefined && now >= e.tombstonesAt + config['delete.retention.ms'] && e.base < compactableEnd);
  const overdue = dirty.some((e) => (e.minTimestamp ?? now) < now - config['max.compaction.lag.ms']);
  const reason = dirty.length > 0 && 2 * bytes(dirty) >= bytes(data) ? 'dirty-ratio' : dirty.length > 0 && overdue ? 'max-lag' : tombstonesDue ? 'tombstones' : undefined;
  // When a pass is due without new writes: the first young entry leaves the lag, the oldest
  // dirty record reaches max.compaction.lag.ms, a kept tombstone's horizon passes.
  const young = data.find((e) => e.base >= compactableEnd);
  const nextDue = earliest(
    young ? (young.maxTimestamp ?? 0) + config['min.compaction.lag.ms'] + 1 : 0,
    ...dirty.map((e) => (e.minTimestamp ?? 0) + config['max.compaction.lag.ms'] + 1),
    ...data.map((e) => (e.tombstonesAt === undefined ? 0 : e.tombstonesAt + config['delete.retention.ms'] + 1)),
  );
  if (reason === undefined) return { summary, report: { ...NOT_DUE, nextDue } };

  // 3: the map over the dirty part, chunk by chunk.
  const map = new KeyMap(opts.maxKeys);
  const chunksOf = async function* (list: readonly IndexEntry[]): AsyncGenerator<{ entry: IndexEntry; batches: RecordBatch[] }> {
    for (let i = 0; i < list.length; i += opts.readConcurrency) {
      const part = list.slice(i, i + opts.readConcurrency);
      const read = await deps.segments.read(part.map((e) => ({ object: e.object!, position: e.position!, length: e.length! })));
      for (let k = 0; k < part.length; k++) yield { entry: part[k]!, batches: decodeStored(part[k]!, read[k]!) };
    }
  };
  try {
    fill: for await (const { batches } of chunksOf(dirty)) {
      for (const b of batches) {
        for (const r of b.records) {
          if (r.offset < dirtyFrom) continue;
          if (!map.add({ offset: r.offset, keyHash: keyHash(r.key) })) break fill;
        }
      }
    }
  } catch (err) {
    if (err instanceof MissingSegmentError) return { summary, report: NOT_DUE }; // moved under us: next pass
    throw err;
  }
  const more = map.full !== undefined;
  const checkpoint = map.full ?? Math.max(dirtyFrom, compactableEnd);
  const limit = Math.min(checkpoint, compactableEnd);

  // 4-5: clean what lies before the limit, segment by segment.
  const covered = data.filter((e) => e.base < limit);
  const rules = { now, deleteRetentionMs: config['delete.retention.ms'] };
  const counts = { superseded: 0, expiredTombstones: 0 };
  const rewrites: EntryRewrite[] = [];
  let pending: { entry: IndexEntry; chunk: SegmentChunkInput; budgetBytes: number; tombstonesAt?: number }[] = [];
  let pendingBytes = 0;
  let version = summary.version;
  let removed = 0;
  let emptied = 0;
  let bytesAfter = 0;
  let stopped = false;
  const flush = async (): Promise<void> => {
    if (pending.length > 0) {
      const segment = encodeSegment(pending.map((p) => p.chunk));
      const object = deps.segments.objectKeyFor(deps.ids.newId(), deps.clock.now());
      await deps.segments.put(object, segment.bytes);
      pending.forEach((p, i) => {
        const loc = segment.chunks[i]!;
        rewrites.push({
          slot: p.entry.slot,
          from: { object: p.entry.object!, position: p.entry.position! },
          to: { kind: 'moved', object, position: loc.byteOffset, length: loc.byteLength, recordCount: loc.recordCount, budgetBytes: p.budgetBytes },
          ...(p.tombstonesAt !== undefined ? { tombstonesAt: p.tombstonesAt } : {}),
        });
      });
    }
    pending = [];
    pendingBytes = 0;
  };
  const write = async (last: boolean): Promise<void> => {
    if (stopped || (rewrites.length === 0 && !last)) return;
    await deps.beforeRewrite();
    const out = await deps.index.rewriteEntries(tp, version, rewrites.splice(0), from, last ? checkpoint : summary.compactedTo, deps.clock.now());
    version += out.applied;
    if (out.applied < out.of) stopped = true;
  };
  try {
    for await (const { entry, batches } of chunksOf(covered)) {
      if (stopped) break;
      const records: CompactionRecord[] = batches.flatMap((b) => b.records.map((r) => ({ offset: r.offset, keyHash: keyHash(r.key), tombstone: r.value === null, timestamp: r.timestamp })));
      const known = entry.tombstonesAt === undefined ? undefined : new Map(records.filter((r) => r.tombstone).map((r) => [r.offset, entry.tombstonesAt!] as const));
      const horizons = new Map<number, number>();
      const decision = retainOf({ slot: entry.slot, base: entry.base, end: entry.end, records }, map.latest, limit, { ...rules, firstCleanedAt: known }, horizons, counts);
      // All of an entry's tombstones are first cleaned by the same pass: one time per entry.
      const tombstonesAt = horizons.size > 0 ? Math.min(...horizons.values()) : undefined;
      const newHorizon = tombstonesAt !== undefined && tombstonesAt !== entry.tombstonesAt;
      if (decision.removed === 0) {
        bytesAfter += entry.length ?? 0;
        if (newHorizon) rewrites.push({ slot: entry.slot, from: { object: entry.object!, position: entry.position! }, to: { kind: 'same' }, tombstonesAt });
        continue;
      }
      removed += decision.removed;
      if (decision.empty) {
        emptied++;
        rewrites.push({ slot: entry.slot, from: { object: entry.object!, position: entry.position! }, to: { kind: 'empty' } });
        continue;
      }
      const keep = new Set(decision.kept);
      let budgetBytes = 0;
      const encoded = batches.map((b) => {
        const kept = b.records.filter((r) => keep.has(r.offset));
        for (const r of kept) budgetBytes += recordBudgetBytes((r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0) + r.headers.reduce((n, h) => n + Buffer.byteLength(h.key) + (h.value?.byteLength ?? 0), 0));
        const logAppend = b.timestampType === 'LogAppendTime';
        return encodeRecordBatch({
          compression: b.compression,
          timestampType: b.timestampType,
          partitionLeaderEpoch: b.partitionLeaderEpoch,
          producerId: b.producerId,
          producerEpoch: b.producerEpoch,
          baseSequence: b.baseSequence,
          lastOffsetDelta: b.lastOffsetDelta,
          ...(logAppend ? { maxTimestamp: b.maxTimestamp } : {}),
          records: kept.map((r) => ({ offsetDelta: r.offsetDelta, timestamp: r.timestamp, ...(logAppend ? { timestampDelta: r.timestampDelta } : {}), key: r.key, value: r.value, headers: r.headers })),
        });
      });
      const chunk = Buffer.concat(encoded);
      bytesAfter += chunk.byteLength;
      pending.push({
        entry,
        budgetBytes,
        ...(tombstonesAt !== undefined ? { tombstonesAt } : {}),
        chunk: {
          topicId: tp.topicId,
          partition: tp.partition,
          batches: chunk,
          recordCount: decision.kept.length,
          minTimestamp: entry.minTimestamp ?? 0,
          maxTimestamp: entry.maxTimestamp ?? 0,
          baseOffset: entry.base,
          endOffset: entry.end,
        },
      });
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= opts.targetBytes) {
        await flush();
        await write(false);
      }
    }
    if (!stopped) {
      await flush();
      await write(true);
    }
  } catch (err) {
    if (err instanceof MissingSegmentError) stopped = true; // moved under us: the next pass starts over
    else throw err;
  }
  // What the hint now holds: every applied transaction reset the summary to a recount from
  // `from`; only the last one moved the checkpoint.
  const applied = version > summary.version;
  const reset = { settled: from, through: from, settledBytes: 0, settledSegments: 0, tailBytes: 0, tailSegments: 0 };
  const next: MaintenanceSummary = !applied
    ? summary
    : { ...summary, ...reset, version, revision: summary.revision + (version - summary.version), compactedTo: stopped ? summary.compactedTo : checkpoint };
  return {
    summary: next,
    report: {
      cleaned: !stopped,
      reason,
      keys: map.latest.size,
      removed,
      emptied,
      bytesBefore: bytes(covered),
      bytesAfter,
      compactedTo: stopped ? summary.compactedTo : checkpoint,
      more: more || stopped,
      // After this pass: the young entries' turn, and the horizons it just set.
      nextDue: earliest(young ? (young.maxTimestamp ?? 0) + config['min.compaction.lag.ms'] + 1 : 0, now + config['delete.retention.ms'] + 1),
    },
  };
}
