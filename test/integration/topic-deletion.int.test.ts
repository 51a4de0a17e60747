/**
 * Finishing topic deletions (lib/maintenance/topic-deletion.ts) on real DynamoDB Local and
 * s3rver: a deleted topic's log items and group offsets go, its marker is forgotten only past
 * the grace, other topics (a re-created one of the same name included) are never touched,
 * a crash mid-step leaves nothing of others changed and the next step finishes, concurrent
 * steps agree, and a dry run writes nothing.
 *
 * The steps here run over EVERY marker of their tables, so this file has tables of its own
 * (same emulators, its own name prefix): other files delete topics on the shared tables and
 * check their markers, which a step with a clock past the grace would forget.
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Hono } from 'hono';
import { createApp } from '../../lib/api/app.ts';
import type { Clock } from '../../lib/deps.ts';
import { TOPIC_DELETION_DEFAULTS, TopicDeletion, type TopicDeletionOptions, type TopicDeletionReport } from '../../lib/maintenance/topic-deletion.ts';
import { createServices } from '../../lib/services.ts';
import type { AwsClients } from '../../lib/storage/clients.ts';
import { createAwsClients } from '../../lib/storage/clients.ts';
import { ensureResources } from '../../lib/storage/bootstrap.ts';
import { GroupStore } from '../../lib/storage/group-store.ts';
import { PartitionPurge } from '../../lib/storage/partition-purge.ts';
import { TopicStore } from '../../lib/storage/topic-store.ts';
import { partitionKey } from '../../lib/storage/keys/partition.ts';
import { resourceNames, type ResourceNames } from '../../lib/storage/tables.ts';
import { countCalls, crash, intercept } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';
import { stackDeps } from '../support/stack.ts';

const GRACE_MS = TOPIC_DELETION_DEFAULTS.graceMs;

let names: ResourceNames;
const owned: AwsClients[] = [];

function clients(): AwsClients {
  const stack = inject('sluiceStack');
  const c = createAwsClients({ dynamoEndpoint: stack.dynamoEndpoint, s3Endpoint: stack.s3Endpoint, region: 'us-east-1', dummyCredentials: true });
  owned.push(c);
  return c;
}

beforeAll(async () => {
  const stack = inject('sluiceStack');
  names = resourceNames(`deltopic-${randomBytes(4).toString('hex')}`, stack.bucket);
  await ensureResources(clients(), names);
});

afterAll(async () => {
  const c = clients();
  await Promise.all(Object.values(names.tables).map((TableName) => c.dynamo.send(new DeleteTableCommand({ TableName })).catch(() => undefined)));
  for (const x of owned) {
    x.dynamo.destroy();
    x.s3.destroy();
  }
});

/** A clock that tests move forward (the app keeps the system clock: deletedAt is real time). */
function shiftedClock(): Clock & { advance(ms: number): void } {
  let shift = 0;
  return { now: () => Date.now() + shift, advance: (ms) => void (shift += ms) };
}

interface World {
  readonly clients: AwsClients;
  readonly app: Hono;
  readonly topics: TopicStore;
  readonly groups: GroupStore;
  readonly clock: ReturnType<typeof shiftedClock>;
  deletion(opts?: Partial<TopicDeletionOptions>): TopicDeletion;
}

/** App and stores on their own SDK clients (middleware added to them stays in the test). */
function world(clock = shiftedClock()): World {
  const c = clients();
  const deps = stackDeps({ clients: c, names });
  const app = createApp(deps, createServices(deps));
  const topics = new TopicStore(c, names.tables.meta);
  const groups = new GroupStore(c, names.tables.meta);
  const purge = new PartitionPurge(c, names.tables.log);
  return {
    clients: c,
    app,
    topics,
    groups,
    clock,
    deletion: (opts = {}) => new TopicDeletion(topics, purge, groups, clock, opts),
  };
}

async function ok(res: Promise<{ status: number; body: any }>, status = 200): Promise<any> {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}

interface TopicInfo {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
}

