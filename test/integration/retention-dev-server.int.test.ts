/**
 * Retention and DeleteRecords end to end on a real `sluice dev` process (bin/sluice.js dev, as
 * dev-server.int.test.ts starts it), with nothing but its own maintenance timer
 * (SLUICE_MAINTENANCE_INTERVAL_MS=200, SLUICE_MERGE_MIN_AGE_MS=0) doing the work:
 *  - retention.ms: entries whose newest record is old go, newer ones stay;
 *  - retention.bytes: Kafka's rule on the stored entry sizes;
 *  - DeleteRecords: the start moves at once, maintenance then empties what is below it.
 * Garbage collection (the bucket shrinking) is not shown: SLUICE_GC_GRACE_MS has a floor of
 * 5 min; retention.int.test.ts covers it with an injected clock.
 *
 * Stored sizes come only from describe. Where a test needs the size a topic had before its
 * records went, a twin topic without retention gets byte-identical produce requests (same
 * values, same explicit timestamps), and its sizeBytes after each request gives each entry's
 * stored size, free of any race with the timer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/local/dynamodb-local.ts';
import { uniqueName } from '../support/http.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'bin', 'sluice.js');
const HEALTHY_WITHIN_MS = 30_000;
/** How long a test waits for the maintenance timer (every 0.2 s) to act. */
const MAINTENANCE_WITHIN_MS = 30_000; // generous: the full suite runs files in parallel on 2 cores

interface Partition {
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly sizeBytes: number;
  readonly segments: number;
}
interface Fetched {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: unknown;
}
interface Answer<T = any> {
  readonly status: number;
  readonly body: T;
}
interface ProducedRecord {
  readonly key: string;
  readonly value: string;
  readonly timestamp: number;
}

