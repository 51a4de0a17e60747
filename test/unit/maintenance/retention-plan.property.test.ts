/** Retention's plan (lib/maintenance/retention-plan.ts): R1-R5 against a brute-force model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRetention, type RetentionEntry } from '../../../lib/maintenance/retention-plan.ts';

const NOW = 1_000_000;

const log = fc.array(fc.record({ hole: fc.integer({ min: 0, max: 9 }).map((n) => n < 2), count: fc.integer({ min: 0, max: 4 }), length: fc.integer({ min: 1, max: 100 }), age: fc.integer({ min: 0, max: 1000 }) }), { maxLength: 40 }).map((raw) => {
  let base = 0;
  return raw.map((r): RetentionEntry => {
    const count = r.hole ? r.count : Math.max(1, r.count);
    const e = r.hole ? { base, end: base + count, hole: true } : { base, end: base + count, hole: false, length: r.length, maxTimestamp: NOW - r.age };
    base += count;
    return e;
  });
});

const rules = fc.record({ now: fc.constant(NOW), retentionMs: fc.integer({ min: -1, max: 1000 }), retentionBytes: fc.integer({ min: -1, max: 2000 }) });

/** Kafka's rules applied literally, entry by entry. */
function model(entries: readonly RetentionEntry[], r: { now: number; retentionMs: number; retentionBytes: number }): number {
  let size = entries.reduce((n, e) => n + (e.hole ? 0 : e.length!), 0);
  const data = entries.map((e, i) => ({ e, i })).filter(({ e }) => !e.hole);
  let cut = 0; // entries [0, cut) go
  for (const [k, { e, i }] of data.entries()) {
    const expired = r.retentionMs >= 0 && e.maxTimestamp! < r.now - r.retentionMs;
    const oversize = r.retentionBytes >= 0 && k !== data.length - 1 && size - e.length! >= r.retentionBytes;
    if (!expired && !oversize) break;
    size -= e.length!;
    cut = i + 1;
    if (k === data.length - 1) cut = entries.length; // everything went: trailing holes too
  }
  return cut === 0 ? 0 : entries[cut - 1]!.end;
}

describe('retention plan', () => {
  it('moves the start exactly as Kafka would, to an entry boundary (R1-R5)', () => {
    fc.assert(
      fc.property(log, rules, (entries, r) => {
        const size = entries.reduce((n, e) => n + (e.hole ? 0 : e.length!), 0);
        const plan = planRetention(entries, 0, size, r);
        expect(plan.logStartOffset).toBe(model(entries, r));
        expect(plan.logStartOffset === 0 || entries.some((e) => e.end === plan.logStartOffset)).toBe(true);
        if (r.retentionMs < 0 && r.retentionBytes < 0) expect(plan.logStartOffset).toBe(0);
        // R3: size alone never takes the newest data entry.
        if (r.retentionMs < 0) {
          const newest = [...entries].reverse().find((e) => !e.hole);
          if (newest) expect(plan.logStartOffset).toBeLessThanOrEqual(newest.base);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('planned page by page, it reaches the same start', () => {
    fc.assert(
      fc.property(log, rules, fc.integer({ min: 1, max: 10 }), (entries, r, page) => {
        const size = entries.reduce((n, e) => n + (e.hole ? 0 : e.length!), 0);
        let start = 0;
        let kept = size;
        let size2 = page;
        for (let from = 0; ; ) {
          const slice = entries.slice(from, from + size2);
          const plan = planRetention(slice, start, kept, r, from + slice.length >= entries.length);
          start = plan.logStartOffset;
          kept -= plan.bytes;
          if (!plan.more) break;
          // Nothing decidable in this page (its one data entry may be the newest): read more.
          if (plan.consumed === 0) size2 *= 2;
          else from += plan.consumed;
        }
        expect(start).toBe(model(entries, r));
      }),
      { numRuns: 1000 },
    );
  });

  it('never moves the start back, and skips entries already below it', () => {
    const entries: RetentionEntry[] = [
      { base: 0, end: 5, hole: false, length: 10, maxTimestamp: 0 },
      { base: 5, end: 9, hole: false, length: 10, maxTimestamp: NOW },
    ];
    expect(planRetention(entries, 7, 10, { now: NOW, retentionMs: 10, retentionBytes: -1 }).logStartOffset).toBe(7);
    expect(planRetention(entries, 0, 20, { now: NOW, retentionMs: 10, retentionBytes: -1 })).toMatchObject({ logStartOffset: 5, entries: 1, bytes: 10, reason: 'time' });
  });

  it('from any start, with a size that still counts the entries below it (not yet emptied), reaches the same start as on the entries at or after it', () => {
    fc.assert(
      fc.property(log, rules, fc.integer({ min: 0, max: 40 }), (entries, r, cutAt) => {
        const cut = Math.min(cutAt, entries.length);
        const start = cut === 0 ? 0 : entries[cut - 1]!.end;
        const kept = entries.slice(cut);
        const size = (list: readonly RetentionEntry[]) => list.reduce((n, e) => n + (e.hole ? 0 : e.length!), 0);
        const whole = planRetention(entries, start, size(entries), r);
        const fromStart = planRetention(kept, start, size(kept), r);
        expect(whole.logStartOffset).toBe(fromStart.logStartOffset);
        expect(whole.logStartOffset).toBeGreaterThanOrEqual(start);
      }),
      { numRuns: 1000 },
    );
  });
});
