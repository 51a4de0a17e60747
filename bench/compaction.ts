/**
 * Log compaction (lib/maintenance/compaction.ts): what cleaning a big compacted partition costs
 * (`npm run bench -- compaction [--records=5000000] [--keys=1000000] [--per-request=1000]
 * [--value-bytes=100] [--max-keys=<compactionMaxKeys>] [--tombstones=5] [--workers=8]
 * [--merge-first=no|yes] [--profile=no|yes] [--gc-grace-ms=<gcGraceMs>]
 * [--max-calls=<2 × keys / max-keys + 10>]`).
 *
 * A local stack: DynamoDB Local (JVM, in memory) and s3rver in a CHILD process, so this
 * process's memory is the bench's, lib/'s and the SDK's only (bench/maintenance.ts runs s3rver
 * in process); counting SDK clients; one movable clock shared by the app and maintenance.
 *  1. A topic with `cleanup.policy: compact` and one partition; `records` records produced
 *     through the app (createApp, in process), `per-request` records per produce request,
 *     `workers` requests in flight. Record g has key `key-<k>`, k uniform over `keys`
 *     (a fixed hash of g), and is a tombstone (null value) with probability `tombstones` %,
 *     else a `value-bytes` text value (random base64, so zstd stores ~75 %) that begins with g.
 *     The model is two typed arrays from the produce answers (g per offset, 4 B per record; the
 *     last acknowledged offset per key, 8 B per key), not the records themselves.
 *  2. A full GC, the RSS baseline, then maintenance (`createMaintenance(deps, { mergeMinAgeMs:
 *     0, compactionMaxKeys: max-keys, gcGraceMs: gc-grace-ms })`) `runUntilIdle()`, called again
 *     while a call did compaction passes (at most `max-calls`): wall time, RSS sampled
 *     every 100 ms (peak; also V8 heap and external memory), S3 and DynamoDB requests, CPU of
 *     this process, the JVM and s3rver; each compaction report (`passes[].compaction`).
 *     MB/s cleaned = the stored bytes of the entries the passes covered (Σ bytesBefore) / wall time.
 *     With a map smaller than the keys a pass leaves `more`; the partition is due again at once,
 *     but a tick counts a compaction pass neither as work nor as `more`, so runUntilIdle
 *     returns after it: the bench calls again and reports how many calls it took.
 *     `--merge-first=yes`: produce into a `delete` topic, merge it (maintenance until idle, not
 *     measured), then PATCH it to `compact`: the cost on merged segments instead of one object
 *     per produce request. `--profile=yes`: CPU of this process by code area (V8 sampler).
 *     `--gc-grace-ms`: a pass repoints nothing once its first new segment is older than half
 *     the grace; a small grace shows what a pass longer than that (a big partition) does.
 *  3. A fresh app reads the partition from offset 0 to the high watermark and checks Kafka's
 *     guarantees against the model: each record the one acknowledged at its offset, offsets
 *     ascending, the last record of every key there (a tombstone too: delete.retention.ms is
 *     the default 24 h, so every tombstone is within its horizon), one record per key below the
 *     checkpoint; and, when the map holds every key, fully compacted: nothing else.
 * Exits 0 on a failed target like the other benches; a failed correctness check is printed as FAIL.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createApp } from '../lib/api/app.ts';
import { MAINTENANCE_DEFAULTS } from '../lib/config.ts';
import type { SluiceDeps } from '../lib/deps.ts';
import { LIMITS } from '../lib/limits.ts';
import type { CompactionReport } from '../lib/maintenance/compaction.ts';
import type { TickReport } from '../lib/maintenance/maintenance.ts';
import { createMaintenance } from '../lib/services.ts';
import {
  type RequestCounter,
  type RequestCounts,
  type Requester,
  BenchOptions,
  call,
  collectGarbage,
  fmtNum,
  highWatermarks,
  inProcess,
  log,
  machine,
  memorySampler,
  movableClock,
  postJson,
  processCpuMs,
  defaultArea,
  profileAreas,
  settledHighWatermarks,
  startBenchStackS3Apart,
  table,
  uniqueName,
} from './support.ts';

const MiB = 1024 * 1024;
const MB = 1e6;

interface Config {
  readonly records: number;
  readonly keys: number;
  readonly perRequest: number;
  readonly valueBytes: number;
  readonly maxKeys: number;
  readonly tombstonePct: number;
  readonly workers: number;
  /** gcGraceMs of the maintenance (a pass repoints its new segments only while younger than half of it). */
  readonly gcGraceMs: number;
  /** Produce into a `delete` topic, merge it (maintenance until idle), then switch it to `compact`. */
  readonly mergeFirst: boolean;
  /** Run the compaction phase under the V8 sampling profiler and print CPU by code area. */
  readonly profile: boolean;
}

