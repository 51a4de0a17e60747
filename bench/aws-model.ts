/**
 * What latency users would see on AWS (`npm run bench -- aws-model [flags]`): the REAL code path
 * (the Hono app from `createApp(deps)`, codec, storage modules, AWS SDK v3 clients) against the
 * local emulators, with AWS latencies injected per HTTP attempt by SDK middleware
 * (bench/aws-latency.ts: distributions, sources, override flags) and an API Gateway + Lambda
 * overhead per app request. The emulators' own time is on top; it is measured and printed (a
 * run without injection, and emulator ms per produce in every row).
 *
 * Per configuration (tier × group commit × record size × clients), on a fresh 16-partition topic:
 *  - produce: `clients` loops, produce → next; client i writes partition i % 16, through app
 *    instance A (the writer);
 *  - end-to-end: one long-polling consumer per written partition (waitMs, default 5000) in app
 *    instance B, a second `createApp(deps)` on the same clients: like another Lambda instance it
 *    gets no in-process commit signal and sees new records by re-checking every pollIntervalMs.
 *    Measured from issuing the produce (its first record's key carries the issue time) to the
 *    consumer holding the answer with that record (it reads everything: maxBytes 1 MiB);
 *  - fetch: afterwards, `clients` non-waiting fetches (waitMs 0) by app instance C (segment
 *    cache off, so every fetch reads S3) of one produce request's records among the newest 20
 *    of its partition.
 *
 * Flags: --seconds=N (produce time per config, default 4, x3 for 1 client; fetch gets half) --tier=standard|express|both
 * --clients=1,16,64 --sizes=1kb,64kb --group-commit=on|off|both (off sets
 * deps.tuning.groupCommitMaxRequests = 1) --poll-interval-ms=N (deps.tuning.pollIntervalMs,
 * default lib's) --wait-ms=N (consumer long poll) --seed=N --aws-tuning=on|off (default on:
 * lib's AWS_TUNING_DEFAULTS, i.e. hedged segment PUTs/GETs as the aws backend runs them; off =
 * the local backend's defaults, no hedging), plus the --lat.* overrides of bench/aws-latency.ts.
 *
 * Express tier: when lib's ResourceNames has `expressBucket` (lib/storage/tables.ts), a second
 * bucket is created on the emulator, `deps.names.expressBucket` set to it and that bucket routed
 * to the 's3-express' distributions. Otherwise the normal bucket is treated as express (printed).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { AWS_TUNING_DEFAULTS, TUNING_DEFAULTS } from '../lib/config.ts';
import { hedgeDelay } from '../lib/storage/hedge.ts';
import type { SluiceDeps } from '../lib/deps.ts';
import type { ResourceNames } from '../lib/storage/tables.ts';
import {
  type Distribution,
  type LatencyModel,
  type Tier,
  defaultLatencyModel,
  injectLatency,
  parseLatencyOverrides,
  sampleMs,
  seededRandom,
  sleep,
} from './aws-latency.ts';
import { performance } from 'node:perf_hooks';
import { type BenchStack, fmtMs, fmtNum, log, machine, processCpuMs, startBenchStackS3Apart, startCpuMeter, summarize, table, timedLoop, uniqueName } from './support.ts';

const PARTITIONS = 16;
const FETCH_MAX_BYTES = 1024 * 1024;
const FETCH_MAX_RECORDS = 1000;
/** Fetch reads one produce request's records among the newest this many of its partition. */
const FETCH_RECENT_REQUESTS = 20;

interface Size {
  readonly name: string;
  readonly flag: string;
  readonly valueBytes: number;
  readonly batch: number;
}

const SIZES: readonly Size[] = [
  { name: '1 KB × 100', flag: '1kb', valueBytes: 1024, batch: 100 },
  { name: '64 KB × 10', flag: '64kb', valueBytes: 64 * 1024, batch: 10 },
];

/** Goals to show met or missed (ms). */
const GOALS: Record<Tier, { produceP50: number; produceP99: number; e2eP99?: number }> = {
  standard: { produceP50: 60, produceP99: 200, e2eP99: 300 },
  express: { produceP50: 20, produceP99: 50 },
};

/** Published anchors, for comparison (not measured here). */
const ANCHORS: readonly (readonly string[])[] = [
  ['WarpStream, S3 Standard', '250 / 500', '500 / 900', 'vendor figure; aws.amazon.com/blogs/storage "How WarpStream enables cost-effective low-latency streaming with Amazon S3 Express One Zone" states ~400-600 ms p99 write, < 1.5 s p99 end to end'],
  ['WarpStream, S3 Express One Zone', '< 80 / 150', '–', 'vendor figure; docs.warpstream.com low-latency clusters: "P99 latency of Produce requests to less than 150ms"; warpstream.com blog (Apr 2025): p50 105 / p99 169 ms'],
  ['Bufstream', '260 / 500', '–', 'vendor figure (source not checked here)'],
  ['S2, S3 Standard', 'acks ≤ 400', '–', 'vendor figure (source not checked here)'],
  ['S2, S3 Express', 'acks ≤ 40', '–', 'vendor figure (source not checked here)'],
];

