/**
 * Group commit (lib/log/group-commit.ts) against the emulators: requests that arrive together
 * share one segment PUT and one reserve per partition, and each keeps its own atomicity and
 * answer. The refusal tests drive the committer directly, so that the requests are certainly in
 * one group (through the app, a request that reads first — a producer check, a group read —
 * joins whichever group is open when its read returns); their refusals are real conditional
 * failures of DynamoDB, not mocks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommitSignal } from '../../lib/log/commit-signal.ts';
import { GroupCommitter, type EncodedChunk, type WriteRequest } from '../../lib/log/group-commit.ts';
import { encodeRecordBatch } from '../../lib/codec/record-batch.ts';
import { CompressionCodec } from '../../lib/codec/compression.ts';
import { ProducerFencedError, UnavailableError } from '../../lib/errors.ts';
import type { Reservation } from '../../lib/storage/index-store.ts';
import { pkOf } from '../../lib/storage/keys/partition.ts';
import { countCalls, failCalls, isolatedStack, serviceUnavailable, type IsolatedStack } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';

const stacks: IsolatedStack[] = [];
function stack(groupCommitMaxRequests = 64): IsolatedStack {
  const s = isolatedStack({ slotTimeoutMs: 1500, topicCacheTtlMs: 60_000, groupCommitMaxRequests });
  stacks.push(s);
  return s;
}
afterEach(() => {
  for (const s of stacks.splice(0)) s.dispose();
});

async function topic(s: IsolatedStack, partitions: number): Promise<{ name: string; topicId: string }> {
  const name = uniqueName('gc');
  const res = await call(s.app, 'POST', '/v1/topics', { name, partitions });
  expect(res.status).toBe(201);
  return { name, topicId: (await s.services.topics.get(name)).topicId };
}

async function readAll(s: IsolatedStack, t: string, partition: number): Promise<[number, unknown][]> {
  const res = await call(s.app, 'GET', `/v1/topics/${t}/partitions/${partition}/records?offset=0&maxRecords=10000`);
  expect(res.status).toBe(200);
  return res.body.records.map((r: { offset: number; value: unknown }) => [r.offset, r.value]);
}

async function hwms(s: IsolatedStack, t: string): Promise<number[]> {
  const res = await call(s.app, 'GET', `/v1/topics/${t}`);
  return res.body.partitions.map((p: { highWatermark: number }) => p.highWatermark);
}

function chunk(topicId: string, partition: number, values: string[]): EncodedChunk {
  const now = Date.now();
  return {
    topicId,
    partition,
    batches: encodeRecordBatch({
      compression: CompressionCodec.none,
      timestampType: 'CreateTime',
      records: values.map((v) => ({ timestamp: now, key: null, value: Buffer.from(JSON.stringify(v)), headers: [] })),
    }),
    recordCount: values.length,
    budgetBytes: values.length * 16,
    minTimestamp: now,
    maxTimestamp: now,
  };
}

function committer(s: IsolatedStack): GroupCommitter {
  return new GroupCommitter(s.services.index, s.services.publisher, s.services.segments, s.deps.clock, s.deps.ids, new CommitSignal(), {
    maxRequests: 64,
    maxBytes: 8 * 1024 * 1024,
  });
}

describe('group commit', () => {
  it('concurrent plain requests through the app share segment PUTs; every record is read once at its acked offset', async () => {
    for (const [max, sharing] of [[64, true], [1, false]] as const) {
      const s = stack(max);
      const t = await topic(s, 4);
      await call(s.app, 'POST', `/v1/topics/${t.name}/records`, { records: [{ value: 'warm', partition: 0 }] });
      const s3 = countCalls(s.deps.clients.s3);
      const requests = Array.from({ length: 24 }, (_, i) =>
        call(s.app, 'POST', `/v1/topics/${t.name}/records`, {
          records: [0, 1, 2].map((j) => ({ value: `r${i}-${j}`, partition: (i + j) % 4 })),
        }),
      );
      const answers = await Promise.all(requests);
      for (const a of answers) expect(a.status).toBe(200);
      const puts = s3.count('PutObjectCommand');
      if (sharing) expect(puts).toBeLessThan(24);
      else expect(puts).toBe(24);

      // Every acked record is read back at its acked offset, once; nothing else is there.
      const expected = new Map<number, [number, unknown][]>([[0, [[0, 'warm']]], [1, []], [2, []], [3, []]]);
      answers.forEach((a, i) =>
        a.body.offsets.forEach((o: { partition: number; offset: number }, j: number) => expected.get(o.partition)!.push([o.offset, `r${i}-${j}`])),
      );
      for (const [p, list] of expected) {
        list.sort((x, y) => x[0] - y[0]);
        expect(await readAll(s, t.name, p)).toEqual(list);
        expect(list.map(([o]) => o)).toEqual(list.map((_, k) => k)); // contiguous: no offsets lost to a group
      }
    }
  });

  it('a fenced producer and a moved group inside one group commit fail alone; the plain requests beside them commit', async () => {
    const s = stack();
    const t = await topic(s, 2);
    const writer = committer(s);
    const s3 = countCalls(s.deps.clients.s3);

    // A real producer whose epoch moves on after its check: its publish condition fails.
    const txn = uniqueName('txn');
    const first = await s.services.producers.init(txn);
    const check = await s.services.producers.check({ id: first.id, epoch: first.epoch, sequence: 0 });
    expect(check.kind).toBe('accept');
    await s.services.producers.init(txn); // epoch + 1: the checked state is stale
    const prev = check.kind === 'accept' ? check.prev : undefined;
    const fenced: WriteRequest = {
      chunks: [chunk(t.topicId, 0, ['fenced'])],
      conditions: (res: readonly Reservation[]) => ({
        producer: s.services.producers.advance(prev!, { sequence: 0, sticky: 0, bases: { '0': res[0]!.base } }),
      }),
    };
    // An offset commit validated at a group version the group is no longer at (a rebalance
    // moved it between the validation and the publish).
    const group = uniqueName('g');
    expect((await call(s.app, 'POST', `/v1/groups/${group}/offsets`, { offsets: [{ topic: t.name, partition: 1, offset: 0 }] })).status).toBe(200);
    const validated = await s.services.groups.commitItems({ group, offsets: [{ topic: t.name, partition: 1, offset: 0 }] });
    const commit = { ...validated, groupVersion: validated.groupVersion + 1 };
    const moved: WriteRequest = { chunks: [chunk(t.topicId, 1, ['moved'])], conditions: () => ({ commit }) };

    const plainA: WriteRequest = { chunks: [chunk(t.topicId, 0, ['a1', 'a2']), chunk(t.topicId, 1, ['a3'])] };
    const plainB: WriteRequest = { chunks: [chunk(t.topicId, 0, ['b1'])] };
    const outcomes = await Promise.allSettled([writer.write(plainA), writer.write(fenced), writer.write(moved), writer.write(plainB)]);

    expect(s3.count('PutObjectCommand')).toBe(1); // one group, one object
    const [a, f, m, b] = outcomes;
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('fulfilled');
    expect(f.status === 'rejected' && f.reason).toBeInstanceOf(ProducerFencedError);
    expect(m.status === 'rejected' && m.reason).toBeInstanceOf(UnavailableError); // a moved group: retriable
    const aRes = (a as PromiseFulfilledResult<Reservation[]>).value;
    const bRes = (b as PromiseFulfilledResult<Reservation[]>).value;
    // Plain requests of a partition share one slot, back to back.
    expect(aRes[0]!.slot).toBe(bRes[0]!.slot);
    expect([aRes[0]!.base, aRes[0]!.end, bRes[0]!.base, bRes[0]!.end]).toEqual([0, 2, 2, 3]);

    // The refused requests' offsets are holes: nothing of them visible, nothing stalls.
    const visible0 = await readAll(s, t.name, 0);
    const visible1 = await readAll(s, t.name, 1);
    expect(visible0.map(([, v]) => v)).toEqual(['a1', 'a2', 'b1']);
    expect(visible1.map(([, v]) => v)).toEqual(['a3']);
    expect(await hwms(s, t.name)).toEqual([4, 2]); // 3 plain + 1 hole; 1 plain + 1 hole
  });

  it('one partition\'s reserve failing fails only the requests that touch it; their other slots are holes at once', async () => {
    const s = stack();
    const t = await topic(s, 3);
    const writer = committer(s);
    // The reserve of partition 1 fails (a storage error after the SDK's and our retries).
    const pk1 = pkOf({ topicId: t.topicId, partition: 1 });
    const down = failCalls(
      s.deps.clients.dynamo,
      { command: 'UpdateItemCommand', where: (input: { Key?: { pk?: { S?: string } } }) => input.Key?.pk?.S === pk1 },
      serviceUnavailable,
    );
    const outcomes = await Promise.allSettled([
      writer.write({ chunks: [chunk(t.topicId, 0, ['a'])] }), // alone in its set: commits
      writer.write({ chunks: [chunk(t.topicId, 2, ['b']), chunk(t.topicId, 1, ['c'])] }), // spans the failed partition
    ]);
    down.disable();
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(await readAll(s, t.name, 0)).toEqual([[0, 'a']]);
    // Partition 2's slot was reserved for the failed request: a hole at once, nobody waits.
    expect(await hwms(s, t.name)).toEqual([1, 0, 1]);
    expect(await readAll(s, t.name, 2)).toEqual([]);
  });

  it('a failed group PUT fails every request of the group, and their reserved slots are holes at once', async () => {
    const s = stack();
    const t = await topic(s, 1);
    const writer = committer(s);
    const down = failCalls(s.deps.clients.s3, { command: 'PutObjectCommand' }, serviceUnavailable);
    const outcomes = await Promise.allSettled([
      writer.write({ chunks: [chunk(t.topicId, 0, ['x', 'y'])] }),
      writer.write({ chunks: [chunk(t.topicId, 0, ['z'])] }),
    ]);
    down.disable();
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(await hwms(s, t.name)).toEqual([3]); // the shared slot is a hole: readers do not wait
    const next = await call(s.app, 'POST', `/v1/topics/${t.name}/records`, { records: [{ value: 'next' }] });
    expect(next.body.offsets).toEqual([{ partition: 0, offset: 3 }]);
    expect(await readAll(s, t.name, 0)).toEqual([[3, 'next']]);
  });
});
