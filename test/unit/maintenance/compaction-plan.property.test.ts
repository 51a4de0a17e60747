/**
 * The pure compaction plan (lib/maintenance/compaction-plan.ts) over random keyed workloads
 * with overwrites and tombstones: Kafka's four guarantees of log compaction (KAFKA-SEMANTICS.md
 * §6) checked on the plan applied to its input, C1-C7 against a brute-force model, repeated
 * passes with time advancing (only superseded records and expired tombstones go, no key comes
 * back, a fixpoint is reached) and the multi-pass property (a small map, pass after pass, gives
 * what one pass with a map of every key gives).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planCompaction, type CompactionEntry, type CompactionPlan, type CompactionRecord, type CompactionRules } from '../../../lib/maintenance/compaction-plan.ts';

const NOW = 1_000_000;
const hash = (k: number): string => k.toString(16).padStart(32, '0');

interface Workload {
  readonly entries: CompactionEntry[];
  /** Tombstone offset → first cleaned at, within [its timestamp, NOW]. */
  readonly firstCleanedAt: Map<number, number>;
}

/**
 * Entries of 0-4 records (a record-less entry is a hole) over a small key space, ~20%
 * tombstones, timestamps rising with the offset over [NOW - 2000, NOW] with some jitter.
 */
const workload = (maxEntries = 20): fc.Arbitrary<Workload> =>
  fc.integer({ min: 1, max: 12 }).chain((keySpace) =>
    fc
      .array(
        fc.record({
          hole: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
          span: fc.integer({ min: 0, max: 2 }),
          records: fc.array(fc.record({ key: fc.integer({ min: 0, max: keySpace - 1 }), tombstone: fc.integer({ min: 0, max: 4 }).map((n) => n === 0), jitter: fc.integer({ min: 0, max: 60 }), cleaned: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }) }), { minLength: 1, maxLength: 4 }),
        }),
        { maxLength: maxEntries },
      )
      .map((raw) => {
        const firstCleanedAt = new Map<number, number>();
        let offset = 0;
        const entries = raw.map((r, slot): CompactionEntry => {
          const base = offset;
          if (r.hole) {
            offset += r.span;
            return { slot, base, end: offset, records: [] };
          }
          const records = r.records.map((x): CompactionRecord => {
            const timestamp = Math.min(NOW, NOW - 2000 + offset * 20 + x.jitter);
            if (x.tombstone && x.cleaned !== undefined) firstCleanedAt.set(offset, Math.round(timestamp + (NOW - timestamp) * x.cleaned));
            return { offset: offset++, keyHash: hash(x.key), tombstone: x.tombstone, timestamp };
          });
          return { slot, base, end: offset, records };
        });
        return { entries, firstCleanedAt };
      }),
  );

const rules = fc.record({
  minCompactionLagMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2500 })),
  deleteRetentionMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2500 })),
  maxKeys: fc.integer({ min: 1, max: 14 }),
});

function apply(entries: readonly CompactionEntry[], plan: CompactionPlan): CompactionEntry[] {
  return entries.map((e, i) => {
    const keep = new Set(plan.entries[i]!.kept);
    return { ...e, records: e.records.filter((r) => keep.has(r.offset)) };
  });
}

const recordsOf = (entries: readonly CompactionEntry[]): CompactionRecord[] => entries.flatMap((e) => e.records);
const endOf = (entries: readonly CompactionEntry[]): number => entries[entries.length - 1]?.end ?? 0;

/** The latest record of each key among `records` below `before`. */
function latestByKey(records: readonly CompactionRecord[], before = Infinity): Map<CompactionRecord['keyHash'], CompactionRecord> {
  const out = new Map<CompactionRecord['keyHash'], CompactionRecord>();
  for (const r of records) if (r.offset < before) out.set(r.keyHash, r);
  return out;
}

