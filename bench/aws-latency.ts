/**
 * An AWS latency model for the benches: per AWS API call a delay drawn from a lognormal fitted to
 * a published (or, where none was found, explicitly assumed) p50/p99, plus a transfer time per
 * MiB of body, injected by AWS SDK middleware into the REAL clients that talk to the local
 * emulators. `npm run bench -- aws-model` (bench/aws-model.ts) drives the app through it; a cost
 * model may import the distributions.
 *
 * What a delay is added to
 *  - Every HTTP ATTEMPT of an SDK command (middleware at step 'deserialize', which runs inside
 *    the SDK's retry loop in 'finalizeRequest'), so an SDK retry pays the round trip again.
 *  - Half of the base latency is slept before the request goes to the emulator and half after
 *    its answer (the service acts somewhere in the middle of a round trip: a DynamoDB write
 *    becomes visible to other readers before its caller has the answer). Transfer time goes
 *    where the bytes move: before the request for PutObject (upload), after the answer for
 *    GetObject (download).
 *  - The emulator's own time (DynamoDB Local, in-process s3rver: ~1-3 ms per call on an idle
 *    machine, more under load on 2 cores) is ON TOP of the injected delay. aws-model measures
 *    and prints it (a run without injection, and the emulator ms per call of every config).
 *
 * Routing (`opKey`)
 *  - S3: 's3-express <Command>' when `input.Bucket` is in `expressBuckets`, else
 *    's3-standard <Command>'. Size: PutObject = body length; GetObject = the requested Range's
 *    length, else the answer's ContentLength.
 *  - DynamoDB: 'dynamodb <Command>'.
 *  - A command without its own entry uses '<service> *' (e.g. 's3-standard *', 'dynamodb *').
 *
 * Overrides (`parseLatencyOverrides`), one flag per distribution, values in ms:
 *    --lat.<service>.<Command>=<p50>,<p99>[,<perMiB>]
 *        service: s3-standard | s3-express | dynamodb; Command as the SDK names it without
 *        "Command" (PutObject, GetObject, UpdateItem, PutItem, TransactWriteItems, ...), or * for
 *        the fallback. A new key is added; an existing one keeps its perMiB unless given.
 *        e.g. --lat.dynamodb.UpdateItem=4,12   --lat.s3-standard.PutObject=30,200,10.5
 *    --lat.api=<p50>,<p99>      API Gateway HTTP API + Lambda overhead per app request
 *    --lat.scale=<factor>       multiplies every p50, p99 and perMiB (0 = no injection)
 *  The source of an overridden distribution becomes "override (--lat...)".
 *
 * Sampling: lognormal with mu = ln(p50), sigma = ln(p99/p50) / z(0.99) (z = 2.3263), from a
 * seeded RNG (mulberry32), so runs are reproducible; plus perMiBMs × bytes / MiB (deterministic).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { prng } from '../test/support/prng.ts';

export type Tier = 'standard' | 'express';

export interface Distribution {
  p50Ms: number;
  p99Ms: number;
  /** Transfer time added per MiB of body. */
  perMiBMs?: number;
  /** Citation (URL + what it says), or "assumption: ..." where no published number was found. */
  source: string;
}

export interface LatencyModel {
  /** Keys like 's3-standard PutObject', 's3-express PutObject', 'dynamodb UpdateItem', 'dynamodb *'. */
  ops: Record<string, Distribution>;
  /** API Gateway HTTP API + Lambda fixed overhead per request. */
  apiOverheadMs: Distribution;
}

export const MIB = 1024 * 1024;
/** Standard normal quantile of 0.99. */
export const Z99 = 2.3263478740408408;

// Sources, once (the distributions below cite them by these strings).
const SRC_NAPKIN_PR =
  'github.com/sirupsen/napkin-math/pull/39 (from us-east-1, 1 connection: PUT 128 KiB p50 30 / p90 54 / p99 88 ms, GET 128 KiB p50 26 / p90 40 / p99 73 ms, PUT 95 MiB/s, GET 82 MiB/s; the author notes that with more iterations p99 came close to the napkin-math sheet: PUT 200 ms, GET 80 ms)';
const SRC_SMITHY_EXPRESS =
  'github.com/smithy-lang/smithy-rs/pull/3446 (c5.4xlarge us-west-2, 64 KB objects, mean: S3 Express PUT 12.0 ms, GET 16.3 ms; S3 Standard PUT 76 ms, GET 22.6 ms)';
