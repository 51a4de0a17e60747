/**
 * Log compaction (cleanup.policy containing `compact`) of one partition: which records each
 * entry keeps. Pure (decide, don't do), decided as Kafka's log cleaner decides it
 * (core/.../log/LogCleaner.scala: `buildOffsetMap`, `shouldRetainRecord`; the guarantees in
 * KAFKA-SEMANTICS.md §6), adapted to Sluice's unit: an index entry (one produced batch, records
 * at consecutive offsets [base, end)) stands for both Kafka's batch and its segment.
 *
 * Input: the entries from the log start offset to the end of the stable, cleanable prefix, in
 * offset order, each with the records it still holds (an entry an earlier pass emptied, or a
 * hole, holds none). Every record has a key (a compacted topic rejects keyless records); the
 * key is known by a fixed-width hash, and as in Kafka's SkimpyOffsetMap the hash is the key's
 * identity. A pass first builds a bounded map key → latest offset over the *dirty* part, from
 * `firstDirtyOffset` (the `cleanedEnd` of the previous pass: Kafka's cleaner checkpoint), then
 * filters everything before where the map stopped. Precondition, which earlier passes make
 * true: before `firstDirtyOffset` at most one record per key remains.
 *
 * Invariants of every plan
 *  C1 Range. A pass covers [start, cleanedEnd), start = the first entry's base. The dirty part
 *     is [firstDirtyOffset, cleanedEnd), and cleanedEnd ≥ firstDirtyOffset (the checkpoint never
 *     moves back). A firstDirtyOffset outside [start, end of the entries] is reset to start, as
 *     Kafka resets an invalid checkpoint: everything is dirty again, which is always safe.
 *  C2 Lag (min.compaction.lag.ms). The compactable end is the base of the first entry holding a
 *     record newer than the lag (now - timestamp < minCompactionLagMs; Kafka judges a segment by
 *     its largest timestamp), else the end of the entries. No record at or after the compactable
 *     end, or at or after cleanedEnd, is ever removed; cleanedEnd ≤ the compactable end unless
 *     it stays at firstDirtyOffset.
 *  C3 Memory bound. The map holds keys of the dirty part only, never more than `maxKeys`
 *     (≥ 1, so every pass over a non-empty dirty part progresses). A record whose key is already
 *     in the map always fits; the first record whose key would be one too many stops the map,
 *     and cleanedEnd is its offset (`more`: plan again from there). Otherwise the map reaches the
 *     compactable end and cleanedEnd is that end.
 *  C4 Latest wins. A record before cleanedEnd is removed iff a later record of its key lies in
 *     the map (so, with the precondition, iff it is not the latest of its key in
 *     [start, cleanedEnd)), or it is an expired tombstone (C5). Everything else is kept.
 *  C5 Tombstones (a null value) that are the latest of their key before cleanedEnd stay until
 *     their delete horizon: kept when this pass is the first to clean them (no firstCleanedAt
 *     known: it becomes `now`, so, as in Kafka, a tombstone survives the pass that first cleans
 *     it) or while now < firstCleanedAt + deleteRetentionMs; removed once
 *     now ≥ firstCleanedAt + deleteRetentionMs. The plan returns firstCleanedAt for every
 *     tombstone it keeps that has one (carried, or set now); the caller stores exactly that.
 *  C6 Only removal. Each entry's kept offsets are a subsequence of its records' offsets, in
 *     order; offsets never change and no record moves to another entry.
 *  C7 Entries never disappear: one output per input entry, slot, base and end unchanged; an
 *     entry whose records are all gone stays as an empty range (its offsets are a gap).
 *  C8 Fixpoint. Planned again on the applied result from cleanedEnd at the same `now`, a pass
 *     removes nothing more, except tombstones this pass first cleaned when deleteRetentionMs
 *     is 0. Passes with a small map, each from the last one's cleanedEnd, reach what one pass
 *     with a map of every key reaches (at one `now`, deleteRetentionMs ≥ 1: with 0 a tombstone
 *     first cleaned by one pass already expires in the next).
 * Out of scope here: max.compaction.lag.ms (when a pass is due, not what it keeps), and
 * transactions (only stable entries are given; Sluice has no control batches).
 */

/** A fixed-width hash of a record key (e.g. 16 bytes as hex, or a bigint): one form per partition. */
export type KeyHash = string | bigint;

