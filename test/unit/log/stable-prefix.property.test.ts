/**
 * Model-based test of the pure stable-prefix rule (lib/log/stable-prefix.ts): random
 * interleavings of reserve / publish / a writer filling its own slot / time passing / readers
 * walking (and filling abandoned slots), against an in-memory table with DynamoDB's
 * attribute_not_exists semantics. After every read the reader's snapshot must satisfy P1-P3,
 * its high watermark must not decrease, and no two published ranges may overlap; at the end,
 * once every writer is done and the slot timeout has passed, the prefix must reach the head
 * and hold every acknowledged record exactly once at its acknowledged offsets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  advance,
  emptySnapshot,
  highWatermark,
  holeEntry,
  judgeHint,
  append,
  stableSlots,
  type PrefixSnapshot,
} from '../../../lib/log/stable-prefix.ts';
import { EMPTY_MAINTENANCE, type HeadState, type HintState, type IndexEntry } from '../../../lib/storage/index-store.ts';

const TIMEOUT = 100;

type Action =
  | { kind: 'reserve'; count: number }
  | { kind: 'publish'; pick: number }
  | { kind: 'ownHole'; pick: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'read'; reader: number; pageSize: number; steps: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('reserve' as const), count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('publish' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ownHole' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 150 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      reader: fc.integer({ min: 0, max: 2 }),
      pageSize: fc.integer({ min: 1, max: 6 }),
      steps: fc.integer({ min: 1, max: 3 }),
    }),
  },
);

interface Reservation {
  readonly slot: number;
  readonly base: number;
  readonly end: number;
}

class Model {
  now = 1_000;
  head: HeadState = { slots: 0, next: 0, reservedAt: 0 };
  readonly table = new Map<number, IndexEntry>();
  readonly pending: Reservation[] = [];
  readonly acked: Reservation[] = [];
  readonly readers: { snapshot: PrefixSnapshot; hwm: number }[] = [0, 1, 2].map(() => ({ snapshot: emptySnapshot(), hwm: 0 }));

  /** attribute_not_exists(sk): true when written. */
  put(entry: IndexEntry): boolean {
    if (this.table.has(entry.slot)) return false;
    this.table.set(entry.slot, entry);
    return true;
  }

  query(from: number, to: number, limit: number): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (let s = from; s < to && out.length < limit; s++) {
      const e = this.table.get(s);
      if (e) out.push(e);
    }
    return out;
  }

  apply(a: Action): void {
    switch (a.kind) {
      case 'reserve': {
        const r = { slot: this.head.slots, base: this.head.next, end: this.head.next + a.count };
        this.head = { slots: r.slot + 1, next: r.end, reservedAt: this.now };
        this.pending.push(r);
        return;
      }
      case 'publish':
      case 'ownHole': {
        if (this.pending.length === 0) return;
        const [r] = this.pending.splice(a.pick % this.pending.length, 1);
        const won = this.put({ slot: r!.slot, base: r!.base, end: r!.end, hole: a.kind === 'ownHole', object: 'o', publishedAt: this.now });
        if (won && a.kind === 'publish') this.acked.push(r!);
        return;
      }
      case 'tick':
        this.now += a.ms;
        return;
      case 'read':
        this.read(a.reader, a.pageSize, a.steps);
    }
  }

  read(reader: number, pageSize: number, steps: number): void {
    const r = this.readers[reader]!;
    const head = this.head;
    let snapshot = r.snapshot;
    let page: IndexEntry[] | undefined;
    for (let i = 0; i < steps; i++) {
      if (stableSlots(snapshot) >= head.slots) break;
      page ??= this.query(stableSlots(snapshot), head.slots, pageSize);
      const res = advance(snapshot, head, page, page.length === pageSize, { now: this.now, slotTimeoutMs: TIMEOUT, keepEntries: 4 });
      snapshot = res.snapshot;
      const step = res.step;
      if (step.kind === 'complete' || step.kind === 'wait') break;
      if (step.kind === 'more') {
        page = undefined;
        continue;
      }
      const hole = holeEntry(step, this.now);
      if (this.put(hole)) {
        snapshot = append(snapshot, [hole], 4);
        page = page.filter((e) => e.slot > step.slot);
      } else {
        page = undefined;
      }
    }
    this.check(snapshot, r.hwm);
    r.snapshot = snapshot;
    r.hwm = highWatermark(snapshot);
  }

  check(s: PrefixSnapshot, previousHwm: number): void {
    // P1: contiguous slots; the whole history [0, stable) is published.
    s.entries.forEach((e, i) => expect(e.slot).toBe(s.firstSlot + i));
    for (let slot = 0; slot < stableSlots(s); slot++) expect(this.table.has(slot), `slot ${slot} in the prefix is published`).toBe(true);
    // P3: entries are what the table holds; never past the head.
    for (const e of s.entries) expect(this.table.get(e.slot)).toEqual(e);
    expect(stableSlots(s)).toBeLessThanOrEqual(this.head.slots);
    // P2: offsets never go backwards; the high watermark never decreases nor passes the head.
    let end = s.startOffset;
    for (const e of s.entries) {
      expect(e.base).toBeGreaterThanOrEqual(end);
      end = e.end;
    }
    expect(highWatermark(s)).toBeGreaterThanOrEqual(previousHwm);
    expect(highWatermark(s)).toBeLessThanOrEqual(this.head.next);
    this.checkNoOverlap();
  }

  /** Published ranges (data and holes), in slot order, are disjoint and increasing. */
  checkNoOverlap(): void {
    const slots = [...this.table.keys()].sort((a, b) => a - b);
    let end = 0;
    for (const slot of slots) {
      const e = this.table.get(slot)!;
      expect(e.base, `slot ${slot} starts before the previous published range ends`).toBeGreaterThanOrEqual(end);
      expect(e.end).toBeGreaterThanOrEqual(e.base);
      end = e.end;
    }
  }
}

