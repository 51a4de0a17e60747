/**
 * Readers never notice maintenance. Random workloads (seeded, replayable): multi-partition
 * produce requests, maintenance ticks with random merge settings, the clock moved past the GC
 * grace now and then (so old objects really go), and, concurrently with every tick, fetches
 * from random offsets and long polls at the tail. Every answer is checked against the records
 * the produce answers acknowledged: exactly those records, in offset order, from the offset
 * asked; and an answer that its budget cut short of the high watermark (so later records
 * cannot change it) is identical every time it is asked again, before or after any merge or
 * collection: what a fetch without maintenance returns. The API's process cache keeps pre-merge pointers
 * throughout: reads that meet a collected object follow the entry's new pointer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAINTENANCE_DEFAULTS } from '../../lib/config.ts';
import { call, uniqueName } from '../support/http.ts';
import { ownStack, type OwnStack } from '../support/own-stack.ts';
import { prng } from '../support/prng.ts';
import { countCalls } from '../support/faults.ts';
import { FAST, readAll, topicWithRequests } from '../support/maintenance-scenario.ts';

const stacks: OwnStack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.dispose();
});

const PARTITIONS = 3;
const MAX_RECORDS = 7;

interface Acked {
  readonly key: string;
  readonly value: unknown;
}

async function workload(seed: number): Promise<void> {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  // Odd seeds read without a segment cache: every read goes to S3 and meets collected objects.
  const s = await ownStack({ slotTimeoutMs: 1500, ...(seed % 2 === 1 ? { segmentCacheBytes: 0 } : {}) });
  stacks.push(s);
  const name = uniqueName('readers');
  expect((await call(s.app, 'POST', '/v1/topics', { name, partitions: PARTITIONS })).status).toBe(201);
  const log: Acked[][] = Array.from({ length: PARTITIONS }, () => []);
  /** Answers cut short by their budget (nextOffset below the high watermark): final. */
  const settled = new Map<string, unknown>();
  const runners = [s.maintenance({ ...FAST, segmentTargetBytes: 4096 + int(8) * 4096 }), s.maintenance({ ...FAST, segmentTargetBytes: 16 * 1024 })];
  let produced = 0;

  const produce = async (): Promise<void> => {
    const n = 1 + int(12);
    const records = Array.from({ length: n }, (_, i) => ({ partition: int(PARTITIONS), key: `s${seed}-${produced}-${i}`, value: { n: produced, i, pad: 'y'.repeat(int(300)) } }));
    produced++;
    const res = await call(s.app, 'POST', `/v1/topics/${name}/records`, { records });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    res.body.offsets.forEach((o: { partition: number; offset: number }, i: number) => {
      log[o.partition]![o.offset] = { key: records[i]!.key, value: records[i]!.value };
    });
  };

  const fetchRandom = async (): Promise<void> => {
    const p = int(PARTITIONS);
    const hwm = log[p]!.length;
    const offset = int(hwm + 1);
    const maxBytes = [256, 4096, 1 << 20][int(3)]!;
    const res = await call(s.app, 'GET', `/v1/topics/${name}/partitions/${p}/records?offset=${offset}&maxRecords=${MAX_RECORDS}&maxBytes=${maxBytes}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const records = res.body.records as { offset: number; key: string; value: unknown }[];
    records.forEach((r, i) => {
      expect(r.offset).toBe(offset + i);
      expect({ key: r.key, value: r.value }).toEqual(log[p]![r.offset]);
    });
    if (offset < hwm) expect(records.length).toBeGreaterThan(0);
    const probe = `${p}:${offset}:${maxBytes}`;
    if (res.body.nextOffset < res.body.highWatermark) {
      const answer = { records: res.body.records, nextOffset: res.body.nextOffset };
      if (settled.has(probe)) expect(answer).toEqual(settled.get(probe));
      else settled.set(probe, answer);
    }
  };

  const longPollTail = async (): Promise<void> => {
    const p = int(PARTITIONS);
    const at = log[p]!.length;
    const poll = call(s.app, 'GET', `/v1/topics/${name}/partitions/${p}/records?offset=${at}&waitMs=2000`);
    const record = { partition: p, key: `tail-${produced}`, value: { tail: produced } };
    produced++;
    const res = await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [record] });
    expect(res.status).toBe(200);
    log[p]![res.body.offsets[0].offset] = { key: record.key, value: record.value };
    const answer = await poll;
    expect(answer.status).toBe(200);
    expect(answer.body.records[0]).toMatchObject({ offset: at, key: record.key, value: record.value });
  };

  for (let step = 0; step < 40; step++) {
    const roll = rand();
    if (roll < 0.45) await produce();
    else if (roll < 0.55) await Promise.all([longPollTail(), runners[int(runners.length)]!.maintenance.tick()]);
    else {
      // A maintenance tick (now and then past the grace, so GC deletes) with reads in flight.
      if (rand() < 0.3) s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 1);
      const runner = runners[int(runners.length)]!;
      await Promise.all([runner.maintenance.tick(), fetchRandom(), fetchRandom(), fetchRandom()]);
    }
    if (rand() < 0.5) await fetchRandom();
  }
  // Finally everything merged and collected: every partition still reads whole.
  await runners[0]!.maintenance.runUntilIdle();
  s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 1);
  await runners[1]!.maintenance.runUntilIdle();
  for (let p = 0; p < PARTITIONS; p++) {
    const all = (await readAll(s.app, name, p)) as { offset: number; key: string; value: unknown }[];
    expect(all.map((r) => ({ key: r.key, value: r.value }))).toEqual(log[p]);
  }
  for (const r of runners) r.dispose();
}

describe('readers never notice maintenance', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`random produce, merge, GC and fetch interleavings (seed ${seed})`, () => workload(seed), 120_000);
  }

  it('a reader whose cache holds pointers to collected objects follows the entries to the merged segment', async () => {
    // No byte cache: the old pointers lead to S3, where the objects are gone.
    const s = await ownStack({ slotTimeoutMs: 1500, segmentCacheBytes: 0 });
    stacks.push(s);
    const name = await topicWithRequests(s, 30, 4);
    // Warm the API's cache: its window now holds every entry's original pointer.
    const before = await readAll(s.app, name, 0);
    const m = s.maintenance(FAST);
    await m.maintenance.runUntilIdle();
    s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 1);
    await m.maintenance.runUntilIdle();
    expect((await s.objects()).length).toBeLessThan(30);
    const s3 = countCalls(s.deps.clients.s3);
    const dynamo = countCalls(s.deps.clients.dynamo);
    expect(await readAll(s.app, name, 0)).toEqual(before);
    // It met missing objects (404s), re-read the moved entries, and then kept the new pointers.
    expect(dynamo.count('QueryCommand')).toBeGreaterThan(0);
    const gets = s3.count('GetObjectCommand');
    expect(gets).toBeGreaterThan(0);
    s3.reset();
    expect(await readAll(s.app, name, 0)).toEqual(before);
    expect(s3.count('GetObjectCommand')).toBeLessThan(gets);
    s3.remove();
    dynamo.remove();
    m.dispose();
  });
});