/** Kafka's cleaner applied literally to an all-dirty log: where the map stops, and what stays. */
function model(entries: readonly CompactionEntry[], r: CompactionRules): { cleanedEnd: number; kept: Set<number> } {
  const young = entries.find((e) => e.records.some((x) => r.now - x.timestamp < r.minCompactionLagMs));
  let cleanedEnd = young ? young.base : endOf(entries);
  const keys = new Set<CompactionRecord['keyHash']>();
  for (const x of recordsOf(entries)) {
    if (x.offset >= cleanedEnd) break;
    if (!keys.has(x.keyHash) && keys.size === r.maxKeys) {
      cleanedEnd = x.offset;
      break;
    }
    keys.add(x.keyHash);
  }
  const all = recordsOf(entries);
  const kept = new Set<number>();
  for (const x of all) {
    const latest = !all.some((y) => y.keyHash === x.keyHash && y.offset > x.offset && y.offset < cleanedEnd);
    const cleanedAt = r.firstCleanedAt?.get(x.offset);
    const expired = x.tombstone && cleanedAt !== undefined && r.now >= cleanedAt + r.deleteRetentionMs;
    if (x.offset >= cleanedEnd || (latest && !expired)) kept.add(x.offset);
  }
  return { cleanedEnd, kept };
}

