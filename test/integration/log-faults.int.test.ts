/**
 * The log under faults (docs/ARCHITECTURE.md "Failure handling", invariants W2/W3), against the emulators
 * with faults injected by SDK middleware on real clients (test/support/faults.ts). Each test
 * asserts what a reader sees (fetch) and the high watermark (GET /v1/topics/{t}).
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY } from '../../lib/storage/retry.ts';
import {
  countCalls,
  crash,
  failCalls,
  isolatedStack,
  pauseUntilReleased,
  runThenThrow,
  serviceUnavailable,
  shortBodies,
  sleep,
  slowDown,
  throttling,
  type IsolatedStack,
} from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';

const SLOT_TIMEOUT_MS = 1500;

const stacks: IsolatedStack[] = [];
function stack(): IsolatedStack {
  // A long topic-cache TTL: "warm metadata" must stay warm however slow a loaded CI box is.
  const s = isolatedStack({ slotTimeoutMs: SLOT_TIMEOUT_MS, topicCacheTtlMs: 60_000 });
  stacks.push(s);
  return s;
}
// The app logs every 5xx, and here they are the point of the test: the stack's logger
// (test/support/logger.ts) prints them only for a test that fails.
afterEach(() => {
  for (const s of stacks.splice(0)) s.dispose();
});

async function topic(app: Hono, partitions = 1): Promise<string> {
  const name = uniqueName('fault');
  const res = await call(app, 'POST', '/v1/topics', { name, partitions });
  expect(res.status).toBe(201);
  return name;
}
const produce = (app: Hono, t: string, records: unknown[]) => call(app, 'POST', `/v1/topics/${t}/records`, { records });
const fetch = (app: Hono, t: string, p: number, offset: number | string = 0) =>
  call(app, 'GET', `/v1/topics/${t}/partitions/${p}/records?offset=${offset}&maxRecords=10000`);
async function hwms(app: Hono, t: string): Promise<number[]> {
  const res = await call(app, 'GET', `/v1/topics/${t}`);
  expect(res.status).toBe(200);
  return res.body.partitions.map((p: { highWatermark: number }) => p.highWatermark);
}
function offsetsAndValues(body: { records: { offset: number; value: unknown }[] }): [number, unknown][] {
  return body.records.map((r) => [r.offset, r.value]);
}

/** Log-table write matchers: a data entry (publish) vs a hole. */
const logTable = (s: IsolatedStack) => s.deps.names.tables.log;
const onLogTable = (s: IsolatedStack) => (input: { TableName?: string }) => input.TableName === logTable(s);
const isPublishPut = (s: IsolatedStack) => (input: { TableName?: string; Item?: { st?: { S?: string } } }) =>
  input.TableName === logTable(s) && input.Item?.st?.S === 'd';

