/**
 * Produce and fetch throughput through the whole app (`npm run bench -- produce-fetch [--seconds=5]`).
 *
 * A local stack (DynamoDB Local in memory + s3rver in this process), the Hono app from
 * `createApp(deps)` driven in process with `app.request()` (no HTTP hop; one extra row goes
 * through @hono/node-server over loopback HTTP). Records of 1 KB (100 per request) and 64 KB
 * (10 per request), `encoding: string`, to a 16-partition topic; producer w writes partition
 * w % 16, so every request touches one partition (one S3 PUT, one reserve, one conditional put).
 *
 * Fetch reads the produced data back, consumer c from partition c % 16, maxBytes 1 MiB,
 * maxRecords 1,000, wrapping at the high watermark:
 *  - warm: the writer's app instance, reading the newest 48 MiB of the topic (its write-through
 *    segment cache holds 64 MiB), so reads are cache hits;
 *  - cold: a fresh app instance with the segment cache off, reading from offset 0, so every
 *    fetch reads S3 and locates its start through the byOffset index.
 *
 * Each configuration runs for a fixed time; produced data is checked (high watermark of every
 * partition == records acknowledged) before fetch numbers are taken from it.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from '../lib/api/app.ts';
import {
  type BenchStack,
  type Requester,
  call,
  createTopic,
  fmtMs,
  fmtNum,
  formatCounts,
  highWatermarks,
  inProcess,
  log,
  machine,
  overHttp,
  postJson,
  profileAreas,
  settledHighWatermarks,
  startBenchStack,
  startCpuMeter,
  summarize,
  table,
  timedLoop,
  uniqueName,
  numberArg,
} from './support.ts';

const PARTITIONS = 16;
const FETCH_MAX_BYTES = 1024 * 1024;
const FETCH_MAX_RECORDS = 1000;
/** Warm readers stay in the newest 48 MiB (the segment cache holds 64 MiB). */
const WARM_TAIL_BYTES = 48 * 1024 * 1024;

interface Size {
  readonly name: string;
  readonly valueBytes: number;
  readonly batch: number;
}

const SIZES: readonly Size[] = [
  { name: '1 KB', valueBytes: 1024, batch: 100 },
  { name: '64 KB', valueBytes: 64 * 1024, batch: 10 },
];
const CONCURRENCY = [1, 16] as const;

interface Row {
  readonly cells: string[];
}

/**
 * One produce request body per partition: `batch` records of `valueBytes` random base64 bytes,
 * every value in a batch different (topics compress with zstd by default: identical values
 * would shrink a batch to almost nothing; base64 of random bytes compresses to ~75%).
 */
function produceBodies(size: Size): string[] {
  return Array.from({ length: PARTITIONS }, (_, p) => {
    const pool = randomBytes(Math.ceil((size.valueBytes * size.batch * 3) / 4) + 3).toString('base64');
    return JSON.stringify({
      encoding: 'string',
      records: Array.from({ length: size.batch }, (_, i) => ({ key: `key-${i}`, value: pool.slice(i * size.valueBytes, (i + 1) * size.valueBytes), partition: p })),
    });
  });
}

interface Measured {
  readonly ops: number;
  readonly records: number;
  readonly elapsedMs: number;
  readonly p50: number;
  readonly p99: number;
  readonly aws: string;
  readonly nodeCpuMs: number;
  readonly jvmCpuMs: number;
  readonly s3Gets: number;
}

function cells(kind: string, transport: string, size: Size, workers: number, m: Measured): string[] {
  const s = m.elapsedMs / 1000;
  return [
    kind,
    transport,
    size.name,
    String(workers),
    fmtNum(m.ops / s, 0),
    fmtNum(m.records / s, 0),
    fmtNum((m.records * size.valueBytes) / 1e6 / s, 1),
    fmtMs(m.p50),
    fmtMs(m.p99),
    fmtNum(m.nodeCpuMs / m.ops, 2),
    fmtNum(m.jvmCpuMs / m.ops, 2),
    m.aws,
  ];
}

async function measure(
  b: BenchStack,
  workers: number,
  ms: number,
  op: (w: number) => Promise<number | false>,
): Promise<Measured> {
  let records = 0;
  const before = b.counter.snapshot();
  const cpu = startCpuMeter(b.stack.dynamoPid);
  const r = await timedLoop(workers, ms, async (w) => {
    const n = await op(w);
    if (n === false) return false;
    records += n;
    return true;
  });
  const { nodeMs, jvmMs } = cpu.read();
  if (r.errors > 0) throw new Error(`${r.errors} of ${r.ops + r.errors} requests failed; first: ${String(r.firstError)}`);
  if (r.ops === 0) throw new Error('no request completed');
  const counts = b.counter.since(before, r.ops);
  const lat = summarize(r.latenciesMs);
  const retries = counts.totalAttempts - counts.totalSends;
  return {
    ops: r.ops,
    records,
    elapsedMs: r.elapsedMs,
    p50: lat.p50,
    p99: lat.p99,
    aws: `${fmtNum(counts.totalSends, 2)}: ${formatCounts(counts.sends)}${retries > 0.005 ? ` (+${fmtNum(retries, 2)} SDK retries)` : ''}`,
    nodeCpuMs: nodeMs,
    jvmCpuMs: jvmMs,
    s3Gets: (counts.sends['s3 GetObject'] ?? 0) * r.ops,
  };
}

