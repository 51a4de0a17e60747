/**
 * Exactly-once under injected faults (SDK middleware on the real clients, emulators behind):
 *  - ≥ 1,000 requests by retrying idempotent producers while PUTs, reserves and publish
 *    transactions crash before the call, and publish responses are lost after it (a commit
 *    the client never hears about): every record exactly once, in order.
 *  - A consume-transform-produce loop (topic A → topic B with commitOffsets), crashed at random
 *    points and restarted with a fresh producer epoch: B holds exactly one output per input.
 *  - Producer state expiry after 7 days of inactivity, by the injected clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { call, uniqueName } from '../support/http.ts';
import { prng } from '../support/prng.ts';
import { crash, intercept, isolatedStack, type IsolatedStack } from '../support/faults.ts';
import { stackDeps } from '../support/stack.ts';


let stacks: IsolatedStack[] = [];
afterEach(() => {
  for (const s of stacks) s.dispose();
  stacks = [];
});

function stack(): IsolatedStack {
  const s = isolatedStack({ slotTimeoutMs: 1500, topicCacheTtlMs: 60_000 });
  stacks.push(s);
  return s;
}

async function readAll(app: IsolatedStack['app'], topic: string, partition: number) {
  const out: { offset: number; value: unknown }[] = [];
  let offset = 0;
  for (;;) {
    const res = await call(app, 'GET', `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxRecords=1000`);
    expect(res.status).toBe(200);
    out.push(...res.body.records.map((r: { offset: number; value: unknown }) => ({ offset: r.offset, value: r.value })));
    if (res.body.nextOffset >= res.body.highWatermark) return out;
    offset = res.body.nextOffset;
  }
}

describe('exactly-once under faults', () => {
  it('≥ 1,000 requests from retrying idempotent producers: every record exactly once, in order', async () => {
    const s = stack();
    const rand = prng(20261122);
    const injected = { put: 0, reserve: 0, before: 0, lost: 0 };
    intercept(s.deps.clients.s3, async (c, next) => {
      if (c.commandName === 'PutObjectCommand' && rand() < 0.03) {
        injected.put++;
        throw crash();
      }
      return next();
    });
    intercept(s.deps.clients.dynamo, async (c, next) => {
      if (c.commandName === 'UpdateItemCommand' && c.input.Key?.sk?.N === '-1' && rand() < 0.02) {
        injected.reserve++;
        throw crash();
      }
      const publish = c.commandName === 'TransactWriteItemsCommand' &&
        c.input.TransactItems.some((i: { Put?: { TableName?: string } }) => i.Put?.TableName === s.deps.names.tables.log);
      if (publish) {
        const roll = rand();
        if (roll < 0.03) {
          injected.before++;
          throw crash();
        }
        if (roll < 0.06) {
          injected.lost++;
          await next(); // committed on the server…
          throw crash(); // …but the answer is lost
        }
      }
      return next();
    });

    const topic = uniqueName('eof');
    expect((await call(s.app, 'POST', '/v1/topics', { name: topic, partitions: 4 })).status).toBe(201);
    const PRODUCERS = 4;
    const REQUESTS = 250;
    const acked: { partition: number; offset: number; value: string }[] = [];
    let failures = 0;
    await Promise.all(
      Array.from({ length: PRODUCERS }, async (_, p) => {
        const producer = (await call(s.app, 'POST', '/v1/producers')).body as { id: string; epoch: number };
        for (let sequence = 0; sequence < REQUESTS; sequence++) {
          const values = Array.from({ length: 1 + (sequence % 3) }, (_, i) => `${p}:${sequence}:${i}`);
          const body = { producer: { ...producer, sequence }, records: values.map((value) => ({ partition: p, value })) };
          for (let attempt = 0; ; attempt++) {
            const res = await call(s.app, 'POST', `/v1/topics/${topic}/records`, body);
            if (res.status === 200) {
              res.body.offsets.forEach((o: { partition: number; offset: number }, i: number) => acked.push({ ...o, value: values[i]! }));
              break;
            }
            failures++;
            expect([500, 503], JSON.stringify(res.body)).toContain(res.status);
            expect(attempt).toBeLessThan(30);
          }
        }
      }),
    );
    // The faults really happened, and clients really retried.
    expect(injected.lost).toBeGreaterThan(5);
    expect(injected.before + injected.put + injected.reserve).toBeGreaterThan(5);
    expect(failures).toBeGreaterThan(10);

    for (let p = 0; p < PRODUCERS; p++) {
      const log = await readAll(s.app, topic, p);
      const expected = Array.from({ length: REQUESTS }, (_, seq) => Array.from({ length: 1 + (seq % 3) }, (_, i) => `${p}:${seq}:${i}`)).flat();
      expect(log.map((r) => r.value)).toEqual(expected);
      // Every acknowledged offset holds exactly the acknowledged record.
      const byOffset = new Map(log.map((r) => [r.offset, r.value]));
      for (const a of acked.filter((x) => x.partition === p)) expect(byOffset.get(a.offset)).toBe(a.value);
    }
  });

  it('consume-transform-produce with commitOffsets, crashed and restarted at random: one output per input', async () => {
    const s = stack();
    const rand = prng(7);
    let loseNextCommit = false;
    intercept(s.deps.clients.dynamo, async (c, next) => {
      if (c.commandName === 'TransactWriteItemsCommand' && loseNextCommit) {
        loseNextCommit = false;
        await next();
        throw crash();
      }
      return next();
    });
    const input = uniqueName('ctp-in');
    const output = uniqueName('ctp-out');
    await call(s.app, 'POST', '/v1/topics', { name: input, partitions: 1 });
    await call(s.app, 'POST', '/v1/topics', { name: output, partitions: 1 });
    const N = 80;
    await call(s.app, 'POST', `/v1/topics/${input}/records`, { records: Array.from({ length: N }, (_, i) => ({ value: i })) });
    const group = uniqueName('ctp');
    const txn = uniqueName('ctp-txn');
    let memberId: string | null = null;
    let crashes = 0;

    /** One incarnation of the worker; returns true when the input is fully processed. */
    async function incarnation(): Promise<boolean> {
      // A fresh epoch fences every request of the previous incarnation (zombie fencing).
      const producer = (await call(s.app, 'POST', '/v1/producers', { transactionalId: txn })).body as { id: string; epoch: number };
      const joined = await call(s.app, 'POST', `/v1/groups/${group}/heartbeat`, { memberId, memberEpoch: 0, topics: [input] });
      expect(joined.status).toBe(200);
      memberId = joined.body.memberId;
      const memberEpoch = joined.body.memberEpoch as number;
      expect(joined.body.assignment).toEqual([{ topic: input, partitions: [0] }]);
      const offsets = (await call(s.app, 'GET', `/v1/groups/${group}/offsets`)).body.offsets as { offset: number }[];
      let position = offsets[0]?.offset ?? 0;
      let sequence = 0;
      for (;;) {
        const batch = await call(s.app, 'GET', `/v1/topics/${input}/partitions/0/records?offset=${position}&maxRecords=${1 + Math.floor(rand() * 5)}`);
        if (batch.body.records.length === 0) return true;
        if (rand() < 0.1) return false; // crash after reading, before producing
        if (rand() < 0.15) loseNextCommit = true; // the commit happens, its answer is lost
        const res = await call(s.app, 'POST', `/v1/topics/${output}/records`, {
          producer: { ...producer, sequence },
          records: batch.body.records.map((r: { value: number }) => ({ value: `out-${r.value}` })),
          commitOffsets: { group, memberId, memberEpoch, offsets: [{ topic: input, partition: 0, offset: batch.body.nextOffset }] },
        });
        if (res.status !== 200) return false; // crash: restart from the committed offset
        sequence++;
        position = batch.body.nextOffset;
        if (rand() < 0.05) return false; // crash after a successful step
      }
    }

    for (let run = 0; run < 200; run++) {
      if (await incarnation()) break;
      crashes++;
    }
    expect(crashes).toBeGreaterThan(3);
    const out = await readAll(s.app, output, 0);
    expect(out.map((r) => r.value)).toEqual(Array.from({ length: N }, (_, i) => `out-${i}`));
    const committed = (await call(s.app, 'GET', `/v1/groups/${group}/offsets`)).body.offsets;
    expect(committed).toEqual([expect.objectContaining({ topic: input, partition: 0, offset: N, lag: 0 })]);
  });

  it('forgets a producer after 7 days of inactivity (UNKNOWN_PRODUCER_ID), by the injected clock', async () => {
    let skew = 0;
    const deps = stackDeps({ clock: { now: () => Date.now() + skew } });
    const app = createApp(deps);
    const topic = uniqueName('eox');
    await call(app, 'POST', '/v1/topics', { name: topic, partitions: 1 });
    const p = (await call(app, 'POST', '/v1/producers')).body;
    expect((await call(app, 'POST', `/v1/topics/${topic}/records`, { producer: { ...p, sequence: 0 }, records: [{ value: 1 }] })).status).toBe(200);
    skew = 6 * 24 * 3600 * 1000;
    expect((await call(app, 'POST', `/v1/topics/${topic}/records`, { producer: { ...p, sequence: 1 }, records: [{ value: 2 }] })).status).toBe(200);
    skew += 7 * 24 * 3600 * 1000 + 1;
    const res = await call(app, 'POST', `/v1/topics/${topic}/records`, { producer: { ...p, sequence: 2 }, records: [{ value: 3 }] });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('UNKNOWN_PRODUCER_ID');
  });
});
