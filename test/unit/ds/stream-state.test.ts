/**
 * lib/ds/stream-state.ts against the Durable Streams protocol: the append decision (sections
 * 5.2 and 5.2.1, in the protocol's precedence), the state after an append (closure, 4.1),
 * sliding TTL and absolute expiry (5.1) and fork ranges (4.2, 8 "Offsets and forked streams").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProducerHeaders } from '../../../lib/ds/protocol.ts';
import { mediaType } from '../../../lib/ds/protocol.ts';
import {
  afterAppend,
  type AppendDecision,
  type AppendRequest,
  byteCompare,
  type DsProducerState,
  type DsStreamState,
  decideAppend,
  expiryOf,
  type InheritedRange,
  inheritedRanges,
  isExpired,
  MAX_PRODUCERS,
  parseState,
  serializeState,
  touchDue,
} from '../../../lib/ds/stream-state.ts';

const T0 = Date.UTC(2025, 0, 1);

function stream(over: Partial<DsStreamState> = {}): DsStreamState {
  return {
    path: '/v1/stream/s',
    topic: '__ds.s.1',
    topicId: 'topic-1',
    base: 0,
    inherited: [],
    contentType: 'application/json',
    createdAt: T0,
    touchedAt: T0,
    tail: 0,
    producers: {},
    forks: 0,
    ...over,
  };
}

const sameType = (a: string, b: string) => mediaType(a) === mediaType(b);
const producer = (id: string, epoch: number, seq: number): ProducerHeaders => ({ id, epoch, seq });
const data = (over: Partial<AppendRequest> = {}): AppendRequest => ({ close: false, hasData: true, contentType: 'application/json', ...over });
const closeOnly = (over: Partial<AppendRequest> = {}): AppendRequest => ({ close: true, hasData: false, ...over });
const decide = (state: DsStreamState, req: AppendRequest) => decideAppend(state, req, sameType);

function accepted(state: DsStreamState, req: AppendRequest): Extract<AppendDecision, { kind: 'append' }> {
  const d = decide(state, req);
  if (d.kind !== 'append') throw new Error(`expected an append, got ${JSON.stringify(d)}`);
  return d;
}

describe('decideAppend: plain appends (section 5.2)', () => {
  it('appends data to an open stream with no writer state', () => {
    expect(decide(stream(), data())).toEqual({ kind: 'append', producerState: undefined });
  });

  it('appends and closes an open stream', () => {
    expect(decide(stream(), data({ close: true })).kind).toBe('append');
    expect(decide(stream(), closeOnly()).kind).toBe('append');
  });
});

describe('decideAppend: a closed stream (sections 4.1, 5.2, 5.2.1)', () => {
  const closed = stream({ tail: 5, closed: { at: 5 } });

  it('answers a repeated close-only request as already closed', () => {
    expect(decide(closed, closeOnly())).toEqual({ kind: 'already-closed' });
  });

  it('refuses data, with or without Stream-Closed, when no producer tuple matches', () => {
    expect(decide(closed, data())).toEqual({ kind: 'closed' });
    expect(decide(closed, data({ close: true }))).toEqual({ kind: 'closed' });
  });

  it('reports closure before a content-type mismatch and a Stream-Seq regression (precedence 1)', () => {
    const s = stream({ tail: 5, closed: { at: 5 }, streamSeq: 'b' });
    expect(decide(s, data({ contentType: 'text/plain', streamSeq: 'a' }))).toEqual({ kind: 'closed' });
  });

  it('reports closure before a producer gap or epoch bump', () => {
    const s = stream({ tail: 5, closed: { at: 5 }, producers: { p: { epoch: 1, seq: 3, at: T0 } } });
    expect(decide(s, data({ producer: producer('p', 1, 9) }))).toEqual({ kind: 'closed' });
    expect(decide(s, data({ producer: producer('p', 2, 0) }))).toEqual({ kind: 'closed' });
    expect(decide(s, data({ producer: producer('q', 0, 0) }))).toEqual({ kind: 'closed' });
  });

  it('answers a retry of the closing append (same id, epoch, seq) as a closed duplicate', () => {
    const by = producer('p', 2, 7);
    const s = stream({ tail: 5, closed: { at: 5, by }, producers: { p: { epoch: 2, seq: 7, at: T0 } } });
    expect(decide(s, data({ close: true, producer: producer('p', 2, 7) }))).toEqual({ kind: 'duplicate', lastSeq: 7, closed: true });
    // a close-only retry with the closing tuple is idempotent too
    expect(decide(s, closeOnly({ producer: producer('p', 2, 7) }))).toEqual({ kind: 'duplicate', lastSeq: 7, closed: true });
  });

  it('refuses any other tuple on a stream a producer closed', () => {
    const s = stream({ tail: 5, closed: { at: 5, by: producer('p', 2, 7) }, producers: { p: { epoch: 2, seq: 7, at: T0 } } });
    expect(decide(s, data({ close: true, producer: producer('p', 2, 8) }))).toEqual({ kind: 'closed' });
    expect(decide(s, data({ close: true, producer: producer('p', 3, 7) }))).toEqual({ kind: 'closed' });
    expect(decide(s, data({ close: true, producer: producer('q', 2, 7) }))).toEqual({ kind: 'closed' });
    // seq 6 would be a duplicate on an open stream, but only the closing tuple is
    expect(decide(s, data({ producer: producer('p', 2, 6) }))).toEqual({ kind: 'closed' });
  });

  it('does not mistake a producer request for a plain close-only retry', () => {
    const s = stream({ tail: 5, closed: { at: 5 } });
    expect(decide(s, closeOnly({ producer: producer('p', 0, 0) }))).toEqual({ kind: 'closed' });
  });
});

describe('decideAppend: zombie fencing comes first (section 5.2.1)', () => {
  const fenced = { p: { epoch: 3, seq: 10, at: T0 } };

  it('refuses a stale epoch with the current epoch', () => {
    expect(decide(stream({ producers: fenced }), data({ producer: producer('p', 2, 11) }))).toEqual({ kind: 'stale-epoch', currentEpoch: 3 });
  });

  it('fences a stale epoch even on a closed stream, before the closure', () => {
    const s = stream({ tail: 5, closed: { at: 5 }, producers: fenced });
    expect(decide(s, data({ producer: producer('p', 0, 0) }))).toEqual({ kind: 'stale-epoch', currentEpoch: 3 });
    expect(decide(s, closeOnly({ producer: producer('p', 2, 0) }))).toEqual({ kind: 'stale-epoch', currentEpoch: 3 });
  });

  it('fences a stale epoch before a content-type mismatch', () => {
    expect(decide(stream({ producers: fenced }), data({ producer: producer('p', 1, 0), contentType: 'text/plain' }))).toEqual({
      kind: 'stale-epoch',
      currentEpoch: 3,
    });
  });
});

describe('decideAppend: content type (section 5.2)', () => {
  it('refuses data of another media type', () => {
    expect(decide(stream(), data({ contentType: 'text/plain' }))).toEqual({ kind: 'content-type' });
    expect(decide(stream({ contentType: 'text/plain' }), data({ contentType: 'application/json' }))).toEqual({ kind: 'content-type' });
  });

  it('compares through the given comparator (parameters and case do not matter here)', () => {
    expect(decide(stream(), data({ contentType: 'Application/JSON; charset=utf-8' })).kind).toBe('append');
    expect(decideAppend(stream(), data({ contentType: 'text/plain' }), () => true).kind).toBe('append');
    expect(decideAppend(stream(), data({ contentType: 'application/json' }), () => false).kind).toBe('content-type');
  });

  it('never refuses a close-only request for its content type', () => {
    expect(decide(stream(), closeOnly({ contentType: 'text/plain' })).kind).toBe('append');
    expect(decideAppend(stream(), closeOnly({ contentType: 'text/plain' }), () => false).kind).toBe('append');
  });

  it('checks content type before a Stream-Seq regression (precedence 2 before 3)', () => {
    expect(decide(stream({ streamSeq: 'b' }), data({ contentType: 'text/plain', streamSeq: 'a' }))).toEqual({ kind: 'content-type' });
  });
});

describe('decideAppend: producer sequences (section 5.2.1)', () => {
  const withP = (epoch: number, seq: number) => stream({ producers: { p: { epoch, seq, at: T0 } } });

  it('bootstraps an unknown producer at seq 0, in any epoch', () => {
    expect(decide(stream(), data({ producer: producer('p', 0, 0) }))).toEqual({ kind: 'append', producerState: { epoch: 0, seq: 0, at: 0 } });
    expect(accepted(stream(), data({ producer: producer('p', 6, 0) })).producerState).toMatchObject({ epoch: 6, seq: 0 });
  });

  it('refuses an unknown producer starting past seq 0 as a gap expecting 0', () => {
    expect(decide(stream(), data({ producer: producer('p', 0, 3) }))).toEqual({ kind: 'gap', expected: 0, received: 3 });
    // another producer's state does not count
    expect(decide(stream({ producers: { q: { epoch: 0, seq: 4, at: T0 } } }), data({ producer: producer('p', 0, 5) }))).toEqual({
      kind: 'gap',
      expected: 0,
      received: 5,
    });
  });

  it('accepts the next sequence in the same epoch', () => {
    expect(decide(withP(1, 4), data({ producer: producer('p', 1, 5) }))).toEqual({ kind: 'append', producerState: { epoch: 1, seq: 5, at: 0 } });
  });

  it('answers a replay of the last or an earlier sequence as a duplicate with the highest accepted seq', () => {
    expect(decide(withP(1, 4), data({ producer: producer('p', 1, 4) }))).toEqual({ kind: 'duplicate', lastSeq: 4, closed: false });
    expect(decide(withP(1, 4), data({ producer: producer('p', 1, 0) }))).toEqual({ kind: 'duplicate', lastSeq: 4, closed: false });
  });

  it('refuses a sequence past the next as a gap naming expected and received', () => {
    expect(decide(withP(1, 4), data({ producer: producer('p', 1, 6) }))).toEqual({ kind: 'gap', expected: 5, received: 6 });
    expect(decide(withP(1, 4), data({ producer: producer('p', 1, 100) }))).toEqual({ kind: 'gap', expected: 5, received: 100 });
  });

  it('accepts an epoch bump only at seq 0', () => {
    expect(decide(withP(1, 4), data({ producer: producer('p', 2, 0) }))).toEqual({ kind: 'append', producerState: { epoch: 2, seq: 0, at: 0 } });
    // even the seq that would be next in the old epoch is not a start
    expect(decide(withP(1, 4), data({ producer: producer('p', 2, 5) }))).toEqual({ kind: 'epoch-needs-seq-0' });
    expect(decide(withP(1, 4), data({ producer: producer('p', 9, 1) }))).toEqual({ kind: 'epoch-needs-seq-0' });
  });

  it('takes a close-only request from a producer through the same sequence rules', () => {
    expect(decide(withP(1, 4), closeOnly({ producer: producer('p', 1, 5) })).kind).toBe('append');
    expect(decide(withP(1, 4), closeOnly({ producer: producer('p', 1, 4) }))).toEqual({ kind: 'duplicate', lastSeq: 4, closed: false });
  });

  it('answers a producer retry as a duplicate before looking at its Stream-Seq', () => {
    const s = stream({ producers: { p: { epoch: 0, seq: 2, at: T0 } }, streamSeq: '0002' });
    expect(decide(s, data({ producer: producer('p', 0, 2), streamSeq: '0002' }))).toEqual({ kind: 'duplicate', lastSeq: 2, closed: false });
  });

  it('still checks Stream-Seq on a producer append that is new', () => {
    const s = stream({ producers: { p: { epoch: 0, seq: 2, at: T0 } }, streamSeq: '0002' });
    expect(decide(s, data({ producer: producer('p', 0, 3), streamSeq: '0002' }))).toEqual({ kind: 'seq-regression', last: '0002' });
    expect(decide(s, data({ producer: producer('p', 0, 3), streamSeq: '0003' })).kind).toBe('append');
  });
});

describe('decideAppend: Stream-Seq (section 5.2, scope: the stream)', () => {
  it('accepts any first Stream-Seq and any append without one', () => {
    expect(decide(stream(), data({ streamSeq: '' })).kind).toBe('append');
    expect(decide(stream(), data({ streamSeq: 'zzz' })).kind).toBe('append');
    expect(decide(stream({ streamSeq: 'zzz' }), data()).kind).toBe('append');
  });

  it('refuses an equal value', () => {
    expect(decide(stream({ streamSeq: '5' }), data({ streamSeq: '5' }))).toEqual({ kind: 'seq-regression', last: '5' });
  });

  it('orders byte-wise, not numerically: "2" then "10" is a regression', () => {
    expect(decide(stream({ streamSeq: '2' }), data({ streamSeq: '10' }))).toEqual({ kind: 'seq-regression', last: '2' });
  });

  it('orders byte-wise: "09" then "10" grows', () => {
    expect(decide(stream({ streamSeq: '09' }), data({ streamSeq: '10' })).kind).toBe('append');
  });

  it('orders byte-wise, not by locale: "B" (0x42) is below "a" (0x61)', () => {
    expect(decide(stream({ streamSeq: 'a' }), data({ streamSeq: 'B' }))).toEqual({ kind: 'seq-regression', last: 'a' });
    expect(decide(stream({ streamSeq: 'B' }), data({ streamSeq: 'a' })).kind).toBe('append');
  });

  it('orders UTF-8 bytes, not UTF-16 code units', () => {
    // U+10000 is F0 90 80 80 in UTF-8, above U+FFFF (EF BF BF); as UTF-16 it is D800 DC00, below FFFF
    expect(decide(stream({ streamSeq: '\uFFFF' }), data({ streamSeq: '\u{10000}' })).kind).toBe('append');
    expect(decide(stream({ streamSeq: '\u{10000}' }), data({ streamSeq: '\uFFFF' })).kind).toBe('seq-regression');
  });

  it('treats a prefix as smaller', () => {
    expect(decide(stream({ streamSeq: 'abc' }), data({ streamSeq: 'ab' })).kind).toBe('seq-regression');
    expect(decide(stream({ streamSeq: 'ab' }), data({ streamSeq: 'abc' })).kind).toBe('append');
  });
});

describe('decideAppend: properties', () => {
  it('accepts a producer in order, then answers every replay as a duplicate, never an append', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 25 }),
        fc.boolean(),
        fc.nat(),
        (id, epoch, n, withStreamSeq, pick) => {
          let s = stream();
          for (let seq = 0; seq < n; seq++) {
            const req = data({ producer: producer(id, epoch, seq), ...(withStreamSeq ? { streamSeq: `s${String(seq).padStart(4, '0')}` } : {}) });
            const d = accepted(s, req);
            expect(d.producerState).toMatchObject({ epoch, seq });
            s = afterAppend(s, req, d, s.tail, 1, T0 + seq);
          }
          const replay = pick % n;
          const again = data({ producer: producer(id, epoch, replay), ...(withStreamSeq ? { streamSeq: `s${String(replay).padStart(4, '0')}` } : {}) });
          expect(decide(s, again)).toEqual({ kind: 'duplicate', lastSeq: n - 1, closed: false });
        },
      ),
    );
  });

  /** The protocol's validation pseudo-code for one producer on an open stream (section 5.2.1). */
  function protocolAnswer(state: { epoch: number; lastSeq: number } | undefined, epoch: number, seq: number): AppendDecision['kind'] {
    if (state === undefined) return seq === 0 ? 'append' : 'gap';
    if (epoch < state.epoch) return 'stale-epoch';
    if (epoch > state.epoch) return seq === 0 ? 'append' : 'epoch-needs-seq-0';
    if (seq <= state.lastSeq) return 'duplicate';
    if (seq === state.lastSeq + 1) return 'append';
    return 'gap';
  }

  it('agrees with the protocol pseudo-code over random request sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 })), { maxLength: 40 }), (reqs) => {
        let s = stream();
        const model = new Map<string, { epoch: number; lastSeq: number }>();
        reqs.forEach(([id, epoch, seq], i) => {
          const req = data({ producer: producer(id, epoch, seq) });
          const d = decide(s, req);
          expect(d.kind).toBe(protocolAnswer(model.get(id), epoch, seq));
          if (d.kind === 'append') {
            model.set(id, { epoch, lastSeq: seq });
            s = afterAppend(s, req, d, s.tail, 1, T0 + i);
          }
        });
      }),
    );
  });
});