// ---- the workload: everything a function of the record number g ------------------------------

/** murmur3's 32-bit finaliser: a fixed, well-mixed hash of an int. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

class Workload {
  /** Random base64 text the values are cut from (4 MiB; kept for the check). */
  private readonly pool = randomBytes(3 * MiB).toString('base64');

  constructor(private readonly cfg: Config) {}

  keyOf(g: number): number {
    return mix32((g ^ 0x5bd1e995) | 0) % this.cfg.keys;
  }

  tombstone(g: number): boolean {
    return mix32((g ^ 0x27d4eb2f) | 0) % 1_000_000 < this.cfg.tombstonePct * 10_000;
  }

  /** `value-bytes` characters: "<g>:" then a slice of the pool at a position hashed from g. */
  value(g: number): string | null {
    if (this.tombstone(g)) return null;
    const head = `${g}:`;
    const n = Math.max(0, this.cfg.valueBytes - head.length);
    const at = mix32((g ^ 0x165667b1) | 0) % (this.pool.length - n);
    return (head + this.pool.slice(at, at + n)).slice(0, this.cfg.valueBytes);
  }

  body(request: number): string {
    const from = request * this.cfg.perRequest;
    const to = Math.min(this.cfg.records, from + this.cfg.perRequest);
    const records: { key: string; value: string | null }[] = [];
    for (let g = from; g < to; g++) records.push({ key: `key-${this.keyOf(g)}`, value: this.value(g) });
    return JSON.stringify({ encoding: 'string', records });
  }
}

/**
 * What was acknowledged: the record number g at every offset (offsets are dense, 0 .. records-1,
 * on this one partition), and per key its last acknowledged offset (-1: never written).
 */
class Model {
  readonly gAt: Int32Array;
  readonly lastOffset: Float64Array;
  acked = 0;

  constructor(records: number, keys: number) {
    this.gAt = new Int32Array(records).fill(-1);
    this.lastOffset = new Float64Array(keys).fill(-1);
  }

  get bytes(): number {
    return this.gAt.byteLength + this.lastOffset.byteLength;
  }

  lastG(k: number): number {
    return this.gAt[this.lastOffset[k]!]!;
  }

  ack(w: Workload, from: number, offsets: readonly { offset: number }[]): void {
    for (let i = 0; i < offsets.length; i++) {
      const g = from + i;
      const k = w.keyOf(g);
      const o = offsets[i]!.offset;
      if (!(o >= 0 && o < this.gAt.length) || this.gAt[o] !== -1) throw new Error(`record ${g} acknowledged at offset ${o}: outside the dense range or twice`);
      this.gAt[o] = g;
      if (o > this.lastOffset[k]!) this.lastOffset[k] = o;
    }
    this.acked += offsets.length;
  }
}

async function produceAll(req: Requester, topic: string, w: Workload, model: Model, cfg: Config): Promise<void> {
  const requests = Math.ceil(cfg.records / cfg.perRequest);
  let next = 0;
  let lastLog = performance.now();
  const worker = async () => {
    for (let r = next++; r < requests; r = next++) {
      const { offsets } = JSON.parse(await call(req, `/v1/topics/${topic}/records`, postJson(w.body(r)))) as { offsets: { offset: number }[] };
      model.ack(w, r * cfg.perRequest, offsets);
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`   ${fmtNum(model.acked)} / ${fmtNum(cfg.records)} records acknowledged`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.workers, requests) }, worker));
}

interface Described {
  readonly topicId: string;
  readonly partitions: { partition: number; highWatermark: number; logStartOffset: number; sizeBytes: number; segments: number }[];
}

