/**
 * What a request costs in AWS calls (invariant W4 and the read cache of docs/ARCHITECTURE.md), counted by a
 * middleware on the real SDK clients against the emulators.
 */
import type { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { countCalls, isolatedStack, type IsolatedStack } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';

const stacks: IsolatedStack[] = [];
function stack(): IsolatedStack {
  // A long topic-cache TTL: "warm metadata" must stay warm however slow a loaded CI box is.
  const s = isolatedStack({ slotTimeoutMs: 1500, topicCacheTtlMs: 60_000 });
  stacks.push(s);
  return s;
}
afterEach(() => {
  for (const s of stacks.splice(0)) s.dispose();
});

async function topic(app: Hono, partitions: number): Promise<string> {
  const name = uniqueName('cost');
  const res = await call(app, 'POST', '/v1/topics', { name, partitions });
  expect(res.status).toBe(201);
  return name;
}
const produce = (app: Hono, t: string, records: unknown[]) => call(app, 'POST', `/v1/topics/${t}/records`, { records });
const fetch = (app: Hono, t: string, p: number, offset: number) =>
  call(app, 'GET', `/v1/topics/${t}/partitions/${p}/records?offset=${offset}`);

describe('AWS calls per request', () => {
  it('a single-partition produce with warm topic metadata costs 1 PutObject, 1 reserve UpdateItem and 1 publish PutItem', async () => {
    const s = stack();
    const t = await topic(s.app, 3);
    const dynamo = countCalls(s.deps.clients.dynamo);
    const s3 = countCalls(s.deps.clients.s3);
    expect((await produce(s.app, t, [{ value: 'warm-up', partition: 0 }])).status).toBe(200);

    for (const records of [
      [{ value: 'explicit', partition: 1 }],
      [{ key: 'k', value: 'keyed' }, { key: 'k', value: 'same key' }],
      [{ value: 'sticky' }, { value: 'sticky too' }],
    ]) {
      dynamo.reset();
      s3.reset();
      const res = await produce(s.app, t, records);
      expect(res.status).toBe(200);
      expect(s3.counts()).toEqual({ PutObjectCommand: 1 });
      expect(dynamo.counts()).toEqual({ UpdateItemCommand: 1, PutItemCommand: 1 });
      expect(dynamo.calls('UpdateItemCommand')[0]!.input.TableName).toBe(s.deps.names.tables.log);
    }
  });

  it('a 3-partition produce costs 1 PutObject, 3 reserves and ONE publish transaction', async () => {
    const s = stack();
    const t = await topic(s.app, 3);
    expect((await produce(s.app, t, [{ value: 'warm-up', partition: 0 }])).status).toBe(200);
    const dynamo = countCalls(s.deps.clients.dynamo);
    const s3 = countCalls(s.deps.clients.s3);
    const res = await produce(s.app, t, [0, 1, 2, 0].map((partition) => ({ partition, value: partition })));
    expect(res.status).toBe(200);
    expect(s3.counts()).toEqual({ PutObjectCommand: 1 });
    expect(dynamo.counts()).toEqual({ UpdateItemCommand: 3, TransactWriteItemsCommand: 1 });
    expect(dynamo.calls('TransactWriteItemsCommand')[0]!.input.TransactItems).toHaveLength(3);
  });

  it('a tail fetch of what this instance wrote costs no GetObject; a fresh instance pays GETs once, then none', async () => {
    const writer = stack();
    const t = await topic(writer.app, 1);
    const writerS3 = countCalls(writer.deps.clients.s3);
    for (let i = 0; i < 3; i++) expect((await produce(writer.app, t, [{ value: `v${i}`, partition: 0 }])).status).toBe(200);

    writerS3.reset();
    for (let i = 0; i < 2; i++) {
      const tail = await fetch(writer.app, t, 0, 1);
      expect(tail.body.records.map((r: { value: string }) => r.value)).toEqual(['v1', 'v2']);
    }
    expect(writerS3.count('GetObjectCommand')).toBe(0);

    const reader = stack();
    const readerS3 = countCalls(reader.deps.clients.s3);
    const first = await fetch(reader.app, t, 0, 0);
    expect(first.body.records.map((r: { value: string }) => r.value)).toEqual(['v0', 'v1', 'v2']);
    expect(readerS3.count('GetObjectCommand')).toBeGreaterThanOrEqual(1);
    expect(readerS3.count('GetObjectCommand')).toBeLessThanOrEqual(3); // one ranged GET per object at most
    readerS3.reset();
    const second = await fetch(reader.app, t, 0, 0);
    expect(second.body.records).toEqual(first.body.records);
    expect(readerS3.count('GetObjectCommand')).toBe(0);
  });
});