describe('afterAppend', () => {
  it('moves the tail past the appended positions and touches the stream', () => {
    const s = stream({ tail: 5 });
    const req = data();
    const next = afterAppend(s, req, accepted(s, req), 5, 3, T0 + 1000);
    expect(next.tail).toBe(8);
    expect(next.touchedAt).toBe(T0 + 1000);
    expect(next.closed).toBeUndefined();
    expect(next.producers).toEqual({});
    expect(next.streamSeq).toBeUndefined();
  });

  it('does not change the state it was given', () => {
    const s = stream({ tail: 5, producers: { q: { epoch: 0, seq: 0, at: T0 } } });
    const snapshot = structuredClone(s);
    const req = data({ close: true, producer: producer('p', 0, 0), streamSeq: 'x' });
    afterAppend(s, req, accepted(s, req), 5, 2, T0 + 1);
    expect(s).toEqual(snapshot);
  });

  it('records the producer state with the time of the append', () => {
    const s = stream();
    const req = data({ producer: producer('p', 4, 0) });
    const next = afterAppend(s, req, accepted(s, req), 0, 1, T0 + 7);
    expect(next.producers).toEqual({ p: { epoch: 4, seq: 0, at: T0 + 7 } });
  });

  it('keeps the last Stream-Seq, and the previous one when none is sent', () => {
    const s = stream({ streamSeq: '01' });
    const withSeq = data({ streamSeq: '02' });
    const a = afterAppend(s, withSeq, accepted(s, withSeq), 0, 1, T0);
    expect(a.streamSeq).toBe('02');
    const b = afterAppend(a, data(), accepted(a, data()), 1, 1, T0);
    expect(b.streamSeq).toBe('02');
  });

  it('closes at the marker: data then marker leaves the final offset at the marker', () => {
    // two data records at 5 and 6, the close marker at 7: the stream's final offset is 7
    const s = stream({ tail: 5 });
    const by = producer('p', 0, 0);
    const req = data({ close: true, producer: by });
    const next = afterAppend(s, req, accepted(s, req), 5, 3, T0);
    expect(next.tail).toBe(7);
    expect(next.closed).toEqual({ at: 7, by });
  });

  it('closes a close-only request at the marker, which is the old tail', () => {
    const s = stream({ tail: 5 });
    const next = afterAppend(s, closeOnly(), accepted(s, closeOnly()), 5, 1, T0);
    expect(next.tail).toBe(5);
    expect(next.closed?.at).toBe(5);
    expect(next.closed?.by).toBeUndefined();
  });

  it('makes the closing tuple, and only it, a duplicate afterwards', () => {
    const s = stream({ tail: 2, producers: { p: { epoch: 0, seq: 1, at: T0 } } });
    const req = data({ close: true, producer: producer('p', 0, 2) });
    const next = afterAppend(s, req, accepted(s, req), 2, 2, T0);
    expect(decide(next, req)).toEqual({ kind: 'duplicate', lastSeq: 2, closed: true });
    expect(decide(next, data({ producer: producer('p', 0, 3) }))).toEqual({ kind: 'closed' });
    expect(decide(next, closeOnly())).toEqual({ kind: 'already-closed' });
  });

  it('survives serialisation', () => {
    const s = stream({ tail: 3, producers: { p: { epoch: 1, seq: 2, at: T0 } } });
    const req = data({ close: true, producer: producer('p', 1, 3), streamSeq: 'k' });
    const next = afterAppend(s, req, accepted(s, req), 3, 2, T0 + 5);
    expect(parseState(serializeState(next))).toEqual(JSON.parse(JSON.stringify(next)));
    expect(parseState(serializeState(next)).closed).toEqual({ at: 4, by: producer('p', 1, 3) });
  });

  describe(`at most MAX_PRODUCERS (${MAX_PRODUCERS}) producer states`, () => {
    const full = (): Record<string, DsProducerState> => {
      const producers: Record<string, DsProducerState> = {};
      // p-0 is the least recently active, p-999 the most
      for (let i = 0; i < MAX_PRODUCERS; i++) producers[`p-${i}`] = { epoch: 0, seq: 0, at: T0 + i };
      return producers;
    };

    it('drops the least recently active producer for a new one', () => {
      const s = stream({ producers: full() });
      const req = data({ producer: producer('new', 0, 0) });
      const next = afterAppend(s, req, accepted(s, req), 0, 1, T0 + 10_000);
      const ids = Object.keys(next.producers);
      expect(ids).toHaveLength(MAX_PRODUCERS);
      expect(next.producers['new']).toEqual({ epoch: 0, seq: 0, at: T0 + 10_000 });
      expect(next.producers['p-0']).toBeUndefined();
      expect(next.producers['p-1']).toBeDefined();
      expect(next.producers[`p-${MAX_PRODUCERS - 1}`]).toBeDefined();
    });

    it('a forgotten producer is new again: its retry of seq 0 is accepted, of seq 1 a gap', () => {
      const s = stream({ producers: full() });
      const req = data({ producer: producer('new', 0, 0) });
      const next = afterAppend(s, req, accepted(s, req), 0, 1, T0 + 10_000);
      expect(decide(next, data({ producer: producer('p-0', 0, 1) }))).toEqual({ kind: 'gap', expected: 0, received: 1 });
      expect(decide(next, data({ producer: producer('p-1', 0, 1) })).kind).toBe('append');
    });

    it('drops nobody when a known producer appends', () => {
      const s = stream({ producers: full() });
      const req = data({ producer: producer('p-0', 0, 1) });
      const next = afterAppend(s, req, accepted(s, req), 0, 1, T0 + 10_000);
      expect(Object.keys(next.producers)).toHaveLength(MAX_PRODUCERS);
      expect(next.producers['p-0']).toEqual({ epoch: 0, seq: 1, at: T0 + 10_000 });
      // p-0 is now the most recent, so the next newcomer evicts p-1 instead
      const req2 = data({ producer: producer('new', 0, 0) });
      const after = afterAppend(next, req2, accepted(next, req2), 1, 1, T0 + 10_001);
      expect(after.producers['p-0']).toBeDefined();
      expect(after.producers['p-1']).toBeUndefined();
      expect(after.producers['new']).toBeDefined();
    });
  });
});

