/**
 * `npm run cost -- [--write-mib-s 1] [--record-bytes 1024] [--records-per-request 800]
 *   [--readers 3] [--retention-days 7] [--partitions 4] [--tier standard|express]
 *   [--requests 40] [--lambda-ms N] [--write-docs]`
 *
 * Sluice's monthly bill, line by line, next to Kinesis Data Streams (on demand and provisioned),
 * MSK Serverless and WarpStream for the same workload. The Sluice side is priced from a short
 * MEASUREMENT RUN on the real code path, not from typed-in constants:
 *  - a local stack (DynamoDB Local + s3rver, bench/support.ts) with middleware on the SDK
 *    clients that counts every call, asks DynamoDB for ConsumedCapacity (TOTAL) on every data
 *    call and sums it, and counts S3 PUT and GET bytes;
 *  - the real app (`createApp`) receives idempotent produce requests of `records-per-request`
 *    keyed records of `record-bytes` (random text values, zstd as the topic default stores them);
 *  - `readers` consumers, each its own app instance, tail the topic: one POST /v1/fetch over all
 *    partitions (maxBytes per partition as the client sets it, waitMs 5000) as soon as data is
 *    committed, repeated until caught up;
 *  - maintenance (createMaintenance, defaults) runs over what was produced with a movable clock
 *    through the whole life of the data: merge (after the 60 s minimum age), collection of the
 *    produced objects (after the 15 min grace), retention (the topic keeps 1 h here, so the
 *    clock can pass it) and collection of the merged segments; then 60 idle ticks a simulated
 *    minute apart (one hour) give the schedule's fixed cost;
 *  - DynamoDB storage per index entry is read back (a Scan of the log table: item bytes + 100 B,
 *    plus each index copy), and S3's stored bytes per record byte from describe.
 * The counts are divided per produce request, per fetch, per MiB produced and per idle tick, and
 * bench/cost-model.ts prices them at bench/prices.ts. The run measures the reference point and
 * the chart's sweep (1, 10, 100, 1000 records per request) in well under a minute; nothing is
 * cached on disk. `--write-docs` writes docs/COST.md and docs/cost-chart.svg.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createApp } from '../lib/api/app.ts';
import { AWS_TUNING_DEFAULTS, MAINTENANCE_DEFAULTS } from '../lib/config.ts';
import type { SluiceDeps } from '../lib/deps.ts';
import { LIMITS } from '../lib/limits.ts';
import { createMaintenance } from '../lib/services.ts';
import { LOG_TABLE } from '../lib/storage/tables.ts';
import { costChart, type Series } from './cost-chart.ts';
import {
  type Assumptions,
  type Bill,
  type Comparison,
  type HttpUse,
  type MeasuredProfile,
  type RequestUse,
  type S3Use,
  type Workload,
  DEFAULT_ASSUMPTIONS,
  MiB,
  NO_S3,
  apiGatewayUnits,
  compare,
  goal,
  kinesisShards,
  rates,
} from './cost-model.ts';
import { PRICES, type Price } from './prices.ts';
import { type BenchStack, type Requester, BenchOptions, call, fmtNum, inProcess, log, machine, movableClock, ownResources, postJson, startBenchStack, table } from './support.ts';

/** What the Sluice TypeScript client achieves with 1 KB records, pipelined (BENCHMARKS.md, `client`). */
const CLIENT_RECORDS_PER_REQUEST = 800;
const SWEEP = [1, 10, 100, 1000];
/** Without a latency model: AWS I/O added to the local wall time of a request (see docs/COST.md). */
const AWS_IO_MS = { produce: 40, fetch: 20, dynamodbCall: 8, s3Call: 20 };
const RETENTION_MS_IN_RUN = 3_600_000;
const IDLE_TICKS = 60;
/** Simulated minutes the produced requests are spread over (maintenance runs after each). */
const MINUTES_IN_RUN = 4;

// ---- accounting middleware ------------------------------------------------------------------

type Phase = 'setup' | 'produce' | 'fetch' | 'merge' | 'collect' | 'retention' | 'probe' | 'idle' | 'scan';

interface PhaseUse {
  s3: Map<string, S3Use & { deletes: number }>;
  wru: number;
  rru: number;
  ddbCalls: number;
  s3Calls: number;
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

class Accounting {
  phase: Phase = 'setup';
  private readonly byPhase = new Map<Phase, PhaseUse>();
  /** False once a DynamoDB data call answered without ConsumedCapacity. */
  capacityReported = true;

  use(p: Phase): PhaseUse {
    let u = this.byPhase.get(p);
    if (!u) this.byPhase.set(p, (u = { s3: new Map(), wru: 0, rru: 0, ddbCalls: 0, s3Calls: 0 }));
    return u;
  }

  reset(): void {
    this.byPhase.clear();
  }

  attachDynamo(client: DynamoDBClient): void {
    const stack = client.middlewareStack;
    stack.add(
      (next, context) => async (args) => {
        const name = (context.commandName ?? '').replace(/Command$/, '');
        const data = READS.has(name) || WRITES.has(name);
        const input = args.input as Record<string, unknown>;
        if (data && input.ReturnConsumedCapacity === undefined) input.ReturnConsumedCapacity = 'TOTAL';
        const phase = this.phase;
        const out = await next(args);
        const u = this.use(phase);
        u.ddbCalls++;
        if (data) {
          const cc = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
          const list = (Array.isArray(cc) ? cc : cc ? [cc] : []) as { CapacityUnits?: number }[];
          if (list.length === 0) this.capacityReported = false;
          const units = list.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
          if (WRITES.has(name)) u.wru += units;
          else u.rru += units;
        }
        return out;
      },
      { step: 'initialize', name: 'costCapacity' },
    );
  }

  attachS3(client: S3Client, classify: (bucket: string | undefined) => string): void {
    const stack = client.middlewareStack;
    stack.add(
      (next, context) => async (args) => {
        const name = (context.commandName ?? '').replace(/Command$/, '');
        const input = args.input as { Bucket?: string; Body?: unknown };
        const phase = this.phase;
        const out = await next(args);
        const u = this.use(phase);
        u.s3Calls++;
        const cls = classify(input.Bucket);
        const s = u.s3.get(cls) ?? { puts: 0, putBytes: 0, gets: 0, getBytes: 0, lists: 0, deletes: 0 };
        const mutable = s as { -readonly [K in keyof typeof s]: number };
        if (name === 'PutObject' || name === 'UploadPart' || name === 'CopyObject') {
          mutable.puts++;
          mutable.putBytes += bodyBytes(input.Body);
        } else if (name === 'GetObject' || name === 'HeadObject') {
          mutable.gets++;
          mutable.getBytes += Number((out.output as { ContentLength?: number }).ContentLength ?? 0);
        } else if (name.startsWith('List') || name === 'CreateMultipartUpload' || name === 'CompleteMultipartUpload') mutable.lists++;
        else if (name.startsWith('Delete')) mutable.deletes++;
        u.s3.set(cls, s);
        return out;
      },
      { step: 'initialize', name: 'costS3' },
    );
  }
}

function bodyBytes(body: unknown): number {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  if (ArrayBuffer.isView(body)) return body.byteLength;
  return 0;
}

// ---- the optional AWS latency model (bench/aws-latency.ts, when it exists) ------------------

interface LatencyModule {
  defaultLatencyModel(): unknown;
  injectLatency(client: unknown, service: 's3' | 'dynamodb', model: unknown, opts: { expressBuckets: ReadonlySet<string> }): void;
}

async function loadLatency(): Promise<LatencyModule | undefined> {
  const path = './aws-latency.ts';
  try {
    const mod = (await import(path)) as Partial<LatencyModule>;
    return typeof mod.injectLatency === 'function' && typeof mod.defaultLatencyModel === 'function' ? (mod as LatencyModule) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether ResourceNames has `expressBucket` (lib/ gains it with the express tier). */
function expressBucketSupported(): boolean {
  try {
    const src = readFileSync(new URL('../lib/storage/tables.ts', import.meta.url), 'utf8');
    return /expressBucket\??\s*:/.test(src);
  } catch {
    return false;
  }
}

// ---- DynamoDB item sizes --------------------------------------------------------------------

/** DynamoDB's size of an attribute value (names + values, the documented rules). */
function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-/, '').replace(/^0+/, '').replace('.', '').length / 2) + 1;
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + valueBytes(x), 0);
  if (v.L !== undefined) return 3 + v.L.reduce((n, x) => n + 1 + valueBytes(x), 0);
  if (v.SS !== undefined) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (v.NS !== undefined) return v.NS.reduce((n, s) => n + s.length / 2 + 1, 0);
  return 0;
}

