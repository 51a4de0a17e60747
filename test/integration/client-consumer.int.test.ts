/**
 * The client's Consumer (lib/client/consumer.ts) against the app served over real HTTP, as
 * `sluice dev` serves it: group rebalances without overlap, a crashed member's partitions
 * moving after its session timeout, a fenced or forgotten member rejoining, commits resuming
 * where they stopped, autoOffsetReset, seek / pause / resume, partition errors (a deleted topic,
 * an out-of-range offset, a retriable error) neither blocking the other partitions nor making
 * the consumer hammer the server, run() committing only handled batches, and leaving on close.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, type ConsumerOptions } from '../../lib/client/consumer.ts';
import { OffsetOutOfRangeError, UnknownTopicOrPartitionError } from '../../lib/client/errors.ts';
import { Sluice } from '../../lib/client/sluice.ts';
import type { ConsumedRecord, TopicPartition } from '../../lib/client/types.ts';
import { recordingFetch, type RecordingFetch, type SeenRequest } from '../support/client-fetch.ts';
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

/** A client whose requests `rec` records (and may alter). */
const recorded = (rec: RecordingFetch): Sluice => new Sluice({ url: served.base, fetch: rec.fetch });

const FETCH = /^\/v1\/fetch$/;

/** POST /v1/fetch requests (so far) naming this partition. */
function fetchesOf(rec: RecordingFetch, t: TopicPartition): SeenRequest[] {
  return rec.seen.filter(
    (r) => r.method === 'POST' && FETCH.test(r.path) && r.body.partitions.some((p: TopicPartition) => p.topic === t.topic && p.partition === t.partition),
  );
}

/** poll() for `ms` (at least), collecting records and errors. */
async function pollFor(c: Consumer, ms: number): Promise<{ records: ConsumedRecord[]; errors: unknown[] }> {
  const records: ConsumedRecord[] = [];
  const errors: unknown[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      for (const b of await c.poll()) records.push(...b.records);
    } catch (err) {
      errors.push(err);
    }
  }
  return { records, errors };
}

