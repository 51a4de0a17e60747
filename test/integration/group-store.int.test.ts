/**
 * GroupStore's offset deletion when DynamoDB answers a BatchWriteItem with UnprocessedItems
 * (what it does under throttling), by SDK middleware on real clients: unprocessed items are
 * resent until done, and if they stay unprocessed the delete fails retriably instead of
 * reporting success with offsets left behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../lib/errors.ts';
import { GroupStore } from '../../lib/storage/group-store.ts';
import { call, uniqueName } from '../support/http.ts';
import { countCalls, intercept, isolatedStack, type IsolatedStack } from '../support/faults.ts';

let stacks: IsolatedStack[] = [];
afterEach(() => {
  for (const s of stacks) s.dispose();
  stacks = [];
});

function stack(): IsolatedStack {
  const s = isolatedStack();
  stacks.push(s);
  return s;
}

const OFFSETS = 30; // two batches: 25 + 5

async function groupWithOffsets(store: GroupStore): Promise<string> {
  const group = uniqueName('g');
  const topicId = uniqueName('tid');
  const offsets = Array.from({ length: OFFSETS }, (_, p) => ({ topicId, topic: 'orders', partition: p, offset: p * 10, metadata: '' }));
  await store.commitOffsets(group, 0, offsets, Date.now());
  expect(await store.offsets(group)).toHaveLength(OFFSETS);
  return group;
}

describe('GroupStore.delete with unprocessed BatchWriteItem items', () => {
  it('resends the unprocessed items until every offset is gone', async () => {
    const s = stack();
    const table = s.deps.names.tables.meta;
    const store = new GroupStore(s.deps.clients, table);
    const group = await groupWithOffsets(store);

    // The first 3 batch writes process only their first item and report the rest unprocessed.
    let partial = 0;
    const remove = intercept(s.deps.clients.dynamo, async (c, next) => {
      if (c.commandName !== 'BatchWriteItemCommand' || partial >= 3) return next();
      partial++;
      const [first, ...rest] = c.input.RequestItems[table];
      c.input.RequestItems = { [table]: [first] };
      const result = (await next()) as { output: Record<string, unknown> };
      return { ...result, output: { ...result.output, UnprocessedItems: { [table]: rest } } };
    });
    const calls = countCalls(s.deps.clients.dynamo);

    await store.delete(group, 0);

    const sizes = calls.calls('BatchWriteItemCommand').map((c) => c.input.RequestItems[table].length);
    expect(sizes).toEqual([1, 1, 1, 22, 5]); // as sent after the partial fault narrowed them
    expect(await store.get(group)).toBeUndefined();
    expect(await store.offsets(group)).toEqual([]);
    calls.remove();
    remove();
  });

  it('throws a retriable UnavailableError when items stay unprocessed, and a retried DELETE removes them', async () => {
    const s = stack();
    const table = s.deps.names.tables.meta;
    const store = new GroupStore(s.deps.clients, table);
    const group = await groupWithOffsets(store);

    // Every batch write comes back with all of its items unprocessed (never reaches the server).
    let batchCalls = 0;
    const remove = intercept(s.deps.clients.dynamo, async (c, next) => {
      if (c.commandName !== 'BatchWriteItemCommand') return next();
      batchCalls++;
      return { output: { $metadata: {}, UnprocessedItems: c.input.RequestItems }, response: {} };
    });

    const err = await store.delete(group, 0).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).retriable).toBe(true);
    expect(batchCalls).toBe(5); // the first batch's attempts, then it gave up
    // The fence went through; the offsets are all still there (nothing reported as deleted).
    expect(await store.get(group)).toBeUndefined();
    expect(await store.offsets(group)).toHaveLength(OFFSETS);

    remove();
    // A retried DELETE sees offsets with no group item and removes them.
    expect((await call(s.app, 'DELETE', `/v1/groups/${group}`)).status).toBe(204);
    expect(await store.offsets(group)).toEqual([]);
    expect((await call(s.app, 'GET', `/v1/groups/${group}`)).status).toBe(404);
  });
});
