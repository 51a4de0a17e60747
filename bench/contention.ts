/**
 * Commit contention on one partition (`npm run bench -- contention [--seconds=3] [--rounds=3]`), invariant W5
 * of docs/ARCHITECTURE.md.
 *
 * N = 1, 4, 16, 64 concurrent producers, each looping one 100-byte record per request to
 * partition 0 of a fresh topic, for a fixed time (3 s) after a 1 s warm-up at the same N; then
 * 16 producers sending 4-record requests, one record per partition of a 4-partition topic (an
 * atomic multi-partition commit: one TransactWriteItems).
 *
 * Two layers, same stack:
 *  - app:       the whole produce path through `createApp(deps)` in process (`app.request`):
 *               validation, encode, S3 PUT to s3rver, reserve, publish;
 *  - sequencer: only the DynamoDB commit (IndexStore.reserve + publish), no S3, no app: what
 *               the reference slot-sequencer numbers in docs/ARCHITECTURE.md measured.
 *
 * Three rounds interleave all configurations (the machine is shared; background load then
 * hits every configuration alike); rows report the median round's commits/s and latencies
 * pooled over the rounds. After every run the bench checks what it measured: the high watermark equals the records
 * acknowledged (warm-up included), acknowledged offsets are unique, and nothing failed.
 * A run that fails a check aborts the bench instead of printing numbers.
 *
 * Targets (W5): commits/s does not fall as producers are added (each N within 10% of the best
 * smaller N, the tolerance of this shared 2-core machine); p99 at N=16 <= 10 × p99 at N=1.
 */
import { createApp } from '../lib/api/app.ts';
import { createServices, type Services } from '../lib/services.ts';
import {
  type BenchStack,
  type LoopResult,
  call,
  createTopic,
  fmtMs,
  fmtNum,
  formatCounts,
  highWatermarks,
  inProcess,
  settledHighWatermarks,
  log,
  machine,
  postJson,
  profileAreas,
  startBenchStack,
  startCpuMeter,
  summarize,
  table,
  timedLoop,
  uniqueName,
  numberArg,
} from './support.ts';

const PRODUCERS = [1, 4, 16, 64] as const;
const MULTI_PRODUCERS = 16;
const MULTI_PARTITIONS = 4;
const VALUE = 'x'.repeat(100);
const WARMUP_MS = 1000;
const FALL_TOLERANCE = 0.1;

interface Result {
  readonly label: string;
  readonly producers: number;
  readonly loop: LoopResult;
  /** Commits during the warm-up (not in `loop`). */
  readonly warmOps: number;
  readonly aws: string;
  /** CPU ms over the measured loop. */
  readonly nodeCpuMs: number;
  readonly jvmCpuMs: number;
  /** Records acknowledged in the run (warm-up included), == the settled high watermark(s). */
  readonly acked: number;
  /** High-watermark reads it took to see them all (1 = the first read was right). */
  readonly hwmReads: number;
}

/** A commit: resolves with the offsets it was given, per partition. */
type Commit = () => Promise<{ partition: number; offset: number }[]>;

/** Warm-up, then a measured loop; every acked offset (warm-up included) is collected for the check. */
async function runOne(b: BenchStack, producers: number, ms: number, commit: Commit, acked: Map<number, number[]>): Promise<Omit<Result, 'label' | 'acked' | 'hwmReads'>> {
  const op = async () => {
    for (const { partition, offset } of await commit()) {
      let list = acked.get(partition);
      if (!list) acked.set(partition, (list = []));
      list.push(offset);
    }
  };
  const warm = await timedLoop(producers, WARMUP_MS, op);
  if (warm.errors > 0) throw new Error(`warm-up: ${warm.errors} commits failed; first: ${String(warm.firstError)}`);
  const before = b.counter.snapshot();
  const cpu = startCpuMeter(b.stack.dynamoPid);
  const loop = await timedLoop(producers, ms, op);
  const { nodeMs, jvmMs } = cpu.read();
  if (loop.errors > 0) throw new Error(`${loop.errors} of ${loop.ops + loop.errors} commits failed; first: ${String(loop.firstError)}`);
  const counts = b.counter.since(before, loop.ops);
  const retries = counts.totalAttempts - counts.totalSends;
  return {
    producers,
    loop,
    warmOps: warm.ops,
    aws: `${formatCounts(counts.sends)}${retries > 0.005 ? ` (+${fmtNum(retries, 2)} SDK retries)` : ''}`,
    nodeCpuMs: nodeMs,
    jvmCpuMs: jvmMs,
  };
}

/** HWM == acked count and offsets unique, per partition; throws otherwise. */
function verify(label: string, acked: Map<number, number[]>, settled: { hwm: readonly number[]; reads: number }): { acked: number; hwmReads: number } {
  const { hwm, reads } = settled;
  let total = 0;
  for (const [p, offsets] of acked) {
    const unique = new Set(offsets).size;
    if (unique !== offsets.length) throw new Error(`${label}: partition ${p} acked ${offsets.length - unique} duplicate offsets`);
    if (hwm[p] !== offsets.length) throw new Error(`${label}: partition ${p} high watermark ${hwm[p]} != ${offsets.length} records acked`);
    if (Math.max(...offsets) !== offsets.length - 1) throw new Error(`${label}: partition ${p} max offset ${Math.max(...offsets)} with ${offsets.length} acked`);
    total += offsets.length;
  }
  return { acked: total, hwmReads: reads };
}