const where = (records: readonly ConsumedRecord[]) => records.map((r) => `${r.topic}:${r.partition}:${r.offset}`).sort();
const range = (topic: string, partition: number, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${topic}:${partition}:${from + i}`);

/** A raw heartbeat in the consumer's name, from elsewhere (plain fetch). */
async function heartbeatAs(group: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${served.base}/v1/groups/${group}/heartbeat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

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

  it('a deleted topic makes a group member neither hammer the server nor stall: its partitions wait for the heartbeat that drops them', async () => {
    const keep = await createTopic(2);
    const doomed = await createTopic(1);
    const group = uniqueName('g');
    await produce(keep, [0, 1], 3);
    await produce(doomed, [0], 3);
    const heartbeatSentAt: number[] = [];
    const rec = recordingFetch({
      before: (req) => {
        if (/\/heartbeat$/.test(req.path)) heartbeatSentAt.push(Date.now());
        return undefined;
      },
    });
    const revoked: string[] = [];
    const c = consumer(
      {
        autoOffsetReset: 'earliest',
        maxWaitMs: 1000,
        sessionTimeoutMs: 15_000, // heartbeats every 5 s: one sent at once stands out
        onRevoked: (tps, reason) => void revoked.push(...tps.map((t) => `${reason} ${t.topic}:${t.partition}`)),
      },
      recorded(rec),
    );
    await c.subscribe(group, [keep, doomed]);
    expect(where(await pollRecords(c, 9))).toEqual([...range(keep, 0, 0, 3), ...range(keep, 1, 0, 3), ...range(doomed, 0, 0, 3)].sort());

    // The deleted topic's partition is all there is to fetch (the others are paused), so the
    // server answers each fetch at once with its error: refetching it in a loop until the next
    // heartbeat would be hundreds of requests (each a Lambda call on AWS).
    c.pause([tp(keep, 0), tp(keep, 1)]);
    await sluice.admin.deleteTopic(doomed);
    const deletedAt = Date.now();
    const fetchesBefore = rec.count('POST', FETCH);
    const heartbeatsBefore = heartbeatSentAt.length;
    const paused = await pollFor(c, 1200);
    expect(paused.errors).toEqual([]); // a group member's deleted topic is no error: it leaves the assignment
    expect(paused.records).toEqual([]);
    await waitFor('the revocation', () => revoked.length > 0);
    expect(revoked).toEqual([`revoked ${doomed}:0`]);
    expect(c.assignment()).toEqual([tp(keep, 0), tp(keep, 1)]);
    // The heartbeat that dropped it was asked for at once, not left to the 5 s interval.
    expect(heartbeatSentAt.length).toBeGreaterThan(heartbeatsBefore);
    expect(heartbeatSentAt[heartbeatsBefore]! - deletedAt).toBeLessThan(1000);

    // The other topic's partitions go on.
    c.resume([tp(keep, 0), tp(keep, 1)]);
    await produce(keep, [0, 1], 2, 'after');
    const resumed = await pollFor(c, 1000);
    expect(resumed.errors).toEqual([]);
    expect(where(resumed.records)).toEqual([...range(keep, 0, 3, 5), ...range(keep, 1, 3, 5)].sort());
    // Over ~2.2 s: the deleted partition's one or two, then long polls of 1 s.
    expect(rec.count('POST', FETCH) - fetchesBefore).toBeLessThan(10);
    expect(rec.seen.filter((r) => /\/heartbeat$/.test(r.path) && r.status !== undefined && r.status !== 200)).toEqual([]);
  });

  it('rejoins when fenced (FENCED_MEMBER_EPOCH) or forgotten (UNKNOWN_MEMBER_ID): partitions lost, assigned again, no record skipped', async () => {
    const topic = await createTopic(2);
    const group = uniqueName('g');
    const rec = recordingFetch();
    const events: string[] = [];
    const c = consumer(
      {
        autoOffsetReset: 'earliest',
        maxRecords: 5,
        onAssigned: (tps) => void events.push(`assigned ${tps.length}`),
        onRevoked: (tps, reason) => void events.push(`${reason} ${tps.length}`),
      },
      recorded(rec),
    );
    await c.subscribe(group, [topic]);
    const seen = new Set<string>();
    const running = c.run({ eachBatch: (b) => b.records.forEach((r) => seen.add(`${r.partition}:${r.offset}`)) });
    let produced = 0;
    const produceMore = async () => {
      await produce(topic, [0, 1], 10, `from-${produced}`);
      produced += 10;
    };
    const allSeen = () => [0, 1].every((p) => Array.from({ length: produced }, (_, o) => seen.has(`${p}:${o}`)).every(Boolean));
    const heartbeatAnswers = (status: number) => rec.seen.filter((r) => r.path === `/v1/groups/${group}/heartbeat` && r.status === status).length;

    await produceMore();
    await waitFor('the first records', allSeen);
    const memberId = c.memberId!;
    const epoch = c.memberEpoch;
    expect(c.assignment()).toHaveLength(2);

    // Fenced: a rejoin (epoch 0) in its name starts a new incarnation of the member, so the old
    // one's next heartbeat is refused with FENCED_MEMBER_EPOCH.
    await heartbeatAs(group, { memberId, memberEpoch: 0, topics: [topic], sessionTimeoutMs: 3000 });
    await produceMore();
    await waitFor('the fenced member to rejoin', () => events.length === 3 && c.assignment().length === 2);
    expect(events).toEqual(['assigned 2', 'lost 2', 'assigned 2']);
    expect(heartbeatAnswers(409)).toBeGreaterThan(0);
    expect(c.memberId).toBe(memberId); // a fenced member rejoins with its id
    expect(c.memberEpoch).toBeGreaterThan(epoch);
    await waitFor('every record, those after the fence too', allSeen);

    // Forgotten: a leave in its name removes the member, so its next heartbeat answers
    // UNKNOWN_MEMBER_ID, and it joins as a new member.
    await heartbeatAs(group, { memberId, memberEpoch: -1 });
    await produceMore();
    await waitFor('the forgotten member to rejoin', () => events.length === 5 && c.assignment().length === 2);
    expect(events).toEqual(['assigned 2', 'lost 2', 'assigned 2', 'lost 2', 'assigned 2']);
    expect(heartbeatAnswers(404)).toBeGreaterThan(0);
    expect(c.memberId).not.toBeNull();
    expect(c.memberId).not.toBe(memberId);
    await waitFor('every record, those after the rejoin too', allSeen);
    await waitFor('everything committed', async () => {
      const offsets = await committed(group);
      return offsets.get(0) === produced && offsets.get(1) === produced;
    });
    const members = (await sluice.admin.describeGroup(group)).members;
    expect(members.map((m) => m.memberId)).toEqual([c.memberId]);
    await c.close();
    await running;
  });

  it("autoOffsetReset 'none': the first poll that meets an out-of-range offset throws, and the other partitions keep being read", async () => {
    const topic = await createTopic(2);
    await produce(topic, [0, 1], 4);
    const rec = recordingFetch();
    const c = consumer({ autoOffsetReset: 'none' }, recorded(rec));
    await c.assign([
      { topic, partition: 0, offset: 999 }, // past the high watermark, 4
      { topic, partition: 1, offset: 0 },
    ]);
    const first = await c.poll().then(
      (batches) => batches,
      (err: unknown) => err,
    );
    expect(first).toBeInstanceOf(OffsetOutOfRangeError);
    // The server's fields, and which partition it is (a fetch names several).
    expect((first as OffsetOutOfRangeError).details).toMatchObject({ topic, partition: 0, offset: 999, highWatermark: 4 });
    const fetchedOutOfRange = fetchesOf(rec, tp(topic, 0)).length;
    expect(fetchedOutOfRange).toBe(1);

    // Thrown once: partition 1's records (those of the same answer included) still come, and
    // partition 0 is not fetched again until it is sought.
    const { records, errors } = await pollFor(c, 700);
    expect(errors).toEqual([]);
    expect(where(records)).toEqual(range(topic, 1, 0, 4));
    expect(fetchesOf(rec, tp(topic, 0))).toHaveLength(fetchedOutOfRange);
    expect(c.position(tp(topic, 0))).toBe(999);

    c.seek({ topic, partition: 0, offset: 2 });
    expect(where(await pollRecords(c, 2))).toEqual(range(topic, 0, 2, 4));
  });

  it("assign(): a deleted topic's partition throws once per occurrence and does not block the other partitions", async () => {
    const gone = await createTopic(1);
    const healthy = await createTopic(1);
    await produce(gone, [0], 3);
    await produce(healthy, [0], 3);
    const rec = recordingFetch();
    const c = consumer({}, recorded(rec));
    await c.assign([
      { topic: gone, partition: 0, offset: 0 },
      { topic: healthy, partition: 0, offset: 0 },
    ]);
    expect(where(await pollRecords(c, 6))).toEqual([...range(gone, 0, 0, 3), ...range(healthy, 0, 0, 3)].sort());

    await sluice.admin.deleteTopic(gone);
    await produce(healthy, [0], 3, 'after');
    const goneFetches = fetchesOf(rec, tp(gone, 0)).length;
    const { records, errors } = await pollFor(c, 1500);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UnknownTopicOrPartitionError);
    expect(where(records)).toEqual(range(healthy, 0, 3, 6));
    // Fetched once more (the answer that told), then left out until it is sought.
    expect(fetchesOf(rec, tp(gone, 0))).toHaveLength(goneFetches + 1);
    expect(c.assignment()).toEqual([tp(gone, 0), tp(healthy, 0)].sort((a, b) => (a.topic < b.topic ? -1 : 1)));

    // A seek fetches it again: a new occurrence, thrown again (once).
    c.seek({ topic: gone, partition: 0, offset: 3 });
    await produce(healthy, [0], 2, 'later');
    const again = await pollFor(c, 1000);
    expect(again.errors).toHaveLength(1);
    expect(again.errors[0]).toBeInstanceOf(UnknownTopicOrPartitionError);
    expect(where(again.records)).toEqual(range(healthy, 0, 6, 8));
    expect(fetchesOf(rec, tp(gone, 0))).toHaveLength(goneFetches + 2);
  });

  it("backs off a partition's retriable error instead of refetching it at once, and reads the others meanwhile", async () => {
    const topic = await createTopic(2);
    await produce(topic, [0, 1], 2);
    // Partition 1 answers a retriable error while `failing`, at once, as the server answers any
    // errored partition; the rest of the request goes to the server.
    let failing = false;
    const isFailing = (p: TopicPartition) => failing && p.topic === topic && p.partition === 1;
    const rec = recordingFetch({
      before: async (req) => {
        if (req.method !== 'POST' || !FETCH.test(req.path) || !req.body.partitions.some(isFailing)) return undefined;
        const rest = req.body.partitions.filter((p: TopicPartition) => !isFailing(p));
        let answer: { partitions: unknown[] } = { partitions: [] };
        if (rest.length > 0) {
          const res = await fetch(`${served.base}/v1/fetch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ...req.body, partitions: rest, waitMs: 0 }),
          });
          answer = (await res.json()) as typeof answer;
        }
        const error = { code: 'KAFKA_STORAGE_ERROR', message: 'injected: storage briefly unavailable', retriable: true };
        return Response.json({ partitions: [...answer.partitions, { topic, partition: 1, error }] });
      },
    });
    const c = consumer({ retryBackoffMs: 100, retryBackoffMaxMs: 300 }, recorded(rec));
    await c.assign([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 1, offset: 0 },
    ]);
    failing = true;
    const before = fetchesOf(rec, tp(topic, 1)).length;
    await produce(topic, [0], 3, 'during');
    const during = await pollFor(c, 1500);
    failing = false;
    // Backoff 100, 200, then 300 ms (±20%), each retry waiting for the long poll (300 ms) in
    // flight over partition 0: about 5 tries in 1.5 s, where refetching at once made hundreds.
    const tries = fetchesOf(rec, tp(topic, 1)).length - before;
    expect(tries).toBeGreaterThan(0);
    expect(tries).toBeLessThan(12);
    expect(during.errors).toEqual([]); // retried, not thrown
    expect(where(during.records)).toEqual(range(topic, 0, 0, 5));
    // Healed: partition 1 is read from where it stood.
    expect(where(await pollRecords(c, 2))).toEqual(range(topic, 1, 0, 2));
  });
});
