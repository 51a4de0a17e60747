/** planGroup (lib/log/group-plan.ts): invariants P1-P5 on random groups, plus worked examples. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planGroup, type RequestShape } from '../../../lib/log/group-plan.ts';

const request: fc.Arbitrary<RequestShape> = fc.record({
  alone: fc.boolean(),
  chunks: fc
    .uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 })
    .chain((partitions) =>
      fc.tuple(...partitions.map((p) => fc.integer({ min: 1, max: 50 }).map((recordCount) => ({ tp: `t/${p}`, recordCount })))),
    ),
});

describe('planGroup', () => {
  it('P1-P5 hold for any group', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 12 }), (requests) => {
        const plan = planGroup(requests);
        // P1: every chunk in exactly one unit, of its partition.
        const seen = new Map<string, number>();
        plan.units.forEach((u, i) =>
          u.members.forEach((m) => {
            const key = `${m.request}/${m.chunk}`;
            expect(seen.has(key)).toBe(false);
            seen.set(key, i);
            expect(requests[m.request]!.chunks[m.chunk]!.tp).toBe(u.tp);
          }),
        );
        expect(seen.size).toBe(requests.reduce((n, r) => n + r.chunks.length, 0));
        for (const u of plan.units) {
          // P2: members in arrival order, tiling the unit's records.
          let at = 0;
          let last = -1;
          for (const m of u.members) {
            expect(m.request).toBeGreaterThan(last);
            last = m.request;
            expect(m.offsetInUnit).toBe(at);
            at += requests[m.request]!.chunks[m.chunk]!.recordCount;
          }
          expect(u.recordCount).toBe(at);
          // P3: an alone request's unit holds nothing else.
          if (u.members.some((m) => requests[m.request]!.alone)) expect(u.members).toHaveLength(1);
        }
        // P4: sets partition units and requests; a request's units all in its set.
        const unitSet = new Map<number, number>();
        const requestSet = new Map<number, number>();
        plan.publishSets.forEach((set, si) => {
          for (const u of set.units) {
            expect(unitSet.has(u)).toBe(false);
            unitSet.set(u, si);
          }
          for (const r of set.requests) {
            expect(requestSet.has(r)).toBe(false);
            requestSet.set(r, si);
          }
          if (set.alone) expect(set.requests).toHaveLength(1);
          for (const r of set.requests) expect(requests[r]!.alone).toBe(set.alone);
        });
        expect(unitSet.size).toBe(plan.units.length);
        expect(requestSet.size).toBe(requests.length);
        plan.units.forEach((u, i) => u.members.forEach((m) => expect(requestSet.get(m.request)).toBe(unitSet.get(i))));
        // P5: per partition, slots in arrival order of the first member; segment order follows.
        let previous = -1;
        for (const [tp, unitIndexes] of plan.slotsByPartition) {
          const firsts = unitIndexes.map((u) => plan.units[u]!.members[0]!.request);
          expect([...firsts].sort((a, b) => a - b)).toEqual(firsts);
          for (const u of unitIndexes) {
            expect(plan.units[u]!.tp).toBe(tp);
            expect(u).toBe(previous + 1); // laid out partition by partition, in slot order
            previous = u;
          }
        }
      }),
    );
  });

  it('plain requests of a partition share one unit; an alone request gets its own; a spanning plain request joins sets', () => {
    const plan = planGroup([
      { alone: false, chunks: [{ tp: 'a', recordCount: 2 }] },
      { alone: true, chunks: [{ tp: 'a', recordCount: 1 }] },
      { alone: false, chunks: [{ tp: 'a', recordCount: 3 }, { tp: 'b', recordCount: 1 }] },
      { alone: false, chunks: [{ tp: 'c', recordCount: 4 }] },
    ]);
    expect(plan.units.map((u) => [u.tp, u.recordCount, u.members.map((m) => [m.request, m.offsetInUnit])])).toEqual([
      ['a', 5, [[0, 0], [2, 2]]],
      ['a', 1, [[1, 0]]],
      ['b', 1, [[2, 0]]],
      ['c', 4, [[3, 0]]],
    ]);
    expect([...plan.slotsByPartition]).toEqual([['a', [0, 1]], ['b', [2]], ['c', [3]]]);
    expect(plan.publishSets.map((s) => [s.units, s.requests, s.alone])).toEqual([
      [[0, 2], [0, 2], false],
      [[1], [1], true],
      [[3], [3], false],
    ]);
  });

  it('one request alone is today’s request: one unit per partition, one set', () => {
    const plan = planGroup([{ alone: false, chunks: [{ tp: 'x', recordCount: 3 }, { tp: 'y', recordCount: 2 }] }]);
    expect(plan.units).toHaveLength(2);
    expect(plan.publishSets).toEqual([{ units: [0, 1], requests: [0], alone: false }]);
  });
});