const SRC_EXPRESS_DOC =
  'docs.aws.amazon.com/AmazonS3/latest/userguide/s3-express-performance.html ("consistent single-digit millisecond first-byte read and write request latencies - up to 10x faster than S3 Standard")';
const SRC_WARPSTREAM_PUT =
  'warpstream.com/blog "The Art of Being Lazy(log)" ("the minimum latency for a PUT operation in traditional object stores is on the order of a few hundred milliseconds")';
const SRC_DDB_DOC =
  'aws.amazon.com/blogs/database/understanding-amazon-dynamodb-latency ("single-digit millisecond performance"; service-side, SuccessfulRequestLatency)';
const SRC_DDB_CLIENT = 'dynobase.dev/dynamodb-performance-latency ("delays ranging from 10 to 20 ms under typical conditions", client side)';
const SRC_DDB_TX =
  'docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html (capacity management: a transaction does two underlying writes per item, prepare and commit)';

/** The defaults, every parameter with its source. */
export function defaultLatencyModel(): LatencyModel {
  const s3StdPut: Distribution = {
    p50Ms: 30,
    p99Ms: 200,
    perMiBMs: 10.5,
    source: `p50 and transfer (95 MiB/s) from ${SRC_NAPKIN_PR}; p99 200 ms = the sheet's PUT figure the longer run approached (the short run's 88 ms is optimistic), consistent with ${SRC_WARPSTREAM_PUT}`,
  };
  const s3StdGet: Distribution = {
    p50Ms: 25,
    p99Ms: 80,
    perMiBMs: 12,
    source: `p50 26 ms, p99 73-80 ms and transfer (82 MiB/s) from ${SRC_NAPKIN_PR}; ${SRC_SMITHY_EXPRESS} has a 22.6 ms mean for a 64 KB GET`,
  };
  const s3ExpPut: Distribution = {
    p50Ms: 8,
    p99Ms: 25,
    perMiBMs: 10.5,
    source: `p50: ${SRC_EXPRESS_DOC}, and the 12 ms mean PUT of ${SRC_SMITHY_EXPRESS} (which includes the transfer of 64 KB); p99: assumption (3x p50, the p99/p50 ratio of the Standard measurements), no published p99 found; transfer: assumption, Standard's per-connection 95 MiB/s`,
  };
  const s3ExpGet: Distribution = {
    p50Ms: 8,
    p99Ms: 25,
    perMiBMs: 12,
    source: `p50: ${SRC_EXPRESS_DOC}; ${SRC_SMITHY_EXPRESS} measured a 16.3 ms mean GET; p99: assumption (3x p50), no published p99 found; transfer: assumption, Standard's per-connection 82 MiB/s`,
  };
  const ddb = (p50Ms: number, p99Ms: number, what: string): Distribution => ({
    p50Ms,
    p99Ms,
    source: `p50: ${SRC_DDB_DOC} plus a client round trip in-region (assumption), below the 10-20 ms of ${SRC_DDB_CLIENT}; p99: assumption (3x p50), no published p99 found${what}`,
  });
  return {
    ops: {
      's3-standard PutObject': s3StdPut,
      's3-standard GetObject': s3StdGet,
      's3-standard *': { p50Ms: 25, p99Ms: 80, source: 'assumption: other S3 Standard calls (List, Delete, CreateBucket) as a GET without body' },
      's3-express PutObject': s3ExpPut,
      's3-express GetObject': s3ExpGet,
      's3-express *': { p50Ms: 8, p99Ms: 25, source: 'assumption: other S3 Express calls as a GET without body' },
      'dynamodb GetItem': ddb(4, 12, ''),
      'dynamodb PutItem': ddb(5, 15, ''),
      'dynamodb UpdateItem': ddb(5, 15, ''),
      'dynamodb Query': ddb(5, 15, ''),
      'dynamodb BatchGetItem': ddb(7, 20, '; a few items read in parallel server-side (assumption)'),
      'dynamodb TransactWriteItems': {
        p50Ms: 12,
        p99Ms: 35,
        source: `assumption: ~2.5x a single write because of ${SRC_DDB_TX}; no published p50/p99 found`,
      },
      'dynamodb *': ddb(5, 15, '; any other DynamoDB call'),
    },
    apiOverheadMs: {
      p50Ms: 12,
      p99Ms: 40,
      source:
        'p50: smplogs.com/patterns/apigateway/high-latency ("API Gateway itself typically adds only 10-30 milliseconds of overhead for REST APIs (somewhat less for HTTP APIs)") plus a warm Lambda invoke (assumption); p99: assumption, no published p99 found',
    },
  };
}

