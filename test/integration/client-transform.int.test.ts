/**
 * The client's exactly-once transform (lib/client/transform.ts) against the app served over
 * real HTTP, with faults injected in the client's fetch: answers lost after the server
 * committed, an instance crashed mid-way and replaced, and a paused instance (a zombie) that
 * comes back after its partitions moved. Each time the output topic, read in full at the end,
 * holds exactly the outputs of every input: no duplicates, no gaps.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../lib/client/sluice.ts';
import { transform, type TransformFn, type TransformHandle, type TransformOptions } from '../../lib/client/transform.ts';
import type { ConsumedRecord } from '../../lib/client/types.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { uniqueName } from '../support/http.ts';
import { prng } from '../support/prng.ts';
import { stackApp } from '../support/stack.ts';

let served: ServedApp;
let sluice: Sluice;
const running: TransformHandle[] = [];

beforeAll(async () => {
  served = await serveApp(stackApp());
  sluice = new Sluice({ url: served.base });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  await served.close();
});

const PARTITIONS = 3;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/**
 * Input i goes to partition i % 3 as its (i / 3)-th record j. Runs of 8 records (j % 16 in
 * 4..11) have no output, so with maxRecords 4 some batches commit without producing; every
 * fifth record has two outputs.
 */
function outputsFor(i: number): string[] {
  const j = Math.floor(i / PARTITIONS);
  if (j % 16 >= 4 && j % 16 < 12) return [];
  return j % 5 === 0 ? [`${i}:0`, `${i}:1`] : [`${i}:0`];
}

const fn: TransformFn = (record: ConsumedRecord) =>
  outputsFor((record.value as { i: number }).i).map((id) => ({ key: record.key, value: { id } }));

async function setUp(count: number) {
  const input = uniqueName('tin');
  const output = uniqueName('tout');
  await sluice.admin.createTopic({ name: input, partitions: PARTITIONS });
  await sluice.admin.createTopic({ name: output, partitions: PARTITIONS });
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, partition: i % PARTITIONS, value: { i } }));
  const res = await fetch(`${served.base}/v1/topics/${input}/records`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ records }),
  });
  expect(res.status).toBe(200);
  const expected = Array.from({ length: count }, (_, i) => outputsFor(i)).flat().sort();
  return { input, output, group: uniqueName('tg'), expected };
}

function start(client: Sluice, opts: TransformOptions): TransformHandle {
  const t = transform(client, { sessionTimeoutMs: 3000, maxWaitMs: 300, maxRecords: 4, retryBackoffMaxMs: 300, ...opts }, fn);
  running.push(t);
  return t;
}

/** Every output id written, in full, read with plain fetch. */
async function readOutput(topic: string): Promise<string[]> {
  const ids: string[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (let offset = 0; ; ) {
      const res = await fetch(`${served.base}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxRecords=1000`);
      const body = (await res.json()) as { records: { value: { id: string } }[]; nextOffset: number; highWatermark: number };
      ids.push(...body.records.map((r) => r.value.id));
      if (body.nextOffset >= body.highWatermark) break;
      offset = body.nextOffset;
    }
  }
  return ids.sort();
}

/** Done: every input offset committed for the group. */
async function allCommitted(group: string, input: string): Promise<boolean> {
  const hwms = (await sluice.admin.describeTopic(input)).partitions.map((p) => p.highWatermark);
  const committed = new Map((await sluice.admin.fetchOffsets(group)).map((o) => [o.partition, o.offset]));
  return hwms.every((hwm, p) => committed.get(p) === hwm);
}

function isWrite(input: string | URL | Request, init: RequestInit | undefined, path: (p: string) => boolean): boolean {
  return init?.method === 'POST' && path(new URL(String(input instanceof Request ? input.url : input)).pathname);
}

