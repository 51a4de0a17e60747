/**
 * The pure merge plan (lib/maintenance/merge-plan.ts) over random partitions: invariants
 * M1-M7, that applying a plan changes no record's bytes (each entry's new range in the
 * merged object holds exactly the bytes of its old range), that repeated ticks copy each byte
 * a bounded number of times, and that the settled prefix is never planned again.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SHARE, planMerges, settledPrefixEnd, type MergeEntry, type MergeRules } from '../../../lib/maintenance/merge-plan.ts';

const NOW = 1_000_000;

/** Random contiguous entries: holes and data entries spread over a few source objects. */
const partition = fc
  .array(
    fc.record({
      hole: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
      object: fc.integer({ min: 0, max: 5 }),
      length: fc.integer({ min: 1, max: 400 }),
      age: fc.integer({ min: 0, max: 200 }),
    }),
    { maxLength: 80 },
  )
  .map((raw) => {
    const offsetIn = new Map<number, number>();
    return raw.map((r, slot): MergeEntry => {
      if (r.hole) return { slot, hole: true, publishedAt: NOW - r.age };
      const position = offsetIn.get(r.object) ?? 0;
      offsetIn.set(r.object, position + r.length);
      return { slot, hole: false, object: `o${r.object}`, position, length: r.length, publishedAt: NOW - r.age };
    });
  });

const rules = fc.record(
  { now: fc.constant(NOW), minAgeMs: fc.integer({ min: 0, max: 150 }), targetBytes: fc.integer({ min: 200, max: 3_000 }), settleEntries: fc.integer({ min: 2, max: 12 }) },
  { requiredKeys: ['now', 'minAgeMs', 'targetBytes'] },
);

function apply(entries: readonly MergeEntry[], runs: ReturnType<typeof planMerges>): MergeEntry[] {
  const moved = new Map<number, { object: string; position: number }>();
  runs.forEach((run, i) => run.entries.forEach((p) => moved.set(p.slot, { object: `merged-${i}`, position: p.position })));
  return entries.map((e) => (moved.has(e.slot) ? { ...e, ...moved.get(e.slot)!, publishedAt: e.publishedAt } : e));
}