let child: ChildProcess;
let exited: Promise<number | null>;
let output = '';
let base = '';
let dataDir = '';

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-retention-dev-'));
  const port = await freePort();
  child = spawn(process.execPath, [BIN, 'dev'], {
    cwd: REPO,
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      PORT: String(port),
      SLUICE_DATA_DIR: dataDir,
      SLUICE_MAINTENANCE_INTERVAL_MS: '200',
      SLUICE_MERGE_MIN_AGE_MS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  exited = new Promise((resolve) => child.once('exit', resolve));
  base = `http://127.0.0.1:${port}`;
  // expect.poll works only inside a test: a plain loop here.
  const startedAt = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sluice dev exited with ${child.exitCode}:\n${output}`);
    if (Date.now() - startedAt > HEALTHY_WITHIN_MS) throw new Error(`sluice dev not healthy within ${HEALTHY_WITHIN_MS} ms:\n${output}`);
    if ((await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(output).toContain('maintenance     runs every 0.2 s');
});

afterAll(async () => {
  try {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
      if (code === 'timeout') child.kill('SIGKILL'); // its JVM follows through the watchdog
      expect(code, output).toBe(0);
    }
    expect(output).not.toContain('maintenance run failed');
  } finally {
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  }
});

async function call<T = any>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined };
}

async function createTopic(config: Record<string, unknown>): Promise<string> {
  const name = uniqueName('retdev');
  const res = await call('POST', '/v1/topics', { name, partitions: 1, config });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return name;
}

async function partition0(topic: string): Promise<Partition> {
  const res = await call<{ partitions: Partition[] }>('GET', `/v1/topics/${topic}`);
  expect(res.status).toBe(200);
  return res.body.partitions[0]!;
}

/** `count` records of random base64 text (about 4/3 × `bytes` characters: zstd cannot shrink it much). */
function records(count: number, bytes: number, timestamp: number): ProducedRecord[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: randomBytes(bytes).toString('base64'), timestamp }));
}

async function produce(topic: string, batch: readonly ProducedRecord[]): Promise<void> {
  const res = await call('POST', `/v1/topics/${topic}/records`, { records: batch.map((r) => ({ ...r, partition: 0 })) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/**
 * Each request goes to `topic` and to `twin` (no retention, nothing ever leaves it); the
 * twin's sizeBytes after each request gives that request's stored size. Returns the sizes.
 */
async function produceWithTwin(topic: string, twin: string, requests: readonly (readonly ProducedRecord[])[]): Promise<number[]> {
  const sizes: number[] = [];
  let before = (await partition0(twin)).sizeBytes;
  for (const batch of requests) {
    await produce(topic, batch);
    await produce(twin, batch);
    const after = (await partition0(twin)).sizeBytes;
    sizes.push(after - before);
    before = after;
  }
  return sizes;
}

async function readFrom(topic: string, offset: number | 'earliest', maxRecords = 500): Promise<Answer> {
  return call('GET', `/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxRecords=${maxRecords}`);
}

/** The log start offset as every reader sees it: 416 below it (with both bounds), `earliest` there. */
async function expectStart(topic: string, start: number, hwm: number): Promise<void> {
  const below = await readFrom(topic, start - 1);
  expect(below.status).toBe(416);
  expect(below.body.error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', logStartOffset: start, highWatermark: hwm });
  expect((await readFrom(topic, 0)).status).toBe(416);
  const earliestOffset = await call('GET', `/v1/topics/${topic}/partitions/0/offsets?at=earliest`);
  expect(earliestOffset.status).toBe(200);
  expect(earliestOffset.body.offset).toBe(start);
  const earliest = await readFrom(topic, 'earliest', 1);
  expect(earliest.status).toBe(200);
  expect(earliest.body.logStartOffset).toBe(start);
  if (start < hwm) expect(earliest.body.records[0].offset).toBe(start);
  expect(await partition0(topic)).toMatchObject({ logStartOffset: start, highWatermark: hwm });
}

/** The records from `start` on are exactly `produced`, in order, at consecutive offsets. */
async function expectRecords(topic: string, start: number, produced: readonly ProducedRecord[]): Promise<void> {
  const res = await readFrom(topic, start);
  expect(res.status).toBe(200);
  const got = (res.body.records as Fetched[]).map(({ offset, key, value, timestamp }) => ({ offset, key, value, timestamp }));
  expect(got).toEqual(produced.map((r, i) => ({ offset: start + i, key: r.key, value: r.value, timestamp: r.timestamp })));
}

describe('sluice dev: retention on the maintenance timer', () => {
  it('retention.ms: entries whose newest record is older go, those with newer records stay unchanged', async () => {
    const topic = await createTopic({ 'retention.ms': 2000 });
    const twin = await createTopic({ 'retention.ms': -1 });
    const old = Date.now() - 60_000;
    const future = Date.now() + 600_000;
    // Three old records in two requests (two entries), then three new ones in two.
    const requests = [records(2, 300, old), records(1, 300, old), records(2, 300, future), records(1, 300, future)];
    const sizes = await produceWithTwin(topic, twin, requests);
    const total = sizes.reduce((a, b) => a + b, 0);
    const keptSize = sizes[2]! + sizes[3]!;

    await expect.poll(async () => (await partition0(topic)).logStartOffset, { timeout: MAINTENANCE_WITHIN_MS, interval: 100 }).toBeGreaterThanOrEqual(3);
    await expectStart(topic, 3, 6);
    await expectRecords(topic, 3, [...requests[2]!, ...requests[3]!]);
    // The emptied entries leave describe's size (the start moves before they are emptied).
    await expect.poll(async () => (await partition0(topic)).sizeBytes, { timeout: MAINTENANCE_WITHIN_MS, interval: 100 }).toBe(keptSize);
    expect(keptSize).toBeLessThan(total);
    expect((await partition0(twin)).sizeBytes).toBe(total);
    // Still there a few ticks later: the new records are not due for 10 minutes.
    await new Promise((r) => setTimeout(r, 600));
    await expectStart(topic, 3, 6);
    expect((await partition0(topic)).sizeBytes).toBe(keptSize);
  });

  it("retention.bytes: Kafka's rule on the stored entry sizes, and the newest record stays readable", async () => {
    const limit = 4000;
    const topic = await createTopic({ 'retention.bytes': limit });
    const twin = await createTopic({ 'retention.bytes': -1 });
    const now = Date.now();
    const requests = Array.from({ length: 10 }, () => records(1, 1024, now));
    const sizes = await produceWithTwin(topic, twin, requests);
    // Kafka's rule (UnifiedLog.deleteRetentionSizeBreachedSegments), worked out on the twin's sizes:
    // the oldest goes while what is left without it is still at least retention.bytes.
    let expectedStart = 0;
    let size = sizes.reduce((a, b) => a + b, 0);
    while (expectedStart < sizes.length - 1 && size - sizes[expectedStart]! >= limit) size -= sizes[expectedStart++]!;
    expect(expectedStart).toBeGreaterThan(0);

    await expect.poll(async () => (await partition0(topic)).logStartOffset, { timeout: MAINTENANCE_WITHIN_MS, interval: 100 }).toBe(expectedStart);
    await expect.poll(async () => (await partition0(topic)).sizeBytes, { timeout: MAINTENANCE_WITHIN_MS, interval: 100 }).toBe(size);
    const kept = await partition0(topic);
    expect(kept.sizeBytes).toBeGreaterThanOrEqual(limit);
    expect(kept.sizeBytes - sizes[expectedStart]!).toBeLessThan(limit);
    expect(kept.sizeBytes).toBeLessThan(limit + 1500);
    await expectStart(topic, expectedStart, 10);
    await expectRecords(topic, expectedStart, requests.slice(expectedStart).flat());
    // A few ticks later nothing more went: the rule is met, not overshot.
    await new Promise((r) => setTimeout(r, 600));
    expect(await partition0(topic)).toMatchObject({ logStartOffset: expectedStart, sizeBytes: size });
  });

  it('DeleteRecords on a running server: the start moves at once, maintenance then empties the entries below it', async () => {
    const topic = await createTopic({});
    const requests = Array.from({ length: 6 }, () => records(1, 500, Date.now()));
    for (const batch of requests) await produce(topic, batch);
    // Merged by the timer, so the partition is quiet when the start moves. Into one segment, or
    // two when a tick fell after the 4th or 5th request (merge plan M7: a segment holding more
    // than 2/3 of a run is not rewritten to absorb one small entry).
    await expect.poll(async () => (await partition0(topic)).segments, { timeout: MAINTENANCE_WITHIN_MS, interval: 100 }).toBeLessThanOrEqual(2);
    const before = await partition0(topic);
    expect(before).toMatchObject({ logStartOffset: 0, highWatermark: 6 });

    const res = await call('POST', `/v1/topics/${topic}/partitions/0/delete-records`, { beforeOffset: 4 });
    expect(res).toEqual({ status: 200, body: { logStartOffset: 4 } });
    await expectStart(topic, 4, 6);
    await expectRecords(topic, 4, requests.slice(4).flat());
    await expect.poll(async () => (await partition0(topic)).sizeBytes, { timeout: MAINTENANCE_WITHIN_MS, interval: 100 }).toBeLessThan(before.sizeBytes);
    const after = await partition0(topic);
    // Two of six entries of the same shape are left (zstd may differ by a few bytes between them).
    expect(after.sizeBytes).toBeGreaterThan(0);
    expect(Math.abs(after.sizeBytes - before.sizeBytes / 3)).toBeLessThan(before.sizeBytes / 30);
    expect(after).toMatchObject({ logStartOffset: 4, highWatermark: 6 });
    expect(after.segments).toBeGreaterThanOrEqual(1);
    expect(after.segments).toBeLessThanOrEqual(before.segments);
    // The log goes on from its high watermark.
    const next = records(1, 500, Date.now());
    await produce(topic, next);
    await expectRecords(topic, 4, [...requests.slice(4).flat(), ...next]);
  });
});