async function appRun(b: BenchStack, req: ReturnType<typeof inProcess>, producers: number, partitions: number, ms: number): Promise<Result> {
  const topic = uniqueName(`ct-${partitions}p-${producers}`);
  await createTopic(req, topic, partitions);
  const body = postJson(JSON.stringify({ encoding: 'string', records: Array.from({ length: partitions }, (_, p) => ({ value: VALUE, partition: p })) }));
  const acked = new Map<number, number[]>();
  const r = await runOne(b, producers, ms, async () => {
    const text = await call(req, `/v1/topics/${topic}/records`, body);
    return (JSON.parse(text) as { offsets: { partition: number; offset: number }[] }).offsets;
  }, acked);
  const label = partitions === 1 ? `app, 1 partition` : `app, ${partitions}-partition requests`;
  return { ...r, label, ...verify(`${label} N=${producers}`, acked, await settledHighWatermarks(() => highWatermarks(req, topic))) };
}

async function sequencerRun(b: BenchStack, services: Services, producers: number, partitions: number, ms: number): Promise<Result> {
  const topicId = uniqueName('ct-seq');
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topicId, partition }));
  const acked = new Map<number, number[]>();
  const r = await runOne(b, producers, ms, async () => {
    const now = Date.now();
    const reservations = await Promise.all(tps.map((tp) => services.index.reserve(tp, 1, now)));
    await services.publisher.publish(
      { entries: reservations.map((reservation) => ({ reservation, object: `bench/${topicId}`, position: 0, length: 100, recordCount: 1, budgetBytes: 140, minTimestamp: now, maxTimestamp: now })) },
      Date.now(),
    );
    return reservations.map((res, p) => ({ partition: p, offset: res.base }));
  }, acked);
  const settled = await settledHighWatermarks(() => Promise.all(tps.map(async (tp) => (await services.partitions.view(tp)).highWatermark)));
  const label = partitions === 1 ? 'sequencer, 1 partition' : `sequencer, ${partitions}-partition commits`;
  return { ...r, label, ...verify(`${label} N=${producers}`, acked, settled) };
}

/** Several rounds of one configuration: rate = median of the rounds, latencies pooled. */
interface Merged {
  readonly label: string;
  readonly producers: number;
  readonly rates: number[];
  readonly rate: number;
  readonly latency: ReturnType<typeof summarize>;
  readonly nodeCpuPerCommit: number;
  readonly jvmCpuPerCommit: number;
  readonly aws: string;
  readonly acked: number;
  readonly maxHwmReads: number;
}

function merge(runs: readonly Result[]): Merged {
  const rates = runs.map((r) => r.loop.ops / (r.loop.elapsedMs / 1000));
  const ops = runs.reduce((n, r) => n + r.loop.ops, 0);
  return {
    label: runs[0]!.label,
    producers: runs[0]!.producers,
    rates,
    rate: [...rates].sort((a, b) => a - b)[rates.length >> 1]!,
    latency: summarize(runs.flatMap((r) => r.loop.latenciesMs)),
    nodeCpuPerCommit: runs.reduce((n, r) => n + r.nodeCpuMs, 0) / ops,
    jvmCpuPerCommit: runs.reduce((n, r) => n + r.jvmCpuMs, 0) / ops,
    aws: runs[0]!.aws,
    acked: runs.reduce((n, r) => n + r.acked, 0),
    maxHwmReads: Math.max(...runs.map((r) => r.hwmReads)),
  };
}

function verdicts(single: readonly Merged[]): string[] {
  const out: string[] = [];
  let best = 0;
  const falls: string[] = [];
  for (const r of single) {
    if (best > 0 && r.rate < best * (1 - FALL_TOLERANCE)) falls.push(`N=${r.producers}: ${fmtNum(r.rate)}/s < 90% of ${fmtNum(best)}/s`);
    best = Math.max(best, r.rate);
  }
  const label = single[0]!.label;
  out.push(`${falls.length === 0 ? 'PASS' : 'MISS'} — ${label}: commits/s does not fall as producers are added (median of rounds: ${single.map((r) => `N=${r.producers} ${fmtNum(r.rate)}`).join(', ')})${falls.length ? `; fell at ${falls.join('; ')}` : ''}`);
  const one = single.find((r) => r.producers === 1)!;
  const sixteen = single.find((r) => r.producers === 16)!;
  const ratio = sixteen.latency.p99 / one.latency.p99;
  out.push(`${ratio <= 10 ? 'PASS' : 'MISS'} — ${label}: p99 at 16 producers ${fmtMs(sixteen.latency.p99)} ms = ${ratio.toFixed(1)}× the single-producer p99 ${fmtMs(one.latency.p99)} ms (target ≤ 10×)`);
  out.push(`info — ${label}: p99(N)/p99(1) = ${single.map((r) => `${(r.latency.p99 / one.latency.p99).toFixed(1)} at N=${r.producers}`).join(', ')} (W5: at most linear in N)`);
  return out;
}