describe('expiry (section 5.1)', () => {
  it('never expires a stream with neither TTL nor Expires-At', () => {
    const s = stream();
    expect(expiryOf(s)).toBeUndefined();
    expect(isExpired(s, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(touchDue(s, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('expires a sliding TTL once idle for the TTL since the last touch', () => {
    const s = stream({ ttlSeconds: 3600, touchedAt: T0 + 500 });
    expect(expiryOf(s)).toBe(T0 + 500 + 3_600_000);
    expect(isExpired(s, T0 + 500 + 3_600_000 - 1)).toBe(false);
    expect(isExpired(s, T0 + 500 + 3_600_000 + 1)).toBe(true);
  });

  it('counts the TTL from the last touch, not from creation', () => {
    const s = stream({ ttlSeconds: 10, createdAt: T0, touchedAt: T0 + 60_000 });
    expect(isExpired(s, T0 + 30_000)).toBe(false);
    expect(isExpired(s, T0 + 70_001)).toBe(true);
  });

  it('an append resets the sliding TTL', () => {
    const s = stream({ ttlSeconds: 10, touchedAt: T0 });
    const next = afterAppend(s, data(), accepted(s, data()), 0, 1, T0 + 9_000);
    expect(isExpired(s, T0 + 15_000)).toBe(true);
    expect(isExpired(next, T0 + 15_000)).toBe(false);
  });

  it('expires at an absolute Expires-At, however recently touched', () => {
    const at = T0 + 86_400_000;
    const s = stream({ expiresAt: '2025-01-02T00:00:00Z', expiresAtMs: at, touchedAt: at - 1 });
    expect(expiryOf(s)).toBe(at);
    expect(isExpired(s, at - 1)).toBe(false);
    expect(isExpired(s, at + 1)).toBe(true);
  });

  it('never calls a read touch due for a stream without a sliding TTL', () => {
    expect(touchDue(stream({ expiresAtMs: T0 + 10, expiresAt: 'x' }), T0 + 1_000_000)).toBe(false);
  });

  it('makes a read touch due after a tenth of the TTL', () => {
    const s = stream({ ttlSeconds: 100, touchedAt: T0 }); // a tenth is 10 s
    expect(touchDue(s, T0 + 9_999)).toBe(false);
    expect(touchDue(s, T0 + 10_000)).toBe(true);
  });

  it('makes a read touch due after a minute at most, for long TTLs', () => {
    const s = stream({ ttlSeconds: 86_400, touchedAt: T0 }); // a tenth would be 2.4 h
    expect(touchDue(s, T0 + 59_999)).toBe(false);
    expect(touchDue(s, T0 + 60_000)).toBe(true);
  });

  it('leaves a stream read without a touch at least 90% of its TTL to live', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.nat(), (ttl, touchedAt, since) => {
        const s = stream({ ttlSeconds: ttl, touchedAt });
        const now = touchedAt + (since % (ttl * 1000));
        if (isExpired(s, now) || touchDue(s, now)) return;
        expect(expiryOf(s)! - now).toBeGreaterThanOrEqual(0.9 * ttl * 1000);
      }),
    );
  });
});

describe('byteCompare (Stream-Seq order)', () => {
  const codePointOrder = (a: string, b: string) => {
    const x = [...a].map((c) => c.codePointAt(0)!);
    const y = [...b].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return Math.sign(x[i]! - y[i]!);
    return Math.sign(x.length - y.length);
  };

  it('agrees with Buffer.compare of the UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(byteCompare(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))));
      }),
    );
  });

  it('is code point order (UTF-8 preserves it), antisymmetric and zero only on equal strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const c = Math.sign(byteCompare(a, b));
        expect(c).toBe(codePointOrder(a, b));
        expect(Math.sign(byteCompare(b, a))).toBe(c === 0 ? 0 : -c);
        expect(c === 0).toBe(a === b);
      }),
    );
  });
});

