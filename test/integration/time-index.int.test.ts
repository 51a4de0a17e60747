/**
 * Offsets by timestamp with stamping off the read path (lib/log/offsets.ts,
 * time-index-stamper.ts), against the emulators: a lookup writes nothing and answers right
 * however far the stamped prefix lags; the stamper catches up in bounded background runs, and
 * a failed run is logged, never thrown, and never moves the pointer past an unstamped entry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { TUNING_DEFAULTS } from '../../lib/config.ts';
import type { LogFields } from '../../lib/deps.ts';
import { OffsetsService } from '../../lib/log/offsets.ts';
import { DEFAULT_STAMPER_OPTIONS, TimeIndexStamper } from '../../lib/log/time-index-stamper.ts';
import { TopicCache } from '../../lib/log/topic-cache.ts';
import { createServices } from '../../lib/services.ts';
import { TopicStore } from '../../lib/storage/topic-store.ts';
import { countCalls, crash, failCalls, isolatedStack, pauseUntilReleased, type IsolatedStack } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';

const stacks: IsolatedStack[] = [];
function stack(): IsolatedStack {
  const s = isolatedStack();
  stacks.push(s);
  return s;
}
afterEach(async () => {
  // Background runs finish before their clients go away: nothing logs after a test.
  for (const s of stacks.splice(0)) {
    await s.services.stamper.idle();
    s.dispose();
  }
});

/** A call naming the time-index key: a stamp (UpdateItem) or a byTime lookup (Query). */
const namesTimeKey = (input: unknown) => JSON.stringify(input).includes('"tsKey"');

/** One request per batch of timestamps: entry i holds batches[i]. */
async function topicWith(s: IsolatedStack, batches: number[][]) {
  const name = uniqueName('tidx');
  const created = await call(s.app, 'POST', '/v1/topics', { name, partitions: 1 });
  expect(created.status).toBe(201);
  for (const ts of batches) {
    const res = await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: ts.map((timestamp) => ({ value: timestamp, timestamp })) });
    expect(res.status).toBe(200);
  }
  return { name, tp: { topicId: created.body.topicId as string, partition: 0 } };
}

/** Kafka's answer by brute force: the first offset whose timestamp is >= T, else the HWM. */
function expected(batches: number[][], ts: number) {
  const all = batches.flat();
  const i = all.findIndex((t) => t >= ts);
  return i < 0 ? { offset: all.length, timestamp: null } : { offset: i, timestamp: all[i] };
}

const BATCHES = [[1000, 3000], [2000, 5000], [4000], [4500, 2500], [9000], [100, 200]];
const PROBES = [0, 999, 1000, 1001, 2500, 3000, 3001, 4200, 5000, 5001, 8999, 9000, 9001];

