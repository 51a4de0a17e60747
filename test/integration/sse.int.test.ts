/**
 * Streaming reads (`GET …/records?live=sse`, lib/api/routes/sse.ts) over real HTTP: the app
 * served by @hono/node-server on a free port, as `sluice dev` serves it, against the emulator
 * stack, read with fetch() and a small event-stream parser (test/support/sse.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { SSE_DEFAULTS, type SseOptions } from '../../lib/api/sse-events.ts';
import type { LogTuning } from '../../lib/deps.ts';
import { createServices } from '../../lib/services.ts';
import { countCalls, isolatedStack, sleep, type CallCounter } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { openSse, type SseEvent, type SseStream } from '../support/sse.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const done of cleanups.splice(0).reverse()) await done();
});

async function served(sse: Partial<SseOptions>, tuning: Partial<LogTuning> = {}, authToken?: string) {
  const s = isolatedStack({ slotTimeoutMs: 1500, ...tuning });
  cleanups.push(() => s.dispose());
  const deps = authToken === undefined ? s.deps : { ...s.deps, authToken };
  const app = createApp(deps, authToken === undefined ? s.services : createServices(deps), { sse: { ...SSE_DEFAULTS, ...sse } });
  const http: ServedApp = await serveApp(app);
  cleanups.push(() => http.close());
  const streams: SseStream[] = [];
  cleanups.push(() => streams.forEach((st) => st.close()));
  const open = async (path: string, headers: Record<string, string> = {}) => {
    const st = await openSse(`${http.base}${path}`, headers);
    streams.push(st);
    return st;
  };
  return { s, app, base: http.base, open };
}

async function topic(app: { request: typeof fetch } | any, values: string[] = []) {
  const name = uniqueName('sse');
  expect((await call(app, 'POST', '/v1/topics', { name, partitions: 1 })).status).toBe(201);
  if (values.length > 0) await produce(app, name, values);
  return name;
}

async function produce(app: any, name: string, values: string[]) {
  const res = await call(app, 'POST', `/v1/topics/${name}/records`, { records: values.map((value) => ({ value, partition: 0 })) });
  expect(res.status).toBe(200);
}

const records = (path: string) => `/v1/topics/${path}/partitions/0/records`;
const json = (e: SseEvent) => JSON.parse(e.data);

/** Events until one matches (each within the parser's timeout); the matching one is last. */
async function until(st: SseStream, match: (e: SseEvent) => boolean): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  for (;;) {
    const e = await st.next();
    if (e === undefined) throw new Error(`stream ended before the awaited event; saw ${JSON.stringify(seen)}`);
    seen.push(e);
    if (match(e)) return seen;
  }
}

