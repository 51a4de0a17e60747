/** The pure GC plan (lib/maintenance/gc-plan.ts): G1-G4 over random listings. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { needsReferenceCheck, planGc, type GcCandidate } from '../../../lib/maintenance/gc-plan.ts';
import { parseSegmentObjectKey } from '../../../lib/storage/keys/segment.ts';

const NOW = 10_000_000;
const rules = { now: NOW, graceMs: 900_000, isSegmentKey: (k: string) => parseSegmentObjectKey(k) !== undefined };

const candidate: fc.Arbitrary<GcCandidate> = fc.record({
  key: fc.oneof(fc.uuid().map((u) => `seg/${u.slice(0, 2)}/2026120100/${u}.seg`), fc.constantFrom('other/x', 'seg/zz/bad', 'README')),
  lastModified: fc.integer({ min: NOW - 2_000_000, max: NOW }),
  size: fc.nat(1_000_000),
  referenced: fc.constantFrom(true, false, undefined),
});

describe('gc plan', () => {
  it('deletes exactly the unreferenced segment objects past the grace (G1-G4)', () => {
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 60 }), (objects) => {
        const plan = planGc(objects, rules);
        expect(plan.delete.length + plan.keep.length).toBe(objects.length);
        for (const o of plan.delete) {
          expect(rules.isSegmentKey(o.key)).toBe(true);
          expect(o.referenced).toBe(false);
          expect(NOW - o.lastModified).toBeGreaterThanOrEqual(rules.graceMs);
        }
        for (const { object: o, reason } of plan.keep) {
          const wouldDelete = rules.isSegmentKey(o.key) && o.referenced === false && NOW - o.lastModified >= rules.graceMs;
          expect(wouldDelete, reason).toBe(false);
        }
        expect(plan.bytesFreed).toBe(plan.delete.reduce((n, o) => n + o.size, 0));
      }),
    );
  });

  it('asks the index only about objects it could delete', () => {
    fc.assert(
      fc.property(candidate, (o) => {
        const asked = needsReferenceCheck(o, rules);
        const deletable = planGc([{ ...o, referenced: false }], rules).delete.length === 1;
        expect(asked).toBe(deletable);
      }),
    );
  });
});
