/**
 * Shared helpers of the log benches (produce-fetch, contention): a local stack with counting
 * AWS clients, a timed loop runner, percentiles, CPU accounting (this process and the DynamoDB
 * Local JVM), an in-process CPU profile attributed to code areas, and markdown tables; for
 * maintenance, a movable clock and tables + bucket of a bench's own; for memory, a stack with
 * s3rver in a child process, a forced GC and an RSS sampler.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { arch, cpus, loadavg, platform } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Hono } from 'hono';
import { reapOnExit } from '../lib/local/child-reaper.ts';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.ts';
import { startLocalStack, type LocalStack } from '../lib/local/local-stack.ts';
import { consoleLogger, type Clock, type Logger, type SluiceDeps } from '../lib/deps.ts';
import { depsFor } from '../lib/env.ts';
import { ensureResources } from '../lib/storage/bootstrap.ts';
import type { AwsClients } from '../lib/storage/clients.ts';
import { listSegmentObjects, type ListedObject } from '../lib/storage/segment-listing.ts';
import { resourceNames, type ResourceNames } from '../lib/storage/tables.ts';

// ---- stack ----------------------------------------------------------------------------------

/** Counts AWS SDK commands (`sends`, once per `client.send`) and HTTP attempts (SDK retries included). */
export class RequestCounter {
  readonly sends = new Map<string, number>();
  readonly attempts = new Map<string, number>();

  attach(client: DynamoDBClient | S3Client, service: string): void {
    const bump = (map: Map<string, number>, command: string | undefined) => {
      const name = `${service} ${command?.replace(/Command$/, '') ?? '?'}`;
      map.set(name, (map.get(name) ?? 0) + 1);
    };
    // The middleware stack's overloads do not accept a union receiver; both stacks are the same shape.
    const stack = client.middlewareStack as DynamoDBClient['middlewareStack'];
    stack.add(
      (next, context) => async (args) => {
        bump(this.sends, context.commandName);
        return next(args);
      },
      { step: 'initialize', name: 'benchCountSends' },
    );
    // deserialize runs inside the SDK's retry loop (finalizeRequest), so once per HTTP attempt.
    stack.add(
      (next, context) => async (args) => {
        bump(this.attempts, context.commandName);
        return next(args);
      },
      { step: 'deserialize', name: 'benchCountAttempts' },
    );
  }

  snapshot(): CounterSnapshot {
    return { sends: new Map(this.sends), attempts: new Map(this.attempts) };
  }

  /** Commands sent since `before`, per command name, divided by `per`. */
  since(before: CounterSnapshot, per = 1): RequestCounts {
    const diff = (now: Map<string, number>, then: Map<string, number>) => {
      const out: Record<string, number> = {};
      for (const [k, v] of now) {
        const d = v - (then.get(k) ?? 0);
        if (d > 0) out[k] = d / per;
      }
      return out;
    };
    const sends = diff(this.sends, before.sends);
    const attempts = diff(this.attempts, before.attempts);
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    return { sends, attempts, totalSends: sum(sends), totalAttempts: sum(attempts) };
  }
}

export interface CounterSnapshot {
  readonly sends: Map<string, number>;
  readonly attempts: Map<string, number>;
}

export interface RequestCounts {
  readonly sends: Record<string, number>;
  readonly attempts: Record<string, number>;
  readonly totalSends: number;
  readonly totalAttempts: number;
}

