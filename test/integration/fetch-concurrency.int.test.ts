/**
 * Concurrent producers AND readers on ONE partition in ONE process, against the emulators:
 * the stable prefix a process caches is shared by every request it serves, so this is where
 * interleavings bite. Readers long-poll from their own nextOffset (and now and then jump to a
 * random acknowledged offset), half with GET .../records, half with POST /v1/fetch. Every
 * answer is checked:
 *  - offsets strictly increasing, none twice; nextOffset past the last record and <= the HWM;
 *  - the same offset always carries the same record, and (after the run) exactly the record
 *    acknowledged at that offset;
 *  - a reader's high watermark never decreases;
 * and at the end the high watermark equals what was acknowledged, in this process and in a
 * fresh one (a restart: cold cache, starting from the shared hint).
 * The same run goes through the Lambda adapter, and a corrupt hint left by older code is
 * detected and repaired rather than believed.
 */
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { createServices } from '../../lib/services.ts';
import { HINT_SLOT, partitionKey } from '../../lib/storage/keys/partition.ts';
import { countCalls } from '../support/faults.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { call, uniqueName } from '../support/http.ts';
import { lambdaAsApp, type LambdaHandler, type RequestTarget } from '../support/lambda-app.ts';
import { prng } from '../support/prng.ts';
import { stackDeps } from '../support/stack.ts';

interface Value {
  readonly p: number;
  readonly seq: number;
  readonly i: number;
}

interface RunResult {
  readonly acked: Map<number, Value>;
  readonly seen: Map<number, Value>;
  readonly answers: number;
  readonly problems: string[];
}

/** A RequestTarget over real HTTP to a server in this process. */
function httpTarget(base: string): RequestTarget {
  return { request: (path, init) => fetch(`${base}${path}`, init) };
}

async function createTopic(target: RequestTarget): Promise<string> {
  const name = uniqueName('fconc');
  const res = await call(target, 'POST', '/v1/topics', { name, partitions: 1 });
  expect(res.status).toBe(201);
  return name;
}