/** Produces for `ms`; returns the measurement and the records acked per partition (checked against the HWMs). */
async function producePhase(b: BenchStack, req: Requester, topic: string, size: Size, workers: number, ms: number): Promise<Measured> {
  const bodies = produceBodies(size);
  const acked = new Array<number>(PARTITIONS).fill(0);
  const m = await measure(b, workers, ms, async (w) => {
    const p = w % PARTITIONS;
    const text = await call(req, `/v1/topics/${topic}/records`, postJson(bodies[p]!));
    const { offsets } = JSON.parse(text) as { offsets: { partition: number; offset: number }[] };
    if (offsets.length !== size.batch) throw new Error(`expected ${size.batch} offsets, got ${offsets.length}`);
    for (let i = 0; i < offsets.length; i++) {
      const o = offsets[i]!;
      if (o.partition !== p || o.offset !== offsets[0]!.offset + i) throw new Error(`non-contiguous offsets in one answer: ${text.slice(0, 200)}`);
    }
    acked[p]! += offsets.length;
    return offsets.length;
  });
  const { hwm, reads } = await settledHighWatermarks(() => highWatermarks(req, topic));
  if (reads > 1) log(`  note: the high watermarks took ${reads} reads to settle (cold partition view walks 500 entries per read)`);
  for (let p = 0; p < PARTITIONS; p++) {
    if ((hwm[p] ?? 0) !== acked[p]) throw new Error(`partition ${p}: high watermark ${hwm[p]} but ${acked[p]} records acked`);
  }
  return m;
}

const NEXT_OFFSET = /"nextOffset":(\d+)/g;

/**
 * Consumers read the topic back for `ms`, each from its partition's first offset in range,
 * wrapping at the high watermark. `tailBytes` limits the range to the newest records of
 * every partition (together at most that many value bytes), so a warm reader stays inside the
 * writer's 64 MiB segment cache; undefined reads each partition from offset 0.
 */
async function fetchPhase(b: BenchStack, req: Requester, topic: string, size: Size, workers: number, ms: number, tailBytes?: number): Promise<Measured> {
  const { hwm } = await settledHighWatermarks(() => highWatermarks(req, topic));
  const readers = Math.min(workers, PARTITIONS);
  const tail = tailBytes === undefined ? Infinity : Math.floor(tailBytes / readers / size.valueBytes);
  const first = hwm.map((h) => Math.max(0, h - tail));
  const position = Array.from({ length: workers }, (_, w) => first[w % PARTITIONS] ?? 0);
  return measure(b, workers, ms, async (w) => {
    const p = w % PARTITIONS;
    const end = hwm[p] ?? 0;
    if (end === 0) return false;
    const from = position[w]!;
    const text = await call(
      req,
      `/v1/topics/${topic}/partitions/${p}/records?offset=${from}&maxBytes=${FETCH_MAX_BYTES}&maxRecords=${FETCH_MAX_RECORDS}&encoding=string`,
    );
    // The answer ends with nextOffset/highWatermark/logStartOffset; read nextOffset from the tail
    // rather than JSON.parse a MiB here (that would be the consumer's CPU, not the service's).
    NEXT_OFFSET.lastIndex = Math.max(0, text.length - 200);
    const next = Number(NEXT_OFFSET.exec(text)?.[1] ?? NaN);
    if (!(next > from)) throw new Error(`fetch at ${from} of partition ${p} made no progress: ${text.slice(-200)}`);
    position[w] = next >= end ? first[p]! : next;
    return next - from;
  });
}

const HEADERS = ['op', 'transport', 'record', 'workers:', 'req/s:', 'records/s:', 'MB/s:', 'p50 ms:', 'p99 ms:', 'node CPU ms/req:', 'JVM CPU ms/req:', 'AWS requests per request'];