describe('inheritedRanges (sections 4.2, 8: forks share the source offset space)', () => {
  // A is a root stream with 20 positions; B forks A at 10 and appends 10 more (10..19);
  // C forks B at 15.
  const A = stream({ path: '/a', topic: '__ds.a.1', base: 0, tail: 20 });
  const B = stream({ path: '/b', topic: '__ds.b.1', base: 10, tail: 20, inherited: inheritedRanges(A, 10) });

  it('a fork of a root stream reads the source topic below the offset', () => {
    expect(inheritedRanges(A, 10)).toEqual([{ topic: '__ds.a.1', base: 0, from: 0, to: 10 }]);
  });

  it('a fork at the start inherits nothing', () => {
    expect(inheritedRanges(A, 0)).toEqual([]);
  });

  it('a fork of a fork carries its source ranges, then the source topic', () => {
    expect(inheritedRanges(B, 15)).toEqual([
      { topic: '__ds.a.1', base: 0, from: 0, to: 10 },
      { topic: '__ds.b.1', base: 10, from: 10, to: 15 },
    ]);
  });

  it('a fork of a fork at its base inherits only the grandparent range', () => {
    expect(inheritedRanges(B, 10)).toEqual([{ topic: '__ds.a.1', base: 0, from: 0, to: 10 }]);
  });

  it('a fork of a fork below its base clips the inherited range', () => {
    expect(inheritedRanges(B, 4)).toEqual([{ topic: '__ds.a.1', base: 0, from: 0, to: 4 }]);
  });

  it('a fork of a fork of a fork keeps all three levels', () => {
    const C = stream({ path: '/c', topic: '__ds.c.1', base: 15, tail: 30, inherited: inheritedRanges(B, 15) });
    expect(inheritedRanges(C, 22)).toEqual([
      { topic: '__ds.a.1', base: 0, from: 0, to: 10 },
      { topic: '__ds.b.1', base: 10, from: 10, to: 15 },
      { topic: '__ds.c.1', base: 15, from: 15, to: 22 },
    ]);
    expect(inheritedRanges(C, 12)).toEqual([
      { topic: '__ds.a.1', base: 0, from: 0, to: 10 },
      { topic: '__ds.b.1', base: 10, from: 10, to: 12 },
    ]);
  });

  it('does not change the source ranges', () => {
    const before = structuredClone(B.inherited);
    inheritedRanges(B, 5);
    expect(B.inherited).toEqual(before);
  });

  it('covers [0, offset) exactly, in order, and reads each position where the source read it', () => {
    /** Where a stream reads position `pos`: [topic, Kafka offset]. */
    const locate = (s: DsStreamState, pos: number): [string, number] => {
      if (pos >= s.base) return [s.topic, pos - s.base];
      const r = s.inherited.find((x: InheritedRange) => x.from <= pos && pos < x.to)!;
      return [r.topic, pos - r.base];
    };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.nat()), { minLength: 1, maxLength: 6 }), (levels) => {
        let s = stream({ topic: 't0', base: 0, tail: 0 });
        levels.forEach(([grow, pick], i) => {
          s = { ...s, tail: s.tail + grow };
          const offset = pick % (s.tail + 1);
          const ranges = inheritedRanges(s, offset);
          let next = 0;
          for (const r of ranges) {
            expect(r.from).toBe(next);
            expect(r.to).toBeGreaterThan(r.from);
            next = r.to;
          }
          expect(next).toBe(offset);
          const fork = stream({ topic: `t${i + 1}`, base: offset, tail: offset, inherited: ranges });
          for (let pos = 0; pos < offset; pos++) expect(locate(fork, pos)).toEqual(locate(s, pos));
          s = fork;
        });
      }),
    );
  });
});