/** A topic with `batches` produce requests (of 3 records) per partition, read once (hint). */
async function filledTopic(w: World, partitions: number, batches = 3, name = uniqueName('del')): Promise<TopicInfo> {
  const created = await ok(call(w.app, 'POST', '/v1/topics', { name, partitions }), 201);
  for (let p = 0; p < partitions; p++) {
    for (let b = 0; b < batches; b++) {
      await ok(call(w.app, 'POST', `/v1/topics/${name}/records`, { records: [0, 1, 2].map((i) => ({ value: { p, b, i }, partition: p })) }));
    }
    await ok(call(w.app, 'GET', `/v1/topics/${name}/partitions/${p}/records`));
  }
  return { name, topicId: created.topicId, partitions };
}

async function commit(w: World, group: string, topic: TopicInfo, offset = 2): Promise<void> {
  const offsets = Array.from({ length: topic.partitions }, (_, partition) => ({ topic: topic.name, partition, offset }));
  await ok(call(w.app, 'POST', `/v1/groups/${group}/offsets`, { offsets }));
}

/** Log table items of one partition collection, counted with a consistent Query. */
async function itemCount(c: AwsClients, topicId: string, partition: number): Promise<number> {
  let count = 0;
  let startKey: QueryCommandOutput['LastEvaluatedKey'];
  do {
    const out: QueryCommandOutput = await c.dynamo.send(
      new QueryCommand({
        TableName: names.tables.log,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: partitionKey(topicId, partition) } },
        Select: 'COUNT',
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    count += out.Count ?? 0;
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/** Item counts per partition (checking a few partitions past the count too: none may appear). */
async function itemCounts(c: AwsClients, t: TopicInfo): Promise<number[]> {
  return Promise.all(Array.from({ length: t.partitions + 2 }, (_, p) => itemCount(c, t.topicId, p)));
}

async function offsetsFor(w: World, group: string, topicId: string) {
  return (await w.groups.offsets(group)).filter((o) => o.topicId === topicId).map(({ partition, offset }) => ({ partition, offset }));
}

/** Steps until `more` is false (bounded), returning every report. */
async function runToEnd(d: TopicDeletion, opts: { topicId?: string } = {}, maxSteps = 200): Promise<TopicDeletionReport[]> {
  const reports: TopicDeletionReport[] = [];
  for (let i = 0; i < maxSteps; i++) {
    const r = await d.step(opts);
    reports.push(r);
    if (!r.more) return reports;
  }
  throw new Error(`still more after ${maxSteps} steps`);
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('topic deletion (maintenance)', () => {
  let removers: (() => void)[] = [];
  afterEach(() => {
    for (const r of removers) r();
    removers = [];
  });

  it('removes the items and offsets of a deleted topic, forgets the marker past the grace, and touches nothing else', async () => {
    const w = world();
    const doomed = await filledTopic(w, 3);
    const other = await filledTopic(w, 2);
    const [g1, g2] = [uniqueName('g'), uniqueName('g')];
    await commit(w, g1, doomed);
    await commit(w, g1, other, 1);
    await commit(w, g2, doomed, 3);

    const otherItems = await itemCounts(w.clients, other);
    const doomedItems = await itemCounts(w.clients, doomed);
    expect(sum(doomedItems)).toBeGreaterThanOrEqual(3 * 4); // entries and heads (and hints)
    const otherOffsets = await offsetsFor(w, g1, other.topicId);
    expect(otherOffsets).toHaveLength(2);

    await ok(call(w.app, 'DELETE', `/v1/topics/${doomed.name}`), 204);
    // Re-created at once under the same name: a new topicId, empty, never touched by the steps.
    const again = await ok(call(w.app, 'POST', '/v1/topics', { name: doomed.name, partitions: 3 }), 201);
    expect(again.topicId).not.toBe(doomed.topicId);
    const described = await ok(call(w.app, 'GET', `/v1/topics/${doomed.name}`));
    expect(described.partitions.map((p: { highWatermark: number }) => p.highWatermark)).toEqual([0, 0, 0]);
    expect((await ok(call(w.app, 'GET', `/v1/topics/${doomed.name}/partitions/0/records`))).records).toEqual([]);
    await ok(call(w.app, 'POST', `/v1/topics/${doomed.name}/records`, { records: [{ value: 'new', partition: 1 }] }));
    await commit(w, g2, { name: doomed.name, topicId: again.topicId, partitions: 3 }, 0);
    const recreated: TopicInfo = { name: doomed.name, topicId: again.topicId, partitions: 3 };
    const recreatedItems = await itemCounts(w.clients, recreated);

    const deletion = w.deletion({ itemsPerStep: 7 });
    expect((await deletion.markers()).filter((m) => m.topicId === doomed.topicId)).toEqual([
      { topicId: doomed.topicId, name: doomed.name, partitions: 3, deletedAt: expect.any(Number) },
    ]);

    // Within the grace: everything goes, in bounded steps, but the marker stays.
    const within = await runToEnd(deletion);
    expect(within.length).toBeGreaterThan(2);
    const mine = within.flatMap((r) => r.topics.filter((t) => t.topicId === doomed.topicId));
    for (const r of within) expect(sum(r.topics.map((t) => t.itemsDeleted + t.offsetsDeleted))).toBeLessThanOrEqual(7);
    expect(sum(mine.map((t) => t.itemsDeleted))).toBe(sum(doomedItems));
    expect(sum(mine.map((t) => t.offsetsDeleted))).toBe(6);
    expect(mine.some((t) => t.finished)).toBe(false);
    // A sweep that finds nothing left, still within the grace, keeps the marker too.
    const idle = await deletion.step();
    expect(idle.more).toBe(false);
    expect(idle.topics.find((t) => t.topicId === doomed.topicId)).toMatchObject({ itemsDeleted: 0, offsetsDeleted: 0, swept: true, finished: false });
    expect(await w.topics.deletedTopic(doomed.topicId)).toBeDefined();
    expect(await itemCounts(w.clients, doomed)).toEqual([0, 0, 0, 0, 0]);
    expect(await offsetsFor(w, g1, doomed.topicId)).toEqual([]);
    expect(await offsetsFor(w, g2, doomed.topicId)).toEqual([]);

    // Past the grace: one more sweep finds nothing and forgets the marker.
    w.clock.advance(GRACE_MS + 1);
    const past = await runToEnd(deletion);
    expect(past.flatMap((r) => r.topics).find((t) => t.topicId === doomed.topicId)).toMatchObject({ finished: true, itemsDeleted: 0, offsetsDeleted: 0 });
    expect(await w.topics.deletedTopic(doomed.topicId)).toBeUndefined();
    const further = await deletion.step();
    expect(further.topics.map((t) => t.topicId)).not.toContain(doomed.topicId);

    // Nothing else changed: the other topic, its offsets, the re-created topic, the groups.
    expect(await itemCounts(w.clients, other)).toEqual(otherItems);
    expect(await offsetsFor(w, g1, other.topicId)).toEqual(otherOffsets);
    expect(await itemCounts(w.clients, recreated)).toEqual(recreatedItems);
    expect(await offsetsFor(w, g2, recreated.topicId)).toEqual([0, 1, 2].map((partition) => ({ partition, offset: 0 })));
    expect(await w.groups.get(g1)).toBeDefined();
    expect(await w.groups.get(g2)).toBeDefined();
    const fetched = await ok(call(w.app, 'GET', `/v1/topics/${doomed.name}/partitions/1/records`));
    expect(fetched.records.map((r: { value: unknown }) => r.value)).toEqual(['new']);
    expect((await ok(call(w.app, 'GET', `/v1/topics/${other.name}/partitions/1/records`))).records).toHaveLength(9);
  });

  it('deletes offsets first, then per partition the entries and the head and hint last, never more than itemsPerStep a step', async () => {
    const w = world();
    const doomed = await filledTopic(w, 2, 30);
    await commit(w, uniqueName('g'), doomed);
    await ok(call(w.app, 'DELETE', `/v1/topics/${doomed.name}`), 204);
    const calls = countCalls(w.clients.dynamo);
    removers.push(calls.remove);

    const deletion = w.deletion({ itemsPerStep: 40 });
    const reports = await runToEnd(deletion, { topicId: doomed.topicId });
    expect(await itemCounts(w.clients, doomed)).toEqual([0, 0, 0, 0]);

    // Every key sent for deletion, in order, with the step it belonged to.
    const deletes = calls.calls('BatchWriteItemCommand').flatMap((c) =>
      Object.entries(c.input.RequestItems as Record<string, { DeleteRequest: { Key: Record<string, { S?: string; N?: string }> } }[]>).flatMap(([table, reqs]) =>
        reqs.map((r) => ({ table, pk: r.DeleteRequest.Key.pk!.S!, sk: r.DeleteRequest.Key.sk!.S ?? Number(r.DeleteRequest.Key.sk!.N) })),
      ),
    );
    for (const c of calls.calls('BatchWriteItemCommand')) expect(c.input.RequestItems[Object.keys(c.input.RequestItems)[0]!].length).toBeLessThanOrEqual(25);
    const firstLog = deletes.findIndex((d) => d.table === names.tables.log);
    expect(deletes.slice(0, firstLog).every((d) => d.table === names.tables.meta)).toBe(true);
    expect(deletes.slice(firstLog).every((d) => d.table === names.tables.log)).toBe(true);
    for (const pk of [0, 1].map((p) => partitionKey(doomed.topicId, p))) {
      const mine = deletes.filter((d) => d.pk === pk);
      const lastEntry = mine.findLastIndex((d) => (d.sk as number) >= 0);
      const firstSummary = mine.findIndex((d) => (d.sk as number) < 0);
      expect(lastEntry).toBeGreaterThan(0);
      expect(firstSummary).toBeGreaterThan(lastEntry);
    }
    for (const r of reports) expect(sum(r.topics.map((t) => t.itemsDeleted + t.offsetsDeleted))).toBeLessThanOrEqual(40);
    expect(deletes.length).toBe(sum(reports.flatMap((r) => r.topics.map((t) => t.itemsDeleted + t.offsetsDeleted))));
  });

  it.each([
    ['before it reaches DynamoDB', false],
    ['after DynamoDB ran it', true],
  ])('a step that crashes on its 2nd BatchWriteItem (%s) rejects, changes nothing of other topics, and a later step finishes', async (_label, runFirst) => {
    const w = world();
    const doomed = await filledTopic(w, 2, 10);
    const other = await filledTopic(w, 2);
    const g = uniqueName('g');
    await commit(w, g, doomed);
    await commit(w, g, other, 1);
    await ok(call(w.app, 'DELETE', `/v1/topics/${doomed.name}`), 204);
    const otherItems = await itemCounts(w.clients, other);
    const before = sum(await itemCounts(w.clients, doomed));

    let batches = 0;
    removers.push(
      intercept(w.clients.dynamo, async (c, next) => {
        if (c.commandName !== 'BatchWriteItemCommand' || ++batches !== 2) return next();
        if (runFirst) await next();
        throw crash();
      }),
    );
    w.clock.advance(GRACE_MS + 1);
    const deletion = w.deletion();
    await expect(deletion.step({ topicId: doomed.topicId })).rejects.toMatchObject({ name: 'SimulatedCrash' });
    expect(batches).toBe(2);

    expect(await w.topics.deletedTopic(doomed.topicId)).toBeDefined();
    expect(await offsetsFor(w, g, doomed.topicId)).toEqual([]); // the 1st batch: the offsets
    const left = sum(await itemCounts(w.clients, doomed));
    expect(left).toBeGreaterThan(0);
    if (!runFirst) expect(left).toBe(before);
    expect(await itemCounts(w.clients, other)).toEqual(otherItems);
    expect(await offsetsFor(w, g, other.topicId)).toHaveLength(2);

    const reports = await runToEnd(deletion, { topicId: doomed.topicId });
    expect(reports.at(-1)!.topics[0]).toMatchObject({ finished: true });
    expect(await itemCounts(w.clients, doomed)).toEqual([0, 0, 0, 0]);
    expect(await w.topics.deletedTopic(doomed.topicId)).toBeUndefined();
    expect(await itemCounts(w.clients, other)).toEqual(otherItems);
    expect(await offsetsFor(w, g, other.topicId)).toHaveLength(2);
  });

  it('two instances stepping at once reach the same end state without errors', async () => {
    const w = world();
    const doomed = await Promise.all([filledTopic(w, 3, 8), filledTopic(w, 2, 8)]);
    const other = await filledTopic(w, 2);
    const g = uniqueName('g');
    for (const t of [...doomed, other]) await commit(w, g, t);
    for (const t of doomed) await ok(call(w.app, 'DELETE', `/v1/topics/${t.name}`), 204);
    const otherItems = await itemCounts(w.clients, other);

    const clock = shiftedClock();
    clock.advance(GRACE_MS + 1);
    const [a, b] = [world(clock), world(clock)];
    await Promise.all([runToEnd(a.deletion({ itemsPerStep: 9 })), runToEnd(b.deletion({ itemsPerStep: 13 }))]);

    for (const t of doomed) {
      expect(await itemCounts(w.clients, t)).toEqual(Array(t.partitions + 2).fill(0));
      expect(await offsetsFor(w, g, t.topicId)).toEqual([]);
      expect(await w.topics.deletedTopic(t.topicId)).toBeUndefined();
    }
    expect(await itemCounts(w.clients, other)).toEqual(otherItems);
    expect(await offsetsFor(w, g, other.topicId)).toHaveLength(2);
  });

  it('a dry run counts what a step would delete and writes nothing', async () => {
    const w = world();
    const doomed = await filledTopic(w, 2);
    const g = uniqueName('g');
    await commit(w, g, doomed);
    await ok(call(w.app, 'DELETE', `/v1/topics/${doomed.name}`), 204);
    const items = await itemCounts(w.clients, doomed);
    w.clock.advance(GRACE_MS + 1);

    const calls = countCalls(w.clients.dynamo);
    removers.push(calls.remove);
    const dry = await w.deletion().step({ dryRun: true, topicId: doomed.topicId });
    expect(dry).toEqual({
      dryRun: true,
      topics: [{ topicId: doomed.topicId, name: doomed.name, itemsDeleted: sum(items), offsetsDeleted: 2, swept: true, finished: false }],
      more: true,
    });
    // Bounded like a real step.
    const small = await w.deletion({ itemsPerStep: 3 }).step({ dryRun: true, topicId: doomed.topicId });
    expect(small.topics[0]).toMatchObject({ offsetsDeleted: 2, itemsDeleted: 1, swept: false, finished: false });
    expect(small.more).toBe(true);
    // Every marker (this file's tables only): ours is among them, and still nothing is written.
    const all = await w.deletion({ itemsPerStep: 10_000 }).step({ dryRun: true });
    expect(all.topics.find((t) => t.topicId === doomed.topicId)).toMatchObject({ itemsDeleted: sum(items), offsetsDeleted: 2 });

    const sent = Object.keys(calls.counts());
    expect(sent.filter((name) => !['QueryCommand', 'GetItemCommand'].includes(name))).toEqual([]);
    expect(await itemCounts(w.clients, doomed)).toEqual(items);
    expect(await offsetsFor(w, g, doomed.topicId)).toHaveLength(2);
    expect(await w.topics.deletedTopic(doomed.topicId)).toBeDefined();

    // Once the data is gone, a dry run past the grace says it would forget the marker (and does not).
    expect((await w.deletion().step({ topicId: doomed.topicId })).more).toBe(true); // deleted all; confirms next step
    expect(await w.topics.deletedTopic(doomed.topicId)).toBeDefined();
    expect((await w.deletion().step({ dryRun: true, topicId: doomed.topicId })).topics[0]).toMatchObject({ itemsDeleted: 0, offsetsDeleted: 0, finished: true });
    expect(await w.topics.deletedTopic(doomed.topicId)).toBeDefined();
  });

  it('with a topicId, works on that marker only; markers carry the name for the CLI', async () => {
    const w = world();
    const [x, y] = await Promise.all([filledTopic(w, 1), filledTopic(w, 1)]);
    for (const t of [x, y]) await ok(call(w.app, 'DELETE', `/v1/topics/${t.name}`), 204);
    const yItems = await itemCounts(w.clients, y);
    w.clock.advance(GRACE_MS + 1);
    const deletion = w.deletion();

    const byName = (await deletion.markers()).filter((m) => m.name === x.name);
    expect(byName.map((m) => m.topicId)).toEqual([x.topicId]);
    await runToEnd(deletion, { topicId: byName[0]!.topicId });
    expect(await itemCounts(w.clients, x)).toEqual([0, 0, 0]);
    expect(await w.topics.deletedTopic(x.topicId)).toBeUndefined();
    expect(await itemCounts(w.clients, y)).toEqual(yItems);
    expect(await w.topics.deletedTopic(y.topicId)).toBeDefined();
    // An unknown topicId: nothing to do.
    expect(await deletion.step({ topicId: x.topicId })).toEqual({ dryRun: false, topics: [], more: false });
  });
});

describe('the storage steps underneath', () => {
  it('PartitionPurge with a limit of 1 goes entry by entry, then hint and head, and ends with nothing found', async () => {
    const w = world();
    const t = await filledTopic(w, 1, 3);
    const purge = new PartitionPurge(w.clients, names.tables.log);
    const tp = { topicId: t.topicId, partition: 0 };
    const total = await itemCount(w.clients, t.topicId, 0);
    const results = [];
    for (let i = 0; i < 20; i++) {
      const r = await purge.purge(tp, 1);
      results.push(r);
      if (!r.more) break;
    }
    expect(sum(results.map((r) => r.deleted))).toBe(total);
    expect(results.slice(0, -1).every((r) => r.deleted === 1 && r.more)).toBe(true);
    expect(results.at(-1)).toEqual({ deleted: 1, more: false }); // the head, with nothing after it
    expect(await itemCount(w.clients, t.topicId, 0)).toBe(0);
    expect(await purge.purge(tp, 100)).toEqual({ deleted: 0, more: false });
    expect(await purge.purge(tp, 0)).toEqual({ deleted: 0, more: true }); // no budget: unknown
  });

  it("GroupStore.deleteTopicOffsets removes one topicId's offsets in every group, never a topicId that extends it", async () => {
    const w = world();
    const topicId = uniqueName('tid');
    const others = [`${topicId}#1`, `${topicId}1`, `x${topicId}`];
    const groups = [uniqueName('g'), uniqueName('g'), uniqueName('g')];
    for (const g of groups) {
      const offsets = [topicId, ...others].flatMap((id) => [0, 1].map((partition) => ({ topicId: id, topic: 'n', partition, offset: 5, metadata: '' })));
      await w.groups.commitOffsets(g, 0, offsets, Date.now());
    }
    const mineLeft = async () => sum(await Promise.all(groups.map(async (g) => (await offsetsFor(w, g, topicId)).length)));

    expect(await w.groups.deleteTopicOffsets(topicId, 100, { dryRun: true })).toEqual({ deleted: 6, more: false });
    expect(await mineLeft()).toBe(6);
    const first = await w.groups.deleteTopicOffsets(topicId, 4);
    expect(first).toEqual({ deleted: 4, more: true });
    expect(await mineLeft()).toBe(2);
    expect(await w.groups.deleteTopicOffsets(topicId, 4)).toEqual({ deleted: 2, more: false });
    expect(await w.groups.deleteTopicOffsets(topicId, 4)).toEqual({ deleted: 0, more: false });
    for (const g of groups) {
      expect(await offsetsFor(w, g, topicId)).toEqual([]);
      for (const id of others) expect(await offsetsFor(w, g, id)).toHaveLength(2);
    }
  });
});