async function produceAndRead(target: RequestTarget, topic: string, opts: { producers: number; readers: number; ms: number; seed: number }): Promise<RunResult> {
  const acked = new Map<number, Value>();
  const seen = new Map<number, Value>();
  const problems: string[] = [];
  let answers = 0;
  const stopAt = Date.now() + opts.ms;
  const problem = (msg: string) => {
    if (problems.length < 20) problems.push(msg);
  };

  const producer = async (p: number) => {
    const random = prng(opts.seed + p);
    for (let seq = 0; Date.now() < stopAt; seq++) {
      // Mostly one-record requests (the reported case), sometimes a few records.
      const count = random() < 0.7 ? 1 : 2 + Math.floor(random() * 3);
      const values = Array.from({ length: count }, (_, i) => ({ p, seq, i }));
      const res = await call(target, 'POST', `/v1/topics/${topic}/records`, { records: values.map((value) => ({ partition: 0, value })) });
      if (res.status !== 200) {
        problem(`produce answered ${res.status}: ${JSON.stringify(res.body)}`);
        continue;
      }
      res.body.offsets.forEach((o: { offset: number }, i: number) => acked.set(o.offset, values[i]!));
    }
  };

  const reader = async (r: number) => {
    const random = prng(opts.seed + 100 + r);
    const usePost = r % 2 === 1;
    let offset = 0;
    let lastHwm = 0;
    while (Date.now() < stopAt) {
      if (random() < 0.1 && acked.size > 0) {
        // Jump to a random acknowledged offset (acknowledged offsets are below every later HWM).
        const keys = [...acked.keys()];
        offset = keys[Math.floor(random() * keys.length)]!;
      }
      const waitMs = random() < 0.5 ? 300 : 0;
      const maxRecords = 1 + Math.floor(random() * 50);
      const res = usePost
        ? await call(target, 'POST', '/v1/fetch', { partitions: [{ topic, partition: 0, offset }], maxRecords, waitMs })
        : await call(target, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxRecords=${maxRecords}&waitMs=${waitMs}`);
      answers++;
      const body = usePost ? res.body?.partitions?.[0] : res.body;
      if (res.status !== 200 || !body || body.error) {
        problem(`reader ${r} at ${offset}: ${res.status} ${JSON.stringify(res.body)}`);
        break;
      }
      const records = body.records as { offset: number; value: Value }[];
      let prev = offset - 1;
      for (const rec of records) {
        if (rec.offset <= prev) problem(`reader ${r}: offset ${rec.offset} after ${prev} (from ${offset}): ${records.map((x) => x.offset).join(',')}`);
        prev = rec.offset;
        const earlier = seen.get(rec.offset);
        if (earlier && JSON.stringify(earlier) !== JSON.stringify(rec.value)) problem(`offset ${rec.offset} read as two records`);
        seen.set(rec.offset, rec.value);
      }
      if (records.length > 0 && body.nextOffset <= prev) problem(`reader ${r}: nextOffset ${body.nextOffset} not past ${prev}`);
      if (body.nextOffset > body.highWatermark) problem(`reader ${r}: nextOffset ${body.nextOffset} past HWM ${body.highWatermark}`);
      if (body.highWatermark < lastHwm) problem(`reader ${r}: HWM went back from ${lastHwm} to ${body.highWatermark}`);
      lastHwm = body.highWatermark;
      offset = body.nextOffset;
    }
  };

  await Promise.all([
    ...Array.from({ length: opts.producers }, (_, p) => producer(p)),
    ...Array.from({ length: opts.readers }, (_, r) => reader(r)),
  ]);
  return { acked, seen, answers, problems };
}

/** Reads the whole partition from 0 to its high watermark. */
async function readAll(target: RequestTarget, topic: string): Promise<{ offsets: number[]; values: Map<number, Value>; hwm: number }> {
  const values = new Map<number, Value>();
  const offsets: number[] = [];
  let offset = 0;
  for (;;) {
    const res = await call(target, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxRecords=10000`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    for (const r of res.body.records) {
      offsets.push(r.offset);
      values.set(r.offset, r.value);
    }
    offset = res.body.nextOffset;
    if (res.body.records.length === 0 || offset >= res.body.highWatermark) return { offsets, values, hwm: res.body.highWatermark };
  }
}

async function describeHwm(target: RequestTarget, topic: string): Promise<number> {
  const res = await call(target, 'GET', `/v1/topics/${topic}`);
  expect(res.status).toBe(200);
  return res.body.partitions[0].highWatermark;
}

/** The run's answers were right, and the log holds exactly what was acknowledged. */
async function expectConsistent(result: RunResult, targets: RequestTarget[], topic: string): Promise<void> {
  expect(result.problems).toEqual([]);
  expect(result.acked.size).toBeGreaterThan(20);
  expect(result.answers).toBeGreaterThan(20);
  // No crash, no fault: every offset handed out was acknowledged, so they are dense.
  const ackedOffsets = [...result.acked.keys()].sort((a, b) => a - b);
  expect(ackedOffsets).toEqual(ackedOffsets.map((_, i) => i));
  for (const [offset, value] of result.seen) expect(result.acked.get(offset), `offset ${offset}`).toEqual(value);
  for (const target of targets) {
    expect(await describeHwm(target, topic)).toBe(result.acked.size);
    const all = await readAll(target, topic);
    expect(all.hwm).toBe(result.acked.size);
    expect(all.offsets).toEqual(ackedOffsets);
    for (const [offset, value] of result.acked) expect(all.values.get(offset)).toEqual(value);
  }
}

describe('concurrent fetches and produces on one partition, one process', () => {
  let served: ServedApp;

  beforeAll(async () => {
    served = await serveApp(createApp(stackDeps()));
  });
  afterAll(() => served.close());

  it('over real HTTP: 4 producers and 4 readers (GET and POST, long polls, random offsets) see one ordered log; the HWM is what was acked, also after a restart', async () => {
    const target = httpTarget(served.base);
    const topic = await createTopic(target);
    const result = await produceAndRead(target, topic, { producers: 4, readers: 4, ms: 6_000, seed: 1 });
    // A restart: a new app (cold cache) starts from the shared hint.
    await expectConsistent(result, [target, createApp(stackDeps())], topic);
  });

  it('through the Lambda adapter: fetch while producing sees one ordered log', async () => {
    const target = lambdaAsApp(handle(createApp(stackDeps())) as unknown as LambdaHandler);
    const topic = await createTopic(target);
    const result = await produceAndRead(target, topic, { producers: 3, readers: 3, ms: 3_000, seed: 7 });
    await expectConsistent(result, [target, createApp(stackDeps())], topic);
  });
});

describe('the shared hint', () => {
  async function topicWithRecords(n: number) {
    const deps = stackDeps();
    const app = createApp(deps);
    const topic = uniqueName('hint');
    const created = await call(app, 'POST', '/v1/topics', { name: topic, partitions: 1 });
    for (let i = 0; i < n; i++) expect((await call(app, 'POST', `/v1/topics/${topic}/records`, { records: [{ value: i }] })).status).toBe(200);
    const tp = { topicId: created.body.topicId as string, partition: 0 };
    return { deps, topic, tp, pk: partitionKey(tp.topicId, 0) };
  }

  async function readHint(deps: ReturnType<typeof stackDeps>, pk: string) {
    const out = await deps.clients.dynamo.send(
      new QueryCommand({
        TableName: deps.names.tables.log,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':sk': { N: String(HINT_SLOT) } },
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    return item && { stable: Number(item.stable?.N), hwm: Number(item.hwm?.N), v: item.v ? Number(item.v.N) : undefined };
  }

  async function writeLegacyHint(deps: ReturnType<typeof stackDeps>, pk: string, stable: number, hwm: number, v?: number) {
    await deps.clients.dynamo.send(
      new PutItemCommand({
        TableName: deps.names.tables.log,
        Item: { pk: { S: pk }, sk: { N: String(HINT_SLOT) }, stable: { N: String(stable) }, hwm: { N: String(hwm) }, ...(v ? { v: { N: String(v) } } : {}) },
      }),
    );
  }

  it.each([
    ['older code over-counted it past the reserved slots', 40, 55, undefined],
    ['older code counted entries twice (stable within the slots, HWM of another slot)', 9, 6, undefined],
    ['a versioned hint whose anchor entry ends elsewhere', 9, 6, 2],
    ['a versioned hint past the head', 40, 55, 2],
  ])('a corrupt hint (%s) is detected, not believed, and repaired', async (_label, stable, hwm, v) => {
    const { deps, topic, pk } = await topicWithRecords(12);
    await writeLegacyHint(deps, pk, stable, hwm, v);
    const fresh = createApp(stackDeps());
    expect(await describeHwm(fresh, topic)).toBe(12);
    const all = await readAll(fresh, topic);
    expect(all.offsets).toEqual([...Array(12).keys()]);
    expect((await call(fresh, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=12`)).body).toMatchObject({ records: [], highWatermark: 12 });
    expect((await call(fresh, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=13`)).status).toBe(416);
    expect(await readHint(deps, pk)).toEqual({ stable: 12, hwm: 12, v: 2 });
  });

  it('only moves forward: a lower hint is refused', async () => {
    const { deps, tp, pk } = await topicWithRecords(5);
    const services = createServices(stackDeps());
    await services.partitions.view(tp);
    expect(await readHint(deps, pk)).toEqual({ stable: 5, hwm: 5, v: 2 });
    expect(await services.index.advanceHint(tp, 3, 3, 2)).toBe(false);
    expect(await readHint(deps, pk)).toEqual({ stable: 5, hwm: 5, v: 2 });
  });

  it('a fresh process starts from a trusted hint: it reads only the entries after it', async () => {
    const { topic, tp } = await topicWithRecords(8);
    await createServices(stackDeps()).partitions.view(tp); // leaves hint {8, 8}
    const fresh = stackDeps();
    const calls = countCalls(fresh.clients.dynamo);
    const services = createServices(fresh);
    const view = await services.partitions.view(tp);
    expect(view.highWatermark).toBe(8);
    // readState + one entries Query from the anchor (slot 7): nothing before it is read.
    const queries = calls.calls('QueryCommand').map((c) => c.input.ExpressionAttributeValues?.[':lo']?.N);
    expect(queries).toEqual(['-2', '7']);
    expect(topic).toBeTruthy();
  });
});

describe('describe of many partitions', () => {
  it('reads partition bounds in batches, not one partition at a time', async () => {
    const deps = stackDeps();
    const app = createApp(deps);
    const topic = uniqueName('wide');
    expect((await call(app, 'POST', '/v1/topics', { name: topic, partitions: 1000 })).status).toBe(201);
    for (const p of [0, 7, 999]) {
      expect((await call(app, 'POST', `/v1/topics/${topic}/records`, { records: [{ partition: p, value: p }, { partition: p, value: p }] })).status).toBe(200);
    }
    const fresh = stackDeps();
    const calls = countCalls(fresh.clients.dynamo);
    const res = await call(createApp(fresh), 'GET', `/v1/topics/${topic}`);
    expect(res.status).toBe(200);
    const bounds = res.body.partitions as { partition: number; highWatermark: number }[];
    expect(bounds).toHaveLength(1000);
    expect(bounds.filter((b) => b.highWatermark > 0).map((b) => [b.partition, b.highWatermark])).toEqual([[0, 2], [7, 2], [999, 2]]);
    // 1000 partitions = 20 batches of 50 heads+hints; the 3 written ones walk (state + entries)
    // and read their entries past maintenance's summary once for their stored size.
    expect(calls.count('BatchGetItemCommand')).toBe(20);
    expect(calls.count('QueryCommand')).toBeLessThanOrEqual(3 * 3);
  });
});