describe('offsets by timestamp, stamped in the background', () => {
  it('answers without writing, then stamps the whole prefix in one background run', async () => {
    const s = stack();
    const { name, tp } = await topicWith(s, BATCHES);
    const gate = pauseUntilReleased(s.deps.clients.dynamo, { command: 'UpdateItemCommand', where: namesTimeKey });
    const res = await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=3001`);
    expect(res.body).toEqual({ offset: 3, timestamp: 5000 });
    // The answer came while the stamping it triggered is still held: it did not wait for it.
    await gate.reached;
    expect((await s.services.index.readState(tp)).hint).toMatchObject({ stamped: 0, runningMaxTs: -1 });
    gate.release();
    await s.services.stamper.idle();
    expect((await s.services.index.readState(tp)).hint).toMatchObject({ stamped: BATCHES.length, runningMaxTs: 9000 });

    // Stamped: a lookup inside the prefix asks the byTime index and writes nothing.
    const dynamo = countCalls(s.deps.clients.dynamo);
    expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=4200`)).body).toEqual({ offset: 3, timestamp: 5000 });
    expect(dynamo.calls('QueryCommand').some((c) => c.input.IndexName !== undefined && namesTimeKey(c.input))).toBe(true);
    expect(dynamo.calls('UpdateItemCommand').filter((c) => namesTimeKey(c.input))).toEqual([]);
    dynamo.remove();
    gate.remove();
  });

  it('answers exactly as Kafka does however far the stamped prefix lags the stable one', async () => {
    const s = stack();
    const { name, tp } = await topicWith(s, BATCHES);
    const deps = s.deps;
    const topics = new TopicCache(new TopicStore(deps.clients, deps.names.tables.meta), deps.clock, TUNING_DEFAULTS.topicCacheTtlMs);
    // Lookups that never trigger a run, and a stamper that stamps one entry at a time.
    const offsets = new OffsetsService(topics, s.services.index, s.services.partitions, s.services.segments, { trigger: () => undefined });
    const stamper = new TimeIndexStamper(s.services.index, { ...DEFAULT_STAMPER_OPTIONS, entriesPerRun: 1 });
    for (let stamped = 0; stamped <= BATCHES.length; stamped++) {
      expect((await s.services.index.readState(tp)).hint.stamped).toBe(stamped);
      for (const ts of PROBES) expect(await offsets.lookup(name, 0, { timestamp: ts }), `T=${ts}, ${stamped} stamped`).toEqual(expected(BATCHES, ts));
      await stamper.stamp(await s.services.partitions.view(tp));
    }
    expect((await s.services.index.readState(tp)).hint).toMatchObject({ stamped: BATCHES.length, runningMaxTs: 9000 });
  });

  it('logs a failed run instead of throwing, keeps the pointer before the unstamped entry, and catches up on the next lookup', async () => {
    const s = stack();
    const { name, tp } = await topicWith(s, BATCHES);
    // The stamper reports to deps.logger.
    const lines: { msg: string; fields?: LogFields }[] = [];
    const deps = { ...s.deps, logger: { error: (msg: string, fields?: LogFields) => void lines.push({ msg, fields }) } };
    const services = createServices(deps);
    const app = createApp(deps, services);
    const fault = failCalls(s.deps.clients.dynamo, { command: 'UpdateItemCommand', where: namesTimeKey }, crash, { times: 1 });
    try {
      expect((await call(app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=2500`)).body).toEqual(expected(BATCHES, 2500));
      await services.stamper.idle();
      expect(fault.fired).toBe(1);
      expect(lines).toEqual([{ msg: 'time-index stamping failed', fields: expect.objectContaining({ topicId: tp.topicId, partition: 0 }) }]);
      // The run failed within its first page: the pointer did not pass the entry left unstamped.
      expect((await services.index.readState(tp)).hint.stamped).toBe(0);
    } finally {
      fault.remove();
    }
    expect((await call(app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=9001`)).body).toEqual(expected(BATCHES, 9001));
    await services.stamper.idle();
    expect((await services.index.readState(tp)).hint).toMatchObject({ stamped: BATCHES.length, runningMaxTs: 9000 });
    expect(lines).toHaveLength(1);
  });

  it('runs one stamping run per partition at a time', async () => {
    const s = stack();
    const { name, tp } = await topicWith(s, BATCHES);
    const gate = pauseUntilReleased(s.deps.clients.dynamo, { command: 'UpdateItemCommand', where: namesTimeKey });
    const dynamo = countCalls(s.deps.clients.dynamo);
    await Promise.all(PROBES.map((ts) => call(s.app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=${ts}`)));
    await gate.reached;
    gate.release();
    await s.services.stamper.idle();
    // Every data entry has a timestamp: one stamp each, once.
    expect(dynamo.calls('UpdateItemCommand').filter((c) => namesTimeKey(c.input))).toHaveLength(BATCHES.length);
    expect((await s.services.index.readState(tp)).hint.stamped).toBe(BATCHES.length);
    dynamo.remove();
    gate.remove();
  });
});
