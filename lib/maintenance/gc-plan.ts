/**
 * Which segment objects garbage collection may delete: pure (decide, don't do).
 *
 * An object is deleted only if all of these hold (G1-G4):
 *  G1 it is a segment object (its key parses as one): nothing else in the bucket is touched;
 *  G2 no index entry references it (`referenced === false`, from the byObject index). A
 *     multi-partition object stays while any partition's entry still points into it;
 *  G3 it is older than the grace period: longer than any fetch may still be reading it after
 *     a merge repointed its entries, and longer than any writer may still publish an entry
 *     pointing at it (the Lambda maximum plus the slot timeout);
 *  G4 an unknown reference state (undefined: not checked, or the check failed) keeps it.
 * Nothing here is time-critical: an object kept one tick too long costs storage, an object
 * deleted too early loses data, so every doubt keeps.
 */

export interface GcCandidate {
  readonly key: string;
  readonly lastModified: number;
  readonly size: number;
  /** From the byObject index; undefined when not (yet) known. */
  readonly referenced: boolean | undefined;
}

export interface GcRules {
  readonly now: number;
  readonly graceMs: number;
  readonly isSegmentKey: (key: string) => boolean;
}

export type GcReason = 'not-a-segment' | 'referenced' | 'too-young' | 'unknown';

export interface GcPlan {
  readonly delete: readonly GcCandidate[];
  readonly keep: readonly { readonly object: GcCandidate; readonly reason: GcReason }[];
  readonly bytesFreed: number;
}

export function planGc(objects: readonly GcCandidate[], rules: GcRules): GcPlan {
  const del: GcCandidate[] = [];
  const keep: { object: GcCandidate; reason: GcReason }[] = [];
  for (const o of objects) {
    const reason: GcReason | undefined = !rules.isSegmentKey(o.key)
      ? 'not-a-segment'
      : rules.now - o.lastModified < rules.graceMs
        ? 'too-young'
        : o.referenced === undefined
          ? 'unknown'
          : o.referenced
            ? 'referenced'
            : undefined;
    if (reason) keep.push({ object: o, reason });
    else del.push(o);
  }
  return { delete: del, keep, bytesFreed: del.reduce((n, o) => n + o.size, 0) };
}

/** Objects worth asking the index about: segment objects past the grace (saves index reads). */
export function needsReferenceCheck(o: Omit<GcCandidate, 'referenced'>, rules: GcRules): boolean {
  return rules.isSegmentKey(o.key) && rules.now - o.lastModified >= rules.graceMs;
}
