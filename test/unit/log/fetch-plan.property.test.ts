/**
 * Properties of the pure fetch plan (lib/log/fetch-plan.ts, invariants E1-E3 and R1-R3) over
 * random logs: contiguous runs of data entries (1-5 records of random sizes) and holes (some
 * empty), some written before produce recorded budgetBytes, read from any offset below the
 * high watermark with any budget.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutRecords, entryHolding, fetchBudget, planEntries, type FetchBudget, type PlanEntry } from '../../../lib/log/fetch-plan.ts';
import { LIMITS } from '../../../lib/limits.ts';

interface TestRecord {
  readonly offset: number;
  readonly bytes: number;
}

interface TestEntry extends PlanEntry {
  readonly slot: number;
  readonly records: readonly TestRecord[];
}

type Shape = { kind: 'data'; sizes: number[]; legacy: boolean } | { kind: 'hole'; span: number };

const shape: fc.Arbitrary<Shape> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('data' as const),
      sizes: fc.array(fc.integer({ min: 40, max: 600 }), { minLength: 1, maxLength: 5 }),
      legacy: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hole' as const), span: fc.integer({ min: 0, max: 4 }) }) },
);

function buildLog(shapes: readonly Shape[], start: number): TestEntry[] {
  let base = start;
  return shapes.map((s, slot) => {
    if (s.kind === 'hole') {
      const e: TestEntry = { slot, base, end: base + s.span, hole: true, records: [] };
      base = e.end;
      return e;
    }
    const records = s.sizes.map((bytes, i) => ({ offset: base + i, bytes }));
    const total = s.sizes.reduce((a, b) => a + b, 0);
    const e: TestEntry = {
      slot,
      base,
      end: base + records.length,
      hole: false,
      recordCount: records.length,
      // Older entries have no budgetBytes: planning falls back to the stored length.
      ...(s.legacy ? { length: Math.ceil(total / 2) } : { budgetBytes: total, length: Math.ceil(total / 2) }),
      records,
    };
    base = e.end;
    return e;
  });
}

/** A log with at least one offset, an offset below its high watermark, and a budget. */
const scenario = fc
  .record({
    shapes: fc.array(shape, { minLength: 1, maxLength: 25 }),
    start: fc.integer({ min: 0, max: 50 }),
    maxRecords: fc.integer({ min: 1, max: 12 }),
    maxBytes: fc.integer({ min: 1, max: 3000 }),
    pick: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  })
  .map(({ shapes, start, maxRecords, maxBytes, pick }) => {
    const entries = buildLog(shapes, start);
    const hwm = entries[entries.length - 1]!.end;
    const offset = start + Math.floor(pick * (hwm - start));
    const budget: FetchBudget = { maxRecords, maxBytes };
    return { entries, hwm, offset, budget };
  })
  .filter(({ hwm, offset, entries }) => offset < hwm && entries[0]!.base < hwm);

function answer(entries: readonly TestEntry[], offset: number, budget: FetchBudget, hwm: number) {
  const plan = planEntries(entries, offset, budget);
  return { plan, cut: cutRecords(plan.entries, offset, budget, hwm) };
}

const allRecords = (entries: readonly TestEntry[]) => entries.flatMap((e) => e.records);

