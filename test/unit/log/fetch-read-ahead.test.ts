/** Read-ahead of a fetch (lib/log/fetch-plan.ts A1): only what continues the plan byte for byte in one object. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readAhead, type PlacedPlanEntry } from '../../../lib/log/fetch-plan.ts';

const data = (base: number, object: string, position: number, length: number): PlacedPlanEntry => ({ base, end: base + 1, hole: false, object, position, length });
const hole = (base: number): PlacedPlanEntry => ({ base, end: base, hole: true });

describe('readAhead', () => {
  it('takes the entries that continue the last planned one in the same object, holes skipped, up to maxBytes', () => {
    const planned = [data(0, 'm', 0, 10), data(1, 'm', 10, 10)];
    const following = [data(2, 'm', 20, 10), hole(3), data(3, 'm', 30, 10), data(4, 'm', 40, 10), data(5, 'm', 50, 10)];
    expect(readAhead(planned, following, 30).map((e) => e.base)).toEqual([2, 3, 4]);
    expect(readAhead(planned, following, 29).map((e) => e.base)).toEqual([2, 3]);
  });

  it('reads nothing ahead in produce objects (one entry each) or after a byte gap', () => {
    expect(readAhead([data(0, 'a', 0, 10)], [data(1, 'b', 0, 10)], 1 << 20)).toEqual([]);
    expect(readAhead([data(0, 'm', 0, 10)], [data(1, 'm', 11, 10)], 1 << 20)).toEqual([]);
    expect(readAhead([hole(0)], [data(0, 'm', 0, 10)], 1 << 20)).toEqual([]);
  });

  it('on any entries: a gapless same-object continuation within the byte bound (A1)', () => {
    const entry = fc.record({ object: fc.constantFrom('m', 'n'), gap: fc.integer({ min: 0, max: 5 }).map((g) => (g === 0 ? 1 : 0)), length: fc.integer({ min: 1, max: 50 }), hole: fc.boolean() });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 500 }), (raw, cut, maxBytes) => {
        let pos = 0;
        const entries = raw.map((r, i) => {
          if (r.hole) return hole(i);
          pos += r.gap;
          const e = data(i, r.object, pos, r.length);
          pos += r.length;
          return e;
        });
        const planned = entries.slice(0, cut);
        const ahead = readAhead(planned, entries.slice(cut), maxBytes);
        const last = [...planned].reverse().find((e) => !e.hole);
        let end = last ? last.position! + last.length! : -1;
        expect(ahead.reduce((n, e) => n + e.length!, 0)).toBeLessThanOrEqual(maxBytes);
        for (const e of ahead) {
          expect(e.hole).toBe(false);
          expect(e.object).toBe(last!.object);
          expect(e.position).toBe(end);
          end += e.length!;
        }
      }),
      { numRuns: 300 },
    );
  });
});
