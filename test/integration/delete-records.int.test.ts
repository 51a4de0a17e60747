/**
 * DeleteRecords on the emulator stack: the API scenarios in process (the Lambda adapter runs
 * them in lambda-scenarios.int.test.ts), then what only this stack can show: the SDK calls a
 * request makes (a refusal or a no-op writes nothing; a move is one conditional UpdateItem of
 * the hint), the stored start, and several instances (each its own caches) racing and reading.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { IndexStore } from '../../lib/storage/index-store.ts';
import { deleteRecordsAnswer, errorAnswer } from '../../lib/wire/schemas.ts';
import { countCalls, isolatedStack, type CallCounter, type IsolatedStack } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';
import type { RequestTarget } from '../support/lambda-app.ts';
import { registerDeleteRecordsScenarios } from '../support/scenarios/delete-records.ts';
import { stackDeps } from '../support/stack.ts';

describe('delete-records API on the emulator stack', () => registerDeleteRecordsScenarios(() => stackDeps()));

const WRITES = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand'];

async function createTopic(app: RequestTarget, partitions = 1, config: Record<string, unknown> = {}): Promise<{ name: string; topicId: string }> {
  const name = uniqueName('drx');
  const res = await call(app, 'POST', '/v1/topics', { name, partitions, config });
  expect(res.status).toBe(201);
  return { name, topicId: res.body.topicId };
}

async function produce(app: RequestTarget, topic: string, count: number, requests = 1): Promise<void> {
  for (let r = 0; r < requests; r++) {
    const res = await call(app, 'POST', `/v1/topics/${topic}/records`, {
      records: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: i, partition: 0 })),
    });
    expect(res.status).toBe(200);
  }
}

const deleteRecords = (app: RequestTarget, topic: string, body: unknown, p = 0) =>
  call(app, 'POST', `/v1/topics/${topic}/partitions/${p}/delete-records`, body);

async function described(app: RequestTarget, topic: string) {
  const res = await call(app, 'GET', `/v1/topics/${topic}`);
  const { logStartOffset, highWatermark } = res.body.partitions[0];
  return { logStartOffset, highWatermark };
}

describe('delete-records storage calls', () => {
  let stack: IsolatedStack;
  let dynamo: CallCounter;
  let s3: CallCounter;
  let index: IndexStore;
  beforeAll(() => {
    stack = isolatedStack();
    dynamo = countCalls(stack.deps.clients.dynamo);
    s3 = countCalls(stack.deps.clients.s3);
    index = new IndexStore(stack.deps.clients, stack.deps.names.tables.log);
  });
  afterAll(() => {
    dynamo.remove();
    s3.remove();
    stack.dispose();
  });

  it('moves the start with one conditional UpdateItem of the hint, and stores it', async () => {
    const { name, topicId } = await createTopic(stack.app);
    await produce(stack.app, name, 5);
    // A first read of the partition keeps the shared hint up (the readers' upkeep, not ours).
    expect((await call(stack.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=0`)).status).toBe(200);
    dynamo.reset();
    s3.reset();
    const res = await deleteRecords(stack.app, name, { beforeOffset: 3 });
    expect(deleteRecordsAnswer.parse(res.body)).toEqual({ logStartOffset: 3 });
    const writes = dynamo.calls().filter((c) => WRITES.includes(c.commandName));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.commandName).toBe('UpdateItemCommand');
    expect(writes[0]!.input).toMatchObject({ Key: { pk: { S: `${topicId}#0` }, sk: { N: '-2' } }, ConditionExpression: expect.any(String) });
    expect(s3.total()).toBe(0);
    expect((await index.readState({ topicId, partition: 0 })).hint.logStartOffset).toBe(3);
  });

  it('writes nothing for a refusal or a request at or below the start', async () => {
    const { name, topicId } = await createTopic(stack.app);
    const compact = await createTopic(stack.app, 1, { 'cleanup.policy': 'compact' });
    await produce(stack.app, name, 5);
    await produce(stack.app, compact.name, 2);
    expect((await deleteRecords(stack.app, name, { beforeOffset: 2 })).status).toBe(200);
    const cases: [unknown, number, string | undefined, string?][] = [
      [{ beforeOffset: 2 }, 200, undefined],
      [{ beforeOffset: 0 }, 200, undefined],
      [{ beforeOffset: 6 }, 416, 'OFFSET_OUT_OF_RANGE'],
      [{ beforeOffset: -2 }, 400, 'INVALID_REQUEST'],
      [{ beforeOffset: 2.5 }, 400, 'INVALID_REQUEST'],
      [undefined, 400, 'INVALID_REQUEST'],
      [{ beforeOffset: 1 }, 400, 'POLICY_VIOLATION', compact.name],
      [{ beforeOffset: 1 }, 404, 'UNKNOWN_TOPIC_OR_PARTITION', uniqueName('none')],
    ];
    for (const [body, status, code, topic] of cases) {
      const before = await described(stack.app, topic === compact.name ? compact.name : name);
      dynamo.reset();
      s3.reset();
      const res = await deleteRecords(stack.app, topic ?? name, body);
      const writes = dynamo.calls().map((c) => c.commandName).filter((c) => WRITES.includes(c));
      expect({ body, status: res.status, code: res.body.error?.code, writes, s3: s3.total() }).toEqual({ body, status, code, writes: [], s3: 0 });
      if (code !== undefined) expect(errorAnswer.safeParse(res.body).success).toBe(true);
      expect(await described(stack.app, topic === compact.name ? compact.name : name)).toEqual(before);
    }
    expect((await index.readState({ topicId, partition: 0 })).hint.logStartOffset).toBe(2);
  });

  it('refuses bad input before reading anything', async () => {
    const { name } = await createTopic(stack.app);
    dynamo.reset();
    for (const body of [undefined, { beforeOffset: -5 }, { beforeOffset: 'x' }, { at: 1 }]) {
      expect((await deleteRecords(stack.app, name, body)).status).toBe(400);
    }
    expect((await deleteRecords(stack.app, 'x'.repeat(3000), { beforeOffset: 0 })).status).toBe(404);
    expect(dynamo.total()).toBe(0);
  });
});

describe('delete-records across instances', () => {
  const instance = () => createApp(stackDeps());

  it('lets the largest of concurrent requests from many instances win, and none moves it back', async () => {
    const admin = instance();
    const { name, topicId } = await createTopic(admin);
    await produce(admin, name, 10, 3); // 30 records in 3 entries
    const apps = Array.from({ length: 8 }, instance);
    // Every instance has the partition warm in its cache before the race.
    for (const app of apps) expect((await call(app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=0&maxRecords=1`)).status).toBe(200);
    const targets = [7, 29, 13, 30, 1, 22, 15, 9];
    const answers = await Promise.all(apps.map((app, i) => deleteRecords(app, name, { beforeOffset: targets[i] })));
    answers.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body.logStartOffset).toBeGreaterThanOrEqual(targets[i]!);
      expect(res.body.logStartOffset).toBeLessThanOrEqual(30);
    });
    expect(answers[targets.indexOf(30)]!.body.logStartOffset).toBe(30);
    const index = new IndexStore(stackDeps().clients, stackDeps().names.tables.log);
    expect((await index.readState({ topicId, partition: 0 })).hint.logStartOffset).toBe(30);
    // Every instance now answers the winner, and serves nothing below it.
    const again = await Promise.all(apps.map((app, i) => deleteRecords(app, name, { beforeOffset: targets[i] })));
    for (const res of again) expect(res.body).toEqual({ logStartOffset: 30 });
    for (const app of apps) {
      const res = await call(app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=0`);
      expect(res.status).toBe(416);
      expect(res.body.error).toMatchObject({ logStartOffset: 30, highWatermark: 30 });
      expect(await described(app, name)).toEqual({ logStartOffset: 30, highWatermark: 30 });
    }
  });

  it('a warm reader on another instance sees the new start at once', async () => {
    const writer = instance();
    const reader = instance();
    const { name } = await createTopic(writer);
    await produce(writer, name, 4, 2);
    const warm = await call(reader, 'GET', `/v1/topics/${name}/partitions/0/records?offset=0`);
    expect(warm.body.records).toHaveLength(8);
    expect((await deleteRecords(writer, name, { beforeOffset: 5 })).body).toEqual({ logStartOffset: 5 });
    const below = await call(reader, 'GET', `/v1/topics/${name}/partitions/0/records?offset=0`);
    expect(below.status).toBe(416);
    expect(below.body.error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', logStartOffset: 5, highWatermark: 8 });
    const earliest = await call(reader, 'GET', `/v1/topics/${name}/partitions/0/records?offset=earliest`);
    expect(earliest.body.records).toEqual(warm.body.records.slice(5));
    expect((await call(reader, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=earliest`)).body.offset).toBe(5);
    expect(await described(reader, name)).toEqual({ logStartOffset: 5, highWatermark: 8 });
  });

  it('keeps the start while readers advance the hint and produce goes on', async () => {
    const admin = instance();
    const { name, topicId } = await createTopic(admin);
    await produce(admin, name, 2, 3);
    expect((await deleteRecords(admin, name, { beforeOffset: 4 })).status).toBe(200);
    // New entries, read by fresh instances: each walks the prefix and advances the hint.
    for (let round = 0; round < 3; round++) {
      await produce(instance(), name, 2, 2);
      expect((await call(instance(), 'GET', `/v1/topics/${name}/partitions/0/records?offset=earliest`)).body.records[0].offset).toBe(4);
    }
    const index = new IndexStore(stackDeps().clients, stackDeps().names.tables.log);
    const { hint } = await index.readState({ topicId, partition: 0 });
    expect(hint.stable).toBeGreaterThan(3);
    expect(hint.logStartOffset).toBe(4);
    expect(await described(instance(), name)).toEqual({ logStartOffset: 4, highWatermark: 18 });
  });

  it('reads the cleanup policy fresh: a topic just made compact elsewhere is refused at once', async () => {
    const admin = instance();
    const other = instance();
    const { name } = await createTopic(admin);
    await produce(other, name, 3); // `other` now has the topic (policy delete) in its cache
    expect((await call(admin, 'PATCH', `/v1/topics/${name}`, { config: { 'cleanup.policy': 'compact' } })).status).toBe(200);
    const res = await deleteRecords(other, name, { beforeOffset: 2 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('POLICY_VIOLATION');
    expect(await described(admin, name)).toEqual({ logStartOffset: 0, highWatermark: 3 });
  });
});