// ---- options --------------------------------------------------------------------------------

interface Options {
  readonly seconds: number;
  readonly tiers: Tier[];
  readonly clients: number[];
  readonly sizes: Size[];
  readonly groupCommit: ('on' | 'off')[];
  readonly pollIntervalMs: number;
  readonly waitMs: number;
  readonly seed: number;
  /** Apply lib's AWS_TUNING_DEFAULTS (what the aws backend runs with: hedged segment requests). */
  readonly awsTuning: boolean;
}

const KNOWN = ['seconds', 'tier', 'clients', 'sizes', 'group-commit', 'poll-interval-ms', 'wait-ms', 'seed', 'aws-tuning'];

function parseOptions(args: readonly string[]): Options {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--lat.')) continue; // bench/aws-latency.ts's
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(a);
    if (!m || !KNOWN.includes(m[1]!)) throw new Error(`unknown option ${a}; known: ${KNOWN.map((k) => `--${k}`).join(' ')} --lat.*`);
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    values.set(m[1]!, value);
  }
  const num = (name: string, fallback: number, fractional = false) => {
    const raw = values.get(name);
    const v = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(v) || v <= 0 || (!fractional && !Number.isInteger(v))) throw new Error(`--${name} must be a positive ${fractional ? 'number' : 'integer'}, got ${raw}`);
    return v;
  };
  const list = (name: string, fallback: string) => (values.get(name) ?? fallback).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const tierRaw = list('tier', 'both');
  const tiers: Tier[] = tierRaw.includes('both') ? ['standard', 'express'] : tierRaw.map((t) => {
    if (t !== 'standard' && t !== 'express') throw new Error(`--tier must be standard, express or both, got ${t}`);
    return t;
  });
  const clients = list('clients', '1,16,64').map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--clients must be positive integers, got ${c}`);
    return n;
  });
  const sizes = list('sizes', '1kb,64kb').map((s) => {
    const size = SIZES.find((z) => z.flag === s.replace(/\s/g, ''));
    if (!size) throw new Error(`--sizes must be among ${SIZES.map((z) => z.flag).join(', ')}, got ${s}`);
    return size;
  });
  const gc = values.get('group-commit') ?? 'both';
  if (gc !== 'on' && gc !== 'off' && gc !== 'both') throw new Error(`--group-commit must be on, off or both, got ${gc}`);
  const awsTuning = values.get('aws-tuning') ?? 'on';
  if (awsTuning !== 'on' && awsTuning !== 'off') throw new Error(`--aws-tuning must be on or off, got ${awsTuning}`);
  return {
    awsTuning: awsTuning === 'on',
    seconds: num('seconds', 4, true),
    tiers,
    clients,
    sizes,
    groupCommit: gc === 'both' ? ['on', 'off'] : [gc],
    pollIntervalMs: num('poll-interval-ms', TUNING_DEFAULTS.pollIntervalMs),
    waitMs: num('wait-ms', 5000),
    seed: num('seed', 1),
  };
}

// ---- who made an AWS call -------------------------------------------------------------------

type Role = 'producer' | 'consumer' | 'fetcher' | 'setup';
const roleOf = new AsyncLocalStorage<Role>();

/** Per role and distribution key: HTTP attempts, injected ms and emulator ms. */
class CallStats {
  readonly byRole = new Map<Role, Map<string, { n: number; injectedMs: number; emulatorMs: number }>>();

  private entry(op: string) {
    const role = roleOf.getStore() ?? 'setup';
    let m = this.byRole.get(role);
    if (!m) this.byRole.set(role, (m = new Map()));
    let e = m.get(op);
    if (!e) m.set(op, (e = { n: 0, injectedMs: 0, emulatorMs: 0 }));
    return e;
  }

  emulator(op: string, ms: number): void {
    const e = this.entry(op);
    e.n++;
    e.emulatorMs += ms;
  }

  injected(op: string, ms: number): void {
    this.entry(op).injectedMs += ms;
  }

  reset(): void {
    this.byRole.clear();
  }

  totals(role: Role): { n: number; injectedMs: number; emulatorMs: number } {
    const t = { n: 0, injectedMs: 0, emulatorMs: 0 };
    for (const e of this.byRole.get(role)?.values() ?? []) {
      t.n += e.n;
      t.injectedMs += e.injectedMs;
      t.emulatorMs += e.emulatorMs;
    }
    return t;
  }

  /** "PutObject 1.00 · UpdateItem 1.00 · PutItem 1.00" per request of `role` (by key, tier prefix kept for S3). */
  perRequest(role: Role, requests: number): string {
    const m = this.byRole.get(role);
    if (!m || requests === 0) return '–';
    return [...m.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, e]) => `${callLabel(k)} ${fmtNum(e.n / requests, 2)}`)
      .join(' · ');
  }
}

/** 'dynamodb UpdateItem' → 'UpdateItem', 's3-standard PutObject' → 'PutObject', 's3-express PutObject' → 'PutObject (express)'. */
function callLabel(key: string): string {
  const [service, command] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
  return service === 's3-express' ? `${command} (express)` : command;
}

// ---- app requests through API Gateway + Lambda ----------------------------------------------

interface Api {
  /** The answer's body; throws on a non-2xx answer. Half the overhead before the app, half after. */
  call(path: string, init?: RequestInit): Promise<string>;
}

function viaApiGateway(app: Hono, overhead: () => Distribution, random: () => number): Api {
  return {
    async call(path, init) {
      const d = overhead();
      const ms = sampleMs(d, 0, random);
      await sleep(ms / 2);
      const res = await app.request(path, init);
      const text = await res.text();
      await sleep(ms / 2);
      if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
      return text;
    },
  };
}

function postJson(body: string): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body };
}

// ---- bodies ---------------------------------------------------------------------------------

const ISSUE_MARK = '"__ISSUED_AT__"';

/** One produce body per partition; the first record's key is ISSUE_MARK, replaced per request by "t<performance.now()>". */
function produceBodies(size: Size): string[] {
  return Array.from({ length: PARTITIONS }, (_, p) => {
    const pool = randomBytes(Math.ceil((size.valueBytes * size.batch * 3) / 4) + 3).toString('base64');
    const records = Array.from({ length: size.batch }, (_, i) =>
      `{"key":${i === 0 ? ISSUE_MARK : JSON.stringify(`key-${i}`)},"value":${JSON.stringify(pool.slice(i * size.valueBytes, (i + 1) * size.valueBytes))},"partition":${p}}`,
    );
    return `{"encoding":"string","records":[${records.join(',')}]}`;
  });
}

const ISSUED_KEY = /"key":"t(\d+(?:\.\d+)?)"/g;
const NEXT_OFFSET = /"nextOffset":(\d+)/;

// ---- one configuration ----------------------------------------------------------------------

interface Config {
  readonly tier: Tier;
  readonly groupCommit: 'on' | 'off';
  readonly size: Size;
  readonly clients: number;
}

interface ConfigResult {
  readonly config: Config;
  readonly produces: number;
  readonly elapsedMs: number;
  readonly produce: ReturnType<typeof summarize>;
  readonly e2e: ReturnType<typeof summarize>;
  readonly fetch: ReturnType<typeof summarize>;
  readonly fetches: number;
  readonly injectedPerProduce: number;
  readonly emulatorPerProduce: number;
  readonly callsPerProduce: string;
  readonly attemptsPerProduce: number;
  readonly callsPerFetch: string;
  readonly cpuBusy: number;
  /** Share of the produce phase this process's event loop was busy (app, SDK, bench driver). */
  readonly loopBusy: number;
  readonly e2eMissing: number;
  readonly wroteExpress: boolean;
}

interface Env {
  readonly b: BenchStack & { readonly s3Pid: number };
  readonly stats: CallStats;
  readonly opts: Options;
  readonly apiOverhead: () => Distribution;
  readonly apiRandom: () => number;
  readonly namesFor: (tier: Tier) => ResourceNames;
  /** Long polls still waiting when their config ended (awaited before the stack stops). */
  readonly stragglers: Promise<unknown>[];
}

function depsFor(env: Env, c: Config, extra: Record<string, unknown> = {}): SluiceDeps {
  const tuning: Record<string, unknown> = { ...env.b.deps.tuning, ...(env.opts.awsTuning ? AWS_TUNING_DEFAULTS : {}), pollIntervalMs: env.opts.pollIntervalMs, ...extra };
  // groupCommitMaxRequests: 1 = group commit off (the knob lib is gaining; an extra key is harmless until then).
  if (c.groupCommit === 'off') tuning.groupCommitMaxRequests = 1;
  return { ...env.b.deps, names: env.namesFor(c.tier), tuning: tuning as SluiceDeps['tuning'] };
}

/**
 * One client makes ~10-25 requests/s: it runs 3x longer, so its p99 rests on a few hundred
 * samples rather than being the maximum of sixty.
 */
function timeFactor(c: Config): number {
  return c.clients === 1 ? 3 : 1;
}

async function runConfig(env: Env, c: Config): Promise<ConfigResult> {
  const { b, stats, opts } = env;
  const writer = viaApiGateway(createApp(depsFor(env, c)), env.apiOverhead, env.apiRandom);
  const consumerApp = viaApiGateway(createApp(depsFor(env, c)), env.apiOverhead, env.apiRandom);
  const fetcherApp = viaApiGateway(createApp(depsFor(env, c, { segmentCacheBytes: 0 })), env.apiOverhead, env.apiRandom);
  const topic = uniqueName(`aws-${c.tier}-${c.size.valueBytes}-${c.clients}`);
  await roleOf.run('setup', () => writer.call('/v1/topics', postJson(JSON.stringify({ name: topic, partitions: PARTITIONS }))));
  const bodies = produceBodies(c.size);
  const used = Math.min(c.clients, PARTITIONS);
  const acked = new Array<number>(PARTITIONS).fill(0);
  const e2e: number[] = [];
  let issued = 0;
  let producersDone = false;

  // Consumers first, at offset 0 of a fresh topic: each follows its partition with long polls.
  const position = new Array<number>(PARTITIONS).fill(0);
  let caughtUp: () => void = () => {};
  const allCaughtUp = new Promise<void>((resolve) => (caughtUp = resolve));
  const checkCaughtUp = () => {
    if (producersDone && Array.from({ length: used }, (_, p) => position[p]! >= acked[p]!).every(Boolean)) caughtUp();
  };
  // A consumer reads everything (maxBytes 1 MiB) and takes the issue time of every request's
  // first record in the answer.
  const consumer = async (p: number) => {
    while (!producersDone || position[p]! < acked[p]!) {
      const text = await consumerApp.call(
        `/v1/topics/${topic}/partitions/${p}/records?offset=${position[p]}&waitMs=${opts.waitMs}&maxBytes=${FETCH_MAX_BYTES}&maxRecords=${FETCH_MAX_RECORDS}&encoding=string`,
      );
      const now = performance.now();
      ISSUED_KEY.lastIndex = 0;
      for (let m = ISSUED_KEY.exec(text); m !== null; m = ISSUED_KEY.exec(text)) e2e.push(now - Number(m[1]));
      // nextOffset is near the end of the answer: no JSON.parse of up to a MiB here.
      const next = Number(NEXT_OFFSET.exec(text.slice(Math.max(0, text.length - 200)))?.[1] ?? NaN);
      if (!Number.isFinite(next)) throw new Error(`no nextOffset in a fetch answer: ${text.slice(-200)}`);
      position[p] = next;
      checkCaughtUp();
    }
  };
  const consumers = Array.from({ length: used }, (_, p) =>
    roleOf.run('consumer', () => consumer(p)).catch((err: unknown) => {
      log(`  consumer of partition ${p} failed: ${String(err)}`);
      position[p] = Infinity; // do not wait for it
      checkCaughtUp();
    }),
  );

  stats.reset();
  const retriesBefore = b.counter.snapshot();
  const cpu = startCpuMeter(b.stack.dynamoPid);
  const s3Cpu0 = processCpuMs(b.s3Pid);
  const elu0 = performance.eventLoopUtilization();
  const r = await roleOf.run('producer', () =>
    timedLoop(c.clients, opts.seconds * 1000 * timeFactor(c), async (w) => {
      const p = w % PARTITIONS;
      issued++;
      const body = bodies[p]!.replace(ISSUE_MARK, `"t${performance.now().toFixed(3)}"`);
      const text = await writer.call(`/v1/topics/${topic}/records`, postJson(body));
      const { offsets } = JSON.parse(text) as { offsets: { partition: number; offset: number }[] };
      if (offsets.length !== c.size.batch || offsets.some((o) => o.partition !== p)) throw new Error(`unexpected offsets: ${text.slice(0, 200)}`);
      acked[p] = Math.max(acked[p]!, offsets[offsets.length - 1]!.offset + 1);
    }),
  );
  const { nodeMs, jvmMs } = cpu.read();
  const s3Ms = processCpuMs(b.s3Pid) - s3Cpu0;
  const loopBusy = performance.eventLoopUtilization(elu0).utilization * 100;
  producersDone = true;
  checkCaughtUp();
  if (r.errors > 0) throw new Error(`${r.errors} of ${r.ops + r.errors} produce requests failed; first: ${String(r.firstError)}`);
  // The consumers read what was acknowledged; a long poll left waiting at the end finishes in the background.
  const timeout = sleep(opts.waitMs + 10_000).then(() => 'timeout' as const);
  if ((await Promise.race([allCaughtUp.then(() => 'ok' as const), timeout])) === 'timeout') log('  warning: consumers did not catch up in time; e2e counts what they read');
  env.stragglers.push(...consumers);
  const producerTotals = stats.totals('producer');
  const callsPerProduce = stats.perRequest('producer', r.ops);
  const sdkRetries = b.counter.since(retriesBefore);

  // Fetch: non-waiting reads of recent data by a third instance (no segment cache: every fetch reads S3).
  const fetchRandom = seededRandom(opts.seed + 7);
  const fr = await roleOf.run('fetcher', () =>
    timedLoop(c.clients, Math.max(1000, (opts.seconds * 1000 * timeFactor(c)) / 2), async (w) => {
      const p = w % PARTITIONS;
      const back = c.size.batch * (1 + Math.floor(fetchRandom() * FETCH_RECENT_REQUESTS));
      const from = Math.max(0, acked[p]! - back);
      const text = await fetcherApp.call(`/v1/topics/${topic}/partitions/${p}/records?offset=${from}&waitMs=0&maxBytes=${FETCH_MAX_BYTES}&maxRecords=${c.size.batch}&encoding=string`);
      if (!text.includes('"records":[{')) throw new Error(`fetch at ${from} of partition ${p} returned no records: ${text.slice(0, 200)}`);
    }),
  );
  if (fr.errors > 0) throw new Error(`${fr.errors} fetches failed; first: ${String(fr.firstError)}`);

  const cores = cpus().length;
  return {
    config: c,
    produces: r.ops,
    elapsedMs: r.elapsedMs,
    produce: summarize(r.latenciesMs),
    e2e: summarize(e2e),
    fetch: summarize(fr.latenciesMs),
    fetches: fr.ops,
    injectedPerProduce: producerTotals.injectedMs / r.ops,
    emulatorPerProduce: producerTotals.emulatorMs / r.ops,
    callsPerProduce,
    attemptsPerProduce: producerTotals.n / r.ops,
    callsPerFetch: stats.perRequest('fetcher', fr.ops) + (sdkRetries.totalAttempts > sdkRetries.totalSends ? ` (SDK retries during produce: ${sdkRetries.totalAttempts - sdkRetries.totalSends})` : ''),
    cpuBusy: ((nodeMs + (Number.isFinite(jvmMs) ? jvmMs : 0) + (Number.isFinite(s3Ms) ? s3Ms : 0)) / (r.elapsedMs * cores)) * 100,
    loopBusy,
    e2eMissing: Math.max(0, issued - e2e.length),
    wroteExpress: [...(stats.byRole.get('producer')?.keys() ?? [])].includes('s3-express PutObject'),
  };
}

// ---- model only: the critical path without emulator or local queueing ----------------------

/** zstd of base64 random values is ~75% of their size (see bench/produce-fetch.ts). */
const COMPRESSED_RATIO = 0.75;

interface PathEstimate {
  readonly produce: ReturnType<typeof summarize>;
  readonly e2e: ReturnType<typeof summarize>;
  readonly fetch: ReturnType<typeof summarize>;
}

/**
 * A Monte Carlo of the write and read paths' critical paths as lib/log/group-commit.ts and
 * lib/log/partition-index.ts shape them today, from the model alone (an estimate of what a user
 * on AWS would see with no emulator and no queueing, one request per group, one partition):
 *  - produce = API + max(PutObject, reserve UpdateItem) + publish PutItem (PUT and reserve run in parallel);
 *  - fetch = API + Query (head + hint) + Query (new entries) + GetObject of the request's chunk;
 *  - end-to-end = the publish's midpoint + a uniform wait for the consumer's next poll
 *    (0..pollIntervalMs) + the fetch's storage part + half an API overhead (the answer's way back).
 */
function criticalPath(model: LatencyModel, tier: Tier, size: Size, pollIntervalMs: number, seed: number, hedgeAfterMs = 0, draws = 20_000): PathEstimate {
  const random = seededRandom(seed);
  // A hedged segment request (lib/storage/hedge.ts): a second copy after hedgeDelay, the first answer wins.
  const segment = (d: Distribution, bytes: number) => {
    const first = sampleMs(d, bytes, random);
    const after = hedgeDelay(hedgeAfterMs, bytes);
    return after > 0 && first > after ? Math.min(first, after + sampleMs(d, bytes, random)) : first;
  };
  const none: Distribution = { p50Ms: 0, p99Ms: 0, source: 'none' };
  const dist = (key: string) => model.ops[key] ?? model.ops[`${key.slice(0, key.indexOf(' '))} *`] ?? none;
  const s3 = tier === 'express' ? 's3-express' : 's3-standard';
  const put = dist(`${s3} PutObject`);
  const get = dist(`${s3} GetObject`);
  const reserve = dist('dynamodb UpdateItem');
  const publish = dist('dynamodb PutItem');
  const query = dist('dynamodb Query');
  const bytes = size.valueBytes * size.batch * COMPRESSED_RATIO;
  const produce: number[] = [];
  const e2e: number[] = [];
  const fetch: number[] = [];
  for (let i = 0; i < draws; i++) {
    const api = sampleMs(model.apiOverheadMs, 0, random);
    const write = Math.max(segment(put, bytes), sampleMs(reserve, 0, random));
    const pub = sampleMs(publish, 0, random);
    produce.push(api + write + pub);
    const read = sampleMs(query, 0, random) + sampleMs(query, 0, random) + segment(get, bytes);
    const readerApi = sampleMs(model.apiOverheadMs, 0, random);
    e2e.push(api / 2 + write + pub / 2 + random() * pollIntervalMs + read + readerApi / 2);
    fetch.push(sampleMs(model.apiOverheadMs, 0, random) + sampleMs(query, 0, random) + sampleMs(query, 0, random) + segment(get, bytes));
  }
  return { produce: summarize(produce), e2e: summarize(e2e), fetch: summarize(fetch) };
}

// ---- baseline: no injection -----------------------------------------------------------------

async function baseline(env: Env, clients: number, ms: number): Promise<{ produce: ReturnType<typeof summarize>; perCall: string; ops: number }> {
  const c: Config = { tier: 'standard', groupCommit: 'on', size: SIZES[0]!, clients };
  const app = createApp(depsFor(env, c));
  const api: Api = {
    async call(path, init) {
      const res = await app.request(path, init);
      const text = await res.text();
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 300)}`);
      return text;
    },
  };
  const topic = uniqueName('aws-baseline');
  await api.call('/v1/topics', postJson(JSON.stringify({ name: topic, partitions: PARTITIONS })));
  const bodies = produceBodies(c.size);
  env.stats.reset();
  const r = await roleOf.run('producer', () =>
    timedLoop(clients, ms, async (w) => {
      await api.call(`/v1/topics/${topic}/records`, postJson(bodies[w % PARTITIONS]!.replace(ISSUE_MARK, '"t0"')));
    }),
  );
  if (r.errors > 0) throw new Error(`baseline: ${r.errors} produce requests failed; first: ${String(r.firstError)}`);
  const m = env.stats.byRole.get('producer') ?? new Map();
  const perCall = [...m.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, e]) => `${callLabel(k)} ${fmtMs(e.emulatorMs / e.n)}`)
    .join(' · ');
  return { produce: summarize(r.latenciesMs), perCall, ops: r.ops };
}

