/**
 * Log compaction of one partition on its pass (the decision: compaction-plan.ts C1-C8), streamed
 * as Kafka's cleaner does it, so memory is the key map, not the partition:
 *  1. One stream over the index entries (metadata only, page by page) from the first not
 *     emptied by retention to the stable end: the dirty part from the checkpoint (`cTo`) on,
 *     and the compactable end: the first entry with a record within min.compaction.lag.ms (by
 *     its largest timestamp) or not yet old enough to merge (the head, never compacted).
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
 *  5. Each segment, once full: PUT, then everything decided so far, in SLOT ORDER (so an
 *     expired tombstone never goes in a transaction before the one removing an older value of
 *     its key): entries repointed, emptied or given their tombstones' horizon, in transactions
 *     conditional on their old pointers, each resetting the summary to a recount and bumping
 *     the rewrite revision; the checkpoint moves with the final one only. No transaction is
 *     sent once the segment is older than half the GC grace (merge.ts's rule).
 * Memory: the key map, one segment being built, and the list of rewrites (a few numbers per
 * changed entry); never the partition's records or its index.
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
import { KeyMap, dirtyFromOf, retainOf, type CompactionRecord } from './compaction-plan.ts';

export interface CompactionDeps {
  readonly index: Pick<IndexStore, 'entries' | 'rewriteEntries'>;
  readonly segments: Pick<SegmentStore, 'read' | 'put' | 'objectKeyFor'>;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Before entries are repointed or emptied: their old objects may become garbage. */
  readonly beforeRewrite: () => Promise<void>;
}