/** "UpdateItem 1 · PutItem 1 · PutObject 1" */
export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k.replace(/^\S+ /, '')} ${fmtNum(v, 2)}`)
    .join(' · ');
}

/**
 * Errors as the dev server prints them, but not its one line per request: thousands of
 * synchronous console writes would bury the tables and be measured as the app's CPU.
 */
const benchLogger: Logger = { error: consoleLogger.error, info: () => {} };

export interface BenchStack {
  readonly stack: LocalStack;
  readonly clients: AwsClients;
  readonly deps: SluiceDeps;
  readonly counter: RequestCounter;
  stop(): Promise<void>;
}

/**
 * DynamoDB Local (in memory) + s3rver (temp dir, in this process) with tables created, and our
 * own clients against them: the same options as lib/storage/clients.ts, plus counting
 * middleware, plus a socket pool big enough for every bench worker (the SDK's default of 50
 * sockets would queue 64 producers inside this process, which a Lambda fleet never does).
 */
export async function startBenchStack(opts: { maxSockets?: number } = {}): Promise<BenchStack> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const stack = await startLocalStack({ prefix: `sluice-bench-${randomBytes(3).toString('hex')}` });
  const maxSockets = opts.maxSockets ?? 256;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const requestHandler = { httpAgent: { keepAlive: true, maxSockets } };
  const dynamo = new DynamoDBClient({ region: 'us-east-1', credentials, endpoint: stack.dynamoEndpoint, maxAttempts: 3, requestHandler });
  const s3 = new S3Client({
    region: 'us-east-1',
    credentials,
    endpoint: stack.s3Endpoint,
    forcePathStyle: true,
    maxAttempts: 3,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler,
  });
  const counter = new RequestCounter();
  counter.attach(dynamo, 'dynamodb');
  counter.attach(s3, 's3');
  const clients: AwsClients = { dynamo, s3 };
  // An empty environment: the bench measures the defaults, whatever SLUICE_* the shell has.
  const deps = { ...depsFor('local', {}, { clients, names: stack.names }), logger: benchLogger };
  return {
    stack,
    clients,
    deps,
    counter,
    async stop() {
      dynamo.destroy();
      s3.destroy();
      await stack.stop();
    },
  };
}

/**
 * s3rver in a child Node process (lib/local/s3-server.ts, temp dir), so that this process's
 * memory is ours and the SDK's only: for benches that measure RSS. Stops when told (or when
 * this process dies: the child's stdin closes, and the reaper backs that up).
 */
async function startS3ServerChild(): Promise<{ endpoint: string; pid: number; stop(): Promise<void> }> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const code = [
    "import { startS3Server } from './lib/local/s3-server.ts';",
    'const s = await startS3Server();',
    "process.stdout.write(JSON.stringify({ endpoint: s.endpoint }) + '\\n');",
    "process.stdin.on('end', async () => { await s.stop(); process.exit(0); });",
    'process.stdin.resume();',
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  reapOnExit(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { endpoint: string }).endpoint);
    });
    child.once('exit', (code) => reject(new Error(`s3rver child exited (${code}) before it listened`)));
  });
  return {
    endpoint,
    pid: child.pid!,
    async stop() {
      child.stdin!.end();
      await exited;
    },
  };
}

/**
 * As startBenchStack, but s3rver runs in a child process (DynamoDB Local is a JVM anyway): this
 * process then holds only what the bench and lib/ allocate, not the emulator's buffers.
 * `s3Pid` is the child's pid (for its CPU time).
 */
export async function startBenchStackS3Apart(opts: { maxSockets?: number } = {}): Promise<BenchStack & { readonly s3Pid: number }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const [ddb, s3srv] = await Promise.allSettled([startDynamoDbLocal(), startS3ServerChild()]);
  if (ddb.status === 'rejected' || s3srv.status === 'rejected') {
    if (ddb.status === 'fulfilled') await ddb.value.stop();
    if (s3srv.status === 'fulfilled') await s3srv.value.stop();
    throw ddb.status === 'rejected' ? ddb.reason : (s3srv as PromiseRejectedResult).reason;
  }
  const maxSockets = opts.maxSockets ?? 256;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const requestHandler = { httpAgent: { keepAlive: true, maxSockets } };
  const dynamo = new DynamoDBClient({ region: 'us-east-1', credentials, endpoint: ddb.value.endpoint, maxAttempts: 3, requestHandler });
  const s3 = new S3Client({
    region: 'us-east-1',
    credentials,
    endpoint: s3srv.value.endpoint,
    forcePathStyle: true,
    maxAttempts: 3,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler,
  });
  const clients: AwsClients = { dynamo, s3 };
  const names = resourceNames(`sluice-bench-${randomBytes(3).toString('hex')}`);
  const stopAll = async () => {
    dynamo.destroy();
    s3.destroy();
    await Promise.allSettled([ddb.value.stop(), s3srv.value.stop()]);
  };
  try {
    await ensureResources(clients, names, { timeoutMs: 30_000 });
  } catch (err) {
    await stopAll();
    throw err;
  }
  const counter = new RequestCounter();
  counter.attach(dynamo, 'dynamodb');
  counter.attach(s3, 's3');
  const deps = { ...depsFor('local', {}, { clients, names }), logger: benchLogger };
  const stack: LocalStack = { dynamoEndpoint: ddb.value.endpoint, s3Endpoint: s3srv.value.endpoint, names, clients, dynamoPid: ddb.value.pid, stop: stopAll };
  return { stack, clients, deps, counter, s3Pid: s3srv.value.pid, stop: stopAll };
}

/** A clock that benches move forward (maintenance judges ages by it), as test/support/own-stack.ts does. */
export interface MovableClock extends Clock {
  advance(ms: number): void;
}

export function movableClock(): MovableClock {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

/**
 * Tables and a bucket of their own (fresh prefix) on the bench stack's emulators, through its
 * counting clients: for maintenance, whose garbage collection sweeps a whole bucket.
 */
export async function ownResources(b: BenchStack, prefix: string): Promise<ResourceNames> {
  const names = resourceNames(`${prefix}-${randomBytes(3).toString('hex')}`);
  await ensureResources(b.clients, names, { timeoutMs: 30_000 });
  return names;
}

/** Every segment object in a bucket (uncounted only if the caller ignores the counter meanwhile). */
export async function bucketObjects(clients: AwsClients, bucket: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  for await (const o of listSegmentObjects(clients, bucket)) out.push(o);
  return out;
}

// ---- app calls ------------------------------------------------------------------------------

/** One HTTP exchange with the app: in process (`app.request`) or over the network (`fetch`). */
export type Requester = (path: string, init?: RequestInit) => Promise<Response>;

export function inProcess(app: Hono): Requester {
  return async (path, init) => app.request(path, init);
}

export function overHttp(baseUrl: string): Requester {
  return (path, init) => fetch(baseUrl + path, init);
}

/** Calls the app and returns the body text; throws with the body on a non-2xx answer. */
export async function call(req: Requester, path: string, init?: RequestInit): Promise<string> {
  const res = await req(path, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

export function postJson(body: string): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body };
}

export async function createTopic(req: Requester, name: string, partitions: number): Promise<void> {
  await call(req, '/v1/topics', postJson(JSON.stringify({ name, partitions })));
}

/** High watermark of every partition, from describe (the stable prefix, read strongly consistent). */
export async function highWatermarks(req: Requester, topic: string): Promise<number[]> {
  const body = JSON.parse(await call(req, `/v1/topics/${topic}`)) as { partitions: { partition: number; highWatermark: number }[] };
  const out: number[] = [];
  for (const p of body.partitions) out[p.partition] = p.highWatermark;
  return out;
}

/**
 * Reads the high watermarks until two reads agree (at most `maxReads`). One read should do;
 * lib/log/partition-index.ts extends a cold view by at most one 500-entry page per read, so a
 * reader that has not followed the partition sees a lower HWM at first (reported by the benches,
 * see BENCHMARKS.md). `reads` says how many it took.
 */
export async function settledHighWatermarks(read: () => Promise<number[]>, maxReads = 200): Promise<{ hwm: number[]; reads: number }> {
  let hwm = await read();
  for (let reads = 2; reads <= maxReads; reads++) {
    const again = await read();
    if (again.every((h, i) => h === hwm[i])) return { hwm, reads: reads - 1 };
    hwm = again;
  }
  throw new Error(`high watermarks still moving after ${maxReads} reads`);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

// ---- timed loop -----------------------------------------------------------------------------

export interface LoopResult {
  /** Operations that completed without throwing. */
  readonly ops: number;
  readonly errors: number;
  readonly firstError?: unknown;
  /** From start until the last worker returned (in-flight operations finish past the deadline). */
  readonly elapsedMs: number;
  /** Latency of every successful operation, ms, unsorted. */
  readonly latenciesMs: number[];
}

/**
 * `workers` concurrent loops, each calling `op(worker, iteration)` back to back until
 * `durationMs` has passed (an operation started before the deadline runs to its end). `op` may
 * return false to stop its worker early (e.g. a consumer that has nothing left to read). A
 * throwing operation counts as an error; its worker goes on.
 */
export async function timedLoop(
  workers: number,
  durationMs: number,
  op: (worker: number, iteration: number) => Promise<boolean | void>,
): Promise<LoopResult> {
  const latenciesMs: number[] = [];
  let ops = 0;
  let errors = 0;
  let firstError: unknown;
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const t0 = performance.now();
      try {
        const more = await op(w, i);
        latenciesMs.push(performance.now() - t0);
        ops++;
        if (more === false) return;
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return { ops, errors, ...(firstError === undefined ? {} : { firstError }), elapsedMs: performance.now() - start, latenciesMs };
}

// ---- statistics -----------------------------------------------------------------------------

/** Nearest-rank percentile (p in 0..100) of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

export function fmtNum(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** 3 significant-ish digits for latencies: 0.84, 12.3, 412. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

// ---- CPU ------------------------------------------------------------------------------------

const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ (getconf CLK_TCK)

/** CPU time (ms) of another process (all its threads) from /proc; NaN where there is no /proc. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

export interface CpuMeter {
  /** CPU ms used since start by this Node process (our code, SDK, hono, AND the in-process s3rver) and by the JVM. */
  read(): { nodeMs: number; jvmMs: number };
}

export function startCpuMeter(jvmPid: number): CpuMeter {
  const node0 = process.cpuUsage();
  const jvm0 = processCpuMs(jvmPid);
  return {
    read() {
      const d = process.cpuUsage(node0);
      return { nodeMs: (d.user + d.system) / 1000, jvmMs: processCpuMs(jvmPid) - jvm0 };
    },
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/**
 * Runs `fn` under the V8 sampling profiler and attributes on-CPU time of this process to code
 * areas: the area of the nearest JavaScript frame on the stack that belongs to a file of ours
 * (lib/<dir>, bench/) or to a package (node_modules/<pkg>); Node internals and native builtins
 * (JSON, Buffer, crypto, zlib) count for the area that called them. Idle time is excluded.
 */
export async function profileAreas<T>(fn: () => Promise<T>, area: (url: string) => string | undefined = defaultArea): Promise<{ result: T; msByArea: Map<string, number> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  let result: T;
  let profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] };
  try {
    result = await fn();
  } finally {
    profile = ((await session.post('Profiler.stop')) as unknown as { profile: typeof profile }).profile;
    session.disconnect();
  }
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const areaOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = areaOf.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const fnName = node.callFrame.functionName;
    let a: string | undefined;
    if (fnName === '(idle)') a = '(idle)';
    else if (fnName === '(garbage collector)') a = 'GC';
    else if (fnName === '(program)') a = 'V8/Node native (no JS frame)';
    else if (node.callFrame.url === '' && (fnName === 'stringify' || fnName === 'parse')) {
      const up = parent.get(id);
      a = `JSON.${fnName} ← ${up === undefined ? '?' : resolve(up)}`;
    }
    else a = area(node.callFrame.url);
    if (a === undefined) {
      const up = parent.get(id);
      a = up === undefined ? 'Node internals (I/O callbacks: HTTP parse, sockets, fs)' : resolve(up);
    }
    areaOf.set(id, a);
    return a;
  };
  const msByArea = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const a = resolve(samples[i]!);
    if (a === '(idle)') continue;
    msByArea.set(a, (msByArea.get(a) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  return { result: result!, msByArea };
}

const S3RVER_PACKAGES = new Set(['s3rver', 'koa', '@koa/router', 'koa-compose', 'koa-logger', 'busboy', 'dicer', 'fast-xml-parser', 'fs-extra', 'graceful-fs', 'he', 'lodash', 'statuses', 'winston', 'logform', 'readable-stream', 'co-body', 'raw-body', 'iconv-lite', 'http-errors', 'on-finished', 'koa-convert', 'cookies', 'accepts', 'content-disposition', 'type-is', 'mime-types', 'negotiator', 'path-to-regexp', 'methods', 'vary', 'delegates', 'depd', 'destroy', 'encodeurl', 'escape-html', 'fresh', 'only', 'parseurl', 'content-type', 'ee-first', 'debug', 'ms', 'xmlbuilder', 'xml2js', 'sax', 'chalk', 'ansi-styles', 'supports-color', 'humanize-number', 'bytes', 'passthrough-counter', 'universalify', 'jsonfile', 'safe-stable-stringify', 'triple-beam', 'one-time', 'stack-trace', 'fecha', 'colors', '@colors/colors', 'async', 'is-stream', 'text-hex', 'color', 'kuler', 'fn.name', 'enabled', '@dabh/diagnostics', 'winston-transport']);

/** lib/<dir> → "ours: lib/<dir>"; packages grouped (AWS SDK, hono, zod, s3rver + its deps, tsx). */
export function defaultArea(url: string): string | undefined {
  if (url === '' || url.startsWith('node:')) return undefined;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg.startsWith('@aws-crypto/') || pkg.startsWith('@aws/') || pkg === 'tslib') return 'AWS SDK v3 (client side)';
    if (pkg === 'hono' || pkg.startsWith('@hono/')) return 'hono';
    if (pkg === 'zod') return 'zod (request validation)';
    if (S3RVER_PACKAGES.has(pkg) || url.includes('/node_modules/s3rver/')) return 's3rver (emulator, in this process)';
    if (pkg === 'tsx' || pkg === 'esbuild' || pkg === 'get-tsconfig') return 'tsx loader';
    return `pkg: ${pkg}`;
  }
  const m = /\/(lib|bench)\/([^/]+)\//.exec(url) ?? /\/(lib|bench)\/([^/]+)$/.exec(url);
  if (m) return m[1] === 'bench' ? 'bench driver' : `ours: lib/${m[2]!.replace(/\.ts$/, '')}`;
  return undefined;
}

// ---- memory ---------------------------------------------------------------------------------

let gcFn: (() => void) | undefined;

/** A full garbage collection (V8's gc, exposed at run time), so an RSS baseline is not last phase's garbage. */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

export interface MemoryPeaks {
  readonly samples: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** external (Buffers and other memory outside the V8 heap), arrayBuffers included. */
  readonly external: number;
}

/** Samples process.memoryUsage() every `intervalMs` until stopped; returns the peaks. */
export function memorySampler(intervalMs = 100): { stop(): MemoryPeaks } {
  let samples = 0;
  let rss = 0;
  let heapUsed = 0;
  let external = 0;
  const sample = () => {
    const m = process.memoryUsage();
    samples++;
    rss = Math.max(rss, m.rss);
    heapUsed = Math.max(heapUsed, m.heapUsed);
    external = Math.max(external, m.external);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { samples, rss, heapUsed, external };
    },
  };
}

// ---- output ---------------------------------------------------------------------------------

export function machine(): string {
  const c = cpus();
  const load = loadavg().map((l) => l.toFixed(1)).join('/');
  return `${c.length} cores (${c[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${platform()}/${arch()}, load average before the run ${load}`;
}

/** A markdown table; columns whose header ends in ':' are right-aligned (the ':' is dropped). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const right = headers.map((h) => h.endsWith(':'));
  const head = headers.map((h) => (h.endsWith(':') ? h.slice(0, -1) : h));
  return [
    `| ${head.join(' | ')} |`,
    `|${right.map((r) => (r ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/**
 * Options of `npm run bench -- <bench> ...`: `--name=value` or `--name value`. Throws on an
 * option not in `known` (a typo would otherwise run the defaults for minutes).
 */
export class BenchOptions {
  private readonly values = new Map<string, string>();

  constructor(args: readonly string[], known: readonly string[]) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(a);
      if (!m || !known.includes(m[1]!)) throw new Error(`unknown option ${a}; known: ${known.map((k) => `--${k}`).join(' ')}`);
      const value = m[2] ?? args[++i];
      if (value === undefined) throw new Error(`--${m[1]} needs a value`);
      this.values.set(m[1]!, value);
    }
  }

  /** A positive number (an integer unless `fractional`). */
  number(name: string, fallback: number, fractional = false): number {
    const raw = this.values.get(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value <= 0 || (!fractional && !Number.isInteger(value))) throw new Error(`--${name} must be a positive ${fractional ? 'number' : 'integer'}, got ${raw}`);
    return value;
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.values.get(name) ?? fallback;
    if (!(choices as readonly string[]).includes(raw)) throw new Error(`--${name} must be one of ${choices.join(', ')}, got ${raw}`);
    return raw as T;
  }
}

/** A numeric `--name=value` argument of `npm run bench -- <bench> --name=value`, else `fallback`. */
export function numberArg(args: readonly string[], name: string, fallback: number): number {
  const raw = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return value;
}
