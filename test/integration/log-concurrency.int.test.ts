/**
 * Concurrent producers on the slot sequencer (docs/ARCHITECTURE.md, invariants W1/W2), against the
 * emulators: many writers (spread over several app instances, as several warm functions would
 * be) into one partition and into several, with multi-partition atomic requests and a reader
 * polling while they run.
 */
import type { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { call, uniqueName } from '../support/http.ts';
import { prng } from '../support/prng.ts';
import { stackDeps } from '../support/stack.ts';

const PRODUCERS = 16;


interface Value {
  readonly req: string;
  readonly i: number;
}
interface ReadRecord {
  readonly offset: number;
  readonly value: Value;
}
interface Offset {
  readonly partition: number;
  readonly offset: number;
}

async function createTopic(app: Hono, partitions: number): Promise<string> {
  const name = uniqueName('conc');
  const res = await call(app, 'POST', '/v1/topics', { name, partitions });
  expect(res.status).toBe(201);
  return name;
}

/** Reads a partition from `from` up to the high watermark seen by the last fetch. */
async function readFrom(app: Hono, t: string, partition: number, from: number): Promise<{ records: ReadRecord[]; highWatermark: number }> {
  const records: ReadRecord[] = [];
  let offset = from;
  for (;;) {
    const res = await call(app, 'GET', `/v1/topics/${t}/partitions/${partition}/records?offset=${offset}&maxRecords=10000`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    records.push(...(res.body.records as ReadRecord[]));
    offset = res.body.nextOffset;
    if (res.body.records.length === 0 || offset >= res.body.highWatermark) return { records, highWatermark: res.body.highWatermark };
  }
}

function apps(n: number): Hono[] {
  return Array.from({ length: n }, () => createApp(stackDeps()));
}

describe('concurrent producers', () => {
  it(`${PRODUCERS} producers x 15 requests into ONE partition: unique contiguous offsets, every acked record read once at its acked offset`, async () => {
    const writers = apps(4);
    const t = await createTopic(writers[0]!, 1);
    const acked = new Map<string, { offsets: Offset[]; count: number }>();

    await Promise.all(
      Array.from({ length: PRODUCERS }, async (_, p) => {
        const random = prng(1000 + p);
        const app = writers[p % writers.length]!;
        for (let seq = 0; seq < 15; seq++) {
          const req = `p${p}-s${seq}`;
          const count = 1 + Math.floor(random() * 5);
          const res = await call(app, 'POST', `/v1/topics/${t}/records`, {
            records: Array.from({ length: count }, (_, i) => ({ partition: 0, value: { req, i } })),
          });
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          acked.set(req, { offsets: res.body.offsets, count });
        }
      }),
    );

    const total = [...acked.values()].reduce((n, a) => n + a.count, 0);
    // Each request's records got consecutive offsets in request order.
    for (const [req, a] of acked) {
      expect(a.offsets, req).toHaveLength(a.count);
      a.offsets.forEach((o, i) => expect(o, req).toEqual({ partition: 0, offset: a.offsets[0]!.offset + i }));
    }
    // The acked offsets are unique and tile [0, total) exactly.
    const ackedOffsets = [...acked.values()].flatMap((a) => a.offsets.map((o) => o.offset)).sort((x, y) => x - y);
    expect(ackedOffsets).toEqual(Array.from({ length: total }, (_, i) => i));

    // A fresh reader (cold cache, reads S3) sees every record exactly once at its acked offset.
    const { records, highWatermark } = await readFrom(createApp(stackDeps()), t, 0, 0);
    expect(highWatermark).toBe(total);
    expect(records.map((r) => r.offset)).toEqual(ackedOffsets);
    for (const r of records) {
      const a = acked.get(r.value.req);
      expect(a, `record of unknown request ${r.value.req}`).toBeDefined();
      expect(r.offset, `${r.value.req}[${r.value.i}]`).toBe(a!.offsets[r.value.i]!.offset);
    }
  });

  it(`${PRODUCERS} producers x 10 atomic requests over 4 partitions, with a reader polling meanwhile: per-partition prefixes only grow, requests are never partly visible in a partition, all acked requests everywhere`, async () => {
    const PARTITIONS = 4;
    const writers = apps(4);
    const t = await createTopic(writers[0]!, PARTITIONS);
    /** request id -> records per partition, and the acked offsets. */
    const sent = new Map<string, number[]>();
    const acked = new Map<string, Offset[]>();

    // The poller keeps, per partition, everything it has seen; a later read must agree with it.
    const seen: ReadRecord[][] = Array.from({ length: PARTITIONS }, () => []);
    const lastHwm = Array.from({ length: PARTITIONS }, () => 0);
    let done = false;
    let polls = 0;
    const reader = createApp(stackDeps());
    const poller = (async () => {
      while (!done) {
        for (let p = 0; p < PARTITIONS; p++) {
          const { records, highWatermark } = await readFrom(reader, t, p, seen[p]!.length);
          // High watermarks never go back; the prefix is gap-free (no failures here: no holes).
          expect(highWatermark).toBeGreaterThanOrEqual(lastHwm[p]!);
          lastHwm[p] = highWatermark;
          records.forEach((r, k) => expect(r.offset).toBe(seen[p]!.length + k));
          seen[p]!.push(...records);
          // Every request visible in this partition is visible there entirely (it is one entry).
          const perReq = new Map<string, number[]>();
          for (const r of seen[p]!) perReq.set(r.value.req, [...(perReq.get(r.value.req) ?? []), r.value.i]);
          for (const [req, is] of perReq) {
            expect(sent.get(req), `unknown request ${req}`).toBeDefined();
            expect(is, `${req} in partition ${p}`).toEqual(Array.from({ length: sent.get(req)![p]! }, (_, i) => i));
          }
        }
        polls++;
      }
    })();

    try {
      await Promise.all(
        Array.from({ length: PRODUCERS }, async (_, w) => {
          const random = prng(2000 + w);
          const app = writers[w % writers.length]!;
          for (let seq = 0; seq < 10; seq++) {
            const req = `w${w}-s${seq}`;
            // 1-3 records in each of the 4 partitions, interleaved across partitions.
            const counts = Array.from({ length: PARTITIONS }, () => 1 + Math.floor(random() * 3));
            sent.set(req, counts);
            const records: { partition: number; value: Value }[] = [];
            for (let i = 0; i < 3; i++) {
              for (let p = 0; p < PARTITIONS; p++) if (i < counts[p]!) records.push({ partition: p, value: { req, i } });
            }
            const res = await call(app, 'POST', `/v1/topics/${t}/records`, { records });
            expect(res.status, JSON.stringify(res.body)).toBe(200);
            acked.set(req, res.body.offsets);
          }
        }),
      );
    } finally {
      done = true;
      await poller;
    }
    expect(polls).toBeGreaterThan(0);

    // After the run: each partition holds exactly the acked records, each at its acked offset.
    for (let p = 0; p < PARTITIONS; p++) {
      const expected = [...sent.values()].reduce((n, counts) => n + counts[p]!, 0);
      const { records, highWatermark } = await readFrom(createApp(stackDeps()), t, p, 0);
      expect(highWatermark).toBe(expected);
      expect(records.map((r) => r.offset)).toEqual(Array.from({ length: expected }, (_, i) => i));
      // What the poller saw during the run is a prefix of the final log, unchanged.
      expect(records.slice(0, seen[p]!.length)).toEqual(seen[p]);
      for (const r of records) {
        const offsets = acked.get(r.value.req);
        expect(offsets, `unacked request ${r.value.req} visible in partition ${p}`).toBeDefined();
        const mine = offsets!.filter((o) => o.partition === p);
        expect(r.offset).toBe(mine[r.value.i]!.offset);
      }
      // Every acked request is in this partition with all its records (consecutive offsets).
      const perReq = new Map<string, number[]>();
      for (const r of records) perReq.set(r.value.req, [...(perReq.get(r.value.req) ?? []), r.offset]);
      for (const [req, offsets] of acked) {
        const mine = offsets.filter((o) => o.partition === p).map((o) => o.offset);
        expect(mine).toHaveLength(sent.get(req)![p]!);
        expect(mine, req).toEqual(Array.from({ length: mine.length }, (_, i) => mine[0]! + i));
        expect(perReq.get(req), `${req} in partition ${p}`).toEqual(mine);
      }
    }
  });
});