describe('merge plan', () => {
  it('keeps M1-M4 and M6 on any partition', () => {
    fc.assert(
      fc.property(partition, rules, (entries, r: MergeRules) => {
        const runs = planMerges(entries, r);
        const bySlot = new Map(entries.map((e) => [e.slot, e]));
        const perObject = new Map<string, number>();
        const entriesOf = new Map<string, number>();
        for (const e of entries) if (!e.hole) perObject.set(e.object!, (perObject.get(e.object!) ?? 0) + e.length!);
        for (const e of entries) if (!e.hole) entriesOf.set(e.object!, (entriesOf.get(e.object!) ?? 0) + 1);
        let lastSlot = -1;
        for (const run of runs) {
          // M1 disjoint, ordered, within the input
          expect(run.firstSlot).toBeGreaterThan(lastSlot);
          lastSlot = run.lastSlot;
          // M3
          expect(run.entries.length).toBeGreaterThanOrEqual(2);
          expect(new Set(run.entries.map((p) => p.from.object)).size).toBeGreaterThanOrEqual(2);
          expect(run.bytes).toBeLessThanOrEqual(r.targetBytes);
          let at = 0;
          for (const p of run.entries) {
            const e = bySlot.get(p.slot)!;
            // M2 data, old enough, not oversize; M6 not settled
            expect(e.hole).toBe(false);
            expect(r.now - e.publishedAt).toBeGreaterThanOrEqual(r.minAgeMs);
            expect(e.length!).toBeLessThanOrEqual(r.targetBytes);
            expect(perObject.get(e.object!)!).toBeLessThan(r.targetBytes / 2);
            expect(entriesOf.get(e.object!)!).toBeLessThan(r.settleEntries ?? Infinity);
            // M4 gapless, byte for byte
            expect(p.position).toBe(at);
            expect(p.from).toEqual({ object: e.object, position: e.position, length: e.length });
            at += e.length!;
          }
          expect(at).toBe(run.bytes);
          // M7: no source object holds more than MAX_SHARE of the run
          const inRun = new Map<string, number>();
          for (const p of run.entries) inRun.set(p.from.object, (inRun.get(p.from.object) ?? 0) + p.from.length);
          for (const n of inRun.values()) expect(n).toBeLessThanOrEqual(MAX_SHARE * run.bytes);
          // M3: units are whole (an object's consecutive entries are not split by a run's edge)
          const before = entries.filter((e) => !e.hole && e.slot < run.firstSlot).pop();
          const after = entries.find((e) => !e.hole && e.slot > run.lastSlot);
          if (before && bySlot.get(run.entries[0]!.slot)!.object === before.object) expect(runs.some((o) => o.entries.some((p) => p.slot === before.slot))).toBe(false);
          if (after && bySlot.get(run.entries[run.entries.length - 1]!.slot)!.object === after.object) expect(runs.some((o) => o !== run && o.entries.some((p) => p.slot === after.slot))).toBe(false);
          // M2: no data entry inside a run's span is left out
          for (let s = run.firstSlot; s <= run.lastSlot; s++) {
            const e = bySlot.get(s)!;
            if (!e.hole) expect(run.entries.some((p) => p.slot === s)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reaches a fixpoint: a merged run is never proposed again on its own (M5), and records keep their bytes', () => {
    fc.assert(
      fc.property(partition, rules, (entries, r: MergeRules) => {
        const runs = planMerges(entries, r);
        const after = apply(entries, runs);
        // Each moved entry reads the same source bytes: its (object, position, length) maps 1:1.
        runs.forEach((run, i) => {
          for (const p of run.entries) expect(after.find((e) => e.slot === p.slot)).toMatchObject({ object: `merged-${i}`, position: p.position, length: p.from.length });
        });
        const again = planMerges(after, r);
        for (const run of again) {
          const objects = new Set(run.entries.map((p) => after.find((e) => e.slot === p.slot)!.object));
          expect(objects.size).toBeGreaterThanOrEqual(2);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('plans nothing for a partition already in one object, and respects maxRuns', () => {
    const one: MergeEntry[] = [0, 1, 2].map((slot) => ({ slot, hole: false, object: 'o', position: slot * 10, length: 10, publishedAt: 0 }));
    expect(planMerges(one, { now: NOW, minAgeMs: 0, targetBytes: 1_000 })).toEqual([]);
    const many: MergeEntry[] = Array.from({ length: 20 }, (_, slot) => ({ slot, hole: false, object: `o${slot}`, position: 0, length: 100, publishedAt: 0 }));
    expect(planMerges(many, { now: NOW, minAgeMs: 0, targetBytes: 300 }, 2)).toHaveLength(2);
    expect(planMerges(many, { now: NOW, minAgeMs: 0, targetBytes: 300 }).map((r) => r.entries.length)).toEqual([3, 3, 3, 3, 3, 3, 2]);
  });

  it('never merges young entries, and a young entry splits the runs around it', () => {
    const entries: MergeEntry[] = Array.from({ length: 6 }, (_, slot) => ({ slot, hole: false, object: `o${slot}`, position: 0, length: 10, publishedAt: slot === 2 ? NOW : 0 }));
    expect(planMerges(entries, { now: NOW, minAgeMs: 100, targetBytes: 1_000 }).map((r) => [r.firstSlot, r.lastSlot])).toEqual([[0, 1], [3, 5]]);
  });

  it('copies each byte at most about log1.5(target / produce size) times over many ticks (M7), and never plans the settled prefix again', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 5, max: 60 }),
        (size, perTick, ticks) => {
          const targetBytes = 4_096;
          let entries: MergeEntry[] = [];
          let copied = 0;
          let produced = 0;
          let from = 0;
          for (let t = 0; t < ticks; t++) {
            for (let i = 0; i < perTick; i++) {
              const slot = entries.length;
              entries.push({ slot, hole: false, object: `p${slot}`, position: 0, length: size, publishedAt: 0 });
              produced += size;
            }
            const window = entries.filter((e) => e.slot >= from);
            const runs = planMerges(window, { now: 1, minAgeMs: 0, targetBytes });
            for (const run of runs) {
              expect(run.firstSlot).toBeGreaterThanOrEqual(from);
              copied += run.bytes;
              for (const p of run.entries) entries[p.slot] = { ...entries[p.slot]!, object: `m${t}-${run.firstSlot}`, position: p.position };
            }
            from = settledPrefixEnd(entries.filter((e) => e.slot >= from), { targetBytes });
            // Everything before `from` is in settled objects: a plan over all entries leaves it alone.
            for (const run of planMerges(entries, { now: 1, minAgeMs: 0, targetBytes })) expect(run.firstSlot).toBeGreaterThanOrEqual(from);
          }
          expect(copied).toBeLessThanOrEqual(produced * (Math.log(targetBytes / size) / Math.log(1 / MAX_SHARE) + 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  describe('the hot tier (M8)', () => {
    const isHot = (o: string) => o.startsWith('hot/');
    it('moves every hot entry older than the minimum age, however few, and only Standard sources are share-bounded', () => {
      fc.assert(
        fc.property(partition, rules, fc.integer({ min: 0, max: 5 }), (entries, r: MergeRules, hotObject) => {
          // One source object is in the hot tier.
          const withHot = entries.map((e) => (e.object === `o${hotObject}` ? { ...e, object: `hot/o${hotObject}` } : e));
          const hr: MergeRules = { ...r, isHot };
          const runs = planMerges(withHot, hr);
          const planned = new Set(runs.flatMap((run) => run.entries.map((p) => p.slot)));
          // Every old hot entry is planned: an ineligible entry only ends a run, and a hot
          // entry is a run by itself when need be.
          for (const e of withHot) {
            if (e.hole || !isHot(e.object!) || r.now - e.publishedAt < r.minAgeMs) continue;
            expect(planned.has(e.slot), `hot slot ${e.slot} left in the hot tier`).toBe(true);
          }
          for (const run of runs) {
            const perObject = new Map<string, number>();
            for (const p of run.entries) if (!isHot(p.from.object)) perObject.set(p.from.object, (perObject.get(p.from.object) ?? 0) + p.from.length);
            for (const n of perObject.values()) expect(n).toBeLessThanOrEqual(MAX_SHARE * run.bytes);
            expect(run.entries.length >= 2 || run.entries.some((p) => isHot(p.from.object)) || new Set(run.entries.map((p) => p.from.object)).size >= 2).toBe(true);
          }
          // The settled prefix never passes an entry still in the hot tier.
          const applied = apply(withHot, runs);
          const end = settledPrefixEnd(applied, hr);
          for (const e of applied) if (!e.hole && isHot(e.object!) && e.slot < end) throw new Error(`hot slot ${e.slot} inside the settled prefix`);
        }),
      );
    });

    it('a single hot entry moves alone; without isHot it would stay', () => {
      const one: MergeEntry[] = [{ slot: 0, hole: false, object: 'hot/a', position: 0, length: 100, publishedAt: 0 }];
      const r = { now: NOW, minAgeMs: 10, targetBytes: 1000 };
      expect(planMerges(one, r)).toEqual([]);
      expect(planMerges(one, { ...r, isHot })).toEqual([{ firstSlot: 0, lastSlot: 0, bytes: 100, entries: [{ slot: 0, from: { object: 'hot/a', position: 0, length: 100 }, position: 0 }] }]);
      // Once in a Standard object, it is a fixpoint again (M5).
      expect(planMerges([{ ...one[0]!, object: 'seg/x' }], { ...r, isHot })).toEqual([]);
    });

    it('a hot entry bigger than the Standard units around it still moves when those break M7', () => {
      // One unsettled Standard object in three non-adjacent units (sa), a small one between (sb).
      const sizes: [string, number][] = [['hot/h', 10], ['sa', 10], ['sb', 1], ['sa', 10], ['sb', 1], ['sa', 10]];
      const at = new Map<string, number>();
      const entries: MergeEntry[] = sizes.map(([object, length], slot) => {
        const position = at.get(object) ?? 0;
        at.set(object, position + length);
        return { slot, hole: false, object, position, length, publishedAt: 0 };
      });
      const runs = planMerges(entries, { now: NOW, minAgeMs: 0, targetBytes: 1000, isHot });
      expect(runs.flatMap((run) => run.entries.map((p) => p.slot))).toContain(0);
    });

    it('a hot entry beside a big Standard object moves without copying the big object again (M7)', () => {
      const entries: MergeEntry[] = [
        { slot: 0, hole: false, object: 'big', position: 0, length: 400, publishedAt: 0 },
        { slot: 1, hole: false, object: 'hot/b', position: 0, length: 10, publishedAt: 0 },
      ];
      const runs = planMerges(entries, { now: NOW, minAgeMs: 0, targetBytes: 1000, isHot });
      expect(runs.map((run) => run.entries.map((p) => p.slot))).toEqual([[1]]);
    });
  });
});