function attrsBytes(item: Record<string, AttributeValue>, names?: readonly string[]): number {
  return Object.entries(item)
    .filter(([k]) => names === undefined || names.includes(k))
    .reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueBytes(v), 0);
}

/** Stored bytes of a log-table item: the item + 100 B, plus a copy (keys + projection + 100 B) in each index it appears in. */
function storedItemBytes(item: Record<string, AttributeValue>): number {
  let n = attrsBytes(item) + 100;
  const tableKeys = [LOG_TABLE.partitionKey.name, LOG_TABLE.sortKey.name];
  for (const gsi of LOG_TABLE.globalIndexes) {
    const keys = [gsi.partitionKey.name, ...('sortKey' in gsi && gsi.sortKey ? [gsi.sortKey.name] : [])];
    if (!keys.every((k) => item[k] !== undefined)) continue;
    n += attrsBytes(item, [...new Set([...tableKeys, ...keys, ...(gsi.nonKeyAttributes ?? [])])]) + 100;
  }
  return n;
}

async function scanEntries(dynamo: DynamoDBClient, tableName: string): Promise<{ entries: number; live: number; liveBytes: number; holeBytes: number }> {
  let start: Record<string, AttributeValue> | undefined;
  let entries = 0;
  let live = 0;
  let liveBytes = 0;
  let holeBytes = 0;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      if (Number(item.sk?.N ?? -1) < 0) continue;
      entries++;
      const bytes = storedItemBytes(item);
      if (item.obj !== undefined) {
        live++;
        liveBytes += bytes;
      } else holeBytes += bytes;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { entries, live, liveBytes, holeBytes };
}

// ---- the measurement run --------------------------------------------------------------------

interface PointConfig {
  readonly recordsPerRequest: number;
  readonly recordBytes: number;
  readonly partitions: number;
  readonly readers: number;
  readonly requests: number;
  readonly writeMiBps: number;
  /** Simulated minutes the requests are spread over (maintenance runs after each). */
  readonly minutes: number;
}

interface PointResult {
  readonly cfg: PointConfig;
  readonly standard: MeasuredProfile;
  readonly express: MeasuredProfile;
  /** The express-tier run's figures (when it was a run of its own). */
  readonly rawExpress?: PointResult['raw'];
  readonly raw: {
    readonly produceWallMs: number;
    readonly fetchWallMs: number;
    readonly fetchesPerReader: number;
    readonly recordMiB: number;
    readonly storedBytes: number;
    readonly ticks: { readonly lifecycle: number };
    readonly scale: number;
    readonly segmentTargetBytes: number;
    readonly passes: number;
    readonly probePassWru: number;
    readonly counts: Record<string, string>;
  };
}

interface Harness {
  readonly b: BenchStack;
  readonly acc: Accounting;
  readonly latency: boolean;
  readonly expressField: boolean;
  /** Buckets that are S3 Express (directory) buckets on the emulator. */
  readonly expressBuckets: Set<string>;
  lambdaMsOverride?: number;
}

function textValues(n: number, bytes: number): string[] {
  const text = randomBytes(Math.ceil((n * bytes * 3) / 4) + 3).toString('base64');
  return Array.from({ length: n }, (_, i) => text.slice(i * bytes, (i + 1) * bytes));
}

function sumS3(uses: Iterable<S3Use>): S3Use {
  let t = NO_S3;
  for (const s of uses) t = { puts: t.puts + s.puts, putBytes: t.putBytes + s.putBytes, gets: t.gets + s.gets, getBytes: t.getBytes + s.getBytes, lists: t.lists + s.lists };
  return t;
}

function divS3(s: S3Use, d: number): S3Use {
  return { puts: s.puts / d, putBytes: s.putBytes / d, gets: s.gets / d, getBytes: s.getBytes / d, lists: s.lists / d };
}

function minusS3(a: S3Use, b: S3Use): S3Use {
  const c = (x: number) => Math.max(0, x);
  return { puts: c(a.puts - b.puts), putBytes: c(a.putBytes - b.putBytes), gets: c(a.gets - b.gets), getBytes: c(a.getBytes - b.getBytes), lists: c(a.lists - b.lists) };
}

interface PointOptions {
  /** Run with the express tier's second bucket (when ResourceNames has `expressBucket`). */
  readonly expressRun: boolean;
  /** Idle ticks to measure; 0 = take `idleRef` (the idle tick does not depend on the workload). */
  readonly idleTicks: number;
  readonly idleRef?: { readonly standard: RequestUse; readonly express: RequestUse };
}