async function describe(req: Requester, topic: string): Promise<Described['partitions'][number]> {
  return (JSON.parse(await call(req, `/v1/topics/${topic}`)) as Described).partitions[0]!;
}

// ---- the check ------------------------------------------------------------------------------

interface CheckResult {
  readonly fetches: number;
  readonly records: number;
  readonly tombstones: number;
  readonly ms: number;
  readonly counts: RequestCounts;
  /** Kafka's guarantees, each a count of violations: */
  /** a record that is not the one acknowledged at its offset (key or value differ, or no such offset); */
  readonly wrong: number;
  /** offsets not ascending; */
  readonly outOfOrder: number;
  /** keys whose last record was not returned; */
  readonly missing: number;
  /** a second record of a key below the compaction checkpoint (the cleaned part keeps one per key). */
  readonly duplicatesBelowCheckpoint: number;
  /** Not a violation by itself: records returned that are not their key's last (superseded, in the dirty part). */
  readonly superseded: number;
  readonly firstProblems: string[];
}

/**
 * A fresh app reads offset 0 → high watermark and checks every record against the model:
 * the record acknowledged at its offset, ascending, every key's last record present, at most
 * one record per key below `checkpoint` (the last pass's compactedTo); counts superseded ones.
 */
async function readAndCheck(deps: SluiceDeps, topic: string, w: Workload, model: Model, counter: RequestCounter, checkpoint: number): Promise<CheckResult> {
  const req = inProcess(createApp(deps)); // a fresh app: empty caches
  const before = counter.snapshot();
  const t0 = performance.now();
  const keys = model.lastOffset.length;
  const seenLast = new Uint8Array(keys);
  const seenBelow = new Uint8Array(keys);
  const problems: string[] = [];
  const problem = (p: string) => void (problems.length < 5 && problems.push(p));
  let at = 0;
  let prev = -1;
  let fetches = 0;
  let records = 0;
  let tombstones = 0;
  let wrong = 0;
  let outOfOrder = 0;
  let duplicatesBelowCheckpoint = 0;
  let superseded = 0;
  for (;;) {
    const body = JSON.parse(
      await call(req, `/v1/topics/${topic}/partitions/0/records?offset=${at}&maxRecords=${LIMITS.maxRecordsPerFetch}&encoding=string`),
    ) as { records: { offset: number; key: string | null; value: string | null }[]; nextOffset: number; highWatermark: number };
    fetches++;
    for (const r of body.records) {
      records++;
      if (r.value === null) tombstones++;
      if (r.offset <= prev) {
        outOfOrder++;
        problem(`offset ${r.offset} after ${prev}`);
      }
      prev = Math.max(prev, r.offset);
      const g = r.offset >= 0 && r.offset < model.gAt.length ? model.gAt[r.offset]! : -1;
      if (g < 0 || r.key !== `key-${w.keyOf(g)}` || r.value !== w.value(g)) {
        wrong++;
        problem(`offset ${r.offset}: key ${r.key}, value ${String(r.value).slice(0, 16)}… is not the record acknowledged there (${g < 0 ? 'none' : `key-${w.keyOf(g)}, ${String(w.value(g)).slice(0, 16)}…`})`);
        continue;
      }
      const k = w.keyOf(g);
      if (model.lastOffset[k] === r.offset) seenLast[k] = 1;
      else superseded++;
      if (r.offset < checkpoint) {
        if (seenBelow[k] === 1) {
          duplicatesBelowCheckpoint++;
          problem(`key-${k} twice below the checkpoint ${checkpoint} (again at ${r.offset})`);
        }
        seenBelow[k] = 1;
      }
    }
    if (body.nextOffset >= body.highWatermark) break;
    if (body.nextOffset <= at && body.records.length === 0) throw new Error(`fetch from ${at} made no progress`);
    at = body.nextOffset;
  }
  let missing = 0;
  for (let k = 0; k < keys; k++) {
    if (model.lastOffset[k]! >= 0 && seenLast[k] === 0) {
      missing++;
      problem(`key-${k}: its last record (offset ${model.lastOffset[k]}) was not returned`);
    }
  }
  return { fetches, records, tombstones, ms: performance.now() - t0, counts: counter.since(before), wrong, outOfOrder, missing, duplicatesBelowCheckpoint, superseded, firstProblems: problems };
}

