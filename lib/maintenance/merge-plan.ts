/**
 * Which entries of one partition to merge into one per-partition segment object, and where
 * each entry's bytes go in it: pure (decide, don't do). The merge job (merge.ts) reads the
 * source ranges, writes the new object, then repoints each entry in place, conditional on its
 * old pointer; slots are never deleted, so a reader sees the same records before, during and
 * after.
 *
 * Input: the stable entries of one partition, contiguous in slot order (holes included).
 * A *unit* is a maximal run of consecutive data entries (holes are transparent) that point
 * into the same object: a produce request's chunk, or a segment an earlier merge wrote.
 *
 * Invariants of every plan
 *  M1 Runs are disjoint and in slot order, and lie within the entries given.
 *  M2 A run lists only data entries that are older than `minAgeMs` and no longer than
 *     `targetBytes`; holes inside a run's slot span are left as they are (they have no bytes).
 *     A data entry that is too young or too large ends a run: runs never jump over data.
 *  M3 A run has at least two units (so at least two distinct source objects) and at most
 *     `targetBytes` bytes; units are never split between runs.
 *  M4 The layout is a gapless concatenation in slot order starting at 0, lengths unchanged:
 *     batches are copied byte for byte (their CRCs stay valid, base offsets are patched on
 *     read from the entry, as for any entry), so no record changes.
 *  M5 A fixpoint: once a run is applied (its entries point into one object), planning again
 *     never proposes a run made only of that run's entries.
 *  M6 Settled objects stay: an object holding at least half of `targetBytes`, or at least
 *     `settleEntries` entries (counted over the entries given), is never copied again. The
 *     entry bound keeps a pass's window (a bounded number of entries after the settled prefix)
 *     moving on partitions of tiny entries, where half a target would be more entries than a
 *     window holds.
 *  M7 Bounded rewriting: no source object holds more than MAX_SHARE (2/3) of its run's bytes,
 *     so every byte a merge copies lands in an object at least 1.5x the one it left; a byte is
 *     copied at most log1.5(targetBytes / produce size) times (a counter, not a snowball: a
 *     big segment is not rewritten to absorb each minute's few new entries).
 *  M8 Hot objects always move (the S3 Express hot tier holds only the recent tail): an object
 *     `isHot` says is in the hot tier is never settled (M6), a run holding a hot unit is valid
 *     with that one unit (M3), hot bytes are outside M7's share bound (they leave the hot tier
 *     once, into a Standard object, and M7 then bounds their later copies), and a hot entry
 *     larger than `targetBytes` is eligible still (M2). So every hot entry older than
 *     `minAgeMs` is in some run, unless a younger or corrupt entry holds it back.
 * `settledPrefixEnd` says how far a partition is done for good (every later plan starts there).
 */

export interface MergeEntry {
  readonly slot: number;
  readonly hole: boolean;
  readonly object?: string | undefined;
  readonly position?: number | undefined;
  readonly length?: number | undefined;
  readonly publishedAt: number;
}

export interface MergeRules {
  readonly now: number;
  /** Entries younger than this are left alone (a reader's cache and the hint settle first). */
  readonly minAgeMs: number;
  /** The most bytes one merged object holds. */
  readonly targetBytes: number;
  /** An object with this many entries is settled too (M6); unbounded when absent. */
  readonly settleEntries?: number;
  /** Is this object in the hot tier (M8)? None is when absent. */
  readonly isHot?: ((object: string) => boolean) | undefined;
}

export interface PlacedEntry {
  readonly slot: number;
  readonly from: { readonly object: string; readonly position: number; readonly length: number };
  /** Where the entry's bytes sit in the merged object. */
  readonly position: number;
}

export interface MergeRun {
  readonly firstSlot: number;
  /** Inclusive. */
  readonly lastSlot: number;
  readonly entries: readonly PlacedEntry[];
  readonly bytes: number;
}

interface Unit {
  readonly object: string;
  readonly entries: MergeEntry[];
  bytes: number;
}

interface ObjectShare {
  bytes: number;
  entries: number;
}

function perObjectOf(entries: readonly MergeEntry[]): Map<string, ObjectShare> {
  const out = new Map<string, ObjectShare>();
  for (const e of entries) {
    if (e.hole || e.object === undefined) continue;
    const o = out.get(e.object) ?? { bytes: 0, entries: 0 };
    o.bytes += e.length ?? 0;
    o.entries += 1;
    out.set(e.object, o);
  }
  return out;
}

type SettleRules = Pick<MergeRules, 'targetBytes' | 'settleEntries' | 'isHot'>;

const hotIn = (rules: Pick<MergeRules, 'isHot'>) => (object: string | undefined): boolean =>
  object !== undefined && rules.isHot !== undefined && rules.isHot(object);

function settledObjects(perObject: ReadonlyMap<string, ObjectShare>, rules: SettleRules): Set<string> {
  const entryBound = rules.settleEntries ?? Infinity;
  const hot = hotIn(rules);
  return new Set(
    [...perObject].filter(([k, o]) => !hot(k) && (o.bytes >= rules.targetBytes / 2 || o.entries >= entryBound)).map(([k]) => k),
  );
}