async function measurePoint(h: Harness, cfg: PointConfig, po: PointOptions): Promise<PointResult> {
  const { b, acc } = h;
  acc.reset();
  acc.phase = 'setup';
  const clock = movableClock();
  const own = await ownResources(b, 'cost');
  let names = own;
  if (po.expressRun) {
    const expressBucket = `${own.bucket}-express`;
    await b.clients.s3.send(new CreateBucketCommand({ Bucket: expressBucket }));
    h.expressBuckets.add(expressBucket);
    names = { ...own, expressBucket } as typeof own;
  }
  // With AWS latencies injected, the app runs with the aws backend's tuning (hedged segment
  // requests: a slow PUT or GET is sent twice), so the copies are counted as AWS would bill them.
  const deps: SluiceDeps = { ...b.deps, names, clock, ...(h.latency ? { tuning: { ...b.deps.tuning, ...AWS_TUNING_DEFAULTS } } : {}) };
  const writer = inProcess(createApp(deps));
  const readers: Requester[] = Array.from({ length: cfg.readers }, () => inProcess(createApp(deps)));
  const topic = `cost-${randomBytes(3).toString('hex')}`;
  await call(writer, '/v1/topics', postJson(JSON.stringify({ name: topic, partitions: cfg.partitions, config: { 'retention.ms': RETENTION_MS_IN_RUN } })));
  const producer = JSON.parse(await call(writer, '/v1/producers', postJson('{}'))) as { id: string; epoch: number };

  // How many produce requests one tail fetch covers at the workload's rate: a fetch answers as
  // soon as data is committed, so at most one per produce, and no more often than its round trip.
  const producesPerSec = (cfg.writeMiBps * MiB) / cfg.recordBytes / cfg.recordsPerRequest;
  const fetchEstimateMs = 60;
  const k = Math.max(1, Math.min(Math.floor(cfg.requests / 4), Math.round((producesPerSec * fetchEstimateMs) / 1000)));
  const maxBytes = Math.min(MiB, Math.floor(LIMITS.maxFetchBytes / cfg.partitions));

  const ends = new Array<number>(cfg.partitions).fill(0);
  const positions = readers.map(() => new Array<number>(cfg.partitions).fill(0));
  const readCounts = readers.map(() => 0);
  let produceWall = 0;
  let fetchWall = 0;
  let fetches = 0;
  let apiUnitsProduce = 0;
  let reqBytesProduce = 0;
  let respBytesProduce = 0;
  let apiUnitsFetch = 0;
  let reqBytesFetch = 0;
  let respBytesFetch = 0;
  // Maintenance runs every simulated minute, as the schedule does, over `perMinute` produce
  // requests. A simulated minute holds fewer bytes than a real one (the run is short), so the
  // merge's segment target is scaled by the same factor: segments then grow, get re-merged and
  // settle as they would at the workload's rate (a byte is copied the same number of times).
  const perMinute = Math.max(1, Math.ceil(cfg.requests / cfg.minutes));
  const scale = (perMinute * cfg.recordsPerRequest * cfg.recordBytes) / (60 * cfg.writeMiBps * MiB);
  const segmentTargetBytes = Math.max(64 * 1024, Math.round(MAINTENANCE_DEFAULTS.segmentTargetBytes * scale));
  const m = createMaintenance(deps, { segmentTargetBytes });
  const tickMs = { lifecycle: 0, idle: 0 };
  let lifecycleTicks = 0;
  let lifecyclePasses = 0;
  const run = async (phase: Phase, advanceMs: number) => {
    clock.advance(advanceMs);
    acc.phase = phase;
    const t0 = performance.now();
    const reports = await m.runUntilIdle();
    const ms = performance.now() - t0;
    acc.phase = 'scan';
    if (phase !== 'idle' && phase !== 'probe') lifecyclePasses += reports.reduce((n, x) => n + x.passes.length, 0);
    return { ticks: reports.length, ms, passes: reports.reduce((n, x) => n + x.passes.length, 0) };
  };
  for (let i = 0; i < cfg.requests; i++) {
    const values = textValues(cfg.recordsPerRequest, cfg.recordBytes);
    const body = JSON.stringify({
      encoding: 'string',
      producer: { id: producer.id, epoch: producer.epoch, sequence: i },
      records: values.map((value, j) => ({ key: `key-${i}-${j}`, value })),
    });
    acc.phase = 'produce';
    const t0 = performance.now();
    const answer = await call(writer, `/v1/topics/${topic}/records`, postJson(body));
    produceWall += performance.now() - t0;
    const reqBytes = Buffer.byteLength(body);
    const respBytes = Buffer.byteLength(answer);
    apiUnitsProduce += apiGatewayUnits(reqBytes + respBytes);
    reqBytesProduce += reqBytes;
    respBytesProduce += respBytes;
    for (const o of (JSON.parse(answer) as { offsets: { partition: number; offset: number }[] }).offsets) ends[o.partition] = Math.max(ends[o.partition]!, o.offset + 1);

    const readNow = (i + 1) % k === 0 || (i + 1) % perMinute === 0 || i === cfg.requests - 1;
    acc.phase = 'fetch';
    for (let r = 0; r < (readNow ? readers.length : 0); r++) {
      const pos = positions[r]!;
      while (pos.some((p, j) => p < ends[j]!)) {
        const fbody = JSON.stringify({ partitions: pos.map((offset, partition) => ({ topic, partition, offset })), maxBytes, waitMs: 5000 });
        const t1 = performance.now();
        const text = await call(readers[r]!, '/v1/fetch', postJson(fbody));
        fetchWall += performance.now() - t1;
        fetches++;
        const fb = Buffer.byteLength(fbody);
        const tb = Buffer.byteLength(text);
        apiUnitsFetch += apiGatewayUnits(fb + tb);
        reqBytesFetch += fb;
        respBytesFetch += tb;
        const res = JSON.parse(text) as { partitions: { partition: number; nextOffset?: number; records?: unknown[]; error?: unknown }[] };
        for (const p of res.partitions) {
          if (p.error !== undefined) throw new Error(`fetch of partition ${p.partition} failed: ${JSON.stringify(p.error)}`);
          readCounts[r]! += p.records?.length ?? 0;
          if (p.nextOffset !== undefined) pos[p.partition] = p.nextOffset;
        }
      }
    }
    if ((i + 1) % perMinute === 0) {
      const r = await run('merge', 60_000);
      lifecycleTicks += r.ticks;
      tickMs.lifecycle += r.ms;
    }
  }
  const produced = cfg.requests * cfg.recordsPerRequest;
  for (let r = 0; r < readers.length; r++) if (readCounts[r] !== produced) throw new Error(`reader ${r} read ${readCounts[r]} records, ${produced} produced`);

  acc.phase = 'scan';
  const described = JSON.parse(await call(writer, `/v1/topics/${topic}`)) as { partitions: { sizeBytes: number }[] };
  const storedBytes = described.partitions.reduce((n, p) => n + p.sizeBytes, 0);
  const recordBytesTotal = produced * cfg.recordBytes;
  const recordMiB = recordBytesTotal / MiB;

  for (const [phase, advance] of [
    ['merge', MAINTENANCE_DEFAULTS.mergeMinAgeMs + 1000],
    ['collect', MAINTENANCE_DEFAULTS.gcGraceMs + 60_000],
  ] as const) {
    const r = await run(phase, advance);
    lifecycleTicks += r.ticks;
    tickMs.lifecycle += r.ms;
  }
  const afterMerge = await scanEntries(b.clients.dynamo, names.tables.log);
  for (const [phase, advance] of [
    ['retention', RETENTION_MS_IN_RUN + 60_000],
    ['collect', MAINTENANCE_DEFAULTS.gcGraceMs + 60_000],
    ['collect', MAINTENANCE_DEFAULTS.gcSweepIntervalMs + 60_000],
  ] as const) {
    const r = await run(phase, advance);
    lifecycleTicks += r.ticks;
    tickMs.lifecycle += r.ms;
  }
  const afterRetention = await scanEntries(b.clients.dynamo, names.tables.log);
  let idleTicks = 0;
  for (let t = 0; t < po.idleTicks; t++) {
    const r = await run('idle', 60_000);
    idleTicks += r.ticks;
    tickMs.idle += r.ms;
  }
  // What one partition pass costs by itself (reading the partition's state and new entries,
  // the summary write, stamping): one record into each partition, then one maintenance run.
  // The run's simulated minutes hold less data than real ones, so it makes more passes per MiB
  // than the workload would; this figure corrects for that.
  acc.phase = 'setup';
  await call(writer, `/v1/topics/${topic}/records`, postJson(JSON.stringify({ encoding: 'string', records: Array.from({ length: cfg.partitions }, (_, partition) => ({ key: 'probe', value: 'x', partition })) })));
  const probe = await run('probe', 60_000);

  // ---- per-unit profiles ----
  const isExpressBucket = (bucket: string) => h.expressBuckets.has(bucket);
  const phaseS3 = (p: Phase, cls: 'standard' | 'express', tier: 'standard' | 'express'): S3Use => {
    const u = acc.use(p);
    const all = [...u.s3.entries()];
    if (tier === 'standard') return cls === 'standard' ? sumS3(all.map(([, s]) => s)) : NO_S3;
    if (h.expressField) return sumS3(all.filter(([bucket]) => isExpressBucket(bucket) === (cls === 'express')).map(([, s]) => s));
    // TODO(express tier): until ResourceNames has `expressBucket`, the express tier is priced by
    // treating the produce path's segment PUTs, the tail reads of fresh data and the merge's
    // source reads as S3 Express requests; the merged segments go to S3 Standard.
    const s = sumS3(all.map(([, x]) => x));
    const expressPart: S3Use =
      p === 'produce' ? { ...NO_S3, puts: s.puts, putBytes: s.putBytes } : p === 'fetch' || p === 'merge' ? { ...NO_S3, gets: s.gets, getBytes: s.getBytes } : NO_S3;
    return cls === 'express' ? expressPart : minusS3(s, expressPart);
  };
  const ioMs = (p: Phase) => {
    const u = acc.use(p);
    return u.ddbCalls * AWS_IO_MS.dynamodbCall + u.s3Calls * AWS_IO_MS.s3Call;
  };
  const produceMs = h.lambdaMsOverride ?? produceWall / cfg.requests + (h.latency ? 0 : AWS_IO_MS.produce);
  const fetchMs = fetchWall / fetches + (h.latency ? 0 : AWS_IO_MS.fetch);
  const idle = acc.use('idle');
  const idleTickMs = idleTicks === 0 ? 0 : (tickMs.idle + (h.latency ? 0 : ioMs('idle'))) / idleTicks;
  const lifecyclePhases: Phase[] = ['merge', 'collect', 'retention'];
  const lifecycle = lifecyclePhases.map((p) => acc.use(p));
  const lifecycleMs = tickMs.lifecycle + (h.latency ? 0 : lifecyclePhases.reduce((n, p) => n + ioMs(p), 0));

  const profile = (tier: 'standard' | 'express'): MeasuredProfile => {
    const idleUse: RequestUse =
      idleTicks === 0
        ? po.idleRef![tier]
        : {
            standard: divS3(phaseS3('idle', 'standard', tier), idleTicks),
            express: divS3(phaseS3('idle', 'express', tier), idleTicks),
            wru: idle.wru / idleTicks,
            rru: idle.rru / idleTicks,
            lambdaMs: idleTickMs,
          };
    // Maintenance per MiB: the lifecycle's use minus what its ticks would cost idle (that part is the schedule's).
    // One pass alone (the probe, less what its ticks cost idle), per pass.
    const probeUse = acc.use('probe');
    const perPass = {
      wru: Math.max(0, probeUse.wru - probe.ticks * idleUse.wru) / Math.max(1, probe.passes),
      rru: Math.max(0, probeUse.rru - probe.ticks * idleUse.rru) / Math.max(1, probe.passes),
      ms: Math.max(0, probe.ms + (h.latency ? 0 : ioMs('probe')) - probe.ticks * idleUse.lambdaMs) / Math.max(1, probe.passes),
    };
    // At the workload's rate every partition written in a minute gets one pass a minute.
    const workloadPassesPerMiB = Math.min(cfg.partitions, producesPerSec * 60 * (afterMerge.entries / cfg.requests)) / (60 * cfg.writeMiBps);
    const extraPasses = Math.max(0, lifecyclePasses - workloadPassesPerMiB * recordMiB);
    // Merged segments are 1/scale times smaller than the workload's (the scaled target), so the
    // merge's PUTs, one per segment, are counted at the workload's segment size.
    const segmentPuts = (cls: 'standard' | 'express') => phaseS3('merge', cls, tier).puts * (1 - Math.min(1, scale));
    const lifeStd = minusS3(sumS3(lifecyclePhases.map((p) => phaseS3(p, 'standard', tier))), { ...divS3(idleUse.standard, 1 / lifecycleTicks), puts: idleUse.standard.puts * lifecycleTicks + segmentPuts('standard') });
    const lifeExp = minusS3(sumS3(lifecyclePhases.map((p) => phaseS3(p, 'express', tier))), { ...divS3(idleUse.express, 1 / lifecycleTicks), puts: idleUse.express.puts * lifecycleTicks + segmentPuts('express') });
    const perMiB: RequestUse = {
      standard: divS3(lifeStd, recordMiB),
      express: divS3(lifeExp, recordMiB),
      wru: Math.max(0, lifecycle.reduce((n, u) => n + u.wru, 0) - lifecycleTicks * idleUse.wru - extraPasses * perPass.wru) / recordMiB,
      rru: Math.max(0, lifecycle.reduce((n, u) => n + u.rru, 0) - lifecycleTicks * idleUse.rru - extraPasses * perPass.rru) / recordMiB,
      lambdaMs: Math.max(0, lifecycleMs - lifecycleTicks * idleUse.lambdaMs - extraPasses * perPass.ms) / recordMiB,
    };
    const pu = acc.use('produce');
    const fu = acc.use('fetch');
    const produce: HttpUse = {
      standard: divS3(phaseS3('produce', 'standard', tier), cfg.requests),
      express: divS3(phaseS3('produce', 'express', tier), cfg.requests),
      wru: pu.wru / cfg.requests,
      rru: pu.rru / cfg.requests,
      lambdaMs: produceMs,
      apiUnits: apiUnitsProduce / cfg.requests,
      requestBytes: reqBytesProduce / cfg.requests,
      responseBytes: respBytesProduce / cfg.requests,
    };
    const fetch = {
      standard: divS3(phaseS3('fetch', 'standard', tier), fetches),
      express: divS3(phaseS3('fetch', 'express', tier), fetches),
      wru: fu.wru / fetches,
      rru: fu.rru / fetches,
      lambdaMs: fetchMs,
      apiUnits: apiUnitsFetch / fetches,
      requestBytes: reqBytesFetch / fetches,
      responseBytes: respBytesFetch / fetches,
      producesPerFetch: (cfg.requests * cfg.readers) / fetches,
    };
    return {
      produce,
      fetch,
      maintenancePerMiB: perMiB,
      maintenanceIdleTick: idleUse,
      storedRatio: storedBytes / recordBytesTotal,
      ddbEntryBytes: afterMerge.live > 0 ? afterMerge.liveBytes / afterMerge.live : 0,
      ddbHoleBytes: afterRetention.entries - afterRetention.live > 0 ? afterRetention.holeBytes / (afterRetention.entries - afterRetention.live) : 0,
      entriesPerProduce: afterMerge.entries / cfg.requests,
    };
  };
  const countsOf = (p: Phase) => {
    const u = acc.use(p);
    const s = sumS3(u.s3.values());
    return `${fmtNum(u.ddbCalls)} DynamoDB calls (${fmtNum(u.wru, 0)} WRU, ${fmtNum(u.rru, 1)} RRU), S3: ${fmtNum(s.puts)} PUT, ${fmtNum(s.gets)} GET, ${fmtNum(s.lists)} LIST`;
  };
  return {
    cfg,
    standard: profile('standard'),
    express: profile('express'),
    raw: {
      produceWallMs: produceWall / cfg.requests,
      fetchWallMs: fetchWall / fetches,
      fetchesPerReader: fetches / cfg.readers,
      recordMiB,
      storedBytes,
      ticks: { lifecycle: lifecycleTicks },
      scale,
      segmentTargetBytes,
      passes: lifecyclePasses,
      probePassWru: Math.max(0, acc.use('probe').wru) / Math.max(1, probe.passes),
      counts: Object.fromEntries((['produce', 'fetch', 'merge', 'collect', 'retention', 'idle'] as Phase[]).map((p) => [p, countsOf(p)])),
    },
  };
}