// ---- formatting -----------------------------------------------------------------------------

function only(counts: Record<string, number>, service: 's3' | 'dynamodb'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) if (k.startsWith(`${service} `)) out[k] = v;
  return out;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** "12.3: GetObject 10.1 · PutObject 2.2" (service prefix dropped), each count divided by `per`. */
function describeCounts(counts: Record<string, number>, per = 1, digits = 2): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return 'none';
  const parts = entries.map(([k, v]) => `${k.replace(/^\S+ /, '')} ${fmtNum(v / per, digits)}`);
  return `${fmtNum(total(counts) / per, digits)}: ${parts.join(' · ')}`;
}

const mib = (bytes: number) => fmtNum(bytes / MiB, 1);

/** bench/support.ts's areas, with lib/maintenance by file and node:crypto (the key MD5s) on its own. */
function profileArea(url: string): string | undefined {
  if (url.startsWith('node:internal/crypto')) return 'node:crypto (createHash: the key MD5s)';
  const m = /\/lib\/maintenance\/([^/]+\.ts)$/.exec(url);
  return m ? `ours: lib/maintenance/${m[1]}` : defaultArea(url);
}

// ---- the bench ------------------------------------------------------------------------------

interface CompactionPass {
  readonly call: number;
  readonly tick: number;
  readonly report: CompactionReport;
}