describe('SSE read sessions', () => {
  it('sends each batch as the fetch answer, id = nextOffset, then pings while idle at the high watermark', async () => {
    const { app, open } = await served({ pingIntervalMs: 300 });
    const name = await topic(app, ['a', 'b', 'c']);
    const st = await open(`${records(name)}?offset=earliest&maxRecords=2&live=sse`);
    expect(st.status).toBe(200);
    expect(st.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const [first, second] = [await st.next(), await st.next()];
    const fetched0 = await call(app, 'GET', `${records(name)}?offset=0&maxRecords=2`);
    const fetched2 = await call(app, 'GET', `${records(name)}?offset=2&maxRecords=2`);
    expect(first).toEqual({ event: 'records', id: '2', data: JSON.stringify(fetched0.body) });
    expect(second).toEqual({ event: 'records', id: '3', data: JSON.stringify(fetched2.body) });

    const pings = [await st.next(), await st.next()];
    for (const ping of pings) {
      expect(ping).toMatchObject({ event: 'ping', id: '3' });
      expect(json(ping!)).toEqual({ nextOffset: 3, highWatermark: 3 });
    }
    // A commit wakes the idle stream: the next batch comes (a ping may come before it).
    await produce(app, name, ['d']);
    const woke = (await until(st, (e) => e.event === 'records')).at(-1)!;
    expect(woke.id).toBe('4');
    expect(json(woke).records.map((r: { value: string }) => r.value)).toEqual(['d']);
  });

  it('delivers every record exactly once, in order, across server-side stream ends and Last-Event-ID resumes', async () => {
    const { app, open } = await served({ maxDurationMs: 1200, pingIntervalMs: 400, retryMs: 50 });
    const total = 40;
    const name = await topic(app, ['v0', 'v1', 'v2', 'v3', 'v4']);
    const producing = (async () => {
      for (let i = 5; i < total; i++) {
        await produce(app, name, [`v${i}`]);
        await sleep(60); // spread over several streams (>= 2 s); pacing, not waiting for anything
      }
    })();

    const seen: { offset: number; value: string }[] = [];
    const ends: SseEvent[] = [];
    let lastId: string | undefined;
    let connections = 0;
    while (seen.length < total || ends.length < 3) {
      // The URL always says earliest: Last-Event-ID must win, or the resume would repeat records.
      const st = await open(`${records(name)}?offset=earliest&maxRecords=3&live=sse`, lastId === undefined ? {} : { 'last-event-id': lastId });
      expect(st.status).toBe(200);
      connections++;
      for (let e = await st.next(); e !== undefined; e = await st.next()) {
        if (e.id !== undefined) lastId = e.id;
        if (e.event === 'records') {
          const batch = json(e);
          expect(e.id).toBe(String(batch.nextOffset));
          for (const r of batch.records) seen.push({ offset: r.offset, value: r.value });
        } else if (e.event === 'end') {
          expect(e.retry).toBe(50);
          expect(e.id).toBe(String(json(e).nextOffset));
          ends.push(e);
        } else expect(e.event).toBe('ping');
      }
    }
    await producing;
    expect(connections).toBe(ends.length);
    // The first stream ended while records were still coming: its resume had to continue mid-log.
    expect(json(ends[0]!).nextOffset).toBeLessThan(total);
    expect(seen.map((r) => r.offset)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(seen.map((r) => r.value)).toEqual(Array.from({ length: total }, (_, i) => `v${i}`));
  });

  it('ends with an error event carrying the REST error body when the topic is deleted mid-stream', async () => {
    const { app, open } = await served({ topicCheckMs: 200, pingIntervalMs: 60_000 });
    const name = await topic(app, ['a']);
    const st = await open(`${records(name)}?offset=latest&live=sse`);
    expect(await st.next()).toMatchObject({ event: 'ping', id: '1' });
    expect((await call(app, 'DELETE', `/v1/topics/${name}`)).status).toBe(204);

    const error = (await until(st, (e) => e.event === 'error')).at(-1)!;
    expect(error.id).toBeUndefined();
    const rest = await call(app, 'GET', records(name));
    expect(rest.status).toBe(404);
    expect(json(error)).toEqual(rest.body);
    expect(json(error).error).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false });
    expect(await st.next()).toBeUndefined(); // and the stream is over
  });

  it('ends with OFFSET_OUT_OF_RANGE when the log start passes the reader', async () => {
    // Nothing but a commit of its own process may wake the stream: no poll, ping or check is due.
    const { app, open } = await served({ pingIntervalMs: 120_000, topicCheckMs: 120_000, maxDurationMs: 120_000 }, { pollIntervalMs: 120_000 });
    const other = isolatedStack(); // another instance: its commits do not wake the stream
    cleanups.push(() => other.dispose());
    const name = await topic(app, ['a']);
    const st = await open(`${records(name)}?offset=latest&live=sse`);
    expect(await st.next()).toMatchObject({ event: 'ping', id: '1' });
    await produce(other.app, name, ['b', 'c']);
    const deleted = await call(other.app, 'POST', `/v1/topics/${name}/partitions/0/delete-records`, { beforeOffset: 3 });
    expect(deleted).toMatchObject({ status: 200, body: { logStartOffset: 3 } });
    await produce(app, name, ['d']); // wakes the stream: it reads offset 1, now below the start

    const error = (await until(st, (e) => e.event === 'error')).at(-1)!;
    const rest = await call(app, 'GET', `${records(name)}?offset=1`);
    expect(rest.status).toBe(416);
    expect(json(error)).toEqual(rest.body);
    expect(json(error).error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', offset: 1, logStartOffset: 3, highWatermark: 4 });
    expect(await st.next()).toBeUndefined();
  });

  it('answers errors found before the stream starts as JSON with their status, exactly as fetch does', async () => {
    const { s, app, open } = await served({});
    const name = await topic(app, ['a']);
    const cases = [
      [name, 'maxRecords=0'],
      [name, 'maxRecords=ten'],
      [name, 'maxBytes=0'],
      [name, 'encoding=xml'],
      [name, 'offset=-1'],
      [name, 'offset=1.5'],
      [name, 'waitMs=soon'],
      [name, 'offset=7'], // 416 OFFSET_OUT_OF_RANGE
      [uniqueName('missing'), 'offset=0'], // 404
      ['bad%20name', 'offset=0'],
    ];
    for (const [t, query] of cases) {
      const unary = await call(app, 'GET', `${records(t!)}?${query}`);
      expect(unary.status).toBeGreaterThanOrEqual(400);
      const st = await open(`${records(t!)}?${query}&live=sse`);
      expect({ query, status: st.status, type: st.headers.get('content-type') }).toEqual({ query, status: unary.status, type: 'application/json' });
      expect((await st.response.json()) as any).toEqual(unary.body);
    }
    const partition = await open(`/v1/topics/${name}/partitions/3/records?live=sse`);
    expect(partition.status).toBe(404);
    expect(((await partition.response.json()) as any).error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');

    // Only the stream's own inputs: an unknown live mode, a Last-Event-ID that is no offset or out of range.
    for (const [path, headers, status, code] of [
      [`${records(name)}?live=ws`, {}, 400, 'INVALID_REQUEST'],
      [`${records(name)}?live=sse`, { 'last-event-id': 'abc' }, 400, 'INVALID_REQUEST'],
      [`${records(name)}?live=sse&offset=0`, { 'last-event-id': '9' }, 416, 'OFFSET_OUT_OF_RANGE'],
    ] as const) {
      const st = await open(path, headers);
      expect(st.status).toBe(status);
      expect(((await st.response.json()) as any).error.code).toBe(code);
    }
    // Through hono/aws-lambda (which buffers every answer) the stream is refused, not buffered.
    const lambda = await app.request(`${records(name)}?live=sse`, {}, { lambdaContext: {} });
    expect(lambda.status).toBe(400);
    expect(((await lambda.json()) as any).error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('streaming endpoint') });
    // What hono/aws-lambda's streamHandle passes (event, requestContext, context): refused by an
    // app not created for it (the API function), streamed by one that is (functions/stream), which
    // still refuses the buffering adapter's env.
    const streamEnv = { event: {}, requestContext: {}, context: {} };
    const unflagged = await app.request(`${records(name)}?live=sse`, {}, streamEnv);
    expect(unflagged.status).toBe(400);
    expect(((await unflagged.json()) as any).error.message).toContain('streaming endpoint');
    const streamingApp = createApp(s.deps, s.services, { sse: { ...SSE_DEFAULTS, maxDurationMs: 300 }, streaming: true });
    const streamed = await streamingApp.request(`${records(name)}?live=sse`, {}, streamEnv);
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await streamed.text()).toContain('event: end');
    const buffered = await streamingApp.request(`${records(name)}?live=sse`, {}, { event: {}, requestContext: {}, lambdaContext: {} });
    expect(buffered.status).toBe(400);
  });

  it('needs the fetch permission on the topic, refused as JSON before the stream', async () => {
    const admin = { authorization: 'Bearer sse-admin' };
    const { app, open } = await served({}, {}, 'sse-admin');
    const name = uniqueName('sse-acl');
    expect((await call(app, 'POST', '/v1/topics', { name, partitions: 1 }, admin)).status).toBe(201);
    const token = async (allow: string[]) => {
      const res = await call(app, 'POST', '/v1/tokens', { name: uniqueName('tok'), allow }, admin);
      expect(res.status).toBe(201);
      return { authorization: `Bearer ${res.body.token}` };
    };
    const none = await open(`${records(name)}?live=sse`);
    expect([none.status, ((await none.response.json()) as any).error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const producer = await open(`${records(name)}?live=sse`, await token([`produce:${name}`]));
    expect([producer.status, ((await producer.response.json()) as any).error]).toEqual([403, expect.objectContaining({ code: 'TOPIC_AUTHORIZATION_FAILED', topic: name })]);
    const reader = await open(`${records(name)}?live=sse`, await token([`fetch:${name}`]));
    expect(reader.status).toBe(200);
    expect(await reader.next()).toMatchObject({ event: 'ping', id: '0' });
  });

  it('stops reading storage once the client goes away', async () => {
    const { s, app, open } = await served({ pingIntervalMs: 60_000, topicCheckMs: 60_000 }, { pollIntervalMs: 50 });
    const name = await topic(app, ['a']);
    const counters: CallCounter[] = [countCalls(s.deps.clients.dynamo), countCalls(s.deps.clients.s3)];
    cleanups.push(() => counters.forEach((c) => c.remove()));
    const calls = () => counters.reduce((n, c) => n + c.total(), 0);

    const st = await open(`${records(name)}?offset=latest&live=sse`);
    expect(await st.next()).toMatchObject({ event: 'ping', id: '1' });
    // Idle at the high watermark, the stream re-reads every pollIntervalMs: it is polling.
    const polling = calls();
    await waitFor(() => calls() >= polling + 5, 20_000);

    st.close();
    // The server notices the disconnect, then reads nothing more: wait until the count is
    // still, then watch 40 poll intervals.
    await waitFor(stillFor(calls, 500), 20_000);
    const after = calls();
    await sleep(2000);
    expect(calls()).toBe(after);
  });
});

async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const giveUp = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > giveUp) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** True once `value()` has not changed for `ms`. */
function stillFor(value: () => number, ms: number): () => boolean {
  let last = value();
  let since = Date.now();
  return () => {
    const now = value();
    if (now !== last) [last, since] = [now, Date.now()];
    return Date.now() - since >= ms;
  };
}