// ---- formatting -----------------------------------------------------------------------------

function usd(v: number): string {
  if (v === 0) return '$0';
  if (v < 0.01) return '< $0.01';
  return v < 100 ? `$${v.toFixed(2)}` : `$${fmtNum(v)}`;
}

function qty(v: number): string {
  return v >= 100 ? fmtNum(v) : v >= 1 ? fmtNum(v, 1) : fmtNum(v, 3);
}

function billTable(b: Bill): string {
  return table(
    ['line item', 'quantity per month:', 'unit', '$ per month:'],
    [...b.items.map((i) => [i.item, qty(i.quantity), i.unit, usd(i.usd)]), ['**total**', '', '', `**${usd(b.total)}**`], ['idle (no traffic, data retained)', '', '', usd(b.idle)]],
  );
}

function s3Text(s: S3Use): string {
  return `${fmtNum(s.puts, 3)} PUT (${fmtNum(s.putBytes / 1024, 1)} KiB), ${fmtNum(s.gets, 3)} GET (${fmtNum(s.getBytes / 1024, 1)} KiB), ${fmtNum(s.lists, 3)} LIST`;
}

function profileTable(m: MeasuredProfile, express: MeasuredProfile, tierExpress: boolean): string {
  const rows: string[][] = [
    ['produce request', `${s3Text(m.produce.standard)}`, fmtNum(m.produce.wru, 2), fmtNum(m.produce.rru, 2), fmtNum(m.produce.apiUnits, 2), fmtNum(m.produce.lambdaMs, 1)],
    ['tail fetch', `${s3Text(m.fetch.standard)}`, fmtNum(m.fetch.wru, 2), fmtNum(m.fetch.rru, 2), fmtNum(m.fetch.apiUnits, 2), fmtNum(m.fetch.lambdaMs, 1)],
    ['maintenance per MiB produced', s3Text(m.maintenancePerMiB.standard), fmtNum(m.maintenancePerMiB.wru, 2), fmtNum(m.maintenancePerMiB.rru, 2), '–', fmtNum(m.maintenancePerMiB.lambdaMs, 1)],
    ['maintenance idle tick', s3Text(m.maintenanceIdleTick.standard), fmtNum(m.maintenanceIdleTick.wru, 2), fmtNum(m.maintenanceIdleTick.rru, 2), '–', fmtNum(m.maintenanceIdleTick.lambdaMs, 1)],
  ];
  if (tierExpress) {
    rows.push(['express tier: produce request, S3 Express', s3Text(express.produce.express), '', '', '', '']);
    rows.push(['express tier: tail fetch, S3 Express', s3Text(express.fetch.express), '', '', '', '']);
    rows.push(['express tier: maintenance per MiB, S3 Express', s3Text(express.maintenancePerMiB.express), '', '', '', '']);
  }
  return table(['measured, per unit', 'S3 (Standard unless stated)', 'WRU:', 'RRU:', 'API GW billed requests:', 'Lambda ms:'], rows);
}