export interface CompactionRecord {
  readonly offset: number;
  readonly keyHash: KeyHash;
  /** Null value: a delete marker. */
  readonly tombstone: boolean;
  readonly timestamp: number;
}

export interface CompactionEntry {
  readonly slot: number;
  readonly base: number;
  /** Exclusive. */
  readonly end: number;
  /** The records the entry still holds, by offset, each within [base, end). */
  readonly records: readonly CompactionRecord[];
}

export interface CompactionRules {
  readonly now: number;
  /** min.compaction.lag.ms: a record stays uncompacted at least this long (C2). */
  readonly minCompactionLagMs: number;
  /** delete.retention.ms: how long a tombstone stays after it was first cleaned (C5). */
  readonly deleteRetentionMs: number;
  /** The most keys the map of one pass holds (C3): Kafka's cleaner offset map. */
  readonly maxKeys: number;
  /** Where the dirty part starts: the previous pass's cleanedEnd. Absent: the first entry's base. */
  readonly firstDirtyOffset?: number | undefined;
  /** Tombstone offset → when a pass first kept it (the previous plan's `firstCleanedAt`). */
  readonly firstCleanedAt?: ReadonlyMap<number, number> | undefined;
}

export interface CompactedEntry {
  readonly slot: number;
  readonly base: number;
  readonly end: number;
  /** The offsets kept, ascending: a subsequence of the entry's records. */
  readonly kept: readonly number[];
  /** Records this pass removes from the entry (0: the entry is left as it is). */
  readonly removed: number;
  /** No record left: the entry stays as the empty range [base, end). */
  readonly empty: boolean;
}

export interface CompactionPlan {
  /** One per entry given, in the same order (C7). */
  readonly entries: readonly CompactedEntry[];
  /** Exclusive: the first offset this pass did not cover; the next pass's firstDirtyOffset (C1, C3). */
  readonly cleanedEnd: number;
  /** The base of the first entry too young to compact, or the end of the entries (C2). */
  readonly compactableEnd: number;
  /** The map filled before the compactable end: plan again from cleanedEnd (C3). */
  readonly more: boolean;
  /** Distinct keys in this pass's map (≤ maxKeys). */
  readonly keys: number;
  /** Removed because a later record of the key is in the map (C4). */
  readonly superseded: number;
  /** Tombstones removed because their delete horizon passed (C5). */
  readonly expiredTombstones: number;
  /** Tombstone offset → first cleaned at, for every kept tombstone that has one (C5). */
  readonly firstCleanedAt: ReadonlyMap<number, number>;
}

function check(entries: readonly CompactionEntry[], rules: CompactionRules): void {
  if (!(rules.maxKeys >= 1) || !(Number.isInteger(rules.maxKeys) || rules.maxKeys === Infinity)) {
    // Kafka: "offset map is too small to fit in even a single message, so log cleaning will never make progress"
    throw new RangeError(`maxKeys must be an integer ≥ 1, got ${rules.maxKeys}`);
  }
  let at = -Infinity;
  for (const e of entries) {
    if (e.base < at || e.end < e.base) throw new RangeError(`entry ${e.slot} [${e.base}, ${e.end}) is out of order`);
    let last = e.base - 1;
    for (const r of e.records) {
      if (r.offset <= last || r.offset >= e.end) throw new RangeError(`entry ${e.slot}: record ${r.offset} is out of order or outside [${e.base}, ${e.end})`);
      last = r.offset;
    }
    at = e.end;
  }
}

/** C2: the base of the first entry holding a record within the lag (its largest timestamp), else `end`. */
export function compactableEndOf(entries: readonly { readonly base: number; readonly maxTimestamp: number }[], end: number, rules: Pick<CompactionRules, 'now' | 'minCompactionLagMs'>): number {
  const youngAfter = rules.now - rules.minCompactionLagMs;
  const young = entries.find((e) => e.maxTimestamp > youngAfter);
  return young ? young.base : end;
}

/** The bounded map of one pass (C3), filled record by record over the dirty part, in offset order. */
export class KeyMap {
  readonly latest = new Map<KeyHash, number>();
  /** The first offset whose key did not fit (the pass's cleanedEnd), if the map filled. */
  full: number | undefined;

