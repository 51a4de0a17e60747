/**
 * The time-index rule (lib/log/time-index-plan.ts): stamps extend a contiguous prefix with the
 * running max; a lookup reads the stamped prefix from the index and the unstamped tail from the
 * entries, and the two agree with a plain scan however far the stamping lags.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstUnstampedReaching, planStamps, timeLookupSource, type TimedEntry } from '../../../lib/log/time-index-plan.ts';

const entry = (slot: number, maxTimestamp?: number, hole = false): TimedEntry => ({ slot, hole, maxTimestamp });

describe('planStamps', () => {
  it('stamps data entries with the running max and passes holes and entries without a timestamp', () => {
    const plan = planStamps([entry(0, 5), entry(1, undefined, true), entry(2, 3), entry(3), entry(4, 9)], { stamped: 0, runningMaxTs: -1 });
    expect(plan.stamps).toEqual([
      { slot: 0, runningMaxTs: 5 },
      { slot: 2, runningMaxTs: 5 },
      { slot: 4, runningMaxTs: 9 },
    ]);
    expect(plan.next).toEqual({ stamped: 5, runningMaxTs: 9 });
  });

  it('continues from the pointer, skips what it already covers, stops at a gap and at the limit', () => {
    const pointer = { stamped: 2, runningMaxTs: 7 };
    expect(planStamps([entry(1, 100), entry(2, 3), entry(3, 8)], pointer)).toEqual({
      stamps: [
        { slot: 2, runningMaxTs: 7 },
        { slot: 3, runningMaxTs: 8 },
      ],
      next: { stamped: 4, runningMaxTs: 8 },
    });
    expect(planStamps([entry(2, 3), entry(4, 8)], pointer).next).toEqual({ stamped: 3, runningMaxTs: 7 });
    expect(planStamps([entry(3, 8)], pointer)).toEqual({ stamps: [], next: pointer });
    expect(planStamps([entry(2, 9), entry(3, 10)], pointer, 1)).toEqual({ stamps: [{ slot: 2, runningMaxTs: 9 }], next: { stamped: 3, runningMaxTs: 9 } });
  });
});

describe('a lookup by time against a partly stamped prefix', () => {
  const log = fc.array(
    fc.oneof(fc.constant<number | null>(null), fc.integer({ min: 0, max: 100 })),
    { minLength: 0, maxLength: 30 },
  );

  it('finds the first entry holding a record at or after T, however far stamping got', () => {
    fc.assert(
      fc.property(log, fc.nat(), fc.integer({ min: 0, max: 110 }), (maxes, cut, ts) => {
        const entries = maxes.map((m, slot) => (m === null ? entry(slot, undefined, true) : entry(slot, m)));
        const stampedUpTo = entries.length === 0 ? 0 : cut % (entries.length + 1);
        const plan = planStamps(entries.slice(0, stampedUpTo), { stamped: 0, runningMaxTs: -1 });
        // What the byTime index answers: the first stamp (runningMax, slot) >= (T, -).
        const fromIndex = () => plan.stamps.find((s) => s.runningMaxTs >= ts)?.slot;
        const found =
          timeLookupSource(plan.next, ts) === 'stamped' ? fromIndex() : firstUnstampedReaching(entries.slice(plan.next.stamped), ts);
        const expected = entries.find((e) => !e.hole && (e.maxTimestamp ?? -1) >= ts)?.slot;
        expect(found).toBe(expected);
      }),
    );
  });
});