function eligible(e: MergeEntry, rules: MergeRules, settled: ReadonlySet<string>): boolean {
  return (
    !e.hole &&
    e.object !== undefined &&
    !settled.has(e.object) &&
    e.position !== undefined &&
    e.length !== undefined &&
    (e.length <= rules.targetBytes || hotIn(rules)(e.object)) &&
    rules.now - e.publishedAt >= rules.minAgeMs
  );
}

/**
 * M7's bound: no source object may hold more than this share of a run. At 2/3 every copied
 * byte lands in an object at least 1.5x the one it left; exactly 1/2 (a strict binary counter)
 * would strand a unit one byte smaller than its neighbour.
 */
export const MAX_SHARE = 2 / 3;

/** M3 + M7 (+ M8): at least two units or a hot one, no Standard source object holding more than MAX_SHARE of the run. */
function valid(units: readonly Unit[], hot: (object: string) => boolean): boolean {
  const total = units.reduce((n, u) => n + u.bytes, 0);
  const perObject = new Map<string, number>();
  for (const u of units) if (!hot(u.object)) perObject.set(u.object, (perObject.get(u.object) ?? 0) + u.bytes);
  return (units.length >= 2 || units.some((u) => hot(u.object))) && [...perObject.values()].every((n) => n <= MAX_SHARE * total);
}

function toRun(units: readonly Unit[]): MergeRun {
  const placed: PlacedEntry[] = [];
  let at = 0;
  for (const u of units) {
    for (const e of u.entries) {
      placed.push({ slot: e.slot, from: { object: e.object!, position: e.position!, length: e.length! }, position: at });
      at += e.length!;
    }
  }
  return { firstSlot: placed[0]!.slot, lastSlot: placed[placed.length - 1]!.slot, entries: placed, bytes: at };
}

export function planMerges(entries: readonly MergeEntry[], rules: MergeRules, maxRuns = Infinity): MergeRun[] {
  const perObject = perObjectOf(entries);
  const hot = hotIn(rules);
  if (perObject.size < 2 && ![...perObject.keys()].some(hot)) return []; // fast path: nothing to bring together or move
  const settled = settledObjects(perObject, rules);

  // Group into units; `null` marks an entry that ends every run (too young, too large, settled).
  const stream: (Unit | null)[] = [];
  for (const e of entries) {
    if (e.hole) continue; // M2: holes are transparent
    if (!eligible(e, rules, settled)) {
      if (stream[stream.length - 1] !== null) stream.push(null);
      continue;
    }
    const last = stream[stream.length - 1];
    if (last && last.object === e.object) {
      last.entries.push(e);
      last.bytes += e.length!;
    } else {
      stream.push({ object: e.object!, entries: [e], bytes: e.length! });
    }
  }

  const runs: MergeRun[] = [];
  const emit = (units: readonly Unit[]): void => {
    if (runs.length < maxRuns) runs.push(toRun(units));
  };
  // A candidate run that breaks M7 is split at its biggest unit: the units before it may merge
  // on their own, and the big one only with enough after it (else it waits for more).
  const close = (units: readonly Unit[]): void => {
    if (units.length === 0 || (units.length === 1 && !hot(units[0]!.object))) return;
    if (valid(units, hot)) return emit(units);
    // The biggest Standard unit: a hot unit never breaks M7 (M8), so splitting at one would
    // drop it from every run.
    let big = -1;
    units.forEach((u, i) => {
      if (!hot(u.object) && (big < 0 || u.bytes > units[big]!.bytes)) big = i;
    });
    close(units.slice(0, big));
    const rest = units.slice(big);
    if (valid(rest, hot)) emit(rest);
    else close(units.slice(big + 1));
  };
  let current: Unit[] = [];
  let bytes = 0;
  for (const u of stream) {
    if (runs.length >= maxRuns) break;
    if (u === null || bytes + u.bytes > rules.targetBytes) {
      close(current);
      current = [];
      bytes = 0;
      if (u === null) continue;
    }
    current.push(u);
    bytes += u.bytes;
  }
  close(current);
  return runs;
}

/**
 * The first slot a later plan must still look at: every entry before it is a hole, an entry
 * too large to merge, or in a settled object (M6), so no plan will ever move it. Entries are
 * those given to planMerges (after its runs were applied); returns the first slot given when
 * nothing is settled, and one past the last when everything is.
 */
export function settledPrefixEnd(entries: readonly MergeEntry[], rules: SettleRules): number {
  const settled = settledObjects(perObjectOf(entries), rules);
  const hot = hotIn(rules);
  for (const e of entries) {
    const done = e.hole || (!hot(e.object) && ((e.length ?? 0) > rules.targetBytes || (e.object !== undefined && settled.has(e.object))));
    if (!done) return e.slot;
  }
  const last = entries[entries.length - 1];
  return last ? last.slot + 1 : 0;
}