describe('transform: exactly once under injected faults', () => {
  it('answers lost after the server committed are repeated with the same sequence: no duplicates', async () => {
    const { input, output, group, expected } = await setUp(240);
    const rand = prng(20261201);
    const lost = { produce: 0, commit: 0 };
    // The request reaches the server and is applied; its answer never comes back.
    const lossy = new Sluice({
      url: served.base,
      fetch: async (req, init) => {
        const res = await fetch(req, init);
        const produce = isWrite(req, init, (p) => p === `/v1/topics/${output}/records`);
        const commit = isWrite(req, init, (p) => p === `/v1/groups/${group}/offsets`);
        if ((produce || commit) && rand() < 0.35) {
          await res.text();
          lost[produce ? 'produce' : 'commit']++;
          throw new TypeError('fetch failed: connection reset after the request was processed');
        }
        return res;
      },
    });
    const t = start(lossy, { from: input, group, to: output });
    // Its own count too: the last answer may be lost after the server committed.
    await waitFor('every input committed', async () => t.stats.recordsIn === 240 && (await allCommitted(group, input)));
    await t.close();
    await t.done;

    expect(await readOutput(output)).toEqual(expected);
    expect(lost.produce).toBeGreaterThan(3);
    expect(lost.commit).toBeGreaterThan(0);
    expect(t.stats.retries).toBeGreaterThanOrEqual(lost.produce + lost.commit);
    expect(t.stats.recordsOut).toBe(expected.length);
    expect(t.stats.recordsIn).toBe(240);
  });

  it('an instance crashed mid-way (last answer lost, then nothing) is replaced: each output exactly once', async () => {
    const { input, output, group, expected } = await setUp(300);
    let state: 'up' | 'dying' | 'dead' = 'up';
    const crashable = new Sluice({
      url: served.base,
      fetch: async (req, init) => {
        if (state === 'dead') throw new TypeError('fetch failed: the process is gone');
        if (state === 'dying' && isWrite(req, init, (p) => p === `/v1/topics/${output}/records`)) {
          // The crash comes right after the server committed this request.
          state = 'dead';
          await (await fetch(req, init)).text();
          throw new TypeError('fetch failed: the process is gone');
        }
        return fetch(req, init);
      },
    });
    const first = start(crashable, { from: input, group, to: output });
    await waitFor('the first instance to do some of the work', () => first.stats.recordsIn >= 60);
    state = 'dying';
    await waitFor('the crash', () => state === 'dead');
    const inFlight = first.stats.recordsIn;

    const second = start(sluice, { from: input, group, to: output });
    await waitFor('every input committed', () => allCommitted(group, input));
    await first.close();
    await second.close();
    await second.done;

    expect(await readOutput(output)).toEqual(expected);
    expect(first.stats.recordsIn).toBe(inFlight); // the crashed instance wrote nothing more
    expect(inFlight).toBeLessThan(300);
    expect(second.stats.recordsIn).toBeGreaterThan(0);
  });

  it('a paused instance whose partitions moved meanwhile is fenced by the group when it resumes', async () => {
    const { input, output, group, expected } = await setUp(120);
    // The zombie: stuck in fn on one record, and no heartbeat gets through meanwhile.
    let stuck = true;
    let release!: () => void;
    const resumed = new Promise<void>((resolve) => (release = resolve));
    let stuckOn: number | undefined;
    const zombieClient = new Sluice({
      url: served.base,
      fetch: (req, init) =>
        stuck && stuckOn !== undefined && isWrite(req, init, (p) => p.endsWith('/heartbeat'))
          ? Promise.reject(new TypeError('fetch failed: paused'))
          : fetch(req, init),
    });
    const zombie = transform(
      zombieClient,
      { from: input, group, to: output, sessionTimeoutMs: 3000, maxWaitMs: 300, maxRecords: 4, retryBackoffMaxMs: 300 },
      async (record) => {
        const i = (record.value as { i: number }).i;
        if (stuckOn === undefined && i >= 30 && outputsFor(i).length > 0) {
          stuckOn = i;
          await resumed; // a pause longer than the session: the group moves on without it
        }
        return fn(record);
      },
    );
    running.push(zombie);
    await waitFor('the zombie to get stuck', () => stuckOn !== undefined);

    const healthy = start(sluice, { from: input, group, to: output });
    // The healthy instance takes over the stuck partition (after the zombie's session) and
    // writes the stuck record's outputs itself.
    const stuckId = `${stuckOn}:0`;
    await waitFor('the stuck record processed by the healthy instance', async () => (await readOutput(output)).includes(stuckId));
    stuck = false;
    release();
    await waitFor('every input committed', () => allCommitted(group, input));
    await waitFor('the zombie refused', () => zombie.stats.dropped > 0);
    await zombie.close();
    await healthy.close();
    await Promise.all([zombie.done, healthy.done]);

    expect(await readOutput(output)).toEqual(expected);
    // What each instance counts as written adds up: the zombie's late request wrote nothing.
    expect(zombie.stats.recordsOut + healthy.stats.recordsOut).toBe(expected.length);
  });
});
