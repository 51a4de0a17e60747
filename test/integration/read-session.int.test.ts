/**
 * The read session behind every fetch (lib/log/read-session.ts via FetchService.session),
 * against the emulators: followed batch by batch it walks the log in order, waits at the high
 * watermark until a commit of this process wakes it, and an abort ends it; its first batch is
 * the unary answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toWireBatch } from '../../lib/api/record-wire.ts';
import type { ReadBatch } from '../../lib/log/read-session.ts';
import { isolatedStack, type IsolatedStack } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';

const stacks: IsolatedStack[] = [];
afterEach(() => {
  for (const s of stacks.splice(0)) s.dispose();
});

async function topicWith(s: IsolatedStack, values: string[]) {
  const name = uniqueName('session');
  const created = await call(s.app, 'POST', '/v1/topics', { name, partitions: 1 });
  expect(created.status).toBe(201);
  for (const value of values) expect((await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ value }] })).status).toBe(200);
  return { name, tp: { topicId: created.body.topicId as string, partition: 0 } };
}

describe('read session', () => {
  it('follows the log batch by batch, waits at the high watermark for a commit, and ends on abort', async () => {
    const s = isolatedStack();
    stacks.push(s);
    const { name, tp } = await topicWith(s, ['a', 'b', 'c']);
    const abort = new AbortController();
    const session = s.services.fetch.session(tp, 'earliest', { maxRecords: 2, maxBytes: 1 << 20, deadline: Date.now() + 30_000, signal: abort.signal });
    const batches: ReadBatch[] = [];
    let producing: Promise<unknown> | undefined;
    for await (const batch of session) {
      batches.push(batch);
      if (batch.nextOffset === 3 && producing === undefined) {
        // Caught up: the next batch needs a commit, which wakes the wait at once.
        producing = new Promise((r) => setTimeout(r, 100)).then(() => call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ value: 'd' }] }));
      }
      if (batch.nextOffset === 4) abort.abort();
    }
    expect((await producing) as { status: number }).toMatchObject({ status: 200 });
    expect(batches.map((b) => toWireBatch(b, 'json').records!.map((r) => r.value))).toEqual([['a', 'b'], ['c'], ['d'], []]);
    expect(batches.map((b) => b.nextOffset)).toEqual([2, 3, 4, 4]);
    expect(batches.map((b) => b.highWatermark)).toEqual([3, 3, 4, 4]);
  });

  it("is what a unary fetch answers with: the session's first batch", async () => {
    const s = isolatedStack();
    stacks.push(s);
    const { name, tp } = await topicWith(s, ['a', 'b', 'c']);
    for (const [offset, maxRecords] of [[0, 2], [1, 5], [3, 1]] as const) {
      const unary = await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=${offset}&maxRecords=${maxRecords}`);
      const first = await s.services.fetch.session(tp, offset, { maxRecords, maxBytes: 1 << 20, deadline: 0 }).next();
      expect(unary.body).toEqual(JSON.parse(JSON.stringify(toWireBatch(first.value!, 'json'))));
    }
  });
});