const HEADERS = ['layer', 'producers:', 'commits/s (median):', 'rounds:', 'records/s:', 'p50 ms:', 'p99 ms:', 'max ms:', 'node CPU ms/commit:', 'JVM CPU ms/commit:', 'AWS requests per commit', 'check'];

function rowCells(m: Merged, recordsPerCommit: number): string[] {
  return [
    m.label,
    String(m.producers),
    fmtNum(m.rate),
    m.rates.map((r) => fmtNum(r)).join(' / '),
    fmtNum(m.rate * recordsPerCommit),
    fmtMs(m.latency.p50),
    fmtMs(m.latency.p99),
    fmtMs(m.latency.max),
    fmtNum(m.nodeCpuPerCommit, 2),
    fmtNum(m.jvmCpuPerCommit, 2),
    m.aws,
    `ok: ${fmtNum(m.acked)} acked = HWM${m.maxHwmReads > 1 ? ` (≤ ${m.maxHwmReads} reads)` : ''}`,
  ];
}

export async function run(args: string[]): Promise<void> {
  const seconds = numberArg(args, 'seconds', 3);
  const rounds = numberArg(args, 'rounds', 3);
  const ms = seconds * 1000;
  const started = Date.now();
  const where = machine();
  log('starting DynamoDB Local + s3rver ...');
  const b = await startBenchStack();
  try {
    const app = createApp(b.deps);
    const req = inProcess(app);
    const services = createServices(b.deps);

    // JVM warm-up: DynamoDB Local's first seconds run interpreted and are several times slower.
    log('JVM warm-up (3 s) ...');
    await appRun(b, req, 16, 1, 3000);

    // Rounds interleave every configuration, so background load on this shared machine hits
    // all of them alike; each row reports the median round.
    const runs = new Map<string, Result[]>();
    const add = (key: string, r: Result) => runs.set(key, [...(runs.get(key) ?? []), r]);
    for (let round = 1; round <= rounds; round++) {
      for (const n of PRODUCERS) {
        log(`round ${round}: app, 1 partition, N=${n} ...`);
        add(`app ${n}`, await appRun(b, req, n, 1, ms));
        log(`round ${round}: sequencer, 1 partition, N=${n} ...`);
        add(`seq ${n}`, await sequencerRun(b, services, n, 1, ms));
      }
      log(`round ${round}: ${MULTI_PARTITIONS}-partition, N=${MULTI_PRODUCERS} ...`);
      add('app multi', await appRun(b, req, MULTI_PRODUCERS, MULTI_PARTITIONS, ms));
      add('seq multi', await sequencerRun(b, services, MULTI_PRODUCERS, MULTI_PARTITIONS, ms));
    }
    const appRows = PRODUCERS.map((n) => merge(runs.get(`app ${n}`)!));
    const seqRows = PRODUCERS.map((n) => merge(runs.get(`seq ${n}`)!));

    // Where the app path's CPU goes in this process, per commit (1 partition, 16 producers).
    log('CPU profile of the app path (2 s, N=16) ...');
    const prof = await profileAreas(() => appRun(b, req, 16, 1, 2000));
    const commits = prof.result.loop.ops + prof.result.warmOps;
    const areas = [...prof.msByArea.entries()].sort((x, y) => y[1] - x[1]);
    const total = areas.reduce((n, [, v]) => n + v, 0);

    console.log(`Run ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${where}; ${rounds} interleaved rounds of ${seconds} s per configuration, each after a 1 s warm-up; total ${fmtNum((Date.now() - started) / 1000)} s.`);
    console.log(`app = POST /v1/topics/:t/records through createApp(deps).request() in process, 1 record × 100 B (4 records, one per partition, in the multi-partition rows); sequencer = IndexStore.reserve + publish only (no S3, no app). commits/s = median round; latencies pooled over the rounds.\n`);
    console.log(table(HEADERS, [
      ...appRows.map((r) => rowCells(r, 1)),
      rowCells(merge(runs.get('app multi')!), MULTI_PARTITIONS),
      ...seqRows.map((r) => rowCells(r, 1)),
      rowCells(merge(runs.get('seq multi')!), MULTI_PARTITIONS),
    ]));
    console.log('');
    for (const v of [...verdicts(appRows), ...verdicts(seqRows)]) console.log(`- ${v}`);
    console.log(`\nCPU ms per commit in this Node process by code area (V8 sampling profile of the app path, 1 partition, N=16, ${fmtNum(commits)} commits incl. warm-up):\n`);
    console.log(table(['area', 'ms/commit:', 'share:'], [
      ...areas.map(([a, v]) => [a, fmtNum(v / commits, 3), `${fmtNum((100 * v) / total, 0)}%`]),
      ['**total on-CPU**', `**${fmtNum(total / commits, 3)}**`, '100%'],
    ]));
  } finally {
    await b.stop();
  }
}
