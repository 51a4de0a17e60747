/**
 * The time index, pure (no AWS, no I/O): what stamping writes and how a lookup reads around
 * the unstamped tail. time-index-stamper.ts and offsets.ts do the reads and writes.
 *
 * A stamp on the data entry of slot s is its running max: the max record timestamp over the
 * data entries of slots 0..s. It is monotone in slot order, so the first entry whose running
 * max is >= T is the first entry holding a record with timestamp >= T (every record before it
 * is older than T). The byTime index sorts stamps by (running max, slot) and answers that with
 * one Query.
 *
 * Invariants:
 *  T1 The stamped part is a prefix [0, stamped) of the stable slots, and `runningMaxTs` is the
 *     running max at its end (-1 when nothing is stamped). `planStamps` extends it only over a
 *     contiguous run of slots starting at `stamped`; a gap ends the plan.
 *  T2 Stamps are a function of the prefix alone, so stamping is idempotent and two stampers of
 *     the same prefix write the same values.
 *  T3 A lookup for T whose answer lies in the stamped prefix (runningMaxTs >= T) asks the
 *     index; otherwise the answer is the first UNSTAMPED data entry whose own max timestamp is
 *     >= T (the running max before it is < T), found by reading entries, writing nothing. So a
 *     lookup is right however far the stamped prefix lags the stable one.
 *  Entries without a max timestamp (written before produce recorded one) are skipped, never
 *  stamped, and counted as stamped (the pointer passes them).
 */

/** What the time index needs of an index entry (lib/storage IndexEntry has these fields). */
export interface TimedEntry {
  readonly slot: number;
  readonly hole: boolean;
  readonly maxTimestamp?: number;
}

/** The stamping pointer kept on the hint item. */
export interface StampPointer {
  /** Slots [0, stamped) are stamped. */
  readonly stamped: number;
  /** Max record timestamp over them; -1 when none. */
  readonly runningMaxTs: number;
}

export interface Stamp {
  readonly slot: number;
  readonly runningMaxTs: number;
}

export interface StampPlan {
  readonly stamps: readonly Stamp[];
  /** The pointer once every stamp is written. */
  readonly next: StampPointer;
}

/** The stamps that extend `pointer` over `entries` (slot order), at most `limit` slots (T1, T2). */
export function planStamps(entries: readonly TimedEntry[], pointer: StampPointer, limit = Infinity): StampPlan {
  const stamps: Stamp[] = [];
  let { stamped, runningMaxTs } = pointer;
  for (const e of entries) {
    if (e.slot < stamped) continue;
    if (e.slot !== stamped || stamped - pointer.stamped >= limit) break;
    if (!e.hole && e.maxTimestamp !== undefined) {
      runningMaxTs = Math.max(runningMaxTs, e.maxTimestamp);
      stamps.push({ slot: e.slot, runningMaxTs });
    }
    stamped = e.slot + 1;
  }
  return { stamps, next: { stamped, runningMaxTs } };
}

/** Where the answer for T lies (T3). */
export function timeLookupSource(pointer: StampPointer, timestamp: number): 'stamped' | 'unstamped' {
  return pointer.runningMaxTs >= timestamp ? 'stamped' : 'unstamped';
}

/** The first unstamped entry (given in slot order, after the pointer) holding a record at or after T (T3). */
export function firstUnstampedReaching(entries: readonly TimedEntry[], timestamp: number): number | undefined {
  for (const e of entries) if (!e.hole && e.maxTimestamp !== undefined && e.maxTimestamp >= timestamp) return e.slot;
  return undefined;
}
