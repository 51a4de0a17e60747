/**
 * The Durable Streams surface beside /v1 (lib/api/routes/ds.ts, lib/ds/streams.ts): what the
 * protocol's own suite does not look at. A stream's topic is read-only through /v1 and its
 * name is reserved; with tokens on, /ds needs an admin token (preflights need none); a
 * failed publish leaves neither records nor state behind and the producer's retry lands
 * once; the buffering Lambda refuses `live=sse`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { createServices } from '../../lib/services.ts';
import { crash, failCalls, isolatedStack, pauseUntilReleased, runThenThrow, serviceUnavailable } from '../support/faults.ts';
import { call } from '../support/http.ts';
import { memoryLogger } from '../support/logger.ts';

const s = isolatedStack({ slotTimeoutMs: 1500 });
const logger = memoryLogger();
const app = createApp({ ...s.deps, logger }, s.services);
afterAll(() => s.dispose());

const path = (name: string) => `/ds/it/${name}-${randomUUID().slice(0, 8)}`;

async function put(url: string, headers: Record<string, string> = { 'content-type': 'text/plain' }, body?: string) {
  return app.request(url, { method: 'PUT', headers, ...(body === undefined ? {} : { body }) });
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  return app.request(url, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body });
}

async function streamTopic(url: string): Promise<string> {
  const streams = s.services.ds;
  return (await streams.get(url.slice('/ds'.length))).topic;
}

describe('a stream seen from /v1', () => {
  it('reads its topic through /v1, and refuses writes, deletes and the reserved name', async () => {
    const url = path('v1');
    expect((await put(url, { 'content-type': 'text/plain' }, 'first')).status).toBe(201);
    const topic = await streamTopic(url);
    expect(topic.startsWith('__ds.')).toBe(true);

    const read = await call(app, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=0&encoding=base64`);
    expect(read.status).toBe(200);
    expect(read.body.records.map((r: { value: string }) => Buffer.from(r.value, 'base64').toString())).toEqual(['first']);

    const produce = await call(app, 'POST', `/v1/topics/${topic}/records`, { records: [{ value: 'sneaky' }] });
    expect(produce.status).toBe(400);
    expect(produce.body.error.code).toBe('POLICY_VIOLATION');
    expect((await call(app, 'DELETE', `/v1/topics/${topic}`)).body.error.code).toBe('POLICY_VIOLATION');
    expect((await call(app, 'PATCH', `/v1/topics/${topic}`, { partitions: 2 })).body.error.code).toBe('POLICY_VIOLATION');
    const created = await call(app, 'POST', '/v1/topics', { name: `__ds.${randomUUID()}` });
    expect(created.status).toBe(400);
    expect(created.body.error.code).toBe('INVALID_TOPIC_EXCEPTION');

    // Nothing of the refused requests reached the stream.
    const get = await app.request(`${url}?offset=-1`);
    expect(await get.text()).toBe('first');
  });
});

describe('appends under storage faults', () => {
  it('a failed publish leaves no record and no state; the same producer request then lands once', async () => {
    const url = path('fault');
    expect((await put(url)).status).toBe(201);
    const producer = { 'Producer-Id': 'p1', 'Producer-Epoch': '0', 'Producer-Seq': '0' };
    // A crash, not a throttle: the storage layer's own retries would hide a retriable error.
    const fault = failCalls(s.deps.clients.dynamo, { command: 'TransactWriteItemsCommand' }, crash, { times: 1 });
    const failed = await post(url, 'a', producer);
    fault.remove();
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const head = await app.request(url, { method: 'HEAD' });
    expect(head.headers.get('Stream-Next-Offset')).toBe('0000000000000000_0000000000000000');

    const retried = await post(url, 'a', producer);
    expect(retried.status).toBe(200);
    const again = await post(url, 'a', producer);
    expect(again.status).toBe(204); // the duplicate
    expect(await (await app.request(`${url}?offset=-1`)).text()).toBe('a');
  });

  it('a publish whose answer is lost is a duplicate on retry, not a second copy', async () => {
    const url = path('lost');
    expect((await put(url)).status).toBe(201);
    const producer = { 'Producer-Id': 'p1', 'Producer-Epoch': '0', 'Producer-Seq': '0' };
    // The transaction commits, then the answer is lost (a crash between the write and the reply).
    const fault = runThenThrow(s.deps.clients.dynamo, { command: 'TransactWriteItemsCommand' }, crash, { times: 1 });
    const lost = await post(url, 'once', producer);
    fault.remove();
    expect(lost.status).toBeGreaterThanOrEqual(500);
    const retried = await post(url, 'once', producer);
    expect(retried.status).toBe(204); // the first attempt committed: this is its duplicate
    expect(retried.headers.get('Producer-Seq')).toBe('0');
    expect(await (await app.request(`${url}?offset=-1`)).text()).toBe('once');
  });
});

describe('/ds with tokens on', () => {
  const admin = `ds-admin-${randomUUID()}`;
  const deps = { ...s.deps, authToken: admin, logger };
  const secured = createApp(deps, createServices(deps));

  it('needs an admin token; a CORS preflight needs none', async () => {
    const url = path('auth');
    const anonymous = await secured.request(url, { method: 'PUT', headers: { 'content-type': 'text/plain' } });
    expect(anonymous.status).toBe(401);
    const preflight = await secured.request(url, { method: 'OPTIONS', headers: { origin: 'https://example.com', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/producer-id/i);
    const created = await secured.request(url, { method: 'PUT', headers: { 'content-type': 'text/plain', authorization: `Bearer ${admin}` } });
    expect(created.status).toBe(201);
  });
});

describe('on the buffering API function', () => {
  it('live=sse is refused (400) and points at the streaming endpoint', async () => {
    const url = path('lambda');
    expect((await put(url, { 'content-type': 'text/plain' }, 'x')).status).toBe(201);
    // What hono/aws-lambda's handle() passes: the event and the Lambda context.
    const res = await app.request(`${url}?offset=-1&live=sse`, {}, { event: {}, lambdaContext: {} });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/StreamUrl/);
  });
});

describe('two instances on the same tables', () => {
  const b = isolatedStack({ slotTimeoutMs: 1500 });
  const other = createApp({ ...b.deps, logger }, b.services);
  afterAll(() => b.dispose());

  it('an append that loaded a deleted incarnation never overwrites the stream created since at the path', async () => {
    const url = path('aba');
    expect((await put(url, { 'content-type': 'text/plain' }, 'old')).status).toBe(201);
    // A's publish waits while B deletes the stream and creates it again with a body.
    const gate = pauseUntilReleased(s.deps.clients.dynamo, { command: 'TransactWriteItemsCommand' });
    const stale = post(url, '+late', { 'Producer-Id': 'w', 'Producer-Epoch': '0', 'Producer-Seq': '0' });
    await gate.reached;
    expect((await other.request(url, { method: 'DELETE' })).status).toBe(204);
    expect((await other.request(url, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'fresh' })).status).toBe(201);
    gate.release();
    const answer = await stale;
    gate.remove();
    // The late append lost against the new incarnation and was decided again on it.
    expect(answer.status).toBe(200);
    const read = await other.request(`${url}?offset=-1`);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('fresh+late');
  });

  it('a fork made while its source is deleted and created again counts against, and reads, the new source', async () => {
    const src = path('fork-aba-src');
    expect((await put(src, { 'content-type': 'text/plain' }, 'one')).status).toBe(201);
    // A's count of the fork on the source waits while B replaces the source.
    const isCount = (i: { TableName?: string; Key?: { pk?: { S?: string } } }) => i.Key?.pk?.S?.startsWith('producer#ds.') === true;
    const gate = pauseUntilReleased(s.deps.clients.dynamo, { command: 'UpdateItemCommand', where: isCount });
    const fork = path('fork-aba');
    const forking = put(fork, { 'content-type': 'text/plain', 'Stream-Forked-From': src.slice(3) });
    await gate.reached;
    expect((await other.request(src, { method: 'DELETE' })).status).toBe(204);
    expect((await other.request(src, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'two!' })).status).toBe(201);
    gate.release();
    const created = await forking;
    gate.remove();
    expect(created.status).toBe(201);
    expect(await (await other.request(`${fork}?offset=-1`)).text()).toBe('two!');
    const source = await b.services.ds.get(src.slice(3));
    expect(source.forks).toBe(1);
    expect((await b.services.ds.get(fork.slice(3))).inherited.map((r) => r.topic)).toEqual([source.topic]);
  });

  it('racing appends from both instances all land, none answers 5xx', async () => {
    const url = path('race');
    expect((await put(url, { 'content-type': 'application/json' })).status).toBe(201);
    const send = (target: typeof app, i: number) => target.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i }) });
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => send(i % 2 === 0 ? app : other, i)));
    expect(answers.map((r) => r.status)).toEqual(Array(16).fill(204));
    const all = (await (await app.request(`${url}?offset=-1`)).json()) as { i: number }[];
    expect(all.map((m) => m.i).sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });
});

describe('a PUT with a body is one step', () => {
  it('a creation whose state put committed but whose answer was lost is a 201 with its body', async () => {
    const url = path('put-lost');
    const isInitialise = (i: { TransactItems?: { Put?: { Item?: { pk?: { S?: string } } } }[] }) =>
      i.TransactItems?.some((t) => t.Put?.Item?.pk?.S?.startsWith('producer#ds.')) === true;
    // Retriable: the store's own retry then meets its own committed item.
    const fault = runThenThrow(s.deps.clients.dynamo, { command: 'TransactWriteItemsCommand', where: isInitialise }, serviceUnavailable, { times: 1 });
    const res = await put(url, { 'content-type': 'text/plain' }, 'kept');
    fault.remove();
    expect(fault.fired).toBe(1);
    expect(res.status).toBe(201);
    expect(await (await app.request(`${url}?offset=-1`)).text()).toBe('kept');
  });

  it('a failed write of the body leaves no stream; the retry creates it with the body', async () => {
    const url = path('put-body');
    // The body's publish into the new topic crashes: the stream must not exist, empty.
    const fault = failCalls(s.deps.clients.dynamo, { command: 'PutItemCommand', where: (i) => i.TableName === s.deps.names.tables.log }, crash, { times: 1 });
    const failed = await put(url, { 'content-type': 'text/plain' }, 'hello');
    fault.remove();
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect((await app.request(url, { method: 'HEAD' })).status).toBe(404);
    const retried = await put(url, { 'content-type': 'text/plain' }, 'hello');
    expect(retried.status).toBe(201);
    expect(await (await app.request(`${url}?offset=-1`)).text()).toBe('hello');
  });
});

describe('limits and reserved ids', () => {
  it('refuses a Producer-Id or Stream-Seq over 256 bytes, and a JSON message over a record (413), writing nothing', async () => {
    const url = path('limits');
    expect((await put(url, { 'content-type': 'application/json' })).status).toBe(201);
    const long = 'x'.repeat(257);
    expect((await app.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'Producer-Id': long, 'Producer-Epoch': '0', 'Producer-Seq': '0' }, body: '1' })).status).toBe(400);
    expect((await app.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'Stream-Seq': long }, body: '1' })).status).toBe(400);
    const huge = JSON.stringify('y'.repeat(1024 * 1024));
    expect((await app.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge })).status).toBe(413);
    expect(await (await app.request(`${url}?offset=-1`)).text()).toBe('[]');
  });

  it('/v1 cannot advance a stream state as if it were its producer', async () => {
    const url = path('v1-producer');
    expect((await put(url)).status).toBe(201);
    const id = (await import('../../lib/ds/streams.ts')).streamId(url.slice(3));
    const topic = `it-${randomUUID().slice(0, 8)}`;
    expect((await call(app, 'POST', '/v1/topics', { name: topic })).status).toBe(201);
    const res = await call(app, 'POST', `/v1/topics/${topic}/records`, { producer: { id, epoch: 0, sequence: 1 }, records: [{ value: 'x' }] });
    expect(res.body.error.code).toBe('UNKNOWN_PRODUCER_ID');
  });

  it('an offset past 2^53 reads as past the tail and answers a token the server accepts back', async () => {
    const url = path('big-offset');
    expect((await put(url, { 'content-type': 'text/plain' }, 'a')).status).toBe(201);
    const res = await app.request(`${url}?offset=0000000000000000_9999999999999999`);
    expect(res.status).toBe(200);
    const next = res.headers.get('Stream-Next-Offset')!;
    expect(next).toMatch(/^\d{16}_\d{16}$/);
    expect((await app.request(`${url}?offset=${next}`)).status).toBe(200);
  });

  it('re-creating an expired path that forks still hold answers 409 at once', async () => {
    const src = path('expired-src');
    expect((await put(src, { 'content-type': 'text/plain', 'Stream-TTL': '1' }, 'a')).status).toBe(201);
    expect((await put(path('expired-fork'), { 'content-type': 'text/plain', 'Stream-Forked-From': src.slice(3) })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1_200));
    const started = Date.now();
    const res = await put(src, { 'content-type': 'text/plain' });
    expect(res.status).toBe(409);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