export async function run(args: string[]): Promise<void> {
  const seconds = numberArg(args, 'seconds', 5);
  const ms = seconds * 1000;
  const started = Date.now();
  const where = machine();
  log('starting DynamoDB Local + s3rver ...');
  const b = await startBenchStack();
  try {
    const writer = createApp(b.deps);
    const req = inProcess(writer);

    // JVM warm-up: DynamoDB Local runs interpreted at first; its first seconds are 2-3x slower.
    log('warm-up (3 s) ...');
    const warm = uniqueName('pf-warmup');
    await createTopic(req, warm, PARTITIONS);
    await producePhase(b, req, warm, SIZES[0]!, 8, 3000);
    await fetchPhase(b, req, warm, SIZES[0]!, 8, 1000, WARM_TAIL_BYTES);

    const produceRows: Row[] = [];
    const fetchRows: Row[] = [];
    for (const size of SIZES) {
      for (const workers of CONCURRENCY) {
        const topic = uniqueName(`pf-${size.valueBytes}-${workers}`);
        await createTopic(req, topic, PARTITIONS);
        log(`produce ${size.name} × ${size.batch}, ${workers} producers ...`);
        produceRows.push({ cells: cells('produce', 'in-process', size, workers, await producePhase(b, req, topic, size, workers, ms)) });
        log(`fetch warm ${size.name}, ${workers} consumers ...`);
        const warmM = await fetchPhase(b, req, topic, size, workers, ms, WARM_TAIL_BYTES);
        fetchRows.push({ cells: [...cells('fetch warm', 'in-process', size, workers, warmM), fmtNum(warmM.s3Gets / warmM.ops, 2)] });
        log(`fetch cold ${size.name}, ${workers} consumers ...`);
        const cold = inProcess(createApp({ ...b.deps, tuning: { segmentCacheBytes: 0 } }));
        const coldM = await fetchPhase(b, cold, topic, size, workers, ms);
        fetchRows.push({ cells: [...cells('fetch cold', 'in-process', size, workers, coldM), fmtNum(coldM.s3Gets / coldM.ops, 2)] });
      }
    }

    // One configuration over loopback HTTP through @hono/node-server, same app.
    log('over HTTP (@hono/node-server, loopback) ...');
    const server = serve({ fetch: writer.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
    const http = overHttp(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const size = SIZES[0]!;
      const topic = uniqueName('pf-http');
      await createTopic(http, topic, PARTITIONS);
      produceRows.push({ cells: cells('produce', 'HTTP loopback', size, 16, await producePhase(b, http, topic, size, 16, ms)) });
      const m = await fetchPhase(b, http, topic, size, 16, ms, WARM_TAIL_BYTES);
      fetchRows.push({ cells: [...cells('fetch warm', 'HTTP loopback', size, 16, m), fmtNum(m.s3Gets / m.ops, 2)] });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }

    // Where this process's CPU goes: a sampling profile of 1 KB × 16 workers, per request.
    log('CPU profile (3 s per phase) ...');
    const profTopic = uniqueName('pf-prof');
    await createTopic(req, profTopic, PARTITIONS);
    const size = SIZES[0]!;
    const prodProfile = await profileAreas(() => producePhase(b, req, profTopic, size, 16, 3000));
    const warmProfile = await profileAreas(() => fetchPhase(b, req, profTopic, size, 16, 3000, WARM_TAIL_BYTES));
    const coldApp = inProcess(createApp({ ...b.deps, tuning: { segmentCacheBytes: 0 } }));
    const coldProfile = await profileAreas(() => fetchPhase(b, coldApp, profTopic, size, 16, 3000));
    const profiles = [prodProfile, warmProfile, coldProfile];
    const areas = [...new Set(profiles.flatMap((p) => [...p.msByArea.keys()]))];
    const perReq = (p: (typeof profiles)[number], a: string) => (p.msByArea.get(a) ?? 0) / p.result.ops;
    areas.sort((x, y) => perReq(prodProfile, y) + perReq(warmProfile, y) - perReq(prodProfile, x) - perReq(warmProfile, x));
    const profileRows = areas.map((a) => [a, ...profiles.map((p) => fmtNum(perReq(p, a), 3))]);
    profileRows.push(['**total on-CPU (profiled)**', ...profiles.map((p) => `**${fmtNum([...p.msByArea.values()].reduce((x, y) => x + y, 0) / p.result.ops, 3)}**`)]);
    profileRows.push(['(requests profiled)', ...profiles.map((p) => fmtNum(p.result.ops))]);

    console.log(`Run ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${where}, ${seconds} s per configuration, total ${fmtNum((Date.now() - started) / 1000)} s.`);
    console.log(`Produce: ${SIZES.map((s) => `${s.name} values × ${s.batch} per request`).join(', ')}, one partition per request (producer w → partition w % ${PARTITIONS}). MB/s counts record values only.`);
    console.log(`Fetch: maxBytes ${FETCH_MAX_BYTES}, maxRecords ${FETCH_MAX_RECORDS}; warm = writer's instance reading the newest 48 MiB, cold = fresh instance with the segment cache off reading from offset 0.\n`);
    console.log(table(HEADERS, produceRows.map((r) => r.cells)));
    console.log('');
    console.log(table([...HEADERS, 'S3 GETs/req:'], fetchRows.map((r) => r.cells)));
    console.log('\nCPU ms per request in this Node process by code area (V8 sampling profile, 1 KB records, 16 workers, in-process):\n');
    console.log(table(['area', 'produce:', 'fetch warm:', 'fetch cold:'], profileRows));
  } finally {
    await b.stop();
  }
}