describe('stable-prefix rule under random interleavings', () => {
  it('keeps P1-P3, never overlaps ranges, and ends holding every acknowledged record once', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 150 }), fc.boolean(), (actions, writersFinish) => {
        const m = new Model();
        for (const a of actions) m.apply(a);
        // The end: every live writer publishes (or has died), the timeout passes, readers drain.
        if (writersFinish) while (m.pending.length > 0) m.apply({ kind: 'publish', pick: 0 });
        else m.pending.length = 0; // they all crashed
        m.now += TIMEOUT + 1;
        for (let round = 0; round < 1000 && stableSlots(m.readers[0]!.snapshot) < m.head.slots; round++) m.read(0, 5, 10);

        const s = m.readers[0]!.snapshot;
        expect(stableSlots(s)).toBe(m.head.slots);
        expect(highWatermark(s)).toBe(m.head.next);
        // Every acknowledged record is in a data entry of exactly its acknowledged range.
        for (const r of m.acked) expect(m.table.get(r.slot)).toMatchObject({ base: r.base, end: r.end, hole: false });
        const dataSlots = [...m.table.values()].filter((e) => !e.hole).map((e) => e.slot).sort((a, b) => a - b);
        expect(dataSlots).toEqual(m.acked.map((r) => r.slot).sort((a, b) => a - b));
      }),
      { numRuns: 1500 },
    );
  });

  it('never fills a slot before the slot timeout has passed since its bound', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 100 }), (actions) => {
        const m = new Model();
        const put = m.put.bind(m);
        m.put = (entry) => {
          if (entry.hole && entry.object === undefined) {
            // A reader's fill: the slot was reserved no later than the head's last reservation
            // or any later publish; both must be older than the timeout.
            const later = [...m.table.values()].filter((e) => e.slot > entry.slot).map((e) => e.publishedAt);
            expect(m.now - Math.min(m.head.reservedAt, ...later)).toBeGreaterThan(TIMEOUT);
          }
          return put(entry);
        };
        for (const a of actions) m.apply(a);
      }),
      { numRuns: 300 },
    );
  });
});

