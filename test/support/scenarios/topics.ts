/**
 * Topic API scenarios (API.md "Topics", "Service"), run against a real stack.
 * "Nothing is written on a 4xx" is checked on the exact keys a write would have touched.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../lib/api/app.ts';
import { TopicStore } from '../../../lib/storage/topic-store.ts';
import { call, uniqueName } from '../http.ts';
import type { RequestTarget } from '../lambda-app.ts';
import type { AppFactory, DepsProvider } from './index.ts';

export function registerTopicScenarios(getDeps: DepsProvider, makeApp: AppFactory = createApp): void {
  let app: RequestTarget;
  let store: TopicStore;
  beforeAll(() => {
    const deps = getDeps();
    app = makeApp(deps);
    store = new TopicStore(deps.clients, deps.names.tables.meta);
  });

  const create = (body: unknown) => call(app, 'POST', '/v1/topics', body);

  describe('service', () => {
    it('answers /healthz', async () => {
      expect(await call(app, 'GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('publishes version, backend and limits on /v1/cluster', async () => {
      const res = await call(app, 'GET', '/v1/cluster');
      expect(res.status).toBe(200);
      expect(res.body.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(res.body.backend).toBe(getDeps().backend);
      expect(res.body.limits).toMatchObject({
        maxRequestBytes: 6 * 1024 * 1024,
        maxPartitionsPerRequest: expect.any(Number),
      });
    });

    it('answers unknown routes with a JSON 404', async () => {
      const res = await call(app, 'GET', '/v1/nope');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
    });
  });

  describe('create, describe, list', () => {
    it('creates a topic with Kafka default configs and empty partitions', async () => {
      const name = uniqueName();
      const res = await create({ name, partitions: 3, config: { 'retention.ms': 1000 } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name, partitions: 3 });
      expect(res.body.topicId).toEqual(expect.any(String));
      expect(res.body.config).toMatchObject({
        'retention.ms': 1000,
        'retention.bytes': -1,
        'cleanup.policy': 'delete',
        'delete.retention.ms': 86_400_000,
        'max.message.bytes': 1_048_576,
        'message.timestamp.type': 'CreateTime',
      });

      const described = await call(app, 'GET', `/v1/topics/${name}`);
      expect(described.status).toBe(200);
      expect(described.body).toMatchObject({ name, topicId: res.body.topicId, config: res.body.config });
      expect(described.body.partitions).toEqual([0, 1, 2].map((partition) => ({ partition, logStartOffset: 0, highWatermark: 0, sizeBytes: 0, segments: 0 })));

      const list = await call(app, 'GET', '/v1/topics');
      expect(list.status).toBe(200);
      expect(list.body.topics).toContainEqual(expect.objectContaining({ name, partitions: 3 }));
    });

    it('defaults to one partition, as Kafka num.partitions does', async () => {
      const name = uniqueName();
      const res = await create({ name });
      expect(res.status).toBe(201);
      expect(res.body.partitions).toBe(1);
    });

    it('accepts the edge names "..." and 249 characters', async () => {
      for (const name of [`...${uniqueName()}`.slice(0, 20), uniqueName('x').padEnd(249, 'y')]) {
        expect((await create({ name })).status).toBe(201);
      }
    });

    it('refuses a duplicate with 409 TOPIC_ALREADY_EXISTS and keeps the original', async () => {
      const name = uniqueName();
      const first = await create({ name, partitions: 2 });
      const again = await create({ name, partitions: 5 });
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({ code: 'TOPIC_ALREADY_EXISTS', retriable: false });
      const stored = await store.get(name);
      expect(stored).toMatchObject({ topicId: first.body.topicId, partitions: 2 });
    });

    it('lets exactly one of many concurrent creates of one name win', async () => {
      const name = uniqueName();
      const results = await Promise.all(Array.from({ length: 8 }, () => create({ name, partitions: 1 })));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    });

    it("refuses a name colliding on '.' vs '_' with INVALID_TOPIC_EXCEPTION", async () => {
      const base = uniqueName().replaceAll('-', '');
      expect((await create({ name: `${base}.a` })).status).toBe(201);
      const res = await create({ name: `${base}_a` });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_TOPIC_EXCEPTION');
      expect(res.body.error.message).toContain(`collides with existing topic: ${base}.a`);
      expect(await store.get(`${base}_a`)).toBeUndefined();
      expect((await call(app, 'GET', `/v1/topics/${base}_a`)).status).toBe(404);
    });

    it.each([
      ['empty', ''],
      ['dot', '.'],
      ['dotdot', '..'],
      ['too long', 'a'.repeat(250)],
      ['space', 'a b'],
      ['slash', 'a/b'],
      ['non-ASCII', 'tópico'],
      ['a number', 42],
      ['null', null],
    ])('refuses an invalid name (%s) with 400 INVALID_TOPIC_EXCEPTION and writes nothing', async (_label, name) => {
      const res = await create({ name, partitions: 1 });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_TOPIC_EXCEPTION');
      if (typeof name === 'string' && name.length > 0) expect(await store.get(name)).toBeUndefined();
    });

    it.each([0, -1, 10_001, 1.5, '3', null])(
      'refuses partitions %j with 400 INVALID_PARTITIONS and writes nothing',
      async (partitions) => {
        const name = uniqueName();
        const res = await create({ name, partitions });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('INVALID_PARTITIONS');
        expect(await store.get(name)).toBeUndefined();
      },
    );

    it.each([
      [{ 'unknown.key': 1 }],
      [{ 'retention.ms': -5 }],
      [{ 'cleanup.policy': 'shred' }],
      [{ 'message.timestamp.type': 'Whenever' }],
      [{ 'retention.bytes': 'lots' }],
      ['not-an-object'],
      [{ 'retention.ms': true }],
    ])('refuses config %j with 400 INVALID_CONFIG and writes nothing', async (config) => {
      const name = uniqueName();
      const res = await create({ name, partitions: 1, config });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_CONFIG');
      expect(await store.get(name)).toBeUndefined();
    });

    it.each([
      ['malformed JSON', '{"name": '],
      ['an array', '[]'],
      ['a string', '"payments"'],
      ['an unknown field', JSON.stringify({ name: 'x', partitions: 1, replicationFactor: 3 })],
      ['no body', ''],
    ])('refuses %s with 400 INVALID_REQUEST', async (_label, raw) => {
      const res = await app.request('/v1/topics', { method: 'POST', body: raw, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('INVALID_REQUEST');
      expect(body.error.message.length).toBeGreaterThan(5);
    });

    it('refuses a body over 6 MB with 413 MESSAGE_TOO_LARGE', async () => {
      const name = uniqueName();
      const res = await create({ name, partitions: 1, config: { 'retention.ms': 1 }, pad: 'x'.repeat(6 * 1024 * 1024) });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('MESSAGE_TOO_LARGE');
      expect(await store.get(name)).toBeUndefined();
    });

    it('answers 404 UNKNOWN_TOPIC_OR_PARTITION for an unknown topic', async () => {
      const res = await call(app, 'GET', `/v1/topics/${uniqueName()}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    });
  });

  describe('alter and delete', () => {
    it('grows partitions and changes configs; describe shows the new partitions', async () => {
      const name = uniqueName();
      await create({ name, partitions: 2 });
      const res = await call(app, 'PATCH', `/v1/topics/${name}`, { partitions: 5, config: { 'retention.ms': 60_000 } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name, partitions: 5 });
      expect(res.body.config['retention.ms']).toBe(60_000);
      const described = await call(app, 'GET', `/v1/topics/${name}`);
      expect(described.body.partitions.map((p: { partition: number }) => p.partition)).toEqual([0, 1, 2, 3, 4]);
      expect(described.body.config['retention.ms']).toBe(60_000);
    });

    it('resets a config to its default when patched with null', async () => {
      const name = uniqueName();
      await create({ name, config: { 'retention.ms': 5 } });
      const res = await call(app, 'PATCH', `/v1/topics/${name}`, { config: { 'retention.ms': null } });
      expect(res.body.config['retention.ms']).toBe(604_800_000);
    });

    it('never shrinks: 400 INVALID_PARTITIONS and the topic is unchanged', async () => {
      const name = uniqueName();
      await create({ name, partitions: 4 });
      const before = await store.get(name);
      const res = await call(app, 'PATCH', `/v1/topics/${name}`, { partitions: 3 });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_PARTITIONS');
      expect(await store.get(name)).toEqual(before);
    });

    it('refuses an invalid config change and leaves the topic unchanged', async () => {
      const name = uniqueName();
      await create({ name, partitions: 1 });
      const before = await store.get(name);
      const res = await call(app, 'PATCH', `/v1/topics/${name}`, { partitions: 3, config: { nope: 1 } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_CONFIG');
      expect(await store.get(name)).toEqual(before);
    });

    it('serialises concurrent grows: the final count is the largest asked for', async () => {
      const name = uniqueName();
      await create({ name, partitions: 1 });
      const results = await Promise.all([2, 3, 4, 5].map((partitions) => call(app, 'PATCH', `/v1/topics/${name}`, { partitions })));
      expect(results.every((r) => r.status === 200 || r.status === 400)).toBe(true);
      expect((await store.get(name))?.partitions).toBe(5);
    });

    it('deletes with 204; a re-created topic of the same name is a new topic', async () => {
      const name = uniqueName();
      const first = await create({ name, partitions: 2 });
      expect((await call(app, 'DELETE', `/v1/topics/${name}`)).status).toBe(204);
      expect((await call(app, 'GET', `/v1/topics/${name}`)).status).toBe(404);
      expect((await call(app, 'GET', '/v1/topics')).body.topics.map((t: { name: string }) => t.name)).not.toContain(name);
      expect(await store.deletedTopicIds()).toContain(first.body.topicId);

      const second = await create({ name, partitions: 1 });
      expect(second.status).toBe(201);
      expect(second.body.topicId).not.toBe(first.body.topicId);
    });

    it('answers 404 for PATCH or DELETE of an unknown topic', async () => {
      const name = uniqueName();
      expect((await call(app, 'DELETE', `/v1/topics/${name}`)).body.error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      expect((await call(app, 'PATCH', `/v1/topics/${name}`, { partitions: 2 })).status).toBe(404);
    });
  });

  describe('authentication', () => {
    it('requires the bearer token on /v1 when one is configured, never on /healthz', async () => {
      const secured = makeApp({ ...getDeps(), authToken: 's3cret' });
      expect((await call(secured, 'GET', '/healthz')).status).toBe(200);
      const denied = await call(secured, 'GET', '/v1/topics');
      expect(denied.status).toBe(401);
      expect(denied.body.error.code).toBe('UNAUTHENTICATED');
      expect((await call(secured, 'GET', '/v1/topics', undefined, { authorization: 'Bearer s3cret' })).status).toBe(200);
    });

    it('takes the Bearer scheme in any case, and the token only exactly', async () => {
      const secured = makeApp({ ...getDeps(), authToken: 's3cret' });
      for (const authorization of ['bearer s3cret', 'BEARER s3cret', 'beArEr s3cret']) {
        expect((await call(secured, 'GET', '/v1/topics', undefined, { authorization })).status, authorization).toBe(200);
      }
      for (const authorization of ['Bearer S3CRET', 'Basic s3cret', 'Bearer', 'Bearer s3cret extra', 's3cret']) {
        expect((await call(secured, 'GET', '/v1/topics', undefined, { authorization })).status, authorization).toBe(401);
      }
    });
  });
}