  constructor(private readonly maxKeys: number) {
    if (!(maxKeys >= 1) || !(Number.isInteger(maxKeys) || maxKeys === Infinity)) {
      // Kafka: "offset map is too small to fit in even a single message, so log cleaning will never make progress"
      throw new RangeError(`maxKeys must be an integer ≥ 1, got ${maxKeys}`);
    }
  }

  /** Adds a record of the dirty part; false once full (this record and all after it are not mapped). */
  add(r: Pick<CompactionRecord, 'offset' | 'keyHash'>): boolean {
    if (this.full !== undefined) return false;
    if (this.latest.size >= this.maxKeys && !this.latest.has(r.keyHash)) {
      this.full = r.offset;
      return false;
    }
    this.latest.set(r.keyHash, r.offset);
    return true;
  }
}

/** C4-C6 for one entry: which of its records stay, given the pass's map and its limit. */
export function retainOf(
  e: CompactionEntry,
  latest: ReadonlyMap<KeyHash, number>,
  limit: number,
  rules: Pick<CompactionRules, 'now' | 'deleteRetentionMs' | 'firstCleanedAt'>,
  horizons: Map<number, number>,
  counts: { superseded: number; expiredTombstones: number },
): CompactedEntry {
  const known = rules.firstCleanedAt;
  const kept: number[] = [];
  for (const r of e.records) {
    const cleanedAt = r.tombstone ? known?.get(r.offset) : undefined;
    if (r.offset >= limit) {
      // Not covered by this pass, kept as it is (a horizon, if any, is carried).
      kept.push(r.offset);
      if (cleanedAt !== undefined) horizons.set(r.offset, cleanedAt);
      continue;
    }
    const newest = latest.get(r.keyHash);
    if (newest !== undefined && newest > r.offset) {
      counts.superseded++;
      continue;
    }
    if (r.tombstone) {
      if (cleanedAt !== undefined && rules.now >= cleanedAt + rules.deleteRetentionMs) {
        counts.expiredTombstones++;
        continue;
      }
      horizons.set(r.offset, cleanedAt ?? rules.now);
    }
    kept.push(r.offset);
  }
  return { slot: e.slot, base: e.base, end: e.end, kept, removed: e.records.length - kept.length, empty: kept.length === 0 };
}

/** C1: where the dirty part starts (an invalid checkpoint resets to the start). */
export function dirtyFromOf(start: number, end: number, firstDirtyOffset: number | undefined): number {
  const given = firstDirtyOffset ?? start;
  return given < start || given > end ? start : given;
}

/**
 * The whole plan over records in memory (tests, small partitions). The executor
 * (compaction.ts) streams the same steps: compactableEndOf, a KeyMap over the dirty part,
 * then retainOf entry by entry, holding only the map.
 */
export function planCompaction(entries: readonly CompactionEntry[], rules: CompactionRules): CompactionPlan {
  check(entries, rules);
  const start = entries[0]?.base ?? 0;
  const end = entries[entries.length - 1]?.end ?? start;
  const dirtyFrom = dirtyFromOf(start, end, rules.firstDirtyOffset);
  const compactableEnd = compactableEndOf(
    entries.map((e) => ({ base: e.base, maxTimestamp: e.records.reduce((m, r) => Math.max(m, r.timestamp), -Infinity) })),
    end,
    rules,
  );
  const map = new KeyMap(rules.maxKeys);
  fill: for (const e of entries) {
    if (e.end <= dirtyFrom) continue;
    if (e.base >= compactableEnd) break;
    for (const r of e.records) {
      if (r.offset < dirtyFrom) continue; // the clean part of an entry a previous map stopped in
      if (!map.add(r)) break fill;
    }
  }
  const more = map.full !== undefined;
  const cleanedEnd = map.full ?? Math.max(dirtyFrom, compactableEnd);
  // C4/C5 apply below `limit`; C2 keeps young entries even where cleanedEnd stayed at the checkpoint.
  const limit = Math.min(cleanedEnd, compactableEnd);
  const horizons = new Map<number, number>();
  const counts = { superseded: 0, expiredTombstones: 0 };
  const out = entries.map((e) => retainOf(e, map.latest, limit, rules, horizons, counts));
  return { entries: out, cleanedEnd, compactableEnd, more, keys: map.latest.size, ...counts, firstCleanedAt: horizons };
}