const SERVICES = ['s3-standard', 's3-express', 'dynamodb'] as const;

function parseMs(flag: string, raw: string, count: [number, number]): number[] {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length < count[0] || parts.length > count[1]) throw new Error(`${flag}: expected ${count[0] === count[1] ? count[0] : `${count[0]}-${count[1]}`} comma-separated numbers (ms), got "${raw}"`);
  const nums = parts.map(Number);
  if (nums.some((n) => !Number.isFinite(n) || n < 0)) throw new Error(`${flag}: values must be non-negative numbers, got "${raw}"`);
  if (nums.length >= 2 && nums[1]! < nums[0]!) throw new Error(`${flag}: p99 (${nums[1]}) is below p50 (${nums[0]})`);
  return nums;
}

/** Applies `--lat.*` flags (syntax in the header) to a copy of `model`; other arguments are ignored. */
export function parseLatencyOverrides(args: string[], model: LatencyModel): LatencyModel {
  const out: LatencyModel = {
    ops: Object.fromEntries(Object.entries(model.ops).map(([k, d]) => [k, { ...d }])),
    apiOverheadMs: { ...model.apiOverheadMs },
  };
  let scale: number | undefined;
  for (const arg of args) {
    if (!arg.startsWith('--lat.')) continue;
    const eq = arg.indexOf('=');
    if (eq < 0) throw new Error(`${arg}: expected --lat.<name>=<value>`);
    const name = arg.slice('--lat.'.length, eq);
    const raw = arg.slice(eq + 1);
    const flag = `--lat.${name}`;
    if (name === 'scale') {
      const [f] = parseMs(flag, raw, [1, 1]);
      scale = f!;
      continue;
    }
    if (name === 'api') {
      const [p50Ms, p99Ms] = parseMs(flag, raw, [2, 2]);
      out.apiOverheadMs = { p50Ms: p50Ms!, p99Ms: p99Ms!, source: `override (${flag})` };
      continue;
    }
    const dot = name.indexOf('.');
    const service = dot < 0 ? name : name.slice(0, dot);
    const command = dot < 0 ? '' : name.slice(dot + 1);
    if (!(SERVICES as readonly string[]).includes(service) || !/^(\*|[A-Za-z0-9]+)$/.test(command)) {
      throw new Error(`${arg}: expected --lat.<${SERVICES.join('|')}>.<Command>=p50,p99[,perMiB], --lat.api=p50,p99 or --lat.scale=F`);
    }
    const [p50Ms, p99Ms, perMiB] = parseMs(flag, raw, [2, 3]);
    const key = `${service} ${command.replace(/Command$/, '')}`;
    const before = out.ops[key];
    const d: Distribution = { p50Ms: p50Ms!, p99Ms: p99Ms!, source: `override (${flag})` };
    const keptPerMiB = perMiB ?? before?.perMiBMs;
    if (keptPerMiB !== undefined) d.perMiBMs = keptPerMiB;
    out.ops[key] = d;
  }
  if (scale !== undefined) {
    const f = scale;
    const scaled = (d: Distribution): Distribution => ({
      ...d,
      p50Ms: d.p50Ms * f,
      p99Ms: d.p99Ms * f,
      ...(d.perMiBMs === undefined ? {} : { perMiBMs: d.perMiBMs * f }),
      source: f === 1 ? d.source : `${d.source} [scaled x${f} by --lat.scale]`,
    });
    for (const k of Object.keys(out.ops)) out.ops[k] = scaled(out.ops[k]!);
    out.apiOverheadMs = scaled(out.apiOverheadMs);
  }
  return out;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1) (the tests' own, so a run replays from its seed). */
export const seededRandom: (seed: number) => () => number = prng;

/** A standard normal draw (Box-Muller, two uniforms). */
function standardNormal(random: () => number): number {
  const u1 = 1 - random(); // (0, 1]: log(0) never happens
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** The lognormal part only (no transfer time): median p50, 99th percentile p99. */
export function sampleBaseMs(d: Distribution, random: () => number): number {
  if (d.p50Ms <= 0) return 0;
  const sigma = d.p99Ms > d.p50Ms ? Math.log(d.p99Ms / d.p50Ms) / Z99 : 0;
  return d.p50Ms * Math.exp(sigma * standardNormal(random));
}

/** Transfer time of `bytes` under `d` (deterministic). */
export function transferMs(d: Distribution, bytes: number): number {
  return ((d.perMiBMs ?? 0) * Math.max(0, bytes)) / MIB;
}

/** Lognormal fitted to p50/p99, plus perMiBMs per MiB of `bytes`. */
export function sampleMs(d: Distribution, bytes: number, random: () => number): number {
  return sampleBaseMs(d, random) + transferMs(d, bytes);
}

/** The call's own key: 's3-express <Command>' / 's3-standard <Command>' (by bucket) / 'dynamodb <Command>'. */
export function callKey(
  service: 's3' | 'dynamodb',
  commandName: string | undefined,
  input: { Bucket?: unknown } | undefined,
  expressBuckets: ReadonlySet<string>,
): string {
  const command = (commandName ?? '?').replace(/Command$/, '');
  const prefix = service === 'dynamodb' ? 'dynamodb' : typeof input?.Bucket === 'string' && expressBuckets.has(input.Bucket) ? 's3-express' : 's3-standard';
  return `${prefix} ${command}`;
}

/**
 * The distribution key of a call: its callKey when the model has that entry, else
 * '<service> *' (e.g. 's3-standard *', 'dynamodb *'; may itself be absent: then no delay).
 */
export function opKey(
  model: LatencyModel,
  service: 's3' | 'dynamodb',
  commandName: string | undefined,
  input: { Bucket?: unknown } | undefined,
  expressBuckets: ReadonlySet<string>,
): string {
  const key = callKey(service, commandName, input, expressBuckets);
  return model.ops[key] !== undefined ? key : `${key.slice(0, key.indexOf(' '))} *`;
}

/** Bytes of a body the SDK is about to send (Buffer, Uint8Array, string); 0 for streams and unknowns. */
export function bodyBytes(body: unknown): number {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  if (body instanceof ArrayBuffer) return body.byteLength;
  return 0;
}

/** Length of an HTTP Range "bytes=a-b" (inclusive); undefined for other forms. */
export function rangeBytes(range: unknown): number | undefined {
  if (typeof range !== 'string') return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(range.trim());
  return m ? Number(m[2]) - Number(m[1]) + 1 : undefined;
}

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

export interface InjectOptions {
  /** Buckets whose calls use the 's3-express' distributions. */
  expressBuckets: ReadonlySet<string>;
  /** Uniform [0, 1); default a mulberry32 seeded with 1 (reproducible). */
  random?: () => number;
  /** Called once per HTTP attempt with the call's key (callKey) and the total injected ms (0 when the model has no distribution for it). */
  onDelay?: (op: string, ms: number) => void;
  /** Called once per HTTP attempt with the call's key and the emulator's own time for it (ms). */
  onEmulator?: (op: string, ms: number) => void;
}

/**
 * Adds the model's delay to every HTTP attempt of `client` (header: half before the request,
 * half after; transfer on the side where the bytes move).
 */
export function injectLatency(client: S3Client | DynamoDBClient, service: 's3' | 'dynamodb', model: LatencyModel, opts: InjectOptions): void {
  const random = opts.random ?? seededRandom(1);
  // The middleware stack's overloads do not accept a union receiver; both stacks are the same shape.
  const stack = client.middlewareStack as DynamoDBClient['middlewareStack'];
  stack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: unknown; Body?: unknown; Range?: unknown };
      const call = callKey(service, context.commandName, input, opts.expressBuckets);
      const d = model.ops[opKey(model, service, context.commandName, input, opts.expressBuckets)];
      const command = call.slice(call.indexOf(' ') + 1);
      const base = d === undefined ? 0 : sampleBaseMs(d, random);
      const up = d !== undefined && service === 's3' && command === 'PutObject' ? transferMs(d, bodyBytes(input.Body)) : 0;
      await sleep(base / 2 + up);
      const t0 = performance.now();
      let down = 0;
      try {
        const out = await next(args);
        if (d !== undefined && service === 's3' && command === 'GetObject') {
          const len = rangeBytes(input.Range) ?? Number((out.output as { ContentLength?: unknown }).ContentLength ?? 0);
          down = transferMs(d, Number.isFinite(len) ? len : 0);
        }
        return out;
      } finally {
        opts.onEmulator?.(call, performance.now() - t0);
        await sleep(base / 2 + down);
        opts.onDelay?.(call, base + up + down);
      }
    },
    // Inside the retry loop (finalizeRequest): once per HTTP attempt, like RequestCounter's attempts.
    { step: 'deserialize', name: 'benchInjectLatency' },
  );
}