export interface CompactionOptions {
  /** Keys one pass maps (each ~120 bytes of memory): Kafka's cleaner offset map. */
  readonly maxKeys: number;
  /** Entries younger than this are the head that is never compacted (still unmerged). */
  readonly mergeMinAgeMs: number;
  readonly targetBytes: number;
  readonly readConcurrency: number;
  /** New segments are repointed only while younger than half of this (as merges are). */
  readonly gcGraceMs: number;
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


/** Keys are hashed with their presence: a null key never collides with the empty one. */
export function keyHash(key: Uint8Array | null): string {
  const h = createHash('md5');
  h.update(key === null ? Buffer.from([0]) : Buffer.from([1]));
  if (key !== null) h.update(key);
  return h.digest('hex');
}

const PAGE = 1_000;

/** The earliest of the times given that are set (> 0 and finite), else 0. */
function earlier(a: number, b: number): number {
  const ok = (t: number) => t > 0 && Number.isFinite(t) && t < Number.MAX_SAFE_INTEGER;
  if (!ok(a)) return ok(b) ? b : 0;
  return ok(b) ? Math.min(a, b) : a;
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
  if (stableSlots <= from) return { summary, report: NOT_DUE };
  const pages = async function* (fromSlot: number, toSlot: number): AsyncGenerator<IndexEntry[]> {
    for (let at = fromSlot; at < toSlot; at += PAGE) yield await deps.index.entries(tp, at, Math.min(toSlot, at + PAGE), PAGE);
  };

  // 1-2: one stream over the metadata.
  const checkpoint0 = summary.compactedTo;
  let start: number | undefined;
  let end = 0;
  let compactableEnd: number | undefined;
  let compactableSlot = stableSlots;
  let allBytes = 0;
  let dirtyBytes = 0; // after the stored checkpoint, before the compactable end
  let overdue = false;
  let tombstonesDue = false;
  let nextDue = 0;
  let firstDirtySlot: number | undefined;
  let anyData = false;
  for await (const page of pages(from, stableSlots)) {
    for (const e of page) {
      start ??= e.base;
      end = e.end;
      if (e.hole) continue;
      anyData = true;
      if (e.tombstonesAt !== undefined) {
        const horizon = e.tombstonesAt + config['delete.retention.ms'];
        if (now >= horizon && compactableEnd === undefined) tombstonesDue = true;
        else nextDue = earlier(nextDue, horizon + 1);
      }
      if (compactableEnd !== undefined) continue;
      const young = (e.maxTimestamp ?? Infinity) > now - config['min.compaction.lag.ms'] || now - e.publishedAt < opts.mergeMinAgeMs;
      if (young) {
        compactableEnd = e.base;
        compactableSlot = e.slot;
        nextDue = earlier(nextDue, Math.max((e.maxTimestamp ?? 0) + config['min.compaction.lag.ms'], e.publishedAt + opts.mergeMinAgeMs) + 1);
        continue;
      }
      allBytes += e.length ?? 0;
      if (e.end > checkpoint0) {
        dirtyBytes += e.length ?? 0;
        firstDirtySlot ??= e.slot;
        if ((e.minTimestamp ?? now) < now - config['max.compaction.lag.ms']) overdue = true;
        else nextDue = earlier(nextDue, (e.minTimestamp ?? 0) + config['max.compaction.lag.ms'] + 1);
      }
    }
  }
  if (!anyData || start === undefined) return { summary, report: NOT_DUE };
  compactableEnd ??= end;
  // C1: a checkpoint outside the entries resets to the start (everything dirty again).
  const dirtyFrom = dirtyFromOf(start, end, checkpoint0 > 0 ? checkpoint0 : undefined);
  if (dirtyFrom === start && checkpoint0 > 0) {
    dirtyBytes = allBytes;
    firstDirtySlot = from;
  }
  const reason = dirtyBytes > 0 && 2 * dirtyBytes >= allBytes ? 'dirty-ratio' : dirtyBytes > 0 && overdue ? 'max-lag' : tombstonesDue ? 'tombstones' : undefined;
  if (reason === undefined) return { summary, report: { ...NOT_DUE, nextDue } };

  const readChunks = async function* (list: readonly IndexEntry[]): AsyncGenerator<{ entry: IndexEntry; batches: RecordBatch[] }> {
    for (let i = 0; i < list.length; i += opts.readConcurrency) {
      const part = list.slice(i, i + opts.readConcurrency);
      const read = await deps.segments.read(part.map((e) => ({ object: e.object!, position: e.position!, length: e.length! })));
      for (let k = 0; k < part.length; k++) yield { entry: part[k]!, batches: decodeStored(part[k]!, read[k]!) };
    }
  };

  // 3: the map over the dirty part, page by page, chunk by chunk.
  const map = new KeyMap(opts.maxKeys);
  try {
    fill: for await (const page of pages(firstDirtySlot ?? from, compactableSlot)) {
      for await (const { batches } of readChunks(page.filter((e) => !e.hole && e.end > dirtyFrom && e.base < compactableEnd!))) {
        for (const b of batches) {
          for (const r of b.records) {
            if (r.offset < dirtyFrom) continue;
            if (!map.add({ offset: r.offset, keyHash: keyHash(r.key) })) break fill;
          }
        }
      }
    }
  } catch (err) {
    if (err instanceof MissingSegmentError) return { summary, report: { ...NOT_DUE, nextDue: now } }; // moved under us: next pass
    throw err;
  }
  const more = map.full !== undefined;
  const checkpoint = map.full ?? Math.max(dirtyFrom, compactableEnd);
  const limit = Math.min(checkpoint, compactableEnd);

  // 4: clean what lies before the limit; segments PUT as they fill, rewrites kept for step 5.
  const rules = { now, deleteRetentionMs: config['delete.retention.ms'] };
  const counts = { superseded: 0, expiredTombstones: 0 };
  const rewrites: EntryRewrite[] = [];
  let pending: { entry: IndexEntry; chunk: SegmentChunkInput; budgetBytes: number; tombstonesAt?: number }[] = [];
  let pendingBytes = 0;
  /** When the segment last PUT was written: its entries are repointed right after it. */
  let putAt: number | undefined;
  let version = summary.version;
  let stopped = false;
  let wroteRewrites = false;
  const young = () => putAt === undefined || deps.clock.now() - putAt < opts.gcGraceMs / 2;
  /**
   * Writes what was decided so far, in slot order: everything in `rewrites` lies before the
   * entry being processed, so transactions follow slot order across writes too (an expired
   * tombstone never goes before an older value of its key). The checkpoint moves with the
   * final write only.
   */
  const write = async (final: boolean): Promise<void> => {
    if (stopped || (!final && rewrites.length === 0)) return;
    if (!young()) {
      stopped = true;
      return;
    }
    const batch = rewrites.splice(0).sort((a, b) => a.slot - b.slot);
    if (batch.length > 0) {
      await deps.beforeRewrite();
      wroteRewrites = true;
    }
    const out = await deps.index.rewriteEntries(tp, version, batch, from, final ? checkpoint : summary.compactedTo, deps.clock.now(), young);
    version += out.applied;
    if (out.applied < out.of) stopped = true;
  };
  let removed = 0;
  let emptied = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  let keptTombstones = false;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const segment = encodeSegment(pending.map((p) => p.chunk));
    putAt = deps.clock.now();
    const object = await deps.segments.put(deps.segments.objectKeyFor(deps.ids.newId(), putAt), segment.bytes);
    pending.forEach((p, i) => {
      const loc = segment.chunks[i]!;
      rewrites.push({
        slot: p.entry.slot,
        from: { object: p.entry.object!, position: p.entry.position! },
        to: { kind: 'moved', object, position: loc.byteOffset, length: loc.byteLength, recordCount: loc.recordCount, budgetBytes: p.budgetBytes },
        ...(p.tombstonesAt !== undefined ? { tombstonesAt: p.tombstonesAt } : {}),
      });
    });
    pending = [];
    pendingBytes = 0;
  };
  try {
    for await (const page of pages(from, compactableSlot)) {
      const covered = page.filter((e) => !e.hole && e.base < limit);
      if (covered.length === 0 && page.some((e) => e.base >= limit)) break;
      for await (const { entry, batches } of readChunks(covered)) {
        bytesBefore += entry.length ?? 0;
        const records: CompactionRecord[] = batches.flatMap((b) => b.records.map((r) => ({ offset: r.offset, keyHash: keyHash(r.key), tombstone: r.value === null, timestamp: r.timestamp })));
        const known = entry.tombstonesAt === undefined ? undefined : new Map(records.filter((r) => r.tombstone).map((r) => [r.offset, entry.tombstonesAt!] as const));
        const horizons = new Map<number, number>();
        const decision = retainOf({ slot: entry.slot, base: entry.base, end: entry.end, records }, map.latest, limit, { ...rules, firstCleanedAt: known }, horizons, counts);
        // One horizon per entry, set only when this pass cleaned ALL of the entry's tombstones
        // (a map that stopped inside the entry leaves the rest uncleaned: they keep no time).
        const tombs = records.filter((r) => r.tombstone && decision.kept.includes(r.offset));
        const allCleaned = tombs.every((r) => r.offset < limit);
        const tombstonesAt = tombs.length > 0 && allCleaned ? Math.min(...tombs.map((r) => horizons.get(r.offset) ?? now)) : tombs.length > 0 ? entry.tombstonesAt : undefined;
        if (tombs.length > 0) keptTombstones = true;
        if (decision.removed === 0) {
          bytesAfter += entry.length ?? 0;
          if (tombstonesAt !== entry.tombstonesAt && tombstonesAt !== undefined) {
            rewrites.push({ slot: entry.slot, from: { object: entry.object!, position: entry.position! }, to: { kind: 'same' }, tombstonesAt });
          }
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
          await write(false); // repointed at once: never older than half the grace
          if (stopped) break;
        }
      }
    }
    if (!stopped) {
      await flush();
      await write(true);
    }
  } catch (err) {
    // Moved under us: what was written stays (it is correct), the next pass goes on.
    if (err instanceof MissingSegmentError) stopped = true;
    else throw err;
  }

