/**
 * DeleteRecords scenarios (API.md "Topics", `POST .../partitions/{p}/delete-records`), against
 * a real stack. Every refusal asserts that nothing changed, as every reader sees the partition
 * (describe, fetch from earliest, ListOffsets earliest); every move is checked through every
 * reader of the start: fetch below it (416 with both bounds, in POST /v1/fetch too), earliest,
 * ListOffsets, describe, and a consumer group's committed offset and resets.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../lib/api/app.ts';
import { call, uniqueName } from '../http.ts';
import type { RequestTarget } from '../lambda-app.ts';
import type { AppFactory, DepsProvider } from './index.ts';

const T0 = 1_700_000_000_000;

export function registerDeleteRecordsScenarios(getDeps: DepsProvider, makeApp: AppFactory = createApp): void {
  let app: RequestTarget;
  beforeAll(() => {
    app = makeApp(getDeps());
  });

  async function topic(partitions = 1, config: Record<string, unknown> = {}): Promise<string> {
    const name = uniqueName('dr');
    const res = await call(app, 'POST', '/v1/topics', { name, partitions, config });
    expect(res.status).toBe(201);
    return name;
  }
  /** `count` keyed records on partition `p` with timestamps T0 + their index in this call. */
  async function produce(t: string, count: number, p = 0): Promise<number[]> {
    const records = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: { i }, partition: p, timestamp: T0 + i }));
    const res = await call(app, 'POST', `/v1/topics/${t}/records`, { records });
    expect(res.status).toBe(200);
    return res.body.offsets.map((o: { offset: number }) => o.offset);
  }
  const deleteRecords = (t: string, p: number | string, body?: unknown) =>
    call(app, 'POST', `/v1/topics/${t}/partitions/${p}/delete-records`, body);
  const fetch = (t: string, p: number, query: string) => call(app, 'GET', `/v1/topics/${t}/partitions/${p}/records${query}`);
  const earliest = (t: string, p = 0) => call(app, 'GET', `/v1/topics/${t}/partitions/${p}/offsets?at=earliest`);
  async function bounds(t: string, p = 0): Promise<{ logStartOffset: number; highWatermark: number }> {
    const res = await call(app, 'GET', `/v1/topics/${t}`);
    expect(res.status).toBe(200);
    const { logStartOffset, highWatermark } = res.body.partitions[p];
    return { logStartOffset, highWatermark };
  }
  /** The partition as every reader of its start sees it. */
  async function seen(t: string, p = 0) {
    const [described, fromEarliest, listEarliest] = await Promise.all([bounds(t, p), fetch(t, p, '?offset=earliest'), earliest(t, p)]);
    expect(fromEarliest.status).toBe(200);
    expect(listEarliest.status).toBe(200);
    return { described, fromEarliest: fromEarliest.body, listEarliest: listEarliest.body };
  }
  function expectOutOfRange(res: { status: number; body: any }, offset: number, logStartOffset: number, highWatermark: number): void {
    expect(res.status).toBe(416);
    expect(res.body.error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', retriable: false, offset, logStartOffset, highWatermark });
  }

  describe('moving the log start offset', () => {
    it('moves the start to n: below it answers 416 with both bounds, at and above it is unchanged', async () => {
      const t = await topic(2);
      expect(await produce(t, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await produce(t, 3, 1);
      const before = await fetch(t, 0, '?offset=0');
      expect(before.body.records).toHaveLength(10);

      const res = await deleteRecords(t, 0, { beforeOffset: 4 });
      expect(res).toEqual({ status: 200, body: { logStartOffset: 4 } });

      // Fetch below the start, at any offset below it.
      for (const offset of [0, 3]) expectOutOfRange(await fetch(t, 0, `?offset=${offset}`), offset, 4, 10);
      const many = await call(app, 'POST', '/v1/fetch', { partitions: [{ topic: t, partition: 0, offset: 2 }, { topic: t, partition: 1, offset: 0 }] });
      expect(many.status).toBe(200);
      expect(many.body.partitions[0].error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', logStartOffset: 4, highWatermark: 10 });
      expect(many.body.partitions[1].records).toHaveLength(3);

      // At and above it: the very records that were there, byte for byte as the API shows them.
      const fromStart = await fetch(t, 0, '?offset=4');
      expect(fromStart.status).toBe(200);
      expect(fromStart.body).toMatchObject({ logStartOffset: 4, highWatermark: 10, nextOffset: 10 });
      expect(fromStart.body.records).toEqual(before.body.records.slice(4));
      const fromEarliest = await fetch(t, 0, '?offset=earliest');
      expect(fromEarliest.body.records).toEqual(before.body.records.slice(4));
      expect((await fetch(t, 0, '?offset=7')).body.records).toEqual(before.body.records.slice(7));

      // earliest, a timestamp before every record, and describe all say 4.
      expect((await earliest(t)).body).toEqual({ offset: 4, timestamp: T0 + 4 });
      expect((await call(app, 'GET', `/v1/topics/${t}/partitions/0/offsets?at=0`)).body).toEqual({ offset: 4, timestamp: T0 + 4 });
      expect((await call(app, 'GET', `/v1/topics/${t}/partitions/0/offsets?at=latest`)).body).toEqual({ offset: 10, timestamp: null });
      expect(await bounds(t, 0)).toEqual({ logStartOffset: 4, highWatermark: 10 });
      // The other partition is untouched.
      expect(await bounds(t, 1)).toEqual({ logStartOffset: 0, highWatermark: 3 });

      // Produce goes on from the high watermark, and the new records are readable.
      expect(await produce(t, 2)).toEqual([10, 11]);
      const after = await fetch(t, 0, '?offset=earliest');
      expect(after.body.records.map((r: { offset: number }) => r.offset)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
      expect(await bounds(t, 0)).toEqual({ logStartOffset: 4, highWatermark: 12 });
    });

    it('at the current start changes nothing and answers it', async () => {
      const t = await topic();
      await produce(t, 5);
      const before = await seen(t);
      expect(await deleteRecords(t, 0, { beforeOffset: 0 })).toEqual({ status: 200, body: { logStartOffset: 0 } });
      expect(await seen(t)).toEqual(before);

      expect((await deleteRecords(t, 0, { beforeOffset: 3 })).body).toEqual({ logStartOffset: 3 });
      const moved = await seen(t);
      expect(moved.described).toEqual({ logStartOffset: 3, highWatermark: 5 });
      // At or below the start: the start, and nothing moves back.
      for (const beforeOffset of [3, 2, 0]) {
        expect(await deleteRecords(t, 0, { beforeOffset })).toEqual({ status: 200, body: { logStartOffset: 3 } });
      }
      expect(await seen(t)).toEqual(moved);
    });

    it('at the high watermark leaves nothing readable, and earliest is the high watermark', async () => {
      const t = await topic();
      await produce(t, 4);
      expect(await deleteRecords(t, 0, { beforeOffset: 4 })).toEqual({ status: 200, body: { logStartOffset: 4 } });
      const { described, fromEarliest, listEarliest } = await seen(t);
      expect(described).toEqual({ logStartOffset: 4, highWatermark: 4 });
      expect(fromEarliest).toMatchObject({ records: [], nextOffset: 4, logStartOffset: 4, highWatermark: 4 });
      expect(listEarliest).toEqual({ offset: 4, timestamp: null });
      expectOutOfRange(await fetch(t, 0, '?offset=3'), 3, 4, 4);
      expect(await produce(t, 1)).toEqual([4]);
      expect((await fetch(t, 0, '?offset=earliest')).body.records.map((r: { offset: number }) => r.offset)).toEqual([4]);
    });

    it('takes -1 as the high watermark, at each call', async () => {
      const t = await topic();
      // An empty partition: the high watermark is 0, which is the start already.
      expect(await deleteRecords(t, 0, { beforeOffset: -1 })).toEqual({ status: 200, body: { logStartOffset: 0 } });
      await produce(t, 6);
      expect(await deleteRecords(t, 0, { beforeOffset: -1 })).toEqual({ status: 200, body: { logStartOffset: 6 } });
      expect(await bounds(t)).toEqual({ logStartOffset: 6, highWatermark: 6 });
      await produce(t, 2);
      expect(await deleteRecords(t, 0, { beforeOffset: -1 })).toEqual({ status: 200, body: { logStartOffset: 8 } });
      expect((await seen(t)).described).toEqual({ logStartOffset: 8, highWatermark: 8 });
    });

    it('answers the same to the same request twice', async () => {
      const t = await topic();
      await produce(t, 5);
      const first = await deleteRecords(t, 0, { beforeOffset: 2 });
      const view = await seen(t);
      const second = await deleteRecords(t, 0, { beforeOffset: 2 });
      expect(first).toEqual({ status: 200, body: { logStartOffset: 2 } });
      expect(second).toEqual(first);
      expect(await seen(t)).toEqual(view);
    });

    it('lets the largest of concurrent requests win, and nobody moves it back', async () => {
      const t = await topic();
      await produce(t, 20);
      const targets = [3, 17, 8, 12, 5, 20, 1, 9];
      const answers = await Promise.all(targets.map((beforeOffset) => deleteRecords(t, 0, { beforeOffset })));
      answers.forEach((res, i) => {
        expect(res.status).toBe(200);
        // Its own target, or a larger one stored first; never more than the largest.
        expect(res.body.logStartOffset).toBeGreaterThanOrEqual(targets[i]!);
        expect(res.body.logStartOffset).toBeLessThanOrEqual(20);
      });
      expect(answers[targets.indexOf(20)]!.body).toEqual({ logStartOffset: 20 });
      expect(await bounds(t)).toEqual({ logStartOffset: 20, highWatermark: 20 });
      const again = await Promise.all(targets.map((beforeOffset) => deleteRecords(t, 0, { beforeOffset })));
      for (const res of again) expect(res).toEqual({ status: 200, body: { logStartOffset: 20 } });
      expectOutOfRange(await fetch(t, 0, '?offset=19'), 19, 20, 20);
    });
  });

  describe('refusals, none of which changes anything', () => {
    it('answers n above the high watermark with 416 and both bounds', async () => {
      const t = await topic();
      await produce(t, 5);
      expect((await deleteRecords(t, 0, { beforeOffset: 2 })).status).toBe(200);
      const before = await seen(t);
      for (const beforeOffset of [6, 1000, Number.MAX_SAFE_INTEGER]) {
        expectOutOfRange(await deleteRecords(t, 0, { beforeOffset }), beforeOffset, 2, 5);
      }
      expect(await seen(t)).toEqual(before);
      // On an empty partition too.
      const empty = await topic();
      expectOutOfRange(await deleteRecords(empty, 0, { beforeOffset: 1 }), 1, 0, 0);
      expect(await bounds(empty)).toEqual({ logStartOffset: 0, highWatermark: 0 });
    });

    it.each([
      ['-2', { beforeOffset: -2 }],
      ['a fraction', { beforeOffset: 1.5 }],
      ['a numeric string', { beforeOffset: '3' }],
      ['null', { beforeOffset: null }],
      ['no beforeOffset', {}],
      ['an unknown field', { beforeOffset: 3, offset: 3 }],
      ['beyond 2^53-1', { beforeOffset: 2 ** 53 }],
      ['an array', [3]],
      ['a bare number', 3],
      ['malformed JSON', '{"beforeOffset":'],
      ['no body', undefined],
    ])('answers %s with 400 INVALID_REQUEST', async (_, body) => {
      const t = await topic();
      await produce(t, 5);
      expect((await deleteRecords(t, 0, { beforeOffset: 1 })).status).toBe(200);
      const before = await seen(t);
      const res = await deleteRecords(t, 0, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', retriable: false });
      expect(await seen(t)).toEqual(before);
    });

    it.each(['-1', 'x', '1.5'])('answers partition %s in the path with 400 INVALID_REQUEST', async (p) => {
      const t = await topic();
      const res = await deleteRecords(t, p, { beforeOffset: 0 });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
    });

    it('answers an unknown topic or partition with 404 UNKNOWN_TOPIC_OR_PARTITION', async () => {
      const t = await topic(2);
      await produce(t, 3, 1);
      for (const [name, p] of [[uniqueName('none'), 0], [t, 2], [t, 99], ['x'.repeat(3000), 0]] as const) {
        const res = await deleteRecords(name, p, { beforeOffset: 0 });
        expect(res.status).toBe(404);
        expect(res.body.error).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false });
      }
      expect(await bounds(t, 1)).toEqual({ logStartOffset: 0, highWatermark: 3 });
    });

    it('refuses a compact topic with 400 POLICY_VIOLATION, whatever n', async () => {
      const t = await topic(1, { 'cleanup.policy': 'compact' });
      await produce(t, 4);
      const before = await seen(t);
      for (const beforeOffset of [-1, 0, 2, 4, 99]) {
        const res = await deleteRecords(t, 0, { beforeOffset });
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'POLICY_VIOLATION', retriable: false, topic: t, partition: 0, cleanupPolicy: 'compact' });
      }
      expect(await seen(t)).toEqual(before);
      expect(before.fromEarliest.records).toHaveLength(4);
      // An unknown partition of it is still 404, as in Kafka.
      expect((await deleteRecords(t, 1, { beforeOffset: 0 })).status).toBe(404);
    });

    it('follows a policy changed by PATCH: compact refuses, delete allows again', async () => {
      const t = await topic();
      await produce(t, 4);
      expect((await call(app, 'PATCH', `/v1/topics/${t}`, { config: { 'cleanup.policy': 'compact' } })).status).toBe(200);
      expect((await deleteRecords(t, 0, { beforeOffset: 2 })).body.error.code).toBe('POLICY_VIOLATION');
      expect(await bounds(t)).toEqual({ logStartOffset: 0, highWatermark: 4 });
      expect((await call(app, 'PATCH', `/v1/topics/${t}`, { config: { 'cleanup.policy': null } })).status).toBe(200);
      expect(await deleteRecords(t, 0, { beforeOffset: 2 })).toEqual({ status: 200, body: { logStartOffset: 2 } });
    });
  });

  it('allows compact,delete topics', async () => {
    const t = await topic(1, { 'cleanup.policy': 'delete,compact' });
    await produce(t, 4);
    expect(await deleteRecords(t, 0, { beforeOffset: 3 })).toEqual({ status: 200, body: { logStartOffset: 3 } });
    expect((await seen(t)).described).toEqual({ logStartOffset: 3, highWatermark: 4 });
    expectOutOfRange(await fetch(t, 0, '?offset=2'), 2, 3, 4);
  });

  describe('consumer groups', () => {
    it('a consumer whose committed offset is below the new start gets 416 with both bounds; resets land on the start', async () => {
      const t = await topic(1);
      await produce(t, 10);
      const g = uniqueName('g');
      const joined = await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: null, memberEpoch: 0, topics: [t] });
      expect(joined.status).toBe(200);
      const { memberId, memberEpoch } = joined.body;
      expect(joined.body.assignment).toEqual([{ topic: t, partitions: [0] }]);
      const commit = await call(app, 'POST', `/v1/groups/${g}/offsets`, { memberId, memberEpoch, offsets: [{ topic: t, partition: 0, offset: 2 }] });
      expect(commit.status).toBe(200);

      expect((await deleteRecords(t, 0, { beforeOffset: 6 })).body).toEqual({ logStartOffset: 6 });

      // The commit is left as it is; the consumer resumes there and is told where the log starts.
      const committed = await call(app, 'GET', `/v1/groups/${g}/offsets`);
      expect(committed.body.offsets).toEqual([expect.objectContaining({ topic: t, partition: 0, offset: 2, highWatermark: 10 })]);
      const resumed = await fetch(t, 0, `?offset=${committed.body.offsets[0].offset}`);
      expectOutOfRange(resumed, 2, 6, 10);
      // The client's auto.offset.reset=earliest: fetch from the start it was given.
      const reset = await fetch(t, 0, `?offset=${resumed.body.error.logStartOffset}`);
      expect(reset.body.records.map((r: { offset: number }) => r.offset)).toEqual([6, 7, 8, 9]);

      // Once the group is empty, admin resets to earliest, or to an offset below the start, land on it.
      expect((await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId, memberEpoch: -1 })).status).toBe(200);
      for (const to of ['earliest', { offset: 0 }]) {
        const res = await call(app, 'POST', `/v1/groups/${g}/offsets/reset`, { topic: t, to });
        expect(res.status).toBe(200);
        expect(res.body.offsets).toEqual([expect.objectContaining({ partition: 0, offset: 6 })]);
      }
      const after = await call(app, 'GET', `/v1/groups/${g}/offsets`);
      expect(after.body.offsets).toEqual([expect.objectContaining({ partition: 0, offset: 6, lag: 4 })]);
      expect((await fetch(t, 0, '?offset=6')).status).toBe(200);
    });
  });
}