describe('fixed: what the property tests and review found', () => {
  it('a producer named like an Object.prototype member is a new producer, not a gap', () => {
    for (const id of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      const d = decide(stream(), data({ producer: producer(id, 0, 0) }));
      expect(d.kind).toBe('append');
      const after = afterAppend(stream(), data({ producer: producer(id, 0, 0) }), accepted(stream(), data({ producer: producer(id, 0, 0) })), 0, 1, T0);
      expect(Object.hasOwn(after.producers, id)).toBe(true);
      expect(decide(after, data({ producer: producer(id, 0, 0) }))).toEqual({ kind: 'duplicate', lastSeq: 0, closed: false });
    }
  });

  it('keeps the producer just accepted at the cap, even when the others look newer or tie', () => {
    for (const othersAt of [T0 + 1_000, T0]) {
      const producers = Object.fromEntries(Array.from({ length: MAX_PRODUCERS }, (_, i) => [`p${i}`, { epoch: 0, seq: 0, at: othersAt }]));
      const s = stream({ producers });
      const req = data({ producer: producer('new', 0, 0) });
      const after = afterAppend(s, req, accepted(s, req), s.tail, 1, T0);
      expect(Object.keys(after.producers)).toHaveLength(MAX_PRODUCERS);
      expect(after.producers.new).toMatchObject({ epoch: 0, seq: 0 });
      expect(decide(after, req).kind).toBe('duplicate');
    }
  });
});