describe('fetch plan (properties)', () => {
  it('plans a contiguous run of entries starting at the one holding the offset (E1)', () => {
    fc.assert(
      fc.property(scenario, ({ entries, offset, budget }) => {
        const { entries: run } = planEntries(entries, offset, budget);
        const first = entries.findIndex((e) => e.end > offset);
        expect(first).toBeGreaterThanOrEqual(0);
        expect(run.length).toBeGreaterThan(0);
        expect(run[0]).toBe(entries[first]);
        run.forEach((e, i) => expect(e).toBe(entries[first + i]));
        expect(entryHolding(entries, offset)).toBe(first);
      }),
    );
  });

  it('gives the same plan from any earlier starting slot and once more pages are read (E3)', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({ entries, offset, budget }, cut) => {
        const plan = planEntries(entries, offset, budget);
        const holding = entryHolding(entries, offset);
        // The byOffset index may point at an earlier slot: the walk starts there.
        const earlier = cut % (holding + 1);
        expect(planEntries(entries.slice(earlier), offset, budget).entries).toEqual(plan.entries);
        // A walk that has read pages up to (at least) the plan's last entry may stop once covered.
        const lastIndex = holding + plan.entries.length - 1;
        for (let k = lastIndex + 1; k <= entries.length; k++) {
          const partial = planEntries(entries.slice(0, k), offset, budget);
          if (plan.covered) expect(partial).toEqual(plan);
        }
        if (!plan.covered) expect(lastIndex).toBe(entries.length - 1);
      }),
    );
  });

  it('never returns a record below the offset, never more than maxRecords, and returns the next records of the log in order (R1)', () => {
    fc.assert(
      fc.property(scenario, ({ entries, offset, budget, hwm }) => {
        const { cut } = answer(entries, offset, budget, hwm);
        expect(cut.records.length).toBeLessThanOrEqual(budget.maxRecords);
        const available = allRecords(entries).filter((r) => r.offset >= offset);
        // Exactly a prefix of what the log holds from the offset: nothing skipped, nothing twice.
        expect(cut.records).toEqual(available.slice(0, cut.records.length));
        if (available.length > 0) expect(cut.records.length).toBeGreaterThanOrEqual(1);
      }),
    );
  });

  it('stays within maxBytes unless it returns exactly one record (R2)', () => {
    fc.assert(
      fc.property(scenario, ({ entries, offset, budget, hwm }) => {
        const { cut } = answer(entries, offset, budget, hwm);
        const bytes = cut.records.reduce((n, r) => n + r.bytes, 0);
        if (cut.records.length !== 1) expect(bytes).toBeLessThanOrEqual(budget.maxBytes);
      }),
    );
  });

  it('continues past the last record and skipped holes, never past the high watermark, and never skips a record (R3)', () => {
    fc.assert(
      fc.property(scenario, ({ entries, offset, budget, hwm }) => {
        const { cut } = answer(entries, offset, budget, hwm);
        const last = cut.records[cut.records.length - 1];
        if (last) expect(cut.nextOffset).toBeGreaterThan(last.offset);
        expect(cut.nextOffset).toBeGreaterThan(offset); // below the HWM a fetch always progresses
        expect(cut.nextOffset).toBeLessThanOrEqual(hwm);
        // Every record in [offset, nextOffset) was returned: only holes are skipped.
        const skipped = allRecords(entries).filter((r) => r.offset >= offset && r.offset < cut.nextOffset);
        expect(skipped).toEqual(cut.records);
      }),
    );
  });

  it('cuts lazily: it pulls no record past the first one that does not fit', () => {
    fc.assert(
      fc.property(scenario, ({ entries, offset, budget, hwm }) => {
        const plan = planEntries(entries, offset, budget);
        let pulled = 0;
        const counted = plan.entries.map((e) => ({
          end: e.end,
          records: (function* () {
            for (const r of e.records) {
              pulled++;
              yield r;
            }
          })(),
        }));
        const cut = cutRecords(counted, offset, budget, hwm);
        const before = plan.entries.flatMap((e) => e.records).filter((r) => r.offset < offset).length;
        expect(pulled).toBeLessThanOrEqual(before + cut.records.length + 1);
      }),
    );
  });
});

describe('fetch plan (cases)', () => {
  const log = buildLog(
    [
      { kind: 'data', sizes: [100, 100], legacy: false },
      { kind: 'hole', span: 3 },
      { kind: 'hole', span: 0 },
      { kind: 'data', sizes: [5000], legacy: false },
      { kind: 'data', sizes: [100], legacy: false },
      { kind: 'hole', span: 2 },
    ],
    0,
  );
  const hwm = log[log.length - 1]!.end; // 9

  it('returns the first record even if it alone exceeds maxBytes', () => {
    const { cut } = answer(log, 5, { maxRecords: 10, maxBytes: 1000 }, hwm);
    expect(cut.records.map((r) => r.offset)).toEqual([5]);
    expect(cut.nextOffset).toBe(6);
  });

  it('skips holes: from inside one, and after the last record up to the high watermark', () => {
    expect(answer(log, 3, { maxRecords: 10, maxBytes: 150 }, hwm).cut).toEqual({ records: [log[3]!.records[0]], nextOffset: 6 });
    expect(answer(log, 6, { maxRecords: 10, maxBytes: 10_000 }, hwm).cut).toEqual({ records: [log[4]!.records[0]], nextOffset: 9 });
    expect(answer(log, 7, { maxRecords: 10, maxBytes: 10_000 }, hwm).cut).toEqual({ records: [], nextOffset: 9 });
  });

  it('stops at maxRecords inside an entry', () => {
    const { cut } = answer(log, 0, { maxRecords: 1, maxBytes: 10_000 }, hwm);
    expect(cut).toEqual({ records: [log[0]!.records[0]], nextOffset: 1 });
  });

  it('plans nothing at or past the end of the entries', () => {
    expect(planEntries(log, hwm, { maxRecords: 10, maxBytes: 10 })).toEqual({ entries: [], covered: false });
    expect(cutRecords([], hwm, { maxRecords: 10, maxBytes: 10 }, hwm)).toEqual({ records: [], nextOffset: hwm });
  });

  it('caps maxBytes at the fetch limit', () => {
    expect(fetchBudget({ maxRecords: 5, maxBytes: LIMITS.maxFetchBytes * 2 })).toEqual({ maxRecords: 5, maxBytes: LIMITS.maxFetchBytes });
    expect(fetchBudget({ maxRecords: 5, maxBytes: 10 })).toEqual({ maxRecords: 5, maxBytes: 10 });
  });
});