function priceRows(): string[][] {
  return Object.entries(PRICES).map(([id, p]: [string, Price]) => [
    id,
    `$${p.usd}`,
    p.unit,
    p.source ? `<${p.source}>` : 'none found',
    p.asOf,
    p.verified ? 'yes' : '**unverified**',
    p.note ?? '',
  ]);
}

// ---- the command ----------------------------------------------------------------------------

export async function main(argv: string[]): Promise<void> {
  const writeDocs = argv.includes('--write-docs');
  const args = argv.filter((a) => a !== '--write-docs');
  const known = ['write-mib-s', 'record-bytes', 'records-per-request', 'readers', 'retention-days', 'partitions', 'tier', 'requests', 'sweep-requests', 'lambda-ms'];
  const o = new BenchOptions(args, known);
  const w: Workload = {
    writeMiBps: o.number('write-mib-s', 1, true),
    recordBytes: o.number('record-bytes', 1024),
    recordsPerRequest: o.number('records-per-request', CLIENT_RECORDS_PER_REQUEST),
    readers: o.number('readers', 3),
    retentionDays: o.number('retention-days', 7, true),
    partitions: o.number('partitions', 4),
  };
  const tier = o.choice('tier', ['standard', 'express'] as const, 'standard');
  const requests = o.number('requests', 24);
  const sweepRequests = o.number('sweep-requests', 8);
  const lambdaMsOverride = args.some((a) => a.startsWith('--lambda-ms')) ? o.number('lambda-ms', 1, true) : undefined;
  const started = Date.now();
  const where = machine();

  log('starting DynamoDB Local + s3rver ...');
  const b = await startBenchStack();
  const acc = new Accounting();
  const latencyMod = await loadLatency();
  const expressField = expressBucketSupported();
  const expressBuckets = new Set<string>();
  acc.attachDynamo(b.clients.dynamo);
  acc.attachS3(b.clients.s3, (bucket) => bucket ?? '?');
  if (latencyMod) {
    const model = latencyMod.defaultLatencyModel();
    // The same Set: express buckets created later by the run are routed to the express distributions.
    latencyMod.injectLatency(b.clients.s3, 's3', model, { expressBuckets });
    latencyMod.injectLatency(b.clients.dynamo, 'dynamodb', model, { expressBuckets });
  }
  const h: Harness = { b, acc, latency: latencyMod !== undefined, expressField, expressBuckets, ...(lambdaMsOverride === undefined ? {} : { lambdaMsOverride }) };
  const points = new Map<number, PointResult>();
  try {
    // The reference point first (it measures the idle ticks), then the chart's sweep with fewer requests.
    const xs = [w.recordsPerRequest, ...(writeDocs ? SWEEP.filter((x) => x !== w.recordsPerRequest) : [])];
    let idleRef: { standard: RequestUse; express: RequestUse } | undefined;
    for (const x of xs) {
      const n = x === w.recordsPerRequest ? requests : sweepRequests;
      // The sweep's points take one reader: what a fetch costs does not depend on how many others read.
      const cfg: PointConfig = { recordsPerRequest: x, recordBytes: w.recordBytes, partitions: w.partitions, readers: x === w.recordsPerRequest ? w.readers : 1, requests: n, writeMiBps: w.writeMiBps, minutes: x === w.recordsPerRequest ? MINUTES_IN_RUN : 2 };
      const t0 = performance.now();
      const idleTicks = idleRef === undefined ? IDLE_TICKS : 0;
      log(`measuring ${x} records of ${w.recordBytes} B per request: ${n} produce requests, ${cfg.readers} tail reader${cfg.readers === 1 ? '' : 's'}, maintenance over the data's life${idleTicks ? `, ${idleTicks} idle ticks` : ''}${expressField ? ' (S3 Standard run, then express-tier run)' : ''} ...`);
      const std = await measurePoint(h, cfg, { expressRun: false, idleTicks, ...(idleRef ? { idleRef } : {}) });
      let point = std;
      if (expressField) {
        const exp = await measurePoint(h, cfg, { expressRun: true, idleTicks, ...(idleRef ? { idleRef } : {}) });
        point = { ...std, express: exp.express, rawExpress: exp.raw };
      }
      idleRef ??= { standard: point.standard.maintenanceIdleTick, express: point.express.maintenanceIdleTick };
      points.set(x, point);
      log(`  done in ${fmtNum((performance.now() - t0) / 1000, 1)} s`);
    }
  } finally {
    await b.stop();
  }
  const measuredS = (Date.now() - started) / 1000;

  const ref = points.get(w.recordsPerRequest)!;
  const a: Assumptions = DEFAULT_ASSUMPTIONS;
  const c: Comparison = compare(w, ref.standard, ref.express, PRICES, a);
  const chosen = tier === 'express' ? c.sluiceExpress : c.sluice;
  const g = goal(c, chosen);
  const gStd = goal(c, c.sluice);
  const gExp = goal(c, c.sluiceExpress);
  const r = rates(w, ref.standard, a);
  const others = [c.kinesisOnDemand, c.kinesisProvisioned, c.mskServerless, c.warpstream];
  const summary = table(
    ['system', '$ per month:', 'idle $ per month:', 'Sluice (S3 Standard) ÷ this:'],
    [c.sluice, c.sluiceExpress, ...others].map((bill) => [bill.system, usd(bill.total), usd(bill.idle), bill === c.sluice ? '–' : `${fmtNum((c.sluice.total / bill.total) * 100, 0)}%`]),
  );
  const when = new Date(started).toISOString().slice(0, 16).replace('T', ' ');
  const cmd = `npm run cost -- --write-mib-s ${w.writeMiBps} --record-bytes ${w.recordBytes} --records-per-request ${w.recordsPerRequest} --readers ${w.readers} --retention-days ${w.retentionDays}${tier === 'express' ? ' --tier express' : ''}`;
  const verdict = (name: string, x: typeof g) =>
    `${name} costs ${fmtNum(x.kinesisRatio * 100, 0)}% of Kinesis on demand and ${fmtNum(x.mskRatio * 100, 0)}% of MSK Serverless`;
  const latencyText = h.latency
    ? "AWS latencies were injected on the clients (bench/aws-latency.ts, its default model), so the measured wall time of a request is its billed duration; the app ran with the aws backend's tuning, so its hedged segment requests (a PUT or GET still unanswered at about the latency's p90 is sent again) are in the counts. Requests were sent one at a time, so none shared a group commit (at about one produce request a second, few would)."
    : lambdaMsOverride !== undefined
      ? `Produce requests are billed at --lambda-ms ${lambdaMsOverride} ms each.`
      : `No AWS latency model was available, so a request's billed duration is its local wall time plus the AWS I/O it would wait for: +${AWS_IO_MS.produce} ms per produce request (one S3 PUT and the DynamoDB writes), +${AWS_IO_MS.fetch} ms per fetch, and for maintenance +${AWS_IO_MS.dynamodbCall} ms per DynamoDB call and +${AWS_IO_MS.s3Call} ms per S3 call as if sequential (override the produce figure with --lambda-ms).`;

  // The consumers' Lambda time: how large it is among Sluice's items, and at which memory.
  const readerItem = c.sluice.items.find((i) => i.item.startsWith('Lambda GB-s: tail'))!;
  const byCost = [...c.sluice.items].sort((x, y) => y.usd - x.usd);
  const readerRank = byCost.indexOf(readerItem) + 1;
  const perReaderGbS = r.seconds * (a.fetchMemoryMb / 1024);
  const readersText =
    `**${readerRank === 1 ? "The largest item is the consumers' Lambda time" : `The consumers' Lambda time is the ${['', '', 'second', 'third', 'fourth', 'fifth'][readerRank] ?? `${readerRank}th`}-largest item (after ${byCost.slice(0, readerRank - 1).map((i) => `${i.item}, ${usd(i.usd)}`).join('; ')})`}.** ` +
    `A tail consumer always has one long poll in flight (it waits up to ${a.fetchWaitMs / 1000} s for data and asks again as soon as it is answered), and Lambda bills an invocation for its whole duration, waiting included: each reader keeps one invocation of the fetch function running all month (${fmtNum(perReaderGbS, 0)} GB-s, ${usd(perReaderGbS * PRICES.lambdaArmPerGbSecond.usd)} per reader). ` +
    `The read routes (fetch, multi-fetch, offsets) run in a function of their own with ${a.fetchMemoryMb} MB (SluiceLog \`fetchMemorySize\`), since a long poll is a wait, not work; produce and maintenance keep ${a.lambdaMemoryMb} MB (\`memorySize\`) for compression and merging. ` +
    `At ${a.lambdaMemoryMb} MB for every route the readers' item would be ${usd(readerItem.usd * (a.lambdaMemoryMb / a.fetchMemoryMb))}. Everything a fetch does besides waiting is small: a DynamoDB Query per partition and a GET per produced object it reads.`;

  const console_ = [
    `Sluice cost model, measured ${when} UTC on ${where} (measurement ${fmtNum(measuredS, 0)} s).`,
    `Workload: ${w.writeMiBps} MiB/s of ${w.recordBytes}-byte records, ${w.recordsPerRequest} records per produce request (${fmtNum(r.producesPerSec, 2)} requests/s), ${w.readers} tail readers, ${w.retentionDays} days retention, ${w.partitions} partitions.`,
    '',
    summary,
    '',
    `${verdict(chosen.system, g)}.`,
    '',
    `${chosen.system}:`,
    billTable(chosen),
    '',
    profileTable(ref.standard, ref.express, tier === 'express'),
  ].join('\n');
  console.log(console_);

  if (!writeDocs) return;

  // ---- docs/COST.md + the chart ----
  const sweep = [...points.keys()].sort((x, y) => x - y);
  const at = (x: number) => compare({ ...w, recordsPerRequest: x }, points.get(x)!.standard, points.get(x)!.express, PRICES, a);
  const flat = (name: string, color: string, pick: (c: Comparison) => Bill, dashed = false): Series => ({ name, color, dashed, points: [[sweep[0]!, pick(c).total], [sweep.at(-1)!, pick(c).total]] });
  const svg = costChart(
    [
      { name: 'Sluice, S3 Standard', color: '#1f77b4', markers: true, points: sweep.map((x) => [x, at(x).sluice.total] as const) },
      { name: 'Sluice, S3 Express tier', color: '#17becf', markers: true, dashed: true, points: sweep.map((x) => [x, at(x).sluiceExpress.total] as const) },
      flat('Kinesis on demand', '#d62728', (x) => x.kinesisOnDemand),
      flat('Kinesis provisioned', '#ff7f0e', (x) => x.kinesisProvisioned, true),
      flat('MSK Serverless', '#9467bd', (x) => x.mskServerless),
      flat('WarpStream BYOC', '#2ca02c', (x) => x.warpstream, true),
    ],
    {
      title: `Monthly cost at ${w.writeMiBps} MiB/s of ${w.recordBytes} B records, ${w.readers} readers, ${w.retentionDays} days retention`,
      subtitle: `us-east-1 list prices; Sluice measured at ${sweep.join(', ')} records per produce request (${when} UTC)`,
      referenceX: w.recordsPerRequest,
    },
  );
  writeFileSync(new URL('../docs/cost-chart.svg', import.meta.url), svg);

  // Where Sluice's line crosses each of the others (log-log interpolation between measured points).
  const crossing = (level: number): number | undefined => {
    for (let i = 1; i < sweep.length; i++) {
      const [xa, xb] = [sweep[i - 1]!, sweep[i]!];
      const [ya, yb] = [at(xa).sluice.total, at(xb).sluice.total];
      if (ya > level && yb <= level) {
        const t = (Math.log(ya) - Math.log(level)) / (Math.log(ya) - Math.log(yb));
        return Math.exp(Math.log(xa) + t * (Math.log(xb) - Math.log(xa)));
      }
    }
    return undefined;
  };
  const round = (x: number) => (x >= 100 ? Math.round(x / 10) * 10 : Math.round(x));
  const below: string[] = [];
  const above: string[] = [];
  for (const bill of others) {
    const x = crossing(bill.total);
    if (x !== undefined) below.push(`${bill.system} from about ${fmtNum(round(x), 0)} records per request`);
    else if (at(sweep.at(-1)!).sluice.total > bill.total) above.push(bill.system);
    else below.push(`${bill.system} at every batching measured`);
  }
  const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);
  const crossings = (
    (below.length ? `On S3 Standard, Sluice costs less than ${list(below)}. ` : '') +
    (above.length ? `It costs more than ${list(above)} at every batching measured. ` : '')
  ).trim();
  const sweepTable = table(
    ['records per request:', 'produce requests/s:', 'Sluice S3 Standard:', 'Sluice Express tier:', 'of which API Gateway + Lambda:', 'of which DynamoDB:', 'of which S3 requests:'],
    sweep.map((x) => {
      const cc = at(x);
      const sum = (pred: (item: string) => boolean) => cc.sluice.items.filter((i) => pred(i.item)).reduce((n, i) => n + i.usd, 0);
      return [
        String(x),
        fmtNum(rates({ ...w, recordsPerRequest: x }, points.get(x)!.standard, a).producesPerSec, 2),
        usd(cc.sluice.total),
        usd(cc.sluiceExpress.total),
        usd(sum((i) => i.startsWith('API') || i.startsWith('Lambda'))),
        usd(sum((i) => i.startsWith('DynamoDB') || i.includes(': DynamoDB') || i.includes('schedule'))),
        usd(sum((i) => /S3 .*(PUT|GET|LIST)/.test(i))),
      ];
    }),
  );
  const measuredRows = sweep.map((x) => {
    const p = points.get(x)!;
    return [String(x), fmtNum(p.raw.recordMiB, 2), fmtNum(p.raw.storedBytes / (p.raw.recordMiB * MiB) * 100, 0) + '%', fmtNum(p.raw.produceWallMs, 1), fmtNum(p.raw.fetchWallMs, 1), fmtNum(p.raw.fetchesPerReader, 1), fmtNum(p.standard.produce.wru, 1), fmtNum(p.standard.entriesPerProduce, 1), fmtNum(p.standard.ddbEntryBytes, 0), fmtNum(p.standard.ddbHoleBytes, 0)];
  });
  const unverified = Object.entries(PRICES).filter(([, p]) => !p.verified).map(([id]) => `\`${id}\``);
  const sluiceUnverified = unverified.filter((id) => /^`(apiGw|lambda|s3|ddb)/.test(id));
  const shards = kinesisShards(w);
  const doc = `# What Sluice costs

<!-- Generated by \`npm run cost -- --write-docs\` (bench/cost.ts); edit the generator, not this file. -->

**At ${w.writeMiBps} MiB/s in, ${w.readers} readers and ${w.retentionDays} days of retention, Sluice costs about ${usd(c.sluice.total)} a month (${usd(c.sluiceExpress.total)} with the S3 Express tier); Kinesis Data Streams on demand ${usd(c.kinesisOnDemand.total)}, MSK Serverless ${usd(c.mskServerless.total)}.** With no traffic at all, the retained data costs ${usd(c.sluice.idle)} a month on Sluice (storage and the maintenance schedule), against ${usd(c.kinesisOnDemand.idle)} on Kinesis on demand and ${usd(c.mskServerless.idle)} on MSK Serverless.

Measured ${when} UTC; prices: AWS us-east-1 list prices (no free tier, no savings plans), each with its source and date below. ${unverified.length} of the ${Object.keys(PRICES).length} prices could not be checked against a published page and are marked **unverified**${sluiceUnverified.length === 0 ? "; they are all the competitors' (Kinesis, MSK Serverless, WarpStream), none of Sluice's" : ` (Sluice's: ${sluiceUnverified.join(', ')})`}.

## The reference workload

${w.writeMiBps} MiB/s of ${w.recordBytes}-byte records (random text values, keyed) into one topic of ${w.partitions} partitions, ${w.recordsPerRequest} records per produce request, ${w.readers} consumers that each read everything as it arrives, ${w.retentionDays} days of retention, a 730-hour month: ${fmtNum(r.gibPerMonth, 0)} GiB in per month, ${fmtNum(r.retainedGiB, 0)} GiB retained.

${w.recordsPerRequest} records per request is what the Sluice TypeScript client achieves with 1 KB records sent without awaiting each one (its batches fill to 1 MiB on the wire; see BENCHMARKS.md, \`client\`). The chart below shows what other batching costs.

${summary}

On this workload:
- ${verdict('Sluice on S3 Standard', gStd)}.
- ${verdict('Sluice with the S3 Express tier', gExp)}.

![monthly cost against records per produce request](cost-chart.svg)

${sweepTable}

Sluice's bill is mostly per request: API Gateway, Lambda, an S3 PUT and the DynamoDB writes are paid per produce request whatever it carries, so batching is what makes it cheap. ${crossings} Kinesis, MSK and WarpStream charge by the byte and the hour, so their lines are flat.

## Sluice's bill, line by line

${billTable(c.sluice)}

With the S3 Express tier:

${billTable(c.sluiceExpress)}

${readersText}

## The others

Kinesis Data Streams on demand:

${billTable(c.kinesisOnDemand)}

Kinesis Data Streams provisioned:

${billTable(c.kinesisProvisioned)}

MSK Serverless:

${billTable(c.mskServerless)}

WarpStream BYOC:

${billTable(c.warpstream)}

How they are modelled, each assumption in the others' favour where there was a choice:
- **Kinesis on demand**: stream-hours, GiB in, GiB out (each of the ${w.readers} readers reads everything, shared-throughput consumers), and extended retention for what is kept beyond the included 24 h (up to 7 days). Producers are assumed to aggregate records (the KPL), so the per-record rounding up to 1 KB adds nothing (with 1,024-byte values plus a key, unaggregated records would each be billed as 2 KB).
- **Kinesis provisioned**: ${shards} shards: enough for the write rate (1 MB/s per shard; with aggregation the 1,000 records/s limit counts 25 KB aggregates) and for ${w.readers} readers sharing each shard's 2 MB/s of reads (enhanced fan-out would add per-consumer-shard-hour and per-GB charges). PUT payload units of 25 KB, extended retention per shard-hour.
- **MSK Serverless**: cluster-hours, ${w.partitions} partition-hours, GiB in and out and GiB-months stored, on the Kafka wire: producers compress with zstd as Sluice stores it, so the bytes are the measured ${fmtNum(ref.standard.storedRatio * 100, 0)}% of the record bytes.
- **WarpStream BYOC**: WarpStream's fee (Fundamentals cluster tier, uncompressed GiB written and stored) plus the customer's AWS resources: ${a.warpstreamAgents} agents (m7g.large) and S3 (a PUT per agent every 250 ms, the default batch interval, and the compressed data's storage). Agents' GETs and inter-AZ traffic are not counted.
- Nowhere counted: data transfer (clients in the same region), CloudWatch logs and metrics, VPC endpoints, and the EventBridge Scheduler invocations (14 million a month are free; Sluice's schedule makes ${fmtNum(r.ticksPerMonth, 0)}).

## How Sluice is priced: the measurement

\`npm run cost\` measures what a produce request, a tail fetch, a MiB of maintenance and an idle maintenance tick cost in AWS calls, by running the real code on the local stack (DynamoDB Local and s3rver), then prices those counts. Nothing is typed in by hand except the prices.

- **Produce**: ${requests} produce requests of ${w.recordsPerRequest} records (at the chart's other points ${sweepRequests} requests and one reader), sent to the real app (the same Hono app the Lambda function serves) as the client sends them: idempotent (a producer id, epoch and sequence), keyed, so a request touches every partition.
- **Tail consumers**: each of the ${w.readers} readers is its own app instance (its own caches, as a separate Lambda instance would be) and sends \`POST /v1/fetch\` over all partitions with maxBytes ${fmtNum(Math.min(MiB, LIMITS.maxFetchBytes / w.partitions) / 1024, 0)} KiB per partition and a ${a.fetchWaitMs / 1000} s wait, as soon as new data is committed, until it has read everything: what a consumer at the end of the log does. At the workload's rate (${fmtNum(r.producesPerSec, 2)} produce requests/s) a fetch is answered by each commit, so there is about one fetch per produce request per reader (${fmtNum(r.fetchesPerSecPerReader, 2)} fetches/s each; a consumer cannot fetch more often than its round trip allows, so with small requests each fetch returns several).
- **Maintenance** (the scheduled function's code, defaults) runs over the produced data for its whole life, the clock moved forward: after every simulated minute of produce requests (the ${requests} requests are spread over ${MINUTES_IN_RUN} minutes; ${sweepRequests} over 2 at the chart's other points), a maintenance run merges what is older than the 1-minute minimum age; then collection of the produced objects (after the 15-minute grace), retention (set to 1 h for the run, so the clock can pass it) and collection of the merged segments. A simulated minute holds ${fmtNum(ref.raw.scale * 100, 1)}% of a real minute's data, so the merge's segment target is scaled by the same factor (${fmtNum(ref.raw.segmentTargetBytes / MiB, 1)} MiB instead of 64 MiB): segments grow, are merged again and settle as at the workload's rate, so each byte is copied as often. Two things that would then be counted too often are corrected: the merge's PUTs (one per segment; the workload's segments are larger) are counted at the workload's segment size, and what a partition pass costs by itself (measured alone: one record per partition, then one run; ${fmtNum(ref.raw.probePassWru, 1)} WRU a pass) is counted once per partition per minute, as the schedule makes passes, instead of the run's ${fmtNum(ref.raw.passes, 0)} passes. Calls per MiB produced also exclude what the same number of idle ticks costs; that part is the schedule's, measured as 60 idle ticks a simulated minute apart.
- **Counted on the SDK clients**: every call; DynamoDB's write and read units from \`ReturnConsumedCapacity: TOTAL\`, which the middleware adds to every data call (DynamoDB Local answers it${acc.capacityReported ? ', for every call in this run' : ' — but not for every call in this run: those calls are counted as 0 units'}; the units are DynamoDB Local's accounting, index writes included, not checked against AWS's own); S3 PUT bytes (request bodies) and GET bytes (response lengths).
- **Storage**: S3 bytes per record byte from describe's \`sizeBytes\` (zstd, the topic default: ${fmtNum(ref.standard.storedRatio * 100, 0)}%); DynamoDB bytes per index entry from a Scan of the log table (each attribute's size + 100 bytes per item, and the same for each index copy): ${fmtNum(ref.standard.ddbEntryBytes, 0)} bytes for a live entry, ${fmtNum(ref.standard.ddbHoleBytes, 0)} for one emptied by retention. Emptied entries are kept, so the DynamoDB storage line grows each month by one month's entries (counted once here).
- **Lambda duration**: ${latencyText} Consumers are billed for the whole month (above).
- **API Gateway**: each request is billed in 512 KB increments of its request and response bodies together (a produce of 1 MiB counts as 2 or 3 requests), the conservative reading of the metering rule.
- **Express tier**: ${expressField ? 'measured in a run of its own: produce writes its objects to the hot tier, a second bucket (an S3 Express One Zone directory bucket on AWS), maintenance moves them into the Standard bucket, and every request on the hot bucket is priced at S3 Express rates (with its per-GB upload and retrieval charges)' : 'priced by treating the produce path\'s object PUTs, the tail reads of fresh data and the merge\'s source reads as S3 Express requests (with its per-GB upload and retrieval charges); merged segments are S3 Standard'}. Express storage is billed for ${fmtNum(a.expressResidencyS / 60, 1)} minutes of data (the 1-minute merge age, half a tick, the 15-minute GC grace) before the objects are deleted.

Measured per unit (reference point):

${profileTable(ref.standard, ref.express, true)}

Measured at each point of the sweep:

${table(['records per request:', 'MiB produced:', 'stored / record bytes:', 'produce wall ms:', 'fetch wall ms:', 'fetches per reader:', 'WRU per produce:', 'entries per produce:', 'DynamoDB bytes per entry:', 'per emptied entry:'], measuredRows)}

Calls by phase at the reference point: ${Object.entries(ref.raw.counts).map(([p, t]) => `${p}: ${t}`).join('; ')}.

Run: ${where}; the measurement took ${fmtNum(measuredS, 0)} s.

## Prices

${table(['price', 'USD', 'per', 'source', 'as of', 'verified', 'note'], priceRows())}

"Verified" means the figure itself was read on the cited page on that date. Unverified figures are the best known list prices as of the date given; the cited page, where there is one, documents the billing dimension but its stored copy did not show the number. Check them before relying on the comparison.

## Rerun

\`\`\`sh
${cmd}                 # print the bill for a workload
npm run cost -- --write-docs   # remeasure and regenerate this page and docs/cost-chart.svg
\`\`\`

Options: \`--write-mib-s\`, \`--record-bytes\`, \`--records-per-request\`, \`--readers\`, \`--retention-days\`, \`--partitions\` (default 4), \`--tier standard|express\`, \`--requests\` (produce requests at the workload's batching, default 24), \`--sweep-requests\` (at each other point of the chart, default 8), \`--lambda-ms\` (billed duration of a produce request, instead of the measured one). The measurement for this page took ${fmtNum(measuredS, 0)} s (the reference point alone, without \`--write-docs\`, about a third of that); it keeps nothing on disk.
`;
  writeFileSync(new URL('../docs/COST.md', import.meta.url), doc);
  log('wrote docs/COST.md and docs/cost-chart.svg');
}

// `tsx bench/cost.ts ...` (npm run cost); importing the module runs nothing.
if (process.argv[1] && new URL(import.meta.url).pathname === new URL(`file://${process.argv[1]}`).pathname) {
  await main(process.argv.slice(2));
}

