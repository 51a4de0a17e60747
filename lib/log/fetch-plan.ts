/**
 * Fetch planning, pure (no AWS, no I/O): which index entries a fetch reads for its budget, and
 * which of the decoded records it answers with. fetch.ts does the reads around it.
 *
 * Entries are a contiguous run of stable slots in slot order, so their offset ranges
 * [base, end) tile the log: each entry's base is the previous one's end. A data entry holds a
 * record for every offset of its range; a hole holds none (an empty hole has base = end).
 *
 * Invariants (test/unit/log/fetch-plan.property.test.ts):
 *  E1 `planEntries` returns a contiguous run of the entries it is given, starting at the entry
 *     holding `offset` (the first whose end > offset). Entries ending at or before the offset,
 *     empty holes included, are never read.
 *  E2 It plans by what entries decode to (`budgetBytes`; the stored length for entries written
 *     before produce recorded it), and stops at the first entry that brings the run to
 *     maxBytes, or to maxRecords records counted from the offset. Holes count for nothing.
 *     The answer is defined by this run: the cut below never looks past it. (The first
 *     entry's bytes below the offset count too, so an answer may stop short of maxBytes.)
 *  E3 `covered` says the run met its budget, so no later entry changes the plan; a caller
 *     reading pages below the cached window stops there.
 *  R1 `cutRecords` returns records in offset order, none below `offset`, at most maxRecords,
 *     and at least one when the entries hold any record at or after the offset: the first
 *     record is returned even if it alone exceeds maxBytes, so a consumer always progresses.
 *  R2 Their sizes sum to at most maxBytes unless exactly one record is returned.
 *  A1 `readAhead` returns only entries after the plan that continue the plan's last data entry
 *     byte for byte in the same object (holes between them skipped), at most `maxBytes` of
 *     them: one longer ranged GET instead of a GET per later fetch. Read ahead is only cached;
 *     the answer is still defined by the plan alone (E2).
 *  R3 nextOffset is past every returned record, at least `offset`, and at most the high
 *     watermark. It skips holes (and entries consumed to their end), so a consumer continues
 *     at nextOffset, never at offset + count.
 */
import { LIMITS } from '../limits.ts';

/** What planning needs of an index entry (lib/storage IndexEntry has these fields). */
export interface PlanEntry {
  readonly base: number;
  /** Exclusive. */
  readonly end: number;
  readonly hole: boolean;
  readonly length?: number;
  readonly recordCount?: number;
  readonly budgetBytes?: number;
}

export interface FetchBudget {
  readonly maxRecords: number;
  /** Decoded bytes (record-size.ts), capped at LIMITS.maxFetchBytes. */
  readonly maxBytes: number;
}

/** The budget a fetch plans with: maxBytes capped so the JSON answer fits Lambda's response. */
export function fetchBudget(input: { readonly maxRecords: number; readonly maxBytes: number }): FetchBudget {
  return { maxRecords: input.maxRecords, maxBytes: Math.min(input.maxBytes, LIMITS.maxFetchBytes) };
}

/** Index of the first entry whose end > offset (entries.length if none): binary search (E1). */
export function entryHolding(entries: readonly PlanEntry[], offset: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.end <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface EntryPlan<E extends PlanEntry> {
  /** The entries to read, in slot order (E1). */
  readonly entries: readonly E[];
  /** The run met the budget: reading more entries would not change the plan (E3). */
  readonly covered: boolean;
}

/** The entries a fetch from `offset` reads (E1, E2). */
export function planEntries<E extends PlanEntry>(entries: readonly E[], offset: number, budget: FetchBudget): EntryPlan<E> {
  const start = entryHolding(entries, offset);
  if (start === entries.length) return { entries: [], covered: false };
  // Records of the first entry below the offset are skipped, so they do not count. (For a hole
  // first this allowance counts its offsets, and the run may read a little further than it
  // must; the cut is the same either way, and the rule is kept so answers stay as they were.)
  const recordLimit = budget.maxRecords + (offset - entries[start]!.base);
  let bytes = 0;
  let records = 0;
  for (let i = start; i < entries.length; i++) {
    const e = entries[i]!;
    bytes += e.budgetBytes ?? e.length ?? 0;
    records += e.recordCount ?? 0;
    if (bytes >= budget.maxBytes || records >= recordLimit) return { entries: entries.slice(start, i + 1), covered: true };
  }
  return { entries: entries.slice(start), covered: false };
}

/** What read-ahead needs of an entry (IndexEntry has these). */
export interface PlacedPlanEntry extends PlanEntry {
  readonly object?: string;
  readonly position?: number;
}

/**
 * The entries after a plan worth reading in the same GET (A1): they follow the plan's last data
 * entry in the same object without a byte gap, as the entries of a merged segment do. A
 * produce's object holds one entry per partition, so there nothing is read ahead.
 */
export function readAhead<E extends PlacedPlanEntry>(planned: readonly E[], following: readonly E[], maxBytes: number): E[] {
  let last: E | undefined;
  for (let i = planned.length - 1; i >= 0 && last === undefined; i--) if (!planned[i]!.hole) last = planned[i];
  if (last?.object === undefined || last.position === undefined || last.length === undefined) return [];
  const out: E[] = [];
  let end = last.position + last.length;
  let bytes = 0;
  for (const e of following) {
    if (e.hole) continue;
    if (e.object !== last.object || e.position !== end || e.length === undefined || bytes + e.length > maxBytes) break;
    out.push(e);
    bytes += e.length;
    end += e.length;
  }
  return out;
}

/** A decoded record as the cut sees it: its offset and what it counts for in maxBytes. */
export interface SizedRecord {
  readonly offset: number;
  readonly bytes: number;
}

/** One planned entry after decoding: its records in offset order (none for a hole). */
export interface DecodedEntry<R extends SizedRecord> {
  readonly end: number;
  readonly records: Iterable<R>;
}

export interface RecordCut<R extends SizedRecord> {
  readonly records: R[];
  readonly nextOffset: number;
}

/**
 * The records a fetch from `offset` answers with (R1-R3). Lazy: it stops pulling entries and
 * records at the first one that does not fit, so callers may decode entries on demand.
 */
export function cutRecords<R extends SizedRecord>(
  entries: Iterable<DecodedEntry<R>>,
  offset: number,
  budget: FetchBudget,
  highWatermark: number,
): RecordCut<R> {
  const out: R[] = [];
  let bytes = 0;
  let next = offset;
  for (const entry of entries) {
    for (const r of entry.records) {
      if (r.offset < offset) continue;
      if (out.length >= budget.maxRecords || (out.length > 0 && bytes + r.bytes > budget.maxBytes)) {
        return { records: out, nextOffset: Math.min(next, highWatermark) };
      }
      bytes += r.bytes;
      out.push(r);
      next = r.offset + 1;
    }
    // Consumed to its end: continue after it (this is how holes are skipped).
    next = Math.max(next, entry.end);
  }
  return { records: out, nextOffset: Math.min(next, highWatermark) };
}