  // What the hint now holds: every applied transaction with rewrites reset the summary to a
  // recount from `from`; only the last one moved the checkpoint.
  const appliedAny = version > summary.version;
  const reset = wroteRewrites ? { settled: from, through: from, settledBytes: 0, settledSegments: 0, tailBytes: 0, tailSegments: 0 } : {};
  // Transactions with entries bump the revision (one that only moves the checkpoint does not):
  // counting every applied one may count one too many, never too few (a lower revision
  // written back would let readers keep entries cached before a rewrite).
  const revisions = wroteRewrites ? version - summary.version : 0;
  const next: MaintenanceSummary = !appliedAny
    ? summary
    : { ...summary, ...reset, version, revision: summary.revision + revisions, compactedTo: stopped ? summary.compactedTo : checkpoint };
  if (keptTombstones) nextDue = earlier(nextDue, now + config['delete.retention.ms'] + 1);
  return {
    summary: next,
    report: {
      cleaned: !stopped,
      reason,
      keys: map.latest.size,
      removed: stopped ? 0 : removed,
      emptied: stopped ? 0 : emptied,
      bytesBefore,
      bytesAfter,
      compactedTo: stopped ? summary.compactedTo : checkpoint,
      more: more || stopped,
      nextDue: more || stopped ? now : nextDue,
    },
  };
}