describe('compaction plan', () => {
  it("keeps Kafka's four guarantees on any keyed workload", () => {
    fc.assert(
      fc.property(workload(), rules, ({ entries, firstCleanedAt }, rr) => {
        const r: CompactionRules = { now: NOW, ...rr, firstCleanedAt };
        const plan = planCompaction(entries, r);
        const before = recordsOf(entries);
        const after = recordsOf(apply(entries, plan));
        const keptOffsets = new Set(after.map((x) => x.offset));
        // (1) a consumer at the head sees everything: records newer than the lag, or after the cleaned end, stay.
        for (const x of before) if (NOW - x.timestamp < r.minCompactionLagMs || x.offset >= plan.cleanedEnd) expect(keptOffsets.has(x.offset)).toBe(true);
        // (2) order never changes: kept offsets rise and are a subsequence of the input, entry by entry.
        plan.entries.forEach((out, i) => {
          const offsets = entries[i]!.records.map((x) => x.offset);
          let at = -1;
          for (const o of out.kept) {
            const next = offsets.indexOf(o, at + 1);
            expect(next).toBeGreaterThan(at);
            at = next;
          }
        });
        // (3) offsets never change: each kept record is the input's record at that offset.
        const byOffset = new Map(before.map((x) => [x.offset, x]));
        for (const x of after) expect(x).toBe(byOffset.get(x.offset));
        // (4) reading from the start sees the final value of every key, in write order.
        for (const [, last] of latestByKey(before)) {
          const cleanedAt = firstCleanedAt.get(last.offset);
          const expired = last.tombstone && cleanedAt !== undefined && NOW >= cleanedAt + r.deleteRetentionMs && last.offset < plan.cleanedEnd;
          expect(keptOffsets.has(last.offset)).toBe(!expired);
        }
        // ... and delete markers of keys deleted less than delete.retention.ms ago.
        for (const [, last] of latestByKey(before, plan.cleanedEnd)) if (last.tombstone && NOW - last.timestamp < r.deleteRetentionMs) expect(keptOffsets.has(last.offset)).toBe(true);
        // Entries never disappear; an emptied one keeps its range (C7).
        expect(plan.entries.map(({ slot, base, end }) => ({ slot, base, end }))).toEqual(entries.map(({ slot, base, end }) => ({ slot, base, end })));
        plan.entries.forEach((out, i) => {
          expect(out.empty).toBe(out.kept.length === 0);
          expect(out.removed).toBe(entries[i]!.records.length - out.kept.length);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps exactly the latest of each key before the cleaned end, and stops the map where the next key would not fit (C2-C5)', () => {
    fc.assert(
      fc.property(workload(), rules, ({ entries, firstCleanedAt }, rr) => {
        const r: CompactionRules = { now: NOW, ...rr, firstCleanedAt };
        const plan = planCompaction(entries, r);
        const m = model(entries, r);
        expect(plan.cleanedEnd).toBe(m.cleanedEnd);
        expect(new Set(plan.entries.flatMap((e) => e.kept))).toEqual(m.kept);
        expect(plan.cleanedEnd).toBeLessThanOrEqual(plan.compactableEnd);
        expect(plan.more).toBe(plan.cleanedEnd < plan.compactableEnd);
        // C3: the map held the distinct keys before the cleaned end, never more than maxKeys.
        const keys = new Set(recordsOf(entries).filter((x) => x.offset < plan.cleanedEnd).map((x) => x.keyHash));
        expect(plan.keys).toBe(keys.size);
        expect(plan.keys).toBeLessThanOrEqual(r.maxKeys);
        const removed = plan.entries.reduce((n, e) => n + e.removed, 0);
        expect(plan.superseded + plan.expiredTombstones).toBe(removed);
        // C5: every kept tombstone before the cleaned end has a horizon (carried, or now); nothing else has one.
        const expected = new Map<number, number>();
        for (const x of recordsOf(apply(entries, plan))) {
          if (!x.tombstone) continue;
          const at = firstCleanedAt.get(x.offset) ?? (x.offset < plan.cleanedEnd ? NOW : undefined);
          if (at !== undefined) expected.set(x.offset, at);
        }
        expect(new Map(plan.firstCleanedAt)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('over repeated passes with time advancing and the log growing, removes only superseded records and expired tombstones, never brings a key back, and reaches a fixpoint', () => {
    fc.assert(
      fc.property(
        workload(16),
        rules,
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 800 }), grow: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 8 }),
        ({ entries: full }, rr, steps) => {
          let cur: CompactionEntry[] = [];
          let horizons: ReadonlyMap<number, number> = new Map();
          let dirty = 0;
          let now = NOW - 1000;
          let visible = 0;
          const pass = (): CompactionPlan => {
            const plan = planCompaction(cur, { now, ...rr, firstDirtyOffset: dirty, firstCleanedAt: horizons });
            const next = apply(cur, plan);
            const kept = new Set(recordsOf(next).map((x) => x.offset));
            const records = recordsOf(cur);
            for (const x of records) {
              if (kept.has(x.offset)) continue;
              const superseded = records.some((y) => y.keyHash === x.keyHash && y.offset > x.offset && y.offset < plan.cleanedEnd);
              const h = horizons.get(x.offset);
              const expired = x.tombstone && h !== undefined && now >= h + rr.deleteRetentionMs;
              expect(superseded || expired).toBe(true);
            }
            // No key comes back: each key's newest remaining record is its newest in the log so far.
            const truth = latestByKey(recordsOf(full.slice(0, visible)));
            for (const [k, x] of latestByKey(recordsOf(next))) expect(x).toBe(truth.get(k));
            // A horizon, once set, never changes.
            for (const [o, h] of plan.firstCleanedAt) if (horizons.has(o)) expect(h).toBe(horizons.get(o));
            expect(plan.cleanedEnd).toBeGreaterThanOrEqual(dirty);
            cur = next;
            horizons = plan.firstCleanedAt;
            dirty = plan.cleanedEnd;
            return plan;
          };
          for (const s of steps) {
            now += s.dt;
            visible = Math.min(full.length, visible + s.grow);
            cur = [...cur, ...full.slice(cur.length, visible)];
            pass();
          }
          // Then everything is old and the log is whole: passes, time moving on, until nothing changes.
          visible = full.length;
          cur = [...cur, ...full.slice(cur.length)];
          now = Math.max(now, NOW + rr.minCompactionLagMs);
          for (let i = 0; ; i++) {
            expect(i).toBeLessThan(200);
            now += rr.deleteRetentionMs + 1;
            const plan = pass();
            if (plan.superseded + plan.expiredTombstones === 0 && !plan.more && horizons.size === 0) break;
          }
          // The fixpoint: the final value of every key that was not deleted, nothing else.
          const final = [...latestByKey(recordsOf(full)).values()].filter((x) => !x.tombstone).sort((a, b) => a.offset - b.offset);
          expect(recordsOf(cur)).toEqual(final);
          expect(dirty).toBe(endOf(full));
          const again = planCompaction(cur, { now: now + 1_000_000, ...rr, firstDirtyOffset: dirty });
          expect(again.entries.every((e) => e.removed === 0)).toBe(true);
          expect(again.cleanedEnd).toBe(dirty);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives with a small map, pass after pass, what one pass with a map of every key gives (multi-pass)', () => {
    fc.assert(
      fc.property(
        workload(),
        rules.map((r) => ({ ...r, maxKeys: (r.maxKeys % 4) + 1, deleteRetentionMs: r.deleteRetentionMs + 1 })),
        ({ entries, firstCleanedAt }, rr) => {
          // delete.retention.ms ≥ 1: at a fixed `now` a tombstone first cleaned by one pass must not expire in the next.
          const big = planCompaction(entries, { now: NOW, ...rr, maxKeys: Infinity, firstCleanedAt });
          let cur = entries;
          let horizons: ReadonlyMap<number, number> = firstCleanedAt;
          let dirty: number | undefined;
          let passes = 0;
          for (;;) {
            const plan = planCompaction(cur, { now: NOW, ...rr, firstDirtyOffset: dirty, firstCleanedAt: horizons });
            expect(plan.keys).toBeLessThanOrEqual(rr.maxKeys);
            if (dirty !== undefined && plan.more) expect(plan.cleanedEnd).toBeGreaterThan(dirty);
            cur = apply(cur, plan);
            horizons = plan.firstCleanedAt;
            dirty = plan.cleanedEnd;
            passes++;
            if (!plan.more) break;
          }
          expect(cur).toEqual(apply(entries, big));
          expect(new Map(horizons)).toEqual(new Map(big.firstCleanedAt));
          expect(dirty).toBe(big.cleanedEnd);
          const distinct = new Set(recordsOf(entries).filter((x) => x.offset < big.cleanedEnd).map((x) => x.keyHash)).size;
          if (distinct > rr.maxKeys) expect(passes).toBeGreaterThan(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves an emptied entry as an empty range, and a tombstone survives its first pass then goes after delete.retention.ms', () => {
    const rec = (offset: number, key: bigint, tombstone = false): CompactionRecord => ({ offset, keyHash: key, tombstone, timestamp: 0 });
    const entries: CompactionEntry[] = [
      { slot: 0, base: 0, end: 2, records: [rec(0, 1n), rec(1, 2n)] },
      { slot: 1, base: 2, end: 4, records: [rec(2, 1n), rec(3, 2n, true)] },
    ];
    const r = { minCompactionLagMs: 0, deleteRetentionMs: 100, maxKeys: 10 };
    const first = planCompaction(entries, { now: 1_000, ...r });
    expect(first.entries).toEqual([
      { slot: 0, base: 0, end: 2, kept: [], removed: 2, empty: true },
      { slot: 1, base: 2, end: 4, kept: [2, 3], removed: 0, empty: false },
    ]);
    expect([...first.firstCleanedAt]).toEqual([[3, 1_000]]);
    const applied = apply(entries, first);
    const early = planCompaction(applied, { now: 1_099, ...r, firstDirtyOffset: first.cleanedEnd, firstCleanedAt: first.firstCleanedAt });
    expect(early.entries[1]!.kept).toEqual([2, 3]);
    const late = planCompaction(applied, { now: 1_100, ...r, firstDirtyOffset: first.cleanedEnd, firstCleanedAt: first.firstCleanedAt });
    expect(late.entries[1]).toMatchObject({ kept: [2], removed: 1, empty: false });
    expect(late.expiredTombstones).toBe(1);
    expect(late.firstCleanedAt.size).toBe(0);
  });

  it('compacts nothing from the first entry within the lag on, and resets an invalid checkpoint to the start', () => {
    const entries: CompactionEntry[] = [
      { slot: 0, base: 0, end: 1, records: [{ offset: 0, keyHash: 'a', tombstone: false, timestamp: 0 }] },
      { slot: 1, base: 1, end: 3, records: [{ offset: 1, keyHash: 'a', tombstone: false, timestamp: 950 }, { offset: 2, keyHash: 'a', tombstone: false, timestamp: 0 }] },
    ];
    const plan = planCompaction(entries, { now: 1_000, minCompactionLagMs: 100, deleteRetentionMs: 0, maxKeys: 1 });
    expect(plan).toMatchObject({ compactableEnd: 1, cleanedEnd: 1, more: false });
    expect(plan.entries.map((e) => e.kept)).toEqual([[0], [1, 2]]);
    const reset = planCompaction(entries, { now: 1_000, minCompactionLagMs: 0, deleteRetentionMs: 0, maxKeys: 1, firstDirtyOffset: 7 });
    expect(reset.cleanedEnd).toBe(3);
    expect(reset.entries.map((e) => e.kept)).toEqual([[], [2]]);
  });

  it('rejects a map with no room and records out of order', () => {
    expect(() => planCompaction([], { now: 0, minCompactionLagMs: 0, deleteRetentionMs: 0, maxKeys: 0 })).toThrow(RangeError);
    const bad: CompactionEntry[] = [{ slot: 0, base: 0, end: 2, records: [{ offset: 1, keyHash: 'a', tombstone: false, timestamp: 0 }, { offset: 0, keyHash: 'b', tombstone: false, timestamp: 0 }] }];
    expect(() => planCompaction(bad, { now: 0, minCompactionLagMs: 0, deleteRetentionMs: 0, maxKeys: 1 })).toThrow(RangeError);
  });
});