// ---- run ------------------------------------------------------------------------------------

/** Does lib's ResourceNames know `expressBucket` yet (lib is being changed in parallel)? */
function libHasExpressBucket(): boolean {
  try {
    return /expressBucket\??\s*:/.test(readFileSync(new URL('../lib/storage/tables.ts', import.meta.url), 'utf8'));
  } catch {
    return false;
  }
}

function libHasGroupCommitKnob(): boolean {
  try {
    return readFileSync(new URL('../lib/deps.ts', import.meta.url), 'utf8').includes('groupCommitMaxRequests');
  } catch {
    return false;
  }
}

function distRow(key: string, d: Distribution): string[] {
  return [key, fmtMs(d.p50Ms), fmtMs(d.p99Ms), d.perMiBMs === undefined ? '–' : fmtMs(d.perMiBMs), d.source];
}

function verdict(value: number, goal: number): string {
  return `${fmtMs(value)} ${value <= goal ? '✓' : '✗'}`;
}

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const model = parseLatencyOverrides(args, defaultLatencyModel());
  const started = Date.now();
  const where = machine();
  log('starting DynamoDB Local + s3rver ...');
  // s3rver in a child process: its work does not queue on the event loop that runs the app.
  const b = await startBenchStackS3Apart();
  try {
    // The model the middleware reads: empty (no injection) for the baseline, then `model`.
    const active: LatencyModel = { ops: {}, apiOverheadMs: { p50Ms: 0, p99Ms: 0, source: 'off' } };
    const expressBuckets = new Set<string>();
    const stats = new CallStats();
    const sdkRandom = seededRandom(opts.seed);
    for (const [client, service] of [[b.clients.s3, 's3'], [b.clients.dynamo, 'dynamodb']] as const) {
      injectLatency(client, service, active, {
        expressBuckets,
        random: sdkRandom,
        onDelay: (op, ms) => stats.injected(op, ms),
        onEmulator: (op, ms) => stats.emulator(op, ms),
      });
    }

    let expressNote: string;
    let expressBucket: string | undefined;
    if (libHasExpressBucket()) {
      expressBucket = `sluice-bench-express-${randomBytes(3).toString('hex')}`;
      await b.clients.s3.send(new CreateBucketCommand({ Bucket: expressBucket }));
      expressNote = `express tier: segments go to a second bucket (${expressBucket}, deps.names.expressBucket), routed to the s3-express distributions`;
    } else {
      // Fallback for a lib/storage/tables.ts without `expressBucket` (it has one since 6618d40):
      // the express rows then treat the one segment bucket as express. The branch above is the
      // real switch (names.expressBucket = a second bucket, only that bucket routed to s3-express).
      expressNote = 'express tier: lib has no ResourceNames.expressBucket yet, so the express rows route the ONE segment bucket (deps.names.bucket) to the s3-express distributions';
    }
    const namesFor = (tier: Tier): ResourceNames =>
      tier === 'express' && expressBucket !== undefined ? (Object.assign({}, b.deps.names, { expressBucket }) as ResourceNames) : b.deps.names;
    const setTier = (tier: Tier) => {
      expressBuckets.clear();
      if (tier === 'express') expressBuckets.add(expressBucket ?? b.deps.names.bucket);
    };

    const apiRandom = seededRandom(opts.seed + 1);
    const env: Env = { b, stats, opts, apiOverhead: () => active.apiOverheadMs, apiRandom, namesFor, stragglers: [] };

    // JVM warm-up (DynamoDB Local runs interpreted at first), then the baseline without injection.
    log('warm-up (3 s, no injection) ...');
    await baseline(env, 8, 3000);
    log('baseline without injection (1 KB × 100, 1 and 16 clients, 2 s each) ...');
    const baseRows: string[][] = [];
    for (const clients of [1, 16]) {
      const r = await baseline(env, clients, 2000);
      baseRows.push([String(clients), fmtNum(r.ops / 2, 0), fmtMs(r.produce.p50), fmtMs(r.produce.p99), r.perCall]);
    }

    Object.assign(active, { ops: model.ops, apiOverheadMs: model.apiOverheadMs });
    const results: ConfigResult[] = [];
    for (const tier of opts.tiers) {
      setTier(tier);
      for (const groupCommit of opts.groupCommit) {
        for (const size of opts.sizes) {
          for (const clients of opts.clients) {
            log(`${tier}, group commit ${groupCommit}, ${size.name}, ${clients} clients ...`);
            results.push(await runConfig(env, { tier, groupCommit, size, clients }));
          }
        }
      }
    }
    log(`waiting for ${env.stragglers.length} idle long polls to end (≤ ${opts.waitMs} ms) ...`);
    await Promise.allSettled(env.stragglers);

    // ---- output ----
    const cmd = ['npm run bench -- aws-model', ...args].join(' ');
    console.log(`Run ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${where}, total ${fmtNum((Date.now() - started) / 1000)} s.`);
    console.log(`Command: \`${cmd}\`. Produce ${opts.seconds} s per config (x3 with 1 client), fetch half that; topic of ${PARTITIONS} partitions, client i → partition i % ${PARTITIONS}.`);
    console.log(`End-to-end: long-polling consumers in a second app instance (waitMs ${opts.waitMs}, maxBytes 1 MiB), pollIntervalMs ${opts.pollIntervalMs} (deps.tuning; --poll-interval-ms). Fetch: a third instance, segment cache off, waitMs 0, one produce request's records among the newest ${FETCH_RECENT_REQUESTS}.`);
    console.log(`Tuning: ${opts.awsTuning ? `the aws backend's (AWS_TUNING_DEFAULTS, --aws-tuning=on): ${JSON.stringify(AWS_TUNING_DEFAULTS)}` : `the local backend's defaults, no hedged segment requests (--aws-tuning=off; the aws backend hedges with ${JSON.stringify(AWS_TUNING_DEFAULTS)})`}.`);
    console.log(`${expressNote}. Group commit: ${libHasGroupCommitKnob() ? 'lib has deps.tuning.groupCommitMaxRequests; "off" sets it to 1' : 'lib has no groupCommitMaxRequests knob yet, so "on" and "off" run the same code (the key is set but unread)'}.`);
    console.log('');
    console.log('Baseline, NO injected latency (emulators only, 1 KB × 100; emulator ms = mean time inside the SDK call per HTTP attempt):\n');
    console.log(table(['clients:', 'req/s:', 'produce p50 ms:', 'produce p99 ms:', 'emulator ms per call'], baseRows));
    console.log('');
    console.log('With injected AWS latency (ms). injected / emulator = the writer\'s AWS calls during produce, summed and divided by the produce requests (calls made in parallel, or shared by a group commit, overlap: an upper bound of the AWS part of one produce, not its critical path); CPU / loop = the bench process, the JVM and the s3rver child as % of all cores, and this process\'s event-loop utilisation, during produce (⚠ at CPU ≥ 85% or loop ≥ 80%: the local machine, not the model, sets the tail):\n');
    const rowOf = (x: ConfigResult): string[] => {
      const g = GOALS[x.config.tier];
      const goals = [
        `p50 ${x.produce.p50 <= g.produceP50 ? '✓' : '✗'}`,
        `p99 ${x.produce.p99 <= g.produceP99 ? '✓' : '✗'}`,
        ...(g.e2eP99 === undefined ? [] : [`e2e ${x.e2e.p99 <= g.e2eP99 ? '✓' : '✗'}`]),
      ].join(' ');
      return [
        x.config.tier,
        x.config.groupCommit,
        x.config.size.name,
        String(x.config.clients),
        fmtNum(x.produces / (x.elapsedMs / 1000), 0),
        fmtMs(x.produce.p50),
        fmtMs(x.produce.p99),
        fmtMs(x.e2e.p50),
        fmtMs(x.e2e.p99),
        fmtMs(x.fetch.p50),
        fmtMs(x.fetch.p99),
        fmtMs(x.injectedPerProduce),
        fmtMs(x.emulatorPerProduce),
        `${fmtNum(x.cpuBusy, 0)}% / ${fmtNum(x.loopBusy, 0)}%${x.cpuBusy >= 85 || x.loopBusy >= 80 ? ' ⚠' : ''}`,
        goals,
      ];
    };
    console.log(
      table(
        ['tier', 'group commit', 'records', 'clients:', 'produce/s:', 'produce p50:', 'produce p99:', 'e2e p50:', 'e2e p99:', 'fetch p50:', 'fetch p99:', 'injected/produce:', 'emulator/produce:', 'CPU / loop:', 'goals'],
        results.map(rowOf),
      ),
    );
    console.log('');
    console.log('AWS calls per request (HTTP attempts, by the instance that made them):\n');
    console.log(
      table(
        ['tier', 'group commit', 'records', 'clients:', 'produces:', 'per produce (writer)', 'fetches:', 'per fetch (fetcher)', 'e2e samples:', 'e2e missing:'],
        results.map((x) => [x.config.tier, x.config.groupCommit, x.config.size.name, String(x.config.clients), fmtNum(x.produces), `${fmtNum(x.attemptsPerProduce, 2)}: ${x.callsPerProduce}`, fmtNum(x.fetches), x.callsPerFetch, fmtNum(x.e2e.count), fmtNum(x.e2eMissing)]),
      ),
    );
    const notExpress = results.filter((x) => x.config.tier === 'express' && !x.wroteExpress);
    if (notExpress.length > 0) console.log(`\n⚠ ${notExpress.length} express row(s) wrote no segment to the express bucket: lib did not route produce there, so those rows are S3 Standard writes.`);
    console.log('');
    console.log(`Model only (no emulator, no local queueing): a Monte Carlo of today's critical paths from the injected distributions (20,000 draws; produce = API + max(PUT, reserve) + publish; fetch = API + 2 Query + GET; segment PUT/GET hedged as lib/storage/hedge.ts does, off and at lib's AWS_TUNING_DEFAULTS; e2e adds a uniform 0-${opts.pollIntervalMs} ms wait for the other instance's next poll, the case of a partition that was idle):\n`);
    const modelRows: string[][] = [];
    const otherPolls = [100, 50].filter((ms) => ms !== opts.pollIntervalMs);
    const awsTuned = { ...TUNING_DEFAULTS, ...AWS_TUNING_DEFAULTS };
    for (const tier of opts.tiers) {
      for (const size of opts.sizes) {
        for (const hedge of [0, tier === 'express' ? awsTuned.expressHedgeAfterMs : awsTuned.s3HedgeAfterMs]) {
          const m = criticalPath(model, tier, size, opts.pollIntervalMs, opts.seed + 11, hedge);
          const g = GOALS[tier];
          const goals = [`p50 ${m.produce.p50 <= g.produceP50 ? '✓' : '✗'}`, `p99 ${m.produce.p99 <= g.produceP99 ? '✓' : '✗'}`, ...(g.e2eP99 === undefined ? [] : [`e2e ${m.e2e.p99 <= g.e2eP99 ? '✓' : '✗'}`])].join(' ');
          const others = otherPolls.map((ms) => fmtMs(criticalPath(model, tier, size, ms, opts.seed + 11, hedge).e2e.p99));
          modelRows.push([tier, size.name, hedge > 0 ? `after ${hedge} ms` : 'off', fmtMs(m.produce.p50), fmtMs(m.produce.p99), fmtMs(m.e2e.p50), fmtMs(m.e2e.p99), ...others, fmtMs(m.fetch.p50), fmtMs(m.fetch.p99), goals]);
        }
      }
    }
    console.log(table(['tier', 'records', 'hedge', 'produce p50:', 'produce p99:', 'e2e p50:', 'e2e p99:', ...otherPolls.map((ms) => `e2e p99 if poll ${ms} ms:`), 'fetch p50:', 'fetch p99:', 'goals'], modelRows));
    console.log('');
    console.log('Goals (✓ met, ✗ missed), per tier over the measured rows above (best … worst):\n');
    const goalRows: string[][] = [];
    for (const tier of opts.tiers) {
      const rows = results.filter((x) => x.config.tier === tier);
      if (rows.length === 0) continue;
      const g = GOALS[tier];
      const span = (f: (x: ConfigResult) => number, goal: number) => {
        const vals = rows.map(f).sort((a, b) => a - b);
        return `${verdict(vals[0]!, goal)} … ${verdict(vals[vals.length - 1]!, goal)} (${rows.filter((x) => f(x) <= goal).length}/${rows.length} rows)`;
      };
      goalRows.push([tier, `produce p50 ≤ ${g.produceP50}`, span((x) => x.produce.p50, g.produceP50)]);
      goalRows.push([tier, `produce p99 ≤ ${g.produceP99}`, span((x) => x.produce.p99, g.produceP99)]);
      if (g.e2eP99 !== undefined) goalRows.push([tier, `end-to-end p99 ≤ ${g.e2eP99}`, span((x) => x.e2e.p99, g.e2eP99!)]);
    }
    console.log(table(['tier', 'goal (ms)', 'measured'], goalRows));
    console.log('');
    console.log('Injected distributions (ms; lognormal fitted to p50/p99, plus transfer per MiB of body; per HTTP attempt):\n');
    console.log(
      table(
        ['call', 'p50:', 'p99:', 'per MiB:', 'source'],
        [...Object.entries(model.ops).map(([k, d]) => distRow(k, d)), distRow('API Gateway HTTP API + Lambda (per app request)', model.apiOverheadMs)],
      ),
    );
    console.log('');
    console.log('Published anchors (ms, not measured here):\n');
    console.log(table(['system', 'produce p50 / p99', 'end-to-end p50 / p99', 'source'], ANCHORS));
  } finally {
    await b.stop();
  }
}