export async function run(args: string[]): Promise<void> {
  const o = new BenchOptions(args, ['records', 'keys', 'per-request', 'value-bytes', 'max-keys', 'tombstones', 'workers', 'merge-first', 'profile', 'gc-grace-ms', 'max-calls']);
  const cfg: Config = {
    records: o.number('records', 5_000_000),
    keys: o.number('keys', 1_000_000),
    perRequest: o.number('per-request', 1000),
    valueBytes: o.number('value-bytes', 100),
    maxKeys: o.number('max-keys', MAINTENANCE_DEFAULTS.compactionMaxKeys),
    tombstonePct: o.number('tombstones', 5, true),
    workers: o.number('workers', 8),
    gcGraceMs: o.number('gc-grace-ms', MAINTENANCE_DEFAULTS.gcGraceMs),
    mergeFirst: o.choice('merge-first', ['yes', 'no'] as const, 'no') === 'yes',
    profile: o.choice('profile', ['yes', 'no'] as const, 'no') === 'yes',
  };
  const started = Date.now();
  const where = machine();
  const verdicts: string[] = [];
  const verdict = (ok: boolean, text: string) => void verdicts.push(`- ${ok ? 'PASS' : 'FAIL'} — ${text}`);
  const info = (text: string) => void verdicts.push(`- info — ${text}`);
  const settings = { mergeMinAgeMs: 0, compactionMaxKeys: cfg.maxKeys, gcGraceMs: cfg.gcGraceMs };

  log('starting DynamoDB Local + s3rver (child process) ...');
  const b = await startBenchStackS3Apart();
  try {
    const clock = movableClock();
    const deps: SluiceDeps = { ...b.deps, clock };
    const w = new Workload(cfg);
    const model = new Model(cfg.records, cfg.keys);
    const topic = uniqueName('cmp');

    // ---- 1. produce ----
    const requests = Math.ceil(cfg.records / cfg.perRequest);
    log(`1. produce ${fmtNum(cfg.records)} records over ${fmtNum(cfg.keys)} keys, ${fmtNum(cfg.perRequest)} per request (${fmtNum(requests)} requests, ${cfg.workers} in flight) ...`);
    const produced = await (async () => {
      const writer = inProcess(createApp(deps)); // dropped after this phase (its caches with it)
      const policy = cfg.mergeFirst ? 'delete' : 'compact';
      await call(writer, '/v1/topics', postJson(JSON.stringify({ name: topic, partitions: 1, config: { 'cleanup.policy': policy } })));
      const before = b.counter.snapshot();
      const t0 = performance.now();
      await produceAll(writer, topic, w, model, cfg);
      const ms = performance.now() - t0;
      const counts = b.counter.since(before);
      const { hwm } = await settledHighWatermarks(() => highWatermarks(writer, topic));
      let merge: { ms: number; segments: number } | undefined;
      if (cfg.mergeFirst) {
        log('   merge first (cleanup.policy delete, maintenance until idle), then cleanup.policy compact ...');
        const tm = performance.now();
        await createMaintenance(deps, { mergeMinAgeMs: 0 }).runUntilIdle();
        merge = { ms: performance.now() - tm, segments: (await describe(writer, topic)).segments };
        await call(writer, `/v1/topics/${topic}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ config: { 'cleanup.policy': 'compact' } }) });
      }
      return { ms, counts, hwm: hwm[0]!, merge };
    })();
    if (model.acked !== cfg.records) throw new Error(`acked ${model.acked} records, expected ${cfg.records}`);
    if (produced.hwm !== cfg.records) throw new Error(`high watermark ${produced.hwm}, ${cfg.records} records acked`);
    let distinct = 0;
    let lastTombstones = 0;
    for (let k = 0; k < cfg.keys; k++) {
      if (model.lastOffset[k]! < 0) continue;
      distinct++;
      if (w.tombstone(model.lastG(k))) lastTombstones++;
    }
    let tombstonesWritten = 0;
    for (let g = 0; g < cfg.records; g++) if (w.tombstone(g)) tombstonesWritten++;
    const before = await describe(inProcess(createApp(deps)), topic);
    log(`   ${fmtNum(cfg.records)} records, ${mib(before.sizeBytes)} MiB stored in ${before.segments} objects, ${fmtNum(produced.ms / 1000, 1)} s`);

    // ---- 2. maintenance until idle ----
    log('2. maintenance until idle (compaction) ...');
    collectGarbage();
    await new Promise((r) => setTimeout(r, 200));
    collectGarbage();
    const baseline = process.memoryUsage();
    const maxRssBefore = process.resourceUsage().maxRSS * 1024;
    const m = createMaintenance(deps, settings);
    const passes: CompactionPass[] = [];
    const calls: { ticks: number; ms: number; compactionPasses: number; counts: RequestCounts }[] = [];
    const cpu0 = { node: process.cpuUsage(), jvm: processCpuMs(b.stack.dynamoPid), s3: processCpuMs(b.s3Pid) };
    const sampler = memorySampler(100);
    const c0 = b.counter.snapshot();
    const t0 = performance.now();
    let workMs = 0;
    let workCounts: RequestCounts | undefined;
    let ticks = 0;
    let partitionPasses = 0;
    let stampedTo = 0;
    const maxCalls = o.number('max-calls', 2 * Math.ceil(cfg.keys / cfg.maxKeys) + 10);
    const compactAll = async () => {
      for (let n = 1; n <= maxCalls; n++) {
        const cBefore = b.counter.snapshot();
        const tc = performance.now();
        let tickInCall = 0;
        const reports: TickReport[] = await m.runUntilIdle(
          {},
          {
            onTick: (r) => {
              tickInCall++;
              ticks++;
              partitionPasses += r.passes.length;
              for (const p of r.passes) stampedTo = Math.max(stampedTo, p.stamped);
              for (const p of r.passes) if (p.compaction?.reason !== undefined) passes.push({ call: n, tick: ticks, report: p.compaction });
              const cp = r.passes.filter((p) => p.compaction?.reason !== undefined).length;
              if (cp > 0) log(`   tick ${ticks}: ${cp} compaction pass(es), ${fmtNum((performance.now() - t0) / 1000, 1)} s, RSS ${mib(process.memoryUsage().rss)} MiB`);
            },
          },
        );
        const compactionPasses = reports.reduce((x, r) => x + r.passes.filter((p) => p.compaction?.reason !== undefined).length, 0);
        calls.push({ ticks: tickInCall, ms: performance.now() - tc, compactionPasses, counts: b.counter.since(cBefore) });
        if (compactionPasses === 0) break;
        workMs = performance.now() - t0;
        workCounts = b.counter.since(c0);
      }
    };
    const msByArea = cfg.profile ? (await profileAreas(compactAll, profileArea)).msByArea : (await compactAll(), undefined);
    const peaks = sampler.stop();
    const maxRssAfter = process.resourceUsage().maxRSS * 1024;
    const cpuNode = process.cpuUsage(cpu0.node);
    const cpu = { node: (cpuNode.user + cpuNode.system) / 1000, jvm: processCpuMs(b.stack.dynamoPid) - cpu0.jvm, s3: processCpuMs(b.s3Pid) - cpu0.s3 };
    const allMs = performance.now() - t0;
    const after = await describe(inProcess(createApp(deps)), topic);

    // ---- 3. read everything back ----
    log('3. full read from offset 0 (fresh app) and check ...');
    const checkpoint = passes.reduce((c, p) => (p.report.cleaned ? Math.max(c, p.report.compactedTo) : c), 0);
    const check = await readAndCheck(deps, topic, w, model, b.counter, checkpoint);

    // ---- report ----
    const sum = (f: (r: CompactionReport) => number) => passes.reduce((n, p) => n + f(p.report), 0);
    const cleanedBytes = sum((r) => r.bytesBefore);
    const cleanedMiB = cleanedBytes / MiB;
    const counts = workCounts?.sends ?? {};
    const s3 = only(counts, 's3');
    const ddb = only(counts, 'dynamodb');
    const workingCalls = calls.filter((c) => c.compactionPasses > 0).length;

    console.log(`Run ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${where}; total ${fmtNum((Date.now() - started) / 1000)} s.`);
    console.log(
      `Produce: ${fmtNum(cfg.records)} records (${fmtNum(tombstonesWritten)} tombstones, ${fmtNum(cfg.tombstonePct, 1)} %) over ${fmtNum(cfg.keys)} keys (uniform; ${fmtNum(distinct)} written, ` +
        `${fmtNum(lastTombstones)} of them last written as a tombstone), ${fmtNum(cfg.valueBytes)} B text values, ${fmtNum(cfg.perRequest)} records per request, ${fmtNum(requests)} requests, ${cfg.workers} in flight, in process: ` +
        `${fmtNum(produced.ms / 1000, 1)} s (${fmtNum(cfg.records / (produced.ms / 1000))} records/s; ${describeCounts(produced.counts.sends, requests)} AWS requests per produce request).`,
    );
    if (produced.merge)
      console.log(
        `Merged first: produced into a topic with cleanup.policy delete, maintenance until idle (mergeMinAgeMs 0; not counted below) merged it into ${produced.merge.segments} objects in ${fmtNum(produced.merge.ms / 1000, 1)} s, then PATCH cleanup.policy compact.`,
      );
    console.log(
      `Maintenance: MAINTENANCE_DEFAULTS but mergeMinAgeMs 0, compactionMaxKeys ${fmtNum(cfg.maxKeys)}${cfg.gcGraceMs !== MAINTENANCE_DEFAULTS.gcGraceMs ? `, gcGraceMs ${fmtNum(cfg.gcGraceMs)}` : ''} (` +
        `segment target ${fmtNum(MAINTENANCE_DEFAULTS.segmentTargetBytes / MiB)} MiB, readConcurrency ${MAINTENANCE_DEFAULTS.readConcurrency}); topic config defaults but cleanup.policy compact ` +
        `(min.compaction.lag.ms 0, delete.retention.ms 24 h). s3rver runs in a child process, DynamoDB Local in its JVM: this process's memory is the bench (model: ${mib(model.bytes)} MiB, value pool 4 MiB), lib/ and the AWS SDK.\n`,
    );

    console.log(
      table(
        ['compaction (until idle)', 'runUntilIdle calls:', 'ticks:', 'compaction passes:', 'wall s:', 'MiB cleaned:', 'MB/s cleaned:', 'S3 requests', 'DynamoDB requests'],
        [
          ['total', `${workingCalls}${calls.at(-1)!.compactionPasses === 0 ? ' (+1 idle)' : ''}`, fmtNum(ticks), fmtNum(passes.length), fmtNum(workMs / 1000, 1), mib(cleanedBytes), fmtNum(cleanedBytes / MB / (workMs / 1000), 1), describeCounts(s3, 1, 0), describeCounts(ddb, 1, 0)],
          ['  per MiB cleaned', '', '', '', '', '', '', describeCounts(s3, cleanedMiB), describeCounts(ddb, cleanedMiB)],
          ...(Math.abs(cleanedBytes - before.sizeBytes) > before.sizeBytes / 100
            ? [['  per MiB stored before', '', '', '', '', '', `${fmtNum(before.sizeBytes / MB / (workMs / 1000), 1)} (stored MB/s)`, describeCounts(s3, before.sizeBytes / MiB), describeCounts(ddb, before.sizeBytes / MiB)]]
            : []),
          [calls.at(-1)!.compactionPasses === 0 ? 'last call (idle check)' : 'last call (the bench limit; not idle)', '', fmtNum(calls.at(-1)!.ticks), fmtNum(calls.at(-1)!.compactionPasses), fmtNum(calls.at(-1)!.ms / 1000, 2), '', '', describeCounts(only(calls.at(-1)!.counts.sends, 's3'), 1, 0), describeCounts(only(calls.at(-1)!.counts.sends, 'dynamodb'), 1, 0)],
        ],
      ),
    );
    console.log('');
    console.log(
      table(
        ['memory (this process)', 'MiB:'],
        [
          ['RSS baseline (after produce, full GC)', mib(baseline.rss)],
          [`RSS peak during compaction (${fmtNum(peaks.samples)} samples, 100 ms)`, mib(peaks.rss)],
          ['  peak − baseline', mib(peaks.rss - baseline.rss)],
          ['V8 heap used: baseline → peak', `${mib(baseline.heapUsed)} → ${mib(peaks.heapUsed)}`],
          ['external (Buffers): baseline → peak', `${mib(baseline.external)} → ${mib(peaks.external)}`],
          ['maxRSS of the process (getrusage): before → after compaction', `${mib(maxRssBefore)} → ${mib(maxRssAfter)}`],
        ],
      ),
    );
    console.log('');
    console.log(
      table(
        ['partition', 'records:', 'sizeBytes (describe):', 'MiB:', 'segments:', 'logStartOffset:', 'highWatermark:'],
        [
          ['before compaction', fmtNum(cfg.records), fmtNum(before.sizeBytes), mib(before.sizeBytes), fmtNum(before.segments), fmtNum(before.logStartOffset), fmtNum(before.highWatermark)],
          ['after compaction', fmtNum(check.records), fmtNum(after.sizeBytes), mib(after.sizeBytes), fmtNum(after.segments), fmtNum(after.logStartOffset), fmtNum(after.highWatermark)],
        ],
      ),
    );
    console.log('');
    console.log(
      `CPU during compaction: this process ${fmtNum(cpu.node / 1000, 1)} s, DynamoDB Local JVM ${fmtNum(cpu.jvm / 1000, 1)} s, s3rver ${fmtNum(cpu.s3 / 1000, 1)} s, over ${fmtNum(allMs / 1000, 1)} s of wall time (2 cores: ${fmtNum(((cpu.node + cpu.jvm + cpu.s3) / allMs) * 100, 0)} % of one core in all).\n`,
    );
    console.log(
      `Partition passes (all kinds) during compaction: ${partitionPasses}; time-index stamped pointer after them: ${fmtNum(stampedTo)} of ${fmtNum(requests)} entries (at most ${fmtNum(MAINTENANCE_DEFAULTS.stampLimit)} stamps per pass).\n`,
    );
    const shown = passes.length <= 40 ? passes : [...passes.slice(0, 20), ...passes.slice(-20)];
    console.log(
      table(
        ['pass', 'call:', 'tick:', 'reason', 'cleaned', 'keys mapped:', 'records removed:', 'entries emptied:', 'MiB before:', 'MiB after:', 'compactedTo:', 'more'],
        shown.map((p, i) => {
          const r = p.report;
          const n = passes.length <= 40 || i < 20 ? i + 1 : passes.length - 40 + i + 1;
          return [String(n), String(p.call), String(p.tick), r.reason ?? '', r.cleaned ? 'yes' : 'no (stopped)', fmtNum(r.keys), fmtNum(r.removed), fmtNum(r.emptied), mib(r.bytesBefore), mib(r.bytesAfter), fmtNum(r.compactedTo), r.more ? 'yes' : 'no'];
        }),
      ),
    );
    if (passes.length > 40) console.log(`(${passes.length - 40} passes in the middle left out)`);
    console.log('');
    console.log(
      `Check: a fresh app read offset 0 → ${fmtNum(after.highWatermark)} in ${fmtNum(check.fetches)} fetches (maxRecords ${fmtNum(LIMITS.maxRecordsPerFetch)}, maxBytes default) in ${fmtNum(check.ms / 1000, 1)} s: ` +
        `${fmtNum(check.records)} records, ${fmtNum(check.tombstones)} of them tombstones; AWS requests ${describeCounts(check.counts.sends, 1, 0)}.\n`,
    );

    if (msByArea) {
      const rows = [...msByArea.entries()].sort((x, y) => y[1] - x[1]);
      const totalMs = rows.reduce((n, [, v]) => n + v, 0);
      console.log(`CPU of this process during compaction by code area (V8 sampling profile; the profiler slows the run):\n`);
      console.log(table(['area', 'CPU s:', 'share:'], [...rows.map(([k, v]) => [k, fmtNum(v / 1000, 2), `${fmtNum((v / totalMs) * 100, 1)} %`]), ['**total on-CPU (profiled)**', `**${fmtNum(totalMs / 1000, 2)}**`, '']]));
      console.log('');
    }
    const kafka = check.wrong === 0 && check.outOfOrder === 0 && check.missing === 0 && check.duplicatesBelowCheckpoint === 0;
    verdict(
      kafka,
      `Kafka's guarantees on the full read: every record the one acknowledged at its offset (${check.wrong} not), offsets ascending (${check.outOfOrder} not), ` +
        `the last record of each of the ${fmtNum(distinct)} keys there (${check.missing} missing; ${fmtNum(lastTombstones)} are tombstones, within their horizon), ` +
        `one record per key below the checkpoint ${fmtNum(checkpoint)} (${check.duplicatesBelowCheckpoint} more)` +
        (check.firstProblems.length > 0 ? ` — first problems: ${check.firstProblems.join('; ')}` : ''),
    );
    const dirtyTail = `${fmtNum(check.superseded)} superseded records remain (of keys written again at or after the checkpoint ${fmtNum(checkpoint)}: the dirty part, not mapped yet)`;
    if (cfg.maxKeys >= distinct) verdict(check.superseded === 0 && check.records === distinct, `fully compacted: ${fmtNum(check.records)} records for ${fmtNum(distinct)} keys${check.superseded > 0 ? `; ${dirtyTail}` : ''}`);
    else
      info(
        `${fmtNum(check.records)} records for ${fmtNum(distinct)} keys with a map of ${fmtNum(cfg.maxKeys)}: ${check.superseded === 0 ? 'fully compacted' : `${dirtyTail}; a pass is due again only once the dirty part holds half the bytes (Kafka's min.cleanable.dirty.ratio 0.5), i.e. after more writes`}`,
      );
    if (workingCalls === maxCalls) info(`stopped after --max-calls ${maxCalls} runUntilIdle calls, each with a compaction pass: the bench's limit, not idle`);
    verdict(
      workingCalls === 1,
      `one runUntilIdle call does all the compaction that is due: ${workingCalls} calls did compaction passes` +
        (workingCalls > 1 ? ' (each after the first found a pass due that the previous one had left: a tick counts a compaction pass neither as work nor as `more`)' : ''),
    );
    verdict(after.highWatermark === before.highWatermark && after.logStartOffset === 0, `offsets unchanged: high watermark ${fmtNum(after.highWatermark)}, log start ${after.logStartOffset}`);
    const expectedPasses = Math.ceil(distinct / cfg.maxKeys);
    info(`${passes.length} compaction passes for ${fmtNum(distinct)} keys with a map of ${fmtNum(cfg.maxKeys)} (at least ${expectedPasses} needed)`);
    const mapped = Math.min(distinct, cfg.maxKeys);
    info(
      `memory above the baseline at its peak: RSS ${mib(peaks.rss - baseline.rss)} MiB, V8 heap ${mib(peaks.heapUsed - baseline.heapUsed)} MiB (${fmtNum((peaks.heapUsed - baseline.heapUsed) / mapped, 0)} B per mapped key; garbage included), ` +
        `external ${mib(peaks.external - baseline.external)} MiB (segment buffers: target ${fmtNum(MAINTENANCE_DEFAULTS.segmentTargetBytes / MiB)} MiB); the RSS baseline holds what the produce phase left in the allocator, so RSS − baseline can under-count`,
    );
    console.log(verdicts.join('\n'));
  } finally {
    await b.stop();
  }
}
