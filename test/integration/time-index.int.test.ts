/**
 * Offsets by timestamp with stamping off the read path (lib/log/offsets.ts,
 * time-index-stamper.ts), against the emulators: a lookup writes nothing and answers right
 * however far the stamped prefix lags; maintenance stamps each partition's new stable entries
 * on its pass, and a failed stamping never moves the pointer past an unstamped entry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TUNING_DEFAULTS } from '../../lib/config.ts';
import { OffsetsService } from '../../lib/log/offsets.ts';
import { DEFAULT_STAMPER_OPTIONS, TimeIndexStamper } from '../../lib/log/time-index-stamper.ts';
import { TopicCache } from '../../lib/log/topic-cache.ts';
import { createMaintenance } from '../../lib/services.ts';
import { TopicStore } from '../../lib/storage/topic-store.ts';
import { countCalls, crash, failCalls, isolatedStack, type IsolatedStack } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';

const stacks: IsolatedStack[] = [];
function stack(): IsolatedStack {
  const s = isolatedStack();
  stacks.push(s);
  return s;
}
afterEach(() => {
  for (const s of stacks.splice(0)) s.dispose();
});

/** A call naming the time-index key: a stamp (UpdateItem) or a byTime lookup (Query). */
const namesTimeKey = (input: unknown) => JSON.stringify(input).includes('"tsKey"');

/** One request per batch of timestamps: entry i holds batches[i]. */
async function topicWith(s: IsolatedStack, batches: number[][]) {
  const name = uniqueName('tidx');
  // Timestamps near 1970: without retention.ms -1, maintenance would (rightly) expire them all.
  const created = await call(s.app, 'POST', '/v1/topics', { name, partitions: 1, config: { 'retention.ms': -1 } });
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

describe('offsets by timestamp, stamped by maintenance', () => {
  it('answers without writing; a maintenance pass stamps the whole prefix; then the byTime index answers', async () => {
    const s = stack();
    const { name, tp } = await topicWith(s, BATCHES);
    const dynamo = countCalls(s.deps.clients.dynamo);
    for (const ts of PROBES) expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=${ts}`)).body).toEqual(expected(BATCHES, ts));
    expect(dynamo.calls('UpdateItemCommand').filter((c) => namesTimeKey(c.input))).toEqual([]);
    expect((await s.services.index.readState(tp)).hint).toMatchObject({ stamped: 0, runningMaxTs: -1 });

    // One pass over the partition (only this topic's, on the shared stack).
    await createMaintenance(s.deps, {}, s.services).runUntilIdle({ topic: name });
    expect((await s.services.index.readState(tp)).hint).toMatchObject({ stamped: BATCHES.length, runningMaxTs: 9000 });

    // Stamped: a lookup inside the prefix asks the byTime index and writes nothing.
    dynamo.reset();
    expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=4200`)).body).toEqual({ offset: 3, timestamp: 5000 });
    expect(dynamo.calls('QueryCommand').some((c) => c.input.IndexName !== undefined && namesTimeKey(c.input))).toBe(true);
    expect(dynamo.calls('UpdateItemCommand').filter((c) => namesTimeKey(c.input))).toEqual([]);
    dynamo.remove();
  });

  it('answers exactly as Kafka does however far the stamped prefix lags the stable one', async () => {
    const s = stack();
    const { name, tp } = await topicWith(s, BATCHES);
    const deps = s.deps;
    const topics = new TopicCache(new TopicStore(deps.clients, deps.names.tables.meta), deps.clock, TUNING_DEFAULTS.topicCacheTtlMs);
    // A stamper that stamps one entry at a time, lookups between its steps.
    const offsets = new OffsetsService(topics, s.services.index, s.services.partitions, s.services.segments);
    const stamper = new TimeIndexStamper(s.services.index, { ...DEFAULT_STAMPER_OPTIONS, entriesPerRun: 1 });
    for (let stamped = 0; stamped <= BATCHES.length; stamped++) {
      expect((await s.services.index.readState(tp)).hint.stamped).toBe(stamped);
      for (const ts of PROBES) expect(await offsets.lookup(name, 0, { timestamp: ts }), `T=${ts}, ${stamped} stamped`).toEqual(expected(BATCHES, ts));
      await stamper.stamp(await s.services.partitions.view(tp));
    }
    expect((await s.services.index.readState(tp)).hint).toMatchObject({ stamped: BATCHES.length, runningMaxTs: 9000 });
  });

  it('a failed stamping keeps the pointer before the unstamped entry, and the next pass catches up', async () => {
    const s = stack();
    const { name, tp } = await topicWith(s, BATCHES);
    const stamper = new TimeIndexStamper(s.services.index, DEFAULT_STAMPER_OPTIONS);
    const fault = failCalls(s.deps.clients.dynamo, { command: 'UpdateItemCommand', where: namesTimeKey }, crash, { times: 1 });
    await expect(stamper.stamp(await s.services.partitions.view(tp))).rejects.toThrow(/simulated crash/);
    expect(fault.fired).toBe(1);
    fault.remove();
    // The run failed within its first page: the pointer did not pass the entry left unstamped.
    expect((await s.services.index.readState(tp)).hint.stamped).toBe(0);
    for (const ts of PROBES) expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=${ts}`)).body).toEqual(expected(BATCHES, ts));
    await stamper.stamp(await s.services.partitions.view(tp));
    expect((await s.services.index.readState(tp)).hint).toMatchObject({ stamped: BATCHES.length, runningMaxTs: 9000 });
    for (const ts of PROBES) expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=${ts}`)).body).toEqual(expected(BATCHES, ts));
  });

  it('stamps each entry once however many passes run at once', async () => {
    const s = stack();
    const { tp } = await topicWith(s, BATCHES);
    const dynamo = countCalls(s.deps.clients.dynamo);
    const stamper = new TimeIndexStamper(s.services.index, DEFAULT_STAMPER_OPTIONS);
    const view = await s.services.partitions.view(tp);
    await Promise.all([stamper.stamp(view), stamper.stamp(view)]);
    // Two passes from the same pointer repeat the work (idempotent), never more than that.
    expect(dynamo.calls('UpdateItemCommand').filter((c) => namesTimeKey(c.input)).length).toBeLessThanOrEqual(2 * BATCHES.length);
    expect((await s.services.index.readState(tp)).hint.stamped).toBe(BATCHES.length);
    dynamo.reset();
    await stamper.stamp(await s.services.partitions.view(tp));
    expect(dynamo.calls('UpdateItemCommand').filter((c) => namesTimeKey(c.input))).toEqual([]);
    dynamo.remove();
  });
});
