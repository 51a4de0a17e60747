/**
 * Which entries of one partition to merge into one per-partition segment object, and where
 * each entry's bytes go in it: pure (decide, don't do). The merge job reads the source ranges,
 * writes the new object, then repoints each entry in place, conditional on its old pointer;
 * slots are never deleted, so a reader sees the same records before, during and after.
 *
 * Input: the stable entries of one partition, contiguous in slot order (holes included).
 *
 * Invariants of every plan
 *  M1 Runs are disjoint and in slot order, and lie within the entries given.
 *  M2 A run lists only data entries that are older than `minAgeMs` and no longer than
 *     `targetBytes`; holes inside a run's slot span are left as they are (they have no bytes).
 *     A data entry that is too young or too large ends a run: runs never jump over data.
 *  M3 A run has at least two entries from at least two distinct source objects, and at most
 *     `targetBytes` bytes: merging one object into itself would only cost requests.
 *  M4 The layout is a gapless concatenation in slot order starting at 0, lengths unchanged:
 *     batches are copied byte for byte (their CRCs stay valid, base offsets are patched on
 *     read from the entry, as for any entry), so no record changes.
 *  M5 A fixpoint: once a run is applied (its entries point into one object), planning again
 *     never proposes a run made only of that run's entries.
 *  M6 Bounded rewriting: an entry whose object already holds at least half of `targetBytes`
 *     (counted over the entries given) is settled and ends a run, so a full segment is never
 *     copied again to absorb a few new entries; a byte is rewritten at most about
 *     log2(targetBytes / produce size) times.
 * Fast path: a partition whose entries all sit in one object plans nothing without a walk of
 * pairs.
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

function eligible(e: MergeEntry, rules: MergeRules, settled: ReadonlySet<string>): boolean {
  return (
    !e.hole &&
    !settled.has(e.object ?? '') &&
    e.object !== undefined &&
    e.position !== undefined &&
    e.length !== undefined &&
    e.length <= rules.targetBytes &&
    rules.now - e.publishedAt >= rules.minAgeMs
  );
}

export function planMerges(entries: readonly MergeEntry[], rules: MergeRules, maxRuns = Infinity): MergeRun[] {
  const bytesPerObject = new Map<string, number>();
  for (const e of entries) {
    if (!e.hole && e.object !== undefined) bytesPerObject.set(e.object, (bytesPerObject.get(e.object) ?? 0) + (e.length ?? 0));
  }
  if (bytesPerObject.size < 2) return []; // fast path: nothing to bring together
  const settled = new Set([...bytesPerObject].filter(([, n]) => n >= rules.targetBytes / 2).map(([o]) => o));

  const runs: MergeRun[] = [];
  let current: PlacedEntry[] = [];
  let bytes = 0;
  const close = (): void => {
    const distinct = new Set(current.map((p) => p.from.object)).size;
    if (current.length >= 2 && distinct >= 2 && runs.length < maxRuns) {
      runs.push({ firstSlot: current[0]!.slot, lastSlot: current[current.length - 1]!.slot, entries: current, bytes });
    }
    current = [];
    bytes = 0;
  };
  for (const e of entries) {
    if (runs.length >= maxRuns) break;
    if (e.hole) continue; // M2: holes are transparent
    if (!eligible(e, rules, settled)) {
      close();
      continue;
    }
    if (bytes + e.length! > rules.targetBytes) close();
    current.push({ slot: e.slot, from: { object: e.object!, position: e.position!, length: e.length! }, position: bytes });
    bytes += e.length!;
  }
  close();
  return runs;
}
