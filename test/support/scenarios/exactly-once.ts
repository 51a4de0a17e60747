/**
 * Exactly-once scenarios (API.md "Produce": producer, commitOffsets; ARCHITECTURE.md "Exactly once"): every
 * error code asserted with high watermarks and committed offsets unchanged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../lib/api/app.ts';
import type { RequestTarget } from '../lambda-app.ts';
import { call, uniqueName } from '../http.ts';
import type { AppFactory, DepsProvider } from './index.ts';

export function registerExactlyOnceScenarios(getDeps: DepsProvider, makeApp: AppFactory = createApp): void {
  let app: RequestTarget;
  beforeAll(() => {
    app = makeApp(getDeps());
  });

  async function topic(partitions = 1): Promise<string> {
    const name = uniqueName('eo');
    expect((await call(app, 'POST', '/v1/topics', { name, partitions })).status).toBe(201);
    return name;
  }
  const hwms = async (t: string): Promise<number[]> =>
    (await call(app, 'GET', `/v1/topics/${t}`)).body.partitions.map((p: { highWatermark: number }) => p.highWatermark);
  const produce = (t: string, body: unknown) => call(app, 'POST', `/v1/topics/${t}/records`, body);
  const committed = async (g: string) => (await call(app, 'GET', `/v1/groups/${g}/offsets`)).body.offsets;

  describe('producers', () => {
    it('issues a fresh id at epoch 0, and bumps the epoch for a repeated transactionalId', async () => {
      const plain = await call(app, 'POST', '/v1/producers', {});
      expect(plain.status).toBe(200);
      expect(plain.body).toEqual({ id: expect.any(String), epoch: 0 });
      const other = await call(app, 'POST', '/v1/producers');
      expect(other.body.id).not.toBe(plain.body.id);

      const txn = uniqueName('txn');
      const first = await call(app, 'POST', '/v1/producers', { transactionalId: txn });
      const second = await call(app, 'POST', '/v1/producers', { transactionalId: txn });
      expect(second.body).toEqual({ id: first.body.id, epoch: first.body.epoch + 1 });
    });

    it('refuses a malformed producer init body with 400', async () => {
      expect((await call(app, 'POST', '/v1/producers', '{"transactionalId":')).status).toBe(400);
      expect((await call(app, 'POST', '/v1/producers', { transactionalId: 5 })).status).toBe(400);
    });

    it('accepts sequences in order, answers a repeated sequence with the original offsets and writes nothing', async () => {
      const t = await topic(3);
      const p = (await call(app, 'POST', '/v1/producers')).body;
      // Null keys: a duplicate must land on the same sticky partition as the original did.
      const body = (sequence: number) => ({ producer: { id: p.id, epoch: p.epoch, sequence }, records: [{ value: `a${sequence}` }, { key: 'k', value: `b${sequence}` }] });
      const r0 = await produce(t, body(0));
      expect(r0.status).toBe(200);
      const before = await hwms(t);
      const dup = await produce(t, body(0));
      expect(dup.status).toBe(200);
      expect(dup.body.offsets).toEqual(r0.body.offsets);
      expect(await hwms(t)).toEqual(before);
      const r1 = await produce(t, body(1));
      expect(r1.status).toBe(200);
      expect((await hwms(t)).reduce((a, b) => a + b, 0)).toBe(4);
    });

    it('answers a skipped sequence with 409 OUT_OF_ORDER_SEQUENCE_NUMBER and writes nothing', async () => {
      const t = await topic();
      const p = (await call(app, 'POST', '/v1/producers')).body;
      await produce(t, { producer: { id: p.id, epoch: 0, sequence: 0 }, records: [{ value: 1 }] });
      const res = await produce(t, { producer: { id: p.id, epoch: 0, sequence: 2 }, records: [{ value: 2 }] });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
      expect(await hwms(t)).toEqual([1]);
      // The first request of a producer must be sequence 0.
      const fresh = (await call(app, 'POST', '/v1/producers')).body;
      expect((await produce(t, { producer: { id: fresh.id, epoch: 0, sequence: 1 }, records: [{ value: 3 }] })).body.error.code).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
      expect(await hwms(t)).toEqual([1]);
    });

    it('remembers the last 5 requests: older repeats are out of order, recent ones are duplicates', async () => {
      const t = await topic();
      const p = (await call(app, 'POST', '/v1/producers')).body;
      const offsets: number[] = [];
      for (let s = 0; s < 7; s++) {
        offsets.push((await produce(t, { producer: { id: p.id, epoch: 0, sequence: s }, records: [{ value: s }] })).body.offsets[0].offset);
      }
      for (let s = 2; s < 7; s++) {
        expect((await produce(t, { producer: { id: p.id, epoch: 0, sequence: s }, records: [{ value: s }] })).body.offsets[0].offset).toBe(offsets[s]);
      }
      expect((await produce(t, { producer: { id: p.id, epoch: 0, sequence: 1 }, records: [{ value: 1 }] })).body.error.code).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
      expect(await hwms(t)).toEqual([7]);
    });

    it('fences an older (or any other) epoch with 409 PRODUCER_FENCED', async () => {
      const t = await topic();
      const txn = uniqueName('txn');
      const old = (await call(app, 'POST', '/v1/producers', { transactionalId: txn })).body;
      await produce(t, { producer: { id: old.id, epoch: old.epoch, sequence: 0 }, records: [{ value: 'old' }] });
      const next = (await call(app, 'POST', '/v1/producers', { transactionalId: txn })).body;
      const zombie = await produce(t, { producer: { id: old.id, epoch: old.epoch, sequence: 1 }, records: [{ value: 'zombie' }] });
      expect(zombie.status).toBe(409);
      expect(zombie.body.error.code).toBe('PRODUCER_FENCED');
      const future = await produce(t, { producer: { id: old.id, epoch: next.epoch + 1, sequence: 0 }, records: [{ value: 'x' }] });
      expect(future.body.error.code).toBe('PRODUCER_FENCED');
      expect(await hwms(t)).toEqual([1]);
      // The new epoch starts again at sequence 0.
      expect((await produce(t, { producer: { id: next.id, epoch: next.epoch, sequence: 0 }, records: [{ value: 'new' }] })).status).toBe(200);
    });

    it('answers an unknown producer with 404 UNKNOWN_PRODUCER_ID', async () => {
      const t = await topic();
      const res = await produce(t, { producer: { id: 'p-nope', epoch: 0, sequence: 0 }, records: [{ value: 1 }] });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('UNKNOWN_PRODUCER_ID');
      expect(await hwms(t)).toEqual([0]);
    });
  });

  describe('produce with commitOffsets', () => {
    async function member(group: string, t: string) {
      const res = await call(app, 'POST', `/v1/groups/${group}/heartbeat`, { memberId: null, memberEpoch: 0, topics: [t] });
      expect(res.status).toBe(200);
      return res.body as { memberId: string; memberEpoch: number };
    }

    it('commits the group offsets in the same atomic step as the records', async () => {
      const input = await topic();
      const output = await topic();
      await produce(input, { records: [{ value: 1 }, { value: 2 }] });
      const g = uniqueName('g');
      const m = await member(g, input);
      const res = await produce(output, {
        records: [{ value: 'out' }],
        commitOffsets: { group: g, memberId: m.memberId, memberEpoch: m.memberEpoch, offsets: [{ topic: input, partition: 0, offset: 2 }] },
      });
      expect(res.status).toBe(200);
      expect(await hwms(output)).toEqual([1]);
      expect(await committed(g)).toEqual([expect.objectContaining({ topic: input, partition: 0, offset: 2, lag: 0 })]);
    });

    it.each([
      ['STALE_MEMBER_EPOCH', -1, true],
      ['FENCED_MEMBER_EPOCH', +1, true],
      ['FENCED_MEMBER_EPOCH', 0, false],
    ])('refuses the whole request with %s (epoch %+d, assigned %s): neither records nor offsets', async (code, delta, assigned) => {
      const input = await topic(2);
      const output = await topic();
      const g = uniqueName('g');
      const m = await member(g, input);
      // A second member takes a partition so that "not assigned" has a partition to point at.
      const other = await member(g, input);
      await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: m.memberId, memberEpoch: m.memberEpoch, ownedPartitions: [] });
      const mine = (await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: m.memberId, memberEpoch: m.memberEpoch, ownedPartitions: [] })).body;
      await call(app, 'POST', `/v1/groups/${g}/heartbeat`, { memberId: other.memberId, memberEpoch: other.memberEpoch, ownedPartitions: [] });
      const minePartition = mine.assignment[0].partitions[0] as number;
      const partition = assigned ? minePartition : 1 - minePartition;
      const res = await produce(output, {
        records: [{ value: 'out' }],
        commitOffsets: { group: g, memberId: m.memberId, memberEpoch: mine.memberEpoch + delta, offsets: [{ topic: input, partition, offset: 0 }] },
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe(code);
      expect(await hwms(output)).toEqual([0]);
      expect(await committed(g)).toEqual([]);
    });

    it('refuses an admin commit into a group with members (NON_EMPTY_GROUP), writing nothing', async () => {
      const input = await topic();
      const output = await topic();
      const g = uniqueName('g');
      await member(g, input);
      const res = await produce(output, { records: [{ value: 'x' }], commitOffsets: { group: g, offsets: [{ topic: input, partition: 0, offset: 0 }] } });
      expect(res.body.error.code).toBe('NON_EMPTY_GROUP');
      expect(await hwms(output)).toEqual([0]);
    });

    it('combines an idempotent producer with commitOffsets: a retried request commits once', async () => {
      const input = await topic();
      const output = await topic();
      const g = uniqueName('g');
      const p = (await call(app, 'POST', '/v1/producers')).body;
      const body = { producer: { id: p.id, epoch: 0, sequence: 0 }, records: [{ value: 'o' }], commitOffsets: { group: g, offsets: [{ topic: input, partition: 0, offset: 0 }] } };
      const first = await produce(output, body);
      const again = await produce(output, body);
      expect(again.body.offsets).toEqual(first.body.offsets);
      expect(await hwms(output)).toEqual([1]);
    });
  });
}