describe('advance', () => {
  const head = (slots: number, next: number, reservedAt = 0): HeadState => ({ slots, next, reservedAt });
  const data = (slot: number, base: number, end: number, publishedAt = 0): IndexEntry => ({ slot, base, end, hole: false, object: 'o', publishedAt });
  const rules = { now: 1_000, slotTimeoutMs: 100, keepEntries: 100 };

  it('treats a full page without a gap as more to read, not a missing slot', () => {
    const r = advance(emptySnapshot(), head(5, 5), [data(0, 0, 1), data(1, 1, 2)], true, rules);
    expect(r.step).toEqual({ kind: 'more', fromSlot: 2 });
    expect(highWatermark(r.snapshot)).toBe(2);
  });

  it('waits on a fresh unpublished slot and does not pass it', () => {
    const r = advance(emptySnapshot(), head(3, 6, 990), [data(0, 0, 2), data(2, 4, 6, 995)], false, rules);
    expect(r.step).toEqual({ kind: 'wait', slot: 1 });
    expect(highWatermark(r.snapshot)).toBe(2);
  });

  it('fills a lone abandoned slot with exactly its offsets', () => {
    const r = advance(emptySnapshot(), head(3, 6, 0), [data(0, 0, 2), data(2, 4, 6)], false, rules);
    expect(r.step).toEqual({ kind: 'fill', slot: 1, base: 2, end: 4 });
  });

  it('gives the first slot of a longer abandoned run an empty hole', () => {
    const r = advance(emptySnapshot(), head(4, 9, 0), [data(0, 0, 2), data(3, 7, 9)], false, rules);
    expect(r.step).toEqual({ kind: 'fill', slot: 1, base: 2, end: 2 });
  });

  it('gives the last reserved slot the offsets up to the head when it is abandoned', () => {
    const r = advance(emptySnapshot(), head(2, 5, 0), [data(0, 0, 2)], false, rules);
    expect(r.step).toEqual({ kind: 'fill', slot: 1, base: 2, end: 5 });
  });

  it('refuses to build on an entry that overlaps the prefix', () => {
    const r = advance(emptySnapshot(), head(3, 9, 0), [data(0, 0, 5), data(1, 3, 6), data(2, 6, 9)], false, rules);
    expect(r.step).toEqual({ kind: 'wait', slot: 1 });
    expect(highWatermark(r.snapshot)).toBe(5);
  });

  it('never changes the snapshot it was given', () => {
    const start = Object.freeze({ ...emptySnapshot(), entries: Object.freeze([data(0, 0, 1)]) as readonly IndexEntry[] });
    const r = advance(start, head(2, 2), [data(1, 1, 2)], false, rules);
    expect(start.entries).toHaveLength(1);
    expect(r.snapshot.entries).toHaveLength(2);
  });

  it('trims to keepEntries, keeping the start offset of what it dropped', () => {
    const r = advance(emptySnapshot(), head(4, 8), [0, 1, 2, 3].map((s) => data(s, s * 2, s * 2 + 2)), false, { ...rules, keepEntries: 2 });
    expect(r.snapshot).toMatchObject({ firstSlot: 2, startOffset: 4 });
    expect(stableSlots(r.snapshot)).toBe(4);
    expect(highWatermark(r.snapshot)).toBe(8);
  });
});

describe('judgeHint', () => {
  const hint = (stable: number, hwm: number, version = 2): HintState => ({ stable, highWatermark: hwm, logStartOffset: 0, stamped: 0, runningMaxTs: -1, version, maintenance: EMPTY_MAINTENANCE });
  const head: HeadState = { slots: 10, next: 30, reservedAt: 0 };
  const anchor: IndexEntry = { slot: 4, base: 10, end: 12, hole: false, publishedAt: 0 };

  it('trusts a hint whose anchor entry ends at its high watermark', () => {
    expect(judgeHint(hint(5, 12), head, anchor)).toBe('trusted');
    expect(judgeHint(hint(0, 0, 0), head, undefined)).toBe('trusted');
  });

  it.each([
    ['written by an older writer', hint(5, 12, 0), anchor],
    ['claims more slots than were reserved', hint(11, 12), anchor],
    ['claims more offsets than were handed out', hint(5, 31), anchor],
    ['its anchor slot is unpublished', hint(5, 12), undefined],
    ['its anchor ends elsewhere', hint(5, 11), anchor],
    ['a high watermark with no slots', hint(0, 3), undefined],
  ])('distrusts a hint that is %s', (_label, h, a) => {
    expect(judgeHint(h, head, a)).toBe('distrusted');
  });
});
