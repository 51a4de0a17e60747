/**
 * Maintenance's Durable Streams sweep (lib/ds/sweep-plan.ts S1-S3) on the emulators, through
 * the real maintenance tick: an expired stream nobody touches is removed with its topic; a
 * `__ds.` topic no state names (and whose named owner has none) is deleted after the grace; a
 * fork count leaked by a process dying between counting a fork and creating it is corrected,
 * which lets the soft-deleted source go (a fork creation that merely fails gives its count back).
 * The clock is injected: the sweep's grace is at least a minute.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { DS_TOPIC_PREFIX, streamId } from '../../lib/ds/streams.ts';
import { MIN_SWEEP_GRACE_MS } from '../../lib/ds/sweep-plan.ts';
import { createMaintenance, createServices } from '../../lib/services.ts';
import { crash, failCalls, isolatedStack } from '../support/faults.ts';
import { ProducerStore } from '../../lib/storage/producer-store.ts';
import { parseState, serializeState } from '../../lib/ds/stream-state.ts';

const s = isolatedStack({ slotTimeoutMs: 1500 });
afterAll(() => s.dispose());

let skew = 0;
const clock = { now: () => Date.now() + skew };
const deps = { ...s.deps, clock };
const services = createServices(deps);
const app = createApp(deps, services);
const ds = services.ds;

const path = (name: string) => `/ds/sweep/${name}-${randomUUID().slice(0, 8)}`;

/** One maintenance tick in a fresh process (its sweep interval has not started), as the scheduler runs it. */
async function tick(opts: { dryRun?: boolean } = {}) {
  const maintenance = createMaintenance(deps, { gcGraceMs: 0 }, services);
  return maintenance.tick(opts);
}

async function topicNames(): Promise<string[]> {
  return (await services.topics.list()).map((t) => t.name);
}

describe('the Durable Streams sweep', () => {
  it('S1: removes an expired stream nobody reads, with its topic; a dry run only says so', async () => {
    const url = path('expired');
    expect((await app.request(url, { method: 'PUT', headers: { 'content-type': 'text/plain', 'Stream-TTL': '5' }, body: 'x' })).status).toBe(201);
    const topic = (await ds.get(url.slice(3))).topic;
    skew += 10_000;

    const dry = await tick({ dryRun: true });
    expect(dry.streams?.expire).toContain(streamId(url.slice(3)));
    expect(await topicNames()).toContain(topic); // the dry run changed nothing

    const real = await tick();
    expect(real.streams?.expire).toContain(streamId(url.slice(3)));
    expect(await topicNames()).not.toContain(topic);
    skew -= 10_000; // back in time: the stream would be live again, were its state still there
    expect((await app.request(url, { method: 'HEAD' })).status).toBe(404);
  });

  it('S2: deletes a stream topic no state names once it is older than the grace, not before', async () => {
    // What a crash between creating a stream's topic and writing its state leaves: a topic
    // whose name names an owner that has no state.
    const owner = streamId(`/sweep/never-created-${randomUUID()}`).slice('ds.'.length);
    const orphan = await services.topics.create({ name: `${DS_TOPIC_PREFIX}${owner}.${randomUUID()}`, partitions: 1 });
    // A topic whose name names no owner is never the sweep's to delete.
    const unowned = await services.topics.create({ name: `${DS_TOPIC_PREFIX}${randomUUID()}`, partitions: 1 });
    const live = path('live');
    expect((await app.request(live, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'kept' })).status).toBe(201);
    const liveTopic = (await ds.get(live.slice(3))).topic;

    expect((await tick()).streams?.orphanTopics ?? []).not.toContain(orphan.name); // younger than the grace
    skew += MIN_SWEEP_GRACE_MS + 1_000;
    const report = await tick();
    skew -= MIN_SWEEP_GRACE_MS + 1_000;
    expect(report.streams?.orphanTopics).toContain(orphan.name);
    expect(report.streams?.orphanTopics).not.toContain(liveTopic);
    const names = await topicNames();
    expect(names).not.toContain(orphan.name);
    expect(names).toContain(liveTopic);
    expect(names).toContain(unowned.name);
    expect(await (await app.request(`${live}?offset=-1`)).text()).toBe('kept');
  });

  it('S3: corrects a fork count leaked by a crash, and the soft-deleted source is then purged', async () => {
    const source = path('source');
    expect((await app.request(source, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'src' })).status).toBe(201);
    // A fork whose creation fails gives its count back...
    const fault = failCalls(s.deps.clients.dynamo, { command: 'PutItemCommand', where: (i) => JSON.stringify(i.Item ?? {}).includes(DS_TOPIC_PREFIX) }, crash, { times: 1 });
    const fork = path('fork');
    const failed = await app.request(fork, { method: 'PUT', headers: { 'content-type': 'text/plain', 'Stream-Forked-From': source.slice(3) } });
    fault.remove();
    expect(failed.status).toBe(500);
    expect((await ds.get(source.slice(3))).forks).toBe(0);
    // ...but a process that dies between counting a fork and creating it cannot: its count leaks.
    const store = new ProducerStore(s.deps.clients, s.deps.names.tables.meta);
    const item = (await store.get(streamId(source.slice(3))))!;
    const leaked = { ...parseState(item.attachment!), forks: 1 };
    expect(await store.advance(item, { ...item, lastSequence: item.lastSequence + 1, attachment: serializeState(leaked) }, 4_102_444_800)).toBe(true);
    const before = await ds.get(source.slice(3));
    expect(before.forks).toBe(1); // leaked: no fork exists

    // A delete now can only soft-delete (the count says a fork reads it).
    expect((await app.request(source, { method: 'DELETE' })).status).toBe(204);
    expect((await app.request(source, { method: 'HEAD' })).status).toBe(410);

    expect((await tick()).streams?.forkCounts ?? []).toEqual([]); // quiet for less than the grace
    skew += MIN_SWEEP_GRACE_MS + 1_000;
    const report = await tick();
    skew -= MIN_SWEEP_GRACE_MS + 1_000;
    expect(report.streams?.forkCounts).toContainEqual({ id: streamId(source.slice(3)), epoch: item.epoch, forks: 0 });
    expect((await app.request(source, { method: 'HEAD' })).status).toBe(404);
    expect(await topicNames()).not.toContain(before.topic);
    // The path is free again.
    expect((await app.request(source, { method: 'PUT', headers: { 'content-type': 'text/plain' } })).status).toBe(201);
  });
});
