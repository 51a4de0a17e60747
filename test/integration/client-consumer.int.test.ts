/**
 * The client's Consumer (lib/client/consumer.ts) against the app served over real HTTP, as
 * `sluice dev` serves it: group rebalances without overlap, a crashed member's partitions
 * moving after its session timeout, commits resuming where they stopped, autoOffsetReset,
 * seek / pause / resume, run() committing only handled batches, and leaving on close.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, type ConsumerOptions } from '../../lib/client/consumer.ts';
import { OffsetOutOfRangeError } from '../../lib/client/errors.ts';
import { Sluice } from '../../lib/client/sluice.ts';
import type { ConsumedRecord, TopicPartition } from '../../lib/client/types.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { uniqueName } from '../support/http.ts';
import { stackApp } from '../support/stack.ts';

let served: ServedApp;
let sluice: Sluice;
const opened: Consumer[] = [];

beforeAll(async () => {
  served = await serveApp(stackApp());
  sluice = new Sluice({ url: served.base });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await served.close();
});

/** Short sessions and polls, so rebalances and the tests are quick. */
const FAST: ConsumerOptions = { sessionTimeoutMs: 3000, maxWaitMs: 300, autoCommitIntervalMs: 200, retryBackoffMaxMs: 300 };

function consumer(opts: ConsumerOptions = {}, client: Sluice = sluice): Consumer {
  const c = new Consumer(client, { ...FAST, ...opts });
  opened.push(c);
  return c;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/** Produces with plain fetch (not the client's producer), `count` records into each partition. */
async function produce(topic: string, partitions: number[], count: number, tag = 'v'): Promise<void> {
  const records = partitions.flatMap((partition) => Array.from({ length: count }, (_, i) => ({ partition, value: { tag, i } })));
  const res = await fetch(`${served.base}/v1/topics/${topic}/records`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ records }),
  });
  expect(res.status).toBe(200);
}

async function createTopic(partitions: number, config?: Record<string, string>): Promise<string> {
  const name = uniqueName('cc');
  await sluice.admin.createTopic({ name, partitions, ...(config ? { config } : {}) });
  return name;
}

async function highWatermarks(topic: string): Promise<number[]> {
  return (await sluice.admin.describeTopic(topic)).partitions.map((p) => p.highWatermark);
}

async function committed(group: string): Promise<Map<number, number>> {
  return new Map((await sluice.admin.fetchOffsets(group)).map((o) => [o.partition, o.offset]));
}

/** Polls until `n` records came (or throws on timeout). */
async function pollRecords(c: Consumer, n: number, timeoutMs = 15_000): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    if (Date.now() > deadline) throw new Error(`got ${out.length} of ${n} records`);
    for (const b of await c.poll()) out.push(...b.records);
  }
  return out;
}

const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });

describe('Consumer over the REST API', () => {
  it('three members share six partitions with no overlap at any time, and consume every record', async () => {
    const topic = await createTopic(6);
    const group = uniqueName('g');
    const all = [0, 1, 2, 3, 4, 5];
    await produce(topic, all, 20, 'before');

    const owner = new Map<number, string>();
    const violations: string[] = [];
    const seen = new Map<string, number>();
    const members: { name: string; c: Consumer; running: Promise<void> }[] = [];

    const start = async (name: string) => {
      const c = consumer({
        autoOffsetReset: 'earliest',
        maxRecords: 10,
        onAssigned: (tps) => {
          for (const { partition } of tps) {
            const other = owner.get(partition);
            if (other !== undefined) violations.push(`${name} was assigned ${partition} while ${other} owned it`);
            owner.set(partition, name);
          }
        },
        onRevoked: async (tps, reason) => {
          if (reason === 'lost') violations.push(`${name} lost ${tps.length} partitions`);
          for (const { partition } of tps) if (inHandler.has(partition)) violations.push(`${name} revoked ${partition} during its handler`);
          // Slower than a heartbeat interval (1 s): heartbeats sent meanwhile must still list
          // these partitions as owned, or another member would get them now.
          if (reason === 'revoked') await delay(1200);
          for (const { partition } of tps) {
            if (owner.get(partition) !== name) violations.push(`${name} revoked ${partition}, owned by ${owner.get(partition)}`);
            owner.delete(partition);
          }
        },
      });
      const handled = new Set<number>();
      const inHandler = new Set<number>();
      await c.subscribe(group, [topic]);
      const running = c.run({
        eachBatch: async (batch) => {
          if (owner.get(batch.partition) !== name) violations.push(`${name} handled ${batch.partition}, owned by ${owner.get(batch.partition)}`);
          inHandler.add(batch.partition);
          // Handler work in progress while a revocation may be asked for; the first batch of
          // each partition takes longer than a heartbeat interval.
          await delay(handled.has(batch.partition) ? 30 : 1200);
          handled.add(batch.partition);
          inHandler.delete(batch.partition);
          if (owner.get(batch.partition) !== name) violations.push(`${name} lost ${batch.partition} while handling it`);
          for (const r of batch.records) seen.set(`${r.partition}:${r.offset}`, (seen.get(`${r.partition}:${r.offset}`) ?? 0) + 1);
        },
      });
      members.push({ name, c, running });
    };

    // Records keep coming while members join, so batches are in flight during rebalances.
    let producing = true;
    const producer = (async () => {
      for (let round = 0; producing; round++) {
        await produce(topic, all, 3, `during-${round}`);
        await delay(150);
      }
    })();

    await start('a');
    await waitFor('a to own all partitions', () => members[0]!.c.assignment().length === 6);
    await start('b');
    await delay(700);
    await start('c');

    await waitFor('every member to own 2 partitions', () => members.every((m) => m.c.assignment().length === 2));
    producing = false;
    await producer;
    const hwms = await highWatermarks(topic);
    await waitFor('every record to be consumed', () => hwms.every((hwm, p) => Array.from({ length: hwm }, (_, o) => seen.has(`${p}:${o}`)).every(Boolean)));
    await waitFor('a Stable group', async () => (await sluice.admin.describeGroup(group)).state === 'Stable');

    expect(violations).toEqual([]);
    const assigned = members.flatMap((m) => m.c.assignment().map((t) => t.partition)).sort();
    expect(assigned).toEqual(all);
    for (const m of members) expect(m.c.assignment()).toHaveLength(2);
    expect(new Set(owner.values())).toEqual(new Set(['a', 'b', 'c']));

    await Promise.all(members.map((m) => m.c.close()));
    await Promise.all(members.map((m) => m.running));
    expect(owner.size).toBe(0); // onRevoked(…, 'closed') released everything
    expect(violations).toEqual([]);
  });

  it("moves a crashed member's partitions to the survivors after its session timeout", async () => {
    const topic = await createTopic(6);
    const group = uniqueName('g');
    const all = [0, 1, 2, 3, 4, 5];
    await produce(topic, all, 5, 'before');

    // The crashed process: from `killed` on, none of its requests reaches the server, and no
    // answer reaches it (a long poll sent before the crash included).
    let killed = false;
    const gone = () => new TypeError('fetch failed: the process is gone');
    const crashable = new Sluice({
      url: served.base,
      fetch: async (input, init) => {
        if (killed) throw gone();
        const res = await fetch(input, init);
        if (killed) throw gone();
        return res;
      },
    });
    const assignedAt = new Map<number, { name: string; at: number }>();
    const lost: string[] = [];
    const seenBy = new Map<string, string>();
    const start = async (name: string, client: Sluice) => {
      const c = consumer(
        {
          autoOffsetReset: 'earliest',
          onAssigned: (tps) => tps.forEach(({ partition }) => assignedAt.set(partition, { name, at: Date.now() })),
          onRevoked: (tps, reason) => {
            if (reason === 'lost') lost.push(...tps.map((t) => `${name}:${t.partition}`));
          },
        },
        client,
      );
      await c.subscribe(group, [topic]);
      void c.run({ eachBatch: (b) => b.records.forEach((r) => seenBy.set(`${r.partition}:${r.offset}`, name)) });
      return c;
    };
    const a = await start('a', sluice);
    const b = await start('b', sluice);
    const victim = await start('victim', crashable);
    await waitFor('2 partitions each', () => [a, b, victim].every((c) => c.assignment().length === 2));
    await waitFor('the first records consumed', () => seenBy.size === 30);

    const victimPartitions = victim.assignment().map((t) => t.partition);
    killed = true;
    const killedAt = Date.now();
    await produce(topic, all, 5, 'after');

    await waitFor('the survivors to own all 6', () => a.assignment().length + b.assignment().length === 6);
    await waitFor('every record after the crash consumed', () => seenBy.size === 60);
    for (const p of victimPartitions) {
      const taken = assignedAt.get(p)!;
      expect(['a', 'b']).toContain(taken.name);
      // Not before the server saw the victim silent for its session (its last heartbeat came
      // at most one interval, 1 s, before the crash).
      expect(taken.at - killedAt).toBeGreaterThanOrEqual(1500);
      for (let o = 5; o < 10; o++) expect(seenBy.get(`${p}:${o}`)).not.toBe('victim');
    }
    // The victim's own view: no heartbeat for a session, so its partitions are lost.
    await waitFor("the victim's loss", () => lost.length === 2);
    expect(lost.sort()).toEqual(victimPartitions.map((p) => `victim:${p}`).sort());
    expect(victim.assignment()).toEqual([]);
  });

  it('resumes from the committed offsets: a new member starts where the closed one stopped', async () => {
    const topic = await createTopic(2);
    const group = uniqueName('g');
    await produce(topic, [0, 1], 30);

    const first = consumer({ autoOffsetReset: 'earliest', maxRecords: 5 });
    await first.subscribe(group, [topic]);
    const got: ConsumedRecord[] = [];
    for await (const r of first) {
      got.push(r);
      if (got.length === 25) break;
    }
    // The iterator was never asked past the 25th record: it is not consumed.
    const consumed = got.slice(0, -1);
    const expected = [0, 1].map((p) => Math.max(0, ...consumed.filter((r) => r.partition === p).map((r) => r.offset + 1)));
    expect(expected[0]! + expected[1]!).toBe(24);
    await first.close();
    const after = await committed(group);
    expect([after.get(0), after.get(1)]).toEqual(expected);

    const second = consumer({ autoOffsetReset: 'earliest' });
    await second.subscribe(group, [topic]);
    const rest = await pollRecords(second, 60 - 24);
    for (const p of [0, 1]) {
      const offsets = rest.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(Array.from({ length: 30 - expected[p]! }, (_, i) => expected[p]! + i));
    }
    expect(rest.every((r) => r.topic === topic)).toBe(true);
  });

  it('applies autoOffsetReset to a committed offset below the log start, and with nothing committed', async () => {
    const topic = await createTopic(1, { 'cleanup.policy': 'delete' });
    await produce(topic, [0], 20);
    const [belowEarliest, belowNone] = [uniqueName('g'), uniqueName('g')];
    for (const g of [belowEarliest, belowNone]) await sluice.admin.commitOffsets(g, [{ topic, partition: 0, offset: 5 }]);
    expect((await sluice.admin.deleteRecords(topic, 0, 10)).logStartOffset).toBe(10);

    // Committed 5 < log start 10: 'earliest' resumes at the log start.
    const early = consumer({ autoOffsetReset: 'earliest' });
    await early.subscribe(belowEarliest, [topic]);
    expect((await pollRecords(early, 10)).map((r) => r.offset)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);

    // … and 'none' surfaces the 416 instead of choosing.
    const strict = consumer({ autoOffsetReset: 'none' });
    await strict.subscribe(belowNone, [topic]);
    await expect(pollRecords(strict, 1)).rejects.toBeInstanceOf(OffsetOutOfRangeError);

    // Nothing committed: 'latest' starts at the high watermark, 'earliest' at the log start.
    const latest = consumer({ autoOffsetReset: 'latest' });
    await latest.subscribe(uniqueName('g'), [topic]);
    await waitFor("latest's position", () => latest.position(tp(topic, 0)) !== undefined);
    expect(latest.position(tp(topic, 0))).toBe(20);
    const fresh = consumer({ autoOffsetReset: 'earliest' });
    await fresh.subscribe(uniqueName('g'), [topic]);
    await waitFor("earliest's position", () => fresh.position(tp(topic, 0)) !== undefined);
    expect(fresh.position(tp(topic, 0))).toBe(10);
    await produce(topic, [0], 3);
    expect((await pollRecords(latest, 3)).map((r) => r.offset)).toEqual([20, 21, 22]);
    expect((await pollRecords(fresh, 13)).map((r) => r.offset)[0]).toBe(10);

    const none = consumer({ autoOffsetReset: 'none' });
    await none.subscribe(uniqueName('g'), [topic]);
    await expect(pollRecords(none, 1)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
  });

  it('assign() reads given partitions: seek, pause and resume', async () => {
    const topic = await createTopic(2);
    await produce(topic, [0, 1], 20);
    const c = consumer({ maxWaitMs: 100 });
    await c.assign([
      { topic, partition: 0, offset: 'earliest' },
      { topic, partition: 1, offset: 5 },
    ]);
    expect(c.position(tp(topic, 0))).toBe(0);
    expect(c.position(tp(topic, 1))).toBe(5);
    expect(c.assignment()).toEqual([tp(topic, 0), tp(topic, 1)]);

    c.pause([tp(topic, 1)]);
    const p0 = await pollRecords(c, 20);
    expect(p0.map((r) => `${r.partition}:${r.offset}`)).toEqual(Array.from({ length: 20 }, (_, i) => `0:${i}`));
    const atEnd = await c.poll(); // partition 0 at its end, partition 1 paused
    expect(atEnd.flatMap((b) => b.records)).toEqual([]);
    expect(atEnd.find((b) => b.partition === 0)?.highWatermark).toBe(20);
    expect(c.position(tp(topic, 1))).toBe(5);

    c.seek({ topic, partition: 0, offset: 15 });
    c.resume([tp(topic, 1)]);
    const again = await pollRecords(c, 5 + 15);
    expect(again.filter((r) => r.partition === 0).map((r) => r.offset)).toEqual([15, 16, 17, 18, 19]);
    expect(again.filter((r) => r.partition === 1).map((r) => r.offset)).toEqual(Array.from({ length: 15 }, (_, i) => 5 + i));

    await expect(c.commit()).rejects.toBeInstanceOf(TypeError); // no group, no commits
  });

  it('run() marks a batch consumed only after its handler returned; a failed batch comes again; close leaves the group', async () => {
    const topic = await createTopic(1);
    const group = uniqueName('g');
    await produce(topic, [0], 10);
    const revoked: string[] = [];
    const c = consumer({
      autoOffsetReset: 'earliest',
      maxRecords: 5,
      autoCommitIntervalMs: 100,
      onRevoked: (_tps, reason) => void revoked.push(reason),
    });
    await c.subscribe(group, [topic]);
    const batches: number[][] = [];
    const errors: unknown[] = [];
    let committedWhileFailing: number | undefined = -1;
    const running = c.run({
      eachBatch: async (batch) => {
        batches.push(batch.records.map((r) => r.offset));
        if (batches.length === 1) {
          await delay(1200); // auto-commits and a heartbeat (with its commit) happen meanwhile
          committedWhileFailing = (await committed(group)).get(0);
          throw new Error('the handler failed');
        }
      },
      onError: (err) => errors.push(err),
    });
    await waitFor('both batches handled', () => batches.flat().includes(9));
    await waitFor('offset 10 committed', async () => (await committed(group)).get(0) === 10);

    expect(batches[0]).toEqual([0, 1, 2, 3, 4]);
    expect(batches[1]).toEqual([0, 1, 2, 3, 4]); // the same batch again
    expect(batches.slice(2).flat()).toEqual([5, 6, 7, 8, 9]);
    expect(errors).toHaveLength(1);
    // While the first handler had not returned, nothing of its batch was committed: only the
    // reset position (offset 0, autoOffsetReset 'earliest') may have been.
    expect(committedWhileFailing === undefined || committedWhileFailing === 0).toBe(true);

    expect((await sluice.admin.describeGroup(group)).members).toHaveLength(1);
    await c.close();
    await running;
    await c.close(); // idempotent
    expect(revoked).toEqual(['closed']);
    const described = await sluice.admin.describeGroup(group);
    expect(described.members).toEqual([]);
    expect(described.state).toBe('Empty');
  });
});