describe('the log under faults', () => {
  it('S3 PUT down: 503 retriable; the slot reserved while the PUT was in flight is a hole at once, nothing visible', async () => {
    const s = stack();
    const t = await topic(s.app);
    const dynamo = countCalls(s.deps.clients.dynamo);
    const s3 = countCalls(s.deps.clients.s3);
    const down = failCalls(s.deps.clients.s3, { command: 'PutObjectCommand' }, serviceUnavailable);

    const res = await produce(s.app, t, [{ value: 'lost', partition: 0 }, { value: 'lost too', partition: 0 }]);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true });
    expect(s3.count('PutObjectCommand')).toBe(DEFAULT_RETRY.attempts); // bounded retries
    expect(dynamo.count('UpdateItemCommand')).toBe(1); // the reserve ran beside the PUT...
    expect(dynamo.calls('PutItemCommand').map((c) => c.input.Item?.st?.S)).toEqual(['h']); // ...and its slot became a hole
    // The hole's offsets are skipped, as any failed publish's: readers never wait on them.
    expect(await hwms(s.app, t)).toEqual([2]);

    down.disable();
    const ok = await produce(s.app, t, [{ value: 'kept', partition: 0 }]);
    expect(ok.body.offsets).toEqual([{ partition: 0, offset: 2 }]);
    expect(offsetsAndValues((await fetch(s.app, t, 0)).body)).toEqual([[2, 'kept']]);
  });

  it('a slow S3 PUT is hedged: the copy is acknowledged without waiting for the slow one, and the record is read once', async () => {
    const s = isolatedStack({ slotTimeoutMs: SLOT_TIMEOUT_MS, topicCacheTtlMs: 60_000, s3HedgeAfterMs: 50 });
    stacks.push(s);
    const t = await topic(s.app);
    const s3 = countCalls(s.deps.clients.s3);
    const stuck = pauseUntilReleased(s.deps.clients.s3, { command: 'PutObjectCommand' }); // the first PUT only
    const res = await produce(s.app, t, [{ value: 'fast', partition: 0 }]);
    expect(res.status).toBe(200); // answered while the first PUT is still held
    expect(s3.count('PutObjectCommand')).toBe(2);
    const keys = s3.calls('PutObjectCommand').map((c) => c.input.Key as string);
    // The copy writes a key of its own (no two writes to one key), and the entry points at it.
    expect(keys[1]).toBe(keys[0]!.replace(/\.seg$/, '-h.seg'));
    expect(await s.services.index.isObjectReferenced(keys[1]!)).toBe(true);
    stuck.release();
    // The slow original may still land (it was aborted, but it is a real PUT): if it does, it is
    // an object no entry references, an orphan for garbage collection (W3).
    await sleep(100);
    const landed = await s.deps.clients.s3.send(new HeadObjectCommand({ Bucket: s.deps.names.bucket, Key: keys[0]! })).then(() => true, () => false);
    if (landed) expect(await s.services.index.isObjectReferenced(keys[0]!)).toBe(false);
    expect(offsetsAndValues((await fetch(s.app, t, 0)).body)).toEqual([[0, 'fast']]);
  });

  it('crash between the reserve and a failed PUT: readers stop at the slot, then fill it after the slot timeout', async () => {
    const s = stack();
    const t = await topic(s.app);
    const down = failCalls(s.deps.clients.s3, { command: 'PutObjectCommand' }, serviceUnavailable);
    // The process dies after the PUT failed: its own hole fill never lands.
    const dead = failCalls(s.deps.clients.dynamo, { command: 'PutItemCommand', where: onLogTable(s) }, crash);
    const crashed = await produce(s.app, t, [{ value: 'never', partition: 0 }]);
    expect(crashed.status).toBeGreaterThanOrEqual(500);
    expect(dead.fired).toBe(1); // the hole fill
    down.disable();
    dead.disable();

    const later = await produce(s.app, t, [{ value: 'later', partition: 0 }]);
    expect(later.body.offsets).toEqual([{ partition: 0, offset: 1 }]);
    expect(await hwms(s.app, t)).toEqual([0]); // the unpublished slot holds the prefix
    const startedAt = Date.now();
    let visible: [number, unknown][] = [];
    for (let i = 0; i < 30 && visible.length === 0; i++) {
      visible = offsetsAndValues((await fetch(s.app, t, 0)).body);
      if (visible.length === 0) await sleep(150);
    }
    expect(visible).toEqual([[1, 'later']]);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(SLOT_TIMEOUT_MS - 500);
    expect(await hwms(s.app, t)).toEqual([2]);
  });

  it('crash after the PUT, before the commit: nothing visible, the object is left unreferenced for GC', async () => {
    const s = stack();
    const t = await topic(s.app);
    const s3 = countCalls(s.deps.clients.s3);
    failCalls(s.deps.clients.dynamo, { command: 'UpdateItemCommand', where: onLogTable(s) }, crash, { times: 1 });

    const res = await produce(s.app, t, [{ value: 'orphan', partition: 0 }]);
    expect(res.status).toBeGreaterThanOrEqual(500);
    const orphanKey = s3.calls('PutObjectCommand')[0]!.input.Key as string;
    expect(orphanKey).toMatch(/^seg\//);

    expect(await hwms(s.app, t)).toEqual([0]);
    expect((await fetch(s.app, t, 0)).body).toMatchObject({ records: [], highWatermark: 0 });
    // The object is in S3, and no index entry references it: that is how GC finds it (W3).
    const head = await s.deps.clients.s3.send(new HeadObjectCommand({ Bucket: s.deps.names.bucket, Key: orphanKey }));
    expect(head.ContentLength).toBeGreaterThan(0);
    expect(await s.services.index.isObjectReferenced(orphanKey)).toBe(false);

    // Control: a committed request's object IS referenced, and it got offset 0 (no slot was taken).
    s3.reset();
    const ok = await produce(s.app, t, [{ value: 'committed', partition: 0 }]);
    expect(ok.body.offsets).toEqual([{ partition: 0, offset: 0 }]);
    expect(await s.services.index.isObjectReferenced(s3.calls('PutObjectCommand')[0]!.input.Key)).toBe(true);
  });

  it('crash after reserving, before publishing: readers stop at the slot, then fill it after the slot timeout', async () => {
    const s = stack();
    const t = await topic(s.app);
    expect((await produce(s.app, t, [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }])).status).toBe(200);

    // The writer dies after its reserve: neither its publish nor its own hole fill lands.
    const dead = failCalls(s.deps.clients.dynamo, { command: 'PutItemCommand', where: onLogTable(s) }, crash);
    const crashed = await produce(s.app, t, [1, 2, 3].map((value) => ({ value, partition: 0 })));
    expect(crashed.status).toBeGreaterThanOrEqual(500);
    expect(dead.fired).toBe(2); // publish + hole fill
    dead.disable();

    // A later writer is acknowledged past the abandoned slot's offsets [2, 5)...
    const laterStartedAt = Date.now();
    const later = await produce(s.app, t, [{ value: 'later', partition: 0 }]);
    expect(later.status).toBe(200);
    expect(later.body.offsets).toEqual([{ partition: 0, offset: 5 }]);
    // ...but nothing after the unpublished slot is visible yet (the last stable offset).
    expect(await hwms(s.app, t)).toEqual([2]);
    expect(offsetsAndValues((await fetch(s.app, t, 0)).body)).toEqual([[0, 'a'], [1, 'b']]);
    expect((await fetch(s.app, t, 0, 2)).body).toMatchObject({ records: [], highWatermark: 2 });
    expect((await fetch(s.app, t, 0, 5)).status).toBe(416);

    // After the slot timeout a fetch fills the hole; everything after it becomes visible.
    let filled: Awaited<ReturnType<typeof fetch>> | undefined;
    for (let i = 0; i < 30 && !filled; i++) {
      const res = await fetch(s.app, t, 0);
      if (res.body.highWatermark > 2) filled = res;
      else await sleep(150);
    }
    expect(filled, 'the abandoned slot was never filled').toBeDefined();
    expect(Date.now() - laterStartedAt).toBeGreaterThanOrEqual(SLOT_TIMEOUT_MS);
    expect(offsetsAndValues(filled!.body)).toEqual([[0, 'a'], [1, 'b'], [5, 'later']]);
    expect(filled!.body).toMatchObject({ nextOffset: 6, highWatermark: 6 });
    expect(await hwms(s.app, t)).toEqual([6]);
    // The skipped range is never reused, and reading inside it continues after it.
    expect(offsetsAndValues((await fetch(s.app, t, 0, 3)).body)).toEqual([[5, 'later']]);
    expect((await produce(s.app, t, [{ value: 'next', partition: 0 }])).body.offsets).toEqual([{ partition: 0, offset: 6 }]);
  });

  it('a late writer loses its slot to the hole filler: retriable 503, none of its records ever visible', async () => {
    const writer = stack();
    const reader = stack();
    const t = await topic(writer.app);
    const gate = pauseUntilReleased(writer.deps.clients.dynamo, { command: 'PutItemCommand', where: isPublishPut(writer) });

    const late = produce(writer.app, t, [{ value: 'late-1', partition: 0 }, { value: 'late-2', partition: 0 }]);
    await gate.reached; // reserved, publish held
    await sleep(SLOT_TIMEOUT_MS + 150);
    const filled = await fetch(reader.app, t, 0);
    expect(filled.body).toMatchObject({ records: [], highWatermark: 2, nextOffset: 2 });

    gate.release();
    const res = await late;
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true });

    for (const app of [reader.app, writer.app]) {
      expect((await fetch(app, t, 0)).body).toMatchObject({ records: [], highWatermark: 2 });
      expect(await hwms(app, t)).toEqual([2]);
    }
    const next = await produce(writer.app, t, [{ value: 'next', partition: 0 }]);
    expect(next.body.offsets).toEqual([{ partition: 0, offset: 2 }]);
    expect(offsetsAndValues((await fetch(reader.app, t, 0)).body)).toEqual([[2, 'next']]);
  });

  it('DynamoDB throttling everywhere: bounded retries, 429 THROTTLING_QUOTA_EXCEEDED in bounded time, nothing committed', async () => {
    const s = stack();
    const t = await topic(s.app);
    await produce(s.app, t, [{ value: 'warm', partition: 0 }]); // topic metadata now cached
    const calls = countCalls(s.deps.clients.dynamo);
    const throttled = failCalls(s.deps.clients.dynamo, {}, throttling);

    const started = Date.now();
    const res = await produce(s.app, t, [{ value: 'throttled', partition: 0 }]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.status).toBe(429);
    expect(res.body.error).toMatchObject({ code: 'THROTTLING_QUOTA_EXCEEDED', retriable: true });
    // Our loop makes DEFAULT_RETRY.attempts logical calls; each is one SDK send (the fault sits
    // above the SDK's own retries), so at most attempts x maxAttempts requests could ever leave.
    expect(calls.count('UpdateItemCommand')).toBe(DEFAULT_RETRY.attempts);
    expect(calls.total()).toBe(DEFAULT_RETRY.attempts);

    throttled.disable();
    expect(await hwms(s.app, t)).toEqual([1]);
    const ok = await produce(s.app, t, [{ value: 'after', partition: 0 }]);
    expect(ok.body.offsets).toEqual([{ partition: 0, offset: 1 }]);
  });

  it('S3 SlowDown on GET: fetch answers 429 retriable after bounded retries, then recovers', async () => {
    const writer = stack();
    const t = await topic(writer.app);
    await produce(writer.app, t, [{ value: 'cold', partition: 0 }]);

    const reader = stack(); // a fresh instance: the bytes are not in its cache
    const gets = countCalls(reader.deps.clients.s3);
    const slow = failCalls(reader.deps.clients.s3, { command: 'GetObjectCommand' }, slowDown);
    const started = Date.now();
    const res = await fetch(reader.app, t, 0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.status).toBe(429);
    expect(res.body.error).toMatchObject({ code: 'THROTTLING_QUOTA_EXCEEDED', retriable: true });
    expect(gets.count('GetObjectCommand')).toBe(DEFAULT_RETRY.attempts);

    slow.disable();
    expect(offsetsAndValues((await fetch(reader.app, t, 0)).body)).toEqual([[0, 'cold']]);
  });

  it('a short S3 body on GET is retried as a storage error: the fetch answers the records', async () => {
    const writer = stack();
    const t = await topic(writer.app);
    await produce(writer.app, t, [{ value: 'whole', partition: 0 }]);

    const reader = stack(); // a fresh instance: the bytes are not in its cache
    const gets = countCalls(reader.deps.clients.s3);
    const short = shortBodies(reader.deps.clients.s3, { command: 'GetObjectCommand' }, { times: 1 });
    const res = await fetch(reader.app, t, 0);
    expect(res.status).toBe(200);
    expect(offsetsAndValues(res.body)).toEqual([[0, 'whole']]);
    expect(short.fired).toBe(1);
    expect(gets.count('GetObjectCommand')).toBe(2);
  });

  it('a short S3 body on every GET answers 503 KAFKA_STORAGE_ERROR, retriable, after bounded retries', async () => {
    const writer = stack();
    const t = await topic(writer.app);
    await produce(writer.app, t, [{ value: 'cut', partition: 0 }]);

    const reader = stack();
    const gets = countCalls(reader.deps.clients.s3);
    const short = shortBodies(reader.deps.clients.s3, { command: 'GetObjectCommand' }, { dropBytes: 5 });
    const res = await fetch(reader.app, t, 0);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true });
    expect(res.body.error.receivedBytes).toBe(res.body.error.expectedBytes - 5);
    expect(gets.count('GetObjectCommand')).toBe(DEFAULT_RETRY.attempts);

    short.disable();
    expect(offsetsAndValues((await fetch(reader.app, t, 0)).body)).toEqual([[0, 'cut']]);
  });

  it('crash after publish, before the answer: visible exactly once; a blind client retry duplicates (client concern until the idempotent producer)', async () => {
    const s = stack();
    const t = await topic(s.app);
    const lost = runThenThrow(s.deps.clients.dynamo, { command: 'PutItemCommand', where: isPublishPut(s) }, crash, { times: 1 });

    const res = await produce(s.app, t, [{ value: 'once', partition: 0 }, { value: 'twice', partition: 0 }]);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(lost.fired).toBe(1);
    const after = await fetch(s.app, t, 0);
    expect(offsetsAndValues(after.body)).toEqual([[0, 'once'], [1, 'twice']]);
    expect(await hwms(s.app, t)).toEqual([2]);

    // The client cannot tell: it retries, and the records are written again at new offsets.
    const retry = await produce(s.app, t, [{ value: 'once', partition: 0 }, { value: 'twice', partition: 0 }]);
    expect(retry.body.offsets).toEqual([{ partition: 0, offset: 2 }, { partition: 0, offset: 3 }]);
    expect(offsetsAndValues((await fetch(s.app, t, 0)).body)).toEqual([[0, 'once'], [1, 'twice'], [2, 'once'], [3, 'twice']]);
    expect(await hwms(s.app, t)).toEqual([4]);
  });

  it('a lost publish response retried by our loop is recognised as our own entry: 200, visible once', async () => {
    const s = stack();
    const t = await topic(s.app);
    const lost = runThenThrow(s.deps.clients.dynamo, { command: 'PutItemCommand', where: isPublishPut(s) }, serviceUnavailable, { times: 1 });

    const res = await produce(s.app, t, [{ value: 'once', partition: 0 }]);
    expect(lost.fired).toBe(1);
    expect(res.status).toBe(200);
    expect(res.body.offsets).toEqual([{ partition: 0, offset: 0 }]);
    expect(offsetsAndValues((await fetch(s.app, t, 0)).body)).toEqual([[0, 'once']]);
    expect(await hwms(s.app, t)).toEqual([1]);
  });

  it.each([
    ['a crash-like error', crash, 500],
    ['a transient error after bounded retries', serviceUnavailable, 503],
  ])('multi-partition publish transaction fails (%s): no partition shows anything, holes let the next request through at once', async (_l, makeError, status) => {
    const s = stack();
    const t = await topic(s.app, 3);
    const txn = failCalls(s.deps.clients.dynamo, { command: 'TransactWriteItemsCommand' }, makeError);

    const res = await produce(s.app, t, [0, 1, 2, 0].map((partition, i) => ({ partition, value: `failed-${i}` })));
    expect(res.status).toBe(status);
    expect(txn.fired).toBeGreaterThanOrEqual(1);
    txn.disable();

    // The writer filled its slots with holes: the high watermarks moved past them, no timeout wait.
    expect(await hwms(s.app, t)).toEqual([2, 1, 1]);
    const ok = await produce(s.app, t, [0, 1, 2].map((partition) => ({ partition, value: `ok-${partition}` })));
    expect(ok.body.offsets).toEqual([{ partition: 0, offset: 2 }, { partition: 1, offset: 1 }, { partition: 2, offset: 1 }]);
    expect(await hwms(s.app, t)).toEqual([3, 2, 2]);
    for (const p of [0, 1, 2]) {
      const got = await fetch(s.app, t, p, 0);
      expect(offsetsAndValues(got.body)).toEqual([[p === 0 ? 2 : 1, `ok-${p}`]]);
    }
  });
});
