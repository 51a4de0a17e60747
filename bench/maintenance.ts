/**
 * Maintenance (lib/maintenance): what merge and garbage collection cost and what they buy
 * (`npm run bench -- maintenance [--requests=1000] [--records=100] [--record-bytes=1024]
 * [--values=text|random|json] [--workers=8] [--idle-partitions=50] [--ticks=60] [--trials=3]`).
 *
 * A local stack (DynamoDB Local in memory + s3rver in this process, counting SDK clients), one
 * movable clock shared by the app and maintenance (test/support/own-stack.ts does the same).
 *  1. `requests` produce requests of `records` × `record-bytes` values into ONE partition of a
 *     fresh topic (so as many segment objects). A FRESH app (empty caches) then fetches the
 *     partition from offset 0 to the high watermark with the default maxBytes (1 MiB) and
 *     maxRecords at its limit (10,000, so maxBytes is what ends a fetch): S3 GETs per MiB stored.
 *  2. Maintenance (`createMaintenance`, defaults but `mergeMinAgeMs: 0`) runs until idle: wall
 *     time → MB/s merged, S3 and DynamoDB requests per MiB merged, describe's `segments`.
 *  3. The clock moves past the GC grace; maintenance runs until idle again: objects left in
 *     the bucket (target: only the merged ones) and what collecting cost.
 *  4. A fresh app fetches the partition again: GETs per MiB after the merge, same records
 *     (offsets, keys and values hashed) as in 1.
 *  5. Idle cost, on tables and a bucket of its own: `idle-partitions` partitions written
 *     twice (requests of up to 25 partitions each), merged and collected, then `ticks` scheduled
 *     invocations one simulated minute apart (the deployed schedule is `rate(1 minute)`; each
 *     invocation is `runUntilIdle`, as lib/maintenance/scheduled.ts does): requests per tick,
 *     per idle partition per hour. The default, 60 ticks, is one simulated hour: one period of
 *     GC's hourly new-objects sweep (gcOrphanSweepIntervalMs), so the per-hour figure counts
 *     that sweep exactly once; a count that is not a whole number of periods misses it or
 *     over-counts it, and the bench says so.
 *  6. CPU only, on the chunks produced in 1 (read back before the merge), grouped into the runs
 *     the merge plan makes: (a) copy byte for byte as merge.ts does (CRC check + segment
 *     encode) vs (b) decode every batch and re-encode the records into ~1 MiB batches with
 *     each available codec, then the same segment encode. MB/s of stored input, size ratio.
 *
 * Values: `text` (default) = random base64 text, as the 1 KB rows of produce-fetch (zstd, the
 * topic default, stores it at ~75%); `random` = random bytes (incompressible, stored ≈ decoded);
 * `json` = JSON-like text from a fixed-seed generator, as bench/codec.ts (compresses ~4×).
 * Every value differs (a repeated value would let 1 MiB batches compress it away).
 * Targets print PASS/FAIL; like the other benches it exits 0 either way (a failed check of
 * correctness — a lost record, a wrong HWM — throws).
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createApp } from '../lib/api/app.ts';
import { CompressionCodec, type CompressionCodecId, type CompressionName, codecAvailable, zstdImplementation } from '../lib/codec/compression.ts';
import { type RecordInput, decodeRecordBatches, encodeRecordBatch, verifyRecordBatches } from '../lib/codec/record-batch.ts';
import { type SegmentChunkInput, encodeSegment } from '../lib/codec/segment.ts';
import { LIMITS } from '../lib/limits.ts';
import { MAINTENANCE_DEFAULTS } from '../lib/config.ts';
import type { SluiceDeps } from '../lib/deps.ts';
import type { TickReport } from '../lib/maintenance/maintenance.ts';
import { planMerges } from '../lib/maintenance/merge-plan.ts';
import { summarise } from '../lib/maintenance/summary.ts';
import type { TopicPartition } from '../lib/model/topic.ts';
import { createMaintenance, createServices } from '../lib/services.ts';
import type { IndexEntry } from '../lib/storage/index-store.ts';
import {
  type BenchStack,
  type RequestCounts,
  type Requester,
  BenchOptions,
  bucketObjects,
  call,
  createTopic,
  fmtMs,
  fmtNum,
  formatCounts,
  highWatermarks,
  inProcess,
  log,
  machine,
  movableClock,
  ownResources,
  postJson,
  settledHighWatermarks,
  startBenchStack,
  table,
  uniqueName,
} from './support.ts';

const MiB = 1024 * 1024;
const VALUE_KINDS = ['text', 'random', 'json'] as const;
type ValueKind = (typeof VALUE_KINDS)[number];
/** Re-batching target of part 6: records per new batch until their payload reaches this. */
const REBATCH_BYTES = MiB;
/** The deployed schedule (infra: DEFAULT_MAINTENANCE_SCHEDULE = rate(1 minute)). */
const TICK_INTERVAL_MS = 60_000;
/** Ticks per simulated hour, and per period of GC's hourly new-objects sweep (the idle phase's default). */
const TICKS_PER_HOUR = 3_600_000 / TICK_INTERVAL_MS;
const TICKS_PER_SWEEP_PERIOD = Math.ceil(MAINTENANCE_DEFAULTS.gcOrphanSweepIntervalMs / TICK_INTERVAL_MS);

interface Config {
  readonly requests: number;
  readonly records: number;
  readonly recordBytes: number;
  readonly values: ValueKind;
  readonly workers: number;
  readonly idlePartitions: number;
  readonly ticks: number;
  readonly trials: number;
}

// ---- records --------------------------------------------------------------------------------

/** JSON-like text of exactly `bytes` characters (bench/codec.ts's generator, seeded per record). */
function jsonValue(seed: number, bytes: number): string {
  let s = seed | 0;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8;
  const words = ['order', 'customer', 'amount', 'currency', 'EUR', 'USD', 'status', 'shipped', 'pending', 'sku', 'warehouse', 'region'];
  let v = `{"id":${seed},"ts":${1_700_000_000_000 + seed}`;
  while (v.length < bytes - 40) v += `,"${words[rnd() % words.length]}":"${words[rnd() % words.length]}-${rnd() % 100000}"`;
  return (v + '}').padEnd(bytes, ' ').slice(0, bytes);
}

/** One produce request body: `records` distinct values of `recordBytes` bytes, record i to partition `partitionOf(i)`. */
function produceBody(cfg: Pick<Config, 'records' | 'recordBytes' | 'values'>, request: number, partitionOf: (i: number) => number): string {
  const n = cfg.records;
  const size = cfg.recordBytes;
  if (cfg.values === 'random') {
    const pool = randomBytes(size * n);
    return JSON.stringify({
      encoding: 'base64',
      records: Array.from({ length: n }, (_, i) => ({
        key: Buffer.from(`key-${i}`).toString('base64'),
        value: pool.subarray(i * size, (i + 1) * size).toString('base64'),
        partition: partitionOf(i),
      })),
    });
  }
  const text =
    cfg.values === 'text'
      ? randomBytes(Math.ceil((size * n * 3) / 4) + 3).toString('base64')
      : Array.from({ length: n }, (_, i) => jsonValue(request * n + i + 1, size)).join('');
  return JSON.stringify({
    encoding: 'string',
    records: Array.from({ length: n }, (_, i) => ({ key: `key-${i}`, value: text.slice(i * size, (i + 1) * size), partition: partitionOf(i) })),
  });
}

async function produce(req: Requester, topic: string, bodies: (r: number) => string, requests: number, workers: number): Promise<number> {
  let next = 0;
  let acked = 0;
  const worker = async () => {
    for (let r = next++; r < requests; r = next++) {
      const { offsets } = JSON.parse(await call(req, `/v1/topics/${topic}/records`, postJson(bodies(r)))) as { offsets: unknown[] };
      acked += offsets.length;
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, requests) }, worker));
  return acked;
}

interface Described {
  readonly topicId: string;
  readonly partitions: { partition: number; highWatermark: number; sizeBytes: number; segments: number }[];
}

async function describe(req: Requester, topic: string): Promise<Described> {
  return JSON.parse(await call(req, `/v1/topics/${topic}`)) as Described;
}

// ---- measuring ------------------------------------------------------------------------------

interface Measured<T> {
  readonly value: T;
  readonly ms: number;
  readonly counts: RequestCounts;
}

async function measured<T>(b: BenchStack, fn: () => Promise<T>): Promise<Measured<T>> {
  const before = b.counter.snapshot();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  return { value, ms, counts: b.counter.since(before) };
}

function only(counts: Record<string, number>, service: 's3' | 'dynamodb', per = 1): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) if (k.startsWith(`${service} `)) out[k] = v / per;
  return out;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** "12.3: GetObject 10.1 · Query 2.2" (service prefix dropped), each count divided by `per`. */
function describeCounts(counts: Record<string, number>, per = 1, digits = 2): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return 'none';
  const parts = entries.map(([k, v]) => `${k.replace(/^\S+ /, '')} ${fmtNum(v / per, digits)}`);
  return `${fmtNum(total(counts) / per, digits)}: ${parts.join(' · ')}`;
}

interface FetchResult {
  readonly fetches: number;
  readonly records: number;
  /** What the records count for in fetch budgets: key + value + 40 bytes (lib/log/record-size.ts; no headers here). */
  readonly budgetBytes: number;
  readonly hash: string;
}

/**
 * A fresh app instance (its own services: empty segment, prefix and topic caches) reads the
 * partition from offset 0 to `hwm`, one fetch at a time. Records are checked dense and hashed.
 */
async function coldFetch(deps: SluiceDeps, topic: string, hwm: number, encoding: 'string' | 'base64'): Promise<FetchResult> {
  const req = inProcess(createApp(deps));
  const hash = createHash('sha256');
  let offset = 0;
  let fetches = 0;
  let budgetBytes = 0;
  while (offset < hwm) {
    const body = JSON.parse(
      await call(req, `/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxRecords=${LIMITS.maxRecordsPerFetch}&encoding=${encoding}`),
    ) as { records: { offset: number; key: string | null; value: string | null }[]; nextOffset: number };
    fetches++;
    for (const r of body.records) {
      if (r.offset !== offset) throw new Error(`fetch: expected offset ${offset}, got ${r.offset}`);
      hash.update(`${r.offset}\u0000${r.key}\u0000${r.value}\n`);
      const bytes = (s: string | null) => (s === null ? 0 : encoding === 'base64' ? Buffer.from(s, 'base64').length : Buffer.byteLength(s));
      budgetBytes += bytes(r.key) + bytes(r.value) + 40;
      offset++;
    }
    if (body.nextOffset !== offset) throw new Error(`fetch: nextOffset ${body.nextOffset} after offset ${offset - 1}`);
  }
  return { fetches, records: offset, budgetBytes, hash: hash.digest('hex') };
}

function mergedObjects(reports: readonly TickReport[]): string[] {
  return reports.flatMap((r) => r.passes.flatMap((p) => p.merges.flatMap((m) => (m.kind === 'merged' ? [m.object] : []))));
}

function skipped(reports: readonly TickReport[]): string[] {
  return reports.flatMap((r) => r.passes.flatMap((p) => p.merges.flatMap((m) => (m.kind === 'skipped' ? [`${m.reason}${m.detail ? ` (${m.detail})` : ''}`] : []))));
}

// ---- part 6: copy vs re-batch ---------------------------------------------------------------

interface Chunk {
  readonly entry: IndexEntry;
  readonly bytes: Uint8Array;
}

/** Median ms over interleaved trials (A, B, C, A, B, C, ...), after one untimed warm-up each. */
function interleaved(contenders: readonly { name: string; fn: () => number }[], trials: number): Map<string, { ms: number; out: number }> {
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const out = new Map<string, number>();
  for (const c of contenders) out.set(c.name, c.fn());
  for (let t = 0; t < trials; t++) {
    for (const c of contenders) {
      const t0 = performance.now();
      c.fn();
      times.get(c.name)!.push(performance.now() - t0);
    }
  }
  return new Map(
    contenders.map((c) => {
      const sorted = times.get(c.name)!.sort((a, b) => a - b);
      return [c.name, { ms: sorted[Math.floor(sorted.length / 2)]!, out: out.get(c.name)! }];
    }),
  );
}

/** (a) what merge.ts does to a run's chunks: CRC check, then one segment with the chunks as they are. Returns bytes written. */
function copyRun(tp: TopicPartition, run: readonly Chunk[]): number {
  const inputs: SegmentChunkInput[] = run.map(({ entry: e, bytes }) => {
    if (!verifyRecordBatches(bytes)) throw new Error(`corrupt chunk at slot ${e.slot}`);
    return {
      topicId: tp.topicId,
      partition: tp.partition,
      batches: bytes,
      recordCount: e.recordCount ?? e.end - e.base,
      minTimestamp: e.minTimestamp ?? 0,
      maxTimestamp: e.maxTimestamp ?? 0,
      baseOffset: e.base,
      endOffset: e.end,
    };
  });
  return encodeSegment(inputs).bytes.length;
}

/**
 * (b) decode every batch of the run (CRC checked) and re-encode its records into batches of
 * ~REBATCH_BYTES of payload with `codec`, one segment chunk per new batch. Producer ids,
 * sequences and batch boundaries are not kept (the records are produced non-idempotently
 * here; a real re-batcher would have to keep them per producer). Returns bytes written.
 */
function rebatchRun(tp: TopicPartition, run: readonly Chunk[], codec: CompressionCodecId): number {
  const inputs: SegmentChunkInput[] = [];
  let records: RecordInput[] = [];
  let payload = 0;
  let base = run[0]!.entry.base;
  const flush = () => {
    if (records.length === 0) return;
    const batches = encodeRecordBatch({ compression: codec, records });
    let minTs = Infinity;
    let maxTs = -Infinity;
    for (const r of records) {
      minTs = Math.min(minTs, r.timestamp);
      maxTs = Math.max(maxTs, r.timestamp);
    }
    inputs.push({ topicId: tp.topicId, partition: tp.partition, batches, recordCount: records.length, minTimestamp: minTs, maxTimestamp: maxTs, baseOffset: base, endOffset: base + records.length });
    base += records.length;
    records = [];
    payload = 0;
  };
  for (const { entry, bytes } of run) {
    for (const batch of decodeRecordBatches(bytes, { baseOffset: entry.base })) {
      for (const r of batch.records) {
        records.push({ timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers });
        payload += (r.key?.length ?? 0) + (r.value?.length ?? 0);
        for (const h of r.headers) payload += h.key.length + (h.value?.length ?? 0);
        if (payload >= REBATCH_BYTES) flush();
      }
    }
  }
  flush();
  return encodeSegment(inputs).bytes.length;
}

// ---- the bench ------------------------------------------------------------------------------

export async function run(args: string[]): Promise<void> {
  const o = new BenchOptions(args, ['requests', 'records', 'record-bytes', 'values', 'workers', 'idle-partitions', 'ticks', 'trials']);
  const cfg: Config = {
    requests: o.number('requests', 1000),
    records: o.number('records', 100),
    recordBytes: o.number('record-bytes', 1024),
    values: o.choice('values', VALUE_KINDS, 'text'),
    workers: o.number('workers', 8),
    idlePartitions: o.number('idle-partitions', 50),
    ticks: o.number('ticks', Math.max(TICKS_PER_HOUR, TICKS_PER_SWEEP_PERIOD)),
    trials: o.number('trials', 3),
  };
  const started = Date.now();
  const where = machine();
  const settings = { mergeMinAgeMs: 0 };
  const encoding = cfg.values === 'random' ? 'base64' : 'string';
  const verdicts: string[] = [];
  const verdict = (ok: boolean, text: string) => {
    verdicts.push(`- ${ok ? 'PASS' : 'FAIL'} — ${text}`);
  };
  const info = (text: string) => verdicts.push(`- info — ${text}`);

  log('starting DynamoDB Local + s3rver ...');
  const b = await startBenchStack();
  try {
    const clock = movableClock();
    const deps: SluiceDeps = { ...b.deps, clock };
    const writer = inProcess(createApp(deps));

    // ---- 1. produce, then a cold fetch of everything ----
    const topic = uniqueName('mnt');
    await createTopic(writer, topic, 1);
    log(`1. produce ${cfg.requests} requests × ${cfg.records} × ${cfg.recordBytes} B (${cfg.values}) into one partition, ${cfg.workers} at a time ...`);
    const prod = await measured(b, () => produce(writer, topic, (r) => produceBody(cfg, r, () => 0), cfg.requests, cfg.workers));
    const expected = cfg.requests * cfg.records;
    if (prod.value !== expected) throw new Error(`acked ${prod.value} records, expected ${expected}`);
    const { hwm } = await settledHighWatermarks(() => highWatermarks(writer, topic));
    if (hwm[0] !== expected) throw new Error(`high watermark ${hwm[0]}, ${expected} records acked`);
    const before = (await describe(inProcess(createApp(deps)), topic)).partitions[0]!;
    const storedBytes = before.sizeBytes;
    const storedMiB = storedBytes / MiB;
    const { topicId } = await describe(writer, topic);
    const tp: TopicPartition = { topicId, partition: 0 };

    log('   reading the produced chunks back (for part 6; not counted) ...');
    const reader = createServices(deps);
    const view = await reader.partitions.view(tp);
    const entries = await reader.index.entries(tp, 0, view.stableSlots, view.stableSlots);
    const chunkBytes: Uint8Array[] = [];
    const data = entries.filter((e) => !e.hole);
    for (let i = 0; i < data.length; i += 32) {
      const part = data.slice(i, i + 32);
      chunkBytes.push(...(await reader.segments.read(part.map((e) => ({ object: e.object!, position: e.position!, length: e.length! })))));
    }
    const chunks: Chunk[] = data.map((entry, i) => ({ entry, bytes: chunkBytes[i]! }));

    log('   cold fetch from offset 0 (fresh app) ...');
    const fetch1 = await measured(b, () => coldFetch(deps, topic, expected, encoding));
    const gets1 = fetch1.counts.sends['s3 GetObject'] ?? 0;
    const recordMiB1 = fetch1.value.budgetBytes / MiB;

    // ---- 2. maintenance until idle: the merge ----
    log('2. maintenance until idle (merge) ...');
    const m = createMaintenance(deps, settings);
    const merge = await measured(b, () => m.runUntilIdle());
    const mergeSummary = summarise(merge.value);
    const merged = mergedObjects(merge.value);
    const mergedMiB = mergeSummary.bytesMerged / MiB;
    const after = (await describe(inProcess(createApp(deps)), topic)).partitions[0]!;
    if (after.highWatermark !== expected) throw new Error(`after the merge: high watermark ${after.highWatermark}, expected ${expected}`);
    const objectsAfterMerge = (await bucketObjects(b.clients, deps.names.bucket)).length;

    // ---- 3. past the grace: garbage collection ----
    log('3. clock past the GC grace, maintenance until idle (collect) ...');
    clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + TICK_INTERVAL_MS);
    const gc = await measured(b, () => m.runUntilIdle());
    const gcSummary = summarise(gc.value);
    const left = await bucketObjects(b.clients, deps.names.bucket);
    const mergedSet = new Set(merged);
    const onlyMerged = left.length === mergedSet.size && left.every((x) => mergedSet.has(x.key));
    const afterGc = (await describe(inProcess(createApp(deps)), topic)).partitions[0]!;

    // ---- 4. a cold fetch again ----
    log('4. cold fetch again (fresh app) ...');
    const fetch2 = await measured(b, () => coldFetch(deps, topic, expected, encoding));
    const gets2 = fetch2.counts.sends['s3 GetObject'] ?? 0;
    const recordMiB2 = fetch2.value.budgetBytes / MiB;
    const sameRecords = fetch2.value.hash === fetch1.value.hash && fetch2.value.records === fetch1.value.records;

    // ---- 5. idle partitions ----
    log(`5. ${cfg.idlePartitions} idle partitions on tables + a bucket of their own, ${cfg.ticks} ticks a simulated minute apart ...`);
    const idleClock = movableClock();
    const idleDeps: SluiceDeps = { ...b.deps, names: await ownResources(b, 'mnt-idle'), clock: idleClock };
    const idleApp = inProcess(createApp(idleDeps));
    const idleTopic = uniqueName('idle');
    await createTopic(idleApp, idleTopic, cfg.idlePartitions);
    // Twice over every partition, 25 partitions per request (a request may touch at most 32): so each
    // partition has two units to merge, in objects shared with other partitions, as produced traffic makes.
    const perRequest = Math.min(25, cfg.idlePartitions);
    const groups = Math.ceil(cfg.idlePartitions / perRequest);
    const idleRecords = { ...cfg, records: perRequest * 4 };
    const idleRequests = 2 * groups;
    await produce(idleApp, idleTopic, (r) => produceBody(idleRecords, r, (i) => ((r % groups) * perRequest + (i % perRequest)) % cfg.idlePartitions), idleRequests, 1);
    const idleM = createMaintenance(idleDeps, settings);
    const idleMerge = summarise(await idleM.runUntilIdle());
    idleClock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + TICK_INTERVAL_MS);
    const idleGc = summarise(await idleM.runUntilIdle());
    const idleObjects = (await bucketObjects(b.clients, idleDeps.names.bucket)).length;
    const idleDescribed = (await describe(idleApp, idleTopic)).partitions;
    const tickRows: { minutes: number[]; cells: string[]; ms: number[] }[] = [];
    const idleTotal: Record<string, number> = {};
    let idleTickCount = 0;
    let idleWork = 0;
    for (let t = 1; t <= cfg.ticks; t++) {
      idleClock.advance(TICK_INTERVAL_MS);
      const r = await measured(b, () => idleM.runUntilIdle());
      idleTickCount += r.value.length;
      idleWork += r.value.filter((x) => x.didWork).length;
      for (const [k, v] of Object.entries(r.counts.sends)) idleTotal[k] = (idleTotal[k] ?? 0) + v;
      const listed = r.value.reduce((n, x) => n + (x.gc?.listed ?? 0), 0);
      const sweeps = [...new Set(r.value.flatMap((x) => (x.gc && x.gc.sweep !== 'idle' ? [x.gc.sweep] : [])))].join(' + ');
      const cells = [String(r.value.length), String(r.value.reduce((n, x) => n + x.passes.length, 0)), listed > 0 || sweeps ? `yes: ${sweeps} sweep (${listed} objects listed)` : 'no', fmtNum(r.counts.totalSends), formatCounts(r.counts.sends).replace(/\.00/g, '')];
      // Consecutive minutes that cost the same are one row (60 ticks would otherwise print 60 rows).
      const last = tickRows.at(-1);
      if (last && last.cells.join('|') === cells.join('|')) {
        last.minutes.push(t);
        last.ms.push(r.ms);
      } else tickRows.push({ minutes: [t], cells, ms: [r.ms] });
    }
    const perTick = total(idleTotal) / cfg.ticks;
    const perPartitionHour = (perTick * TICKS_PER_HOUR) / cfg.idlePartitions;
    const wholeSweepPeriods = cfg.ticks % TICKS_PER_SWEEP_PERIOD === 0;

    // ---- 6. copy vs re-batch (CPU only) ----
    log(`6. copy vs re-batch on the ${chunks.length} chunks (${cfg.trials} interleaved trials) ...`);
    const runs = planMerges(entries, { now: clock.now(), minAgeMs: 0, targetBytes: MAINTENANCE_DEFAULTS.segmentTargetBytes });
    const bySlot = new Map(chunks.map((c) => [c.entry.slot, c]));
    const runChunks = runs.map((r) => r.entries.map((p) => bySlot.get(p.slot)!));
    const inputBytes = runChunks.flat().reduce((n, c) => n + c.bytes.length, 0);
    const codecs = (['none', 'gzip', 'snappy', 'lz4', 'zstd'] as CompressionName[]).filter((c) => codecAvailable(CompressionCodec[c]));
    const contenders = [
      { name: 'copy', fn: () => runChunks.reduce((n, rc) => n + copyRun(tp, rc), 0) },
      ...codecs.map((c) => ({ name: `re-batch ${c}`, fn: () => runChunks.reduce((n, rc) => n + rebatchRun(tp, rc, CompressionCodec[c]), 0) })),
    ];
    const cpu = interleaved(contenders, cfg.trials);
    const recordPayload = cfg.records * cfg.recordBytes * cfg.requests;

    // ---- report ----
    const s3Merge = only(merge.counts.sends, 's3');
    const ddbMerge = only(merge.counts.sends, 'dynamodb');
    const mbps = mergeSummary.bytesMerged / 1e6 / (merge.ms / 1000);
    const gets1PerMiB = gets1 / storedMiB;
    const gets2PerMiB = gets2 / storedMiB;

    console.log(`Run ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${where}; total ${fmtNum((Date.now() - started) / 1000)} s.`);
    console.log(
      `Produce: ${fmtNum(cfg.requests)} requests × ${cfg.records} records × ${fmtNum(cfg.recordBytes)} B values (${cfg.values}, encoding ${encoding}), one partition, ${cfg.workers} in flight: ` +
        `${fmtNum(expected)} records, ${fmtNum(storedBytes)} bytes stored (${fmtNum(storedMiB, 1)} MiB; ${fmtNum((storedBytes / recordPayload) * 100, 0)}% of the value bytes) in ${before.segments} objects, ${fmtNum(prod.ms / 1000, 1)} s.`,
    );
    console.log(
      `Maintenance: MAINTENANCE_DEFAULTS but mergeMinAgeMs 0 (segment target ${fmtNum(MAINTENANCE_DEFAULTS.segmentTargetBytes / MiB)} MiB, GC grace ${MAINTENANCE_DEFAULTS.gcGraceMs / 60_000} min, ` +
        `full sweep at most every ${MAINTENANCE_DEFAULTS.gcSweepIntervalMs / 60_000} min and only after merges or deletions (acted on ${MAINTENANCE_DEFAULTS.gcSettleMs / 1000} s after), ` +
        `new-objects sweep every ${MAINTENANCE_DEFAULTS.gcOrphanSweepIntervalMs / 60_000} min, ${MAINTENANCE_DEFAULTS.partitionsPerTick} partitions per tick).`,
    );
    console.log(`Cold fetch: a fresh app (empty caches), offset 0 → HWM, maxBytes default (${fmtNum(MiB)}), maxRecords ${fmtNum(LIMITS.maxRecordsPerFetch)}; "record MiB" = what the records count for in maxBytes (key + value + 40 B).\n`);

    console.log(
      table(
        ['cold fetch', 'fetches:', 'records:', 'wall s:', 'S3 GETs:', 'GETs per MiB stored:', 'GETs per record MiB:', 'GETs per fetch:', 'AWS requests per fetch'],
        [
          ['before merge', fmtNum(fetch1.value.fetches), fmtNum(fetch1.value.records), fmtNum(fetch1.ms / 1000, 1), fmtNum(gets1), fmtNum(gets1PerMiB, 2), fmtNum(gets1 / recordMiB1, 2), fmtNum(gets1 / fetch1.value.fetches, 2), describeCounts(fetch1.counts.sends, fetch1.value.fetches)],
          ['after merge + GC', fmtNum(fetch2.value.fetches), fmtNum(fetch2.value.records), fmtNum(fetch2.ms / 1000, 1), fmtNum(gets2), fmtNum(gets2PerMiB, 2), fmtNum(gets2 / recordMiB2, 2), fmtNum(gets2 / fetch2.value.fetches, 2), describeCounts(fetch2.counts.sends, fetch2.value.fetches)],
        ],
      ),
    );
    console.log('');
    console.log(
      table(
        ['maintenance', 'ticks:', 'wall s:', 'MiB merged:', 'MB/s merged:', 'merges:', 'entries moved:', 'objects deleted:', 'S3 requests', 'DynamoDB requests'],
        [
          ['merge (until idle)', String(merge.value.length), fmtNum(merge.ms / 1000, 2), fmtNum(mergedMiB, 1), fmtNum(mbps, 1), String(mergeSummary.merges), fmtNum(mergeSummary.entriesMerged), String(mergeSummary.objectsDeleted), describeCounts(s3Merge), describeCounts(ddbMerge)],
          ['  per MiB merged', '', '', '', '', '', '', '', describeCounts(s3Merge, mergedMiB), describeCounts(ddbMerge, mergedMiB)],
          ['GC past the grace (until idle)', String(gc.value.length), fmtNum(gc.ms / 1000, 2), '', '', String(gcSummary.merges), '', fmtNum(gcSummary.objectsDeleted), describeCounts(only(gc.counts.sends, 's3')), describeCounts(only(gc.counts.sends, 'dynamodb'))],
          ['  per object deleted', '', '', '', '', '', '', '', describeCounts(only(gc.counts.sends, 's3'), gcSummary.objectsDeleted), describeCounts(only(gc.counts.sends, 'dynamodb'), gcSummary.objectsDeleted)],
        ],
      ),
    );
    console.log('');
    console.log(
      table(
        ['partition (describe)', 'highWatermark:', 'sizeBytes:', 'segments:', 'objects in the bucket:'],
        [
          ['after produce', fmtNum(before.highWatermark), fmtNum(before.sizeBytes), fmtNum(before.segments), fmtNum(before.segments)],
          ['after merge (within the grace)', fmtNum(after.highWatermark), fmtNum(after.sizeBytes), fmtNum(after.segments), fmtNum(objectsAfterMerge)],
          ['after GC (clock + grace)', fmtNum(afterGc.highWatermark), fmtNum(afterGc.sizeBytes), fmtNum(afterGc.segments), fmtNum(left.length)],
        ],
      ),
    );
    console.log('');
    console.log(
      `Idle: ${cfg.idlePartitions} partitions of one topic on tables and a bucket of their own, written by ${idleRequests} requests of ${idleRecords.records} × ${fmtNum(cfg.recordBytes)} B (${perRequest} partitions each, every partition twice), ` +
        `merged (${idleMerge.merges} merges) and collected (${idleGc.objectsDeleted} objects deleted; ${idleObjects} left, describe: ${idleDescribed.reduce((n, p) => n + p.segments, 0)} segments). ` +
        `Then ${cfg.ticks} scheduled invocations (runUntilIdle), the clock moved ${TICK_INTERVAL_MS / 1000} s before each:\n`,
    );
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const minutes = (ms: number[]) => (ms.length === 1 ? String(ms[0]) : `${ms[0]}–${ms.at(-1)} (${ms.length})`);
    console.log(table(['minute', 'ticks:', 'passes:', 'GC swept', 'requests:', 'by command', 'wall ms (median):'], tickRows.map((r) => [minutes(r.minutes), ...r.cells, fmtMs(median(r.ms))])));
    console.log('');
    console.log(
      `Per tick (mean of ${cfg.ticks}): ${describeCounts(idleTotal, cfg.ticks)}. Per idle partition per hour at 1 tick a minute: ` +
        `**${fmtNum(perPartitionHour, 2)}** (${describeCounts(idleTotal, (cfg.ticks * cfg.idlePartitions) / TICKS_PER_HOUR, 2)}).` +
        (wholeSweepPeriods ? '' : ` (${cfg.ticks} ticks is not a whole number of the hourly sweep's ${TICKS_PER_SWEEP_PERIOD}-tick period: this misses or over-counts that sweep.)`) +
        '\n',
    );
    const copy = cpu.get('copy')!;
    console.log(
      `Copy vs re-batch (CPU only, this process): the ${fmtNum(chunks.length)} produced chunks (${fmtNum(inputBytes)} bytes stored, zstd batches of ${cfg.records} records as produced) in the ${runs.length} runs the merge plan makes; ` +
        `median of ${cfg.trials} interleaved trials; MB/s = stored input bytes per second; re-batch = decode every batch (CRC checked), re-encode into batches of ≥ ${fmtNum(REBATCH_BYTES / MiB)} MiB of key+value bytes, same segment encode. zstd from ${zstdImplementation}.\n`,
    );
    console.log(
      table(
        ['method', 'ms:', 'MB/s:', 'output bytes:', 'output / input:', 'CPU vs copy:'],
        contenders.map((c) => {
          const r = cpu.get(c.name)!;
          return [c.name === 'copy' ? 'copy byte for byte (merge.ts)' : c.name, fmtNum(r.ms, 0), fmtNum(inputBytes / 1e6 / (r.ms / 1000), 0), fmtNum(r.out), `${fmtNum((r.out / inputBytes) * 100, 1)}%`, `${fmtNum(r.ms / copy.ms, 1)}×`];
        }),
      ),
    );
    console.log('');

    info(`cold fetch before merge: ${fmtNum(gets1PerMiB, 2)} S3 GETs per MiB stored (${fmtNum(gets1 / fetch1.value.fetches, 2)} per 1 MiB fetch; expected ~10)`);
    verdict(after.segments <= 2, `describe's segments after the merge: ${after.segments} (target ≤ 2)`);
    verdict(onlyMerged, `objects left after GC: ${left.length}, ${onlyMerged ? 'exactly the merged objects' : `merged objects: ${mergedSet.size}`} (target: only the merged objects)`);
    verdict(gets2PerMiB <= 1.2, `cold fetch after merge: ${fmtNum(gets2PerMiB, 2)} S3 GETs per MiB stored (${fmtNum(gets2 / recordMiB2, 2)} per record MiB, ${fmtNum(gets2 / fetch2.value.fetches, 2)} per fetch) (target ≤ 1.2 per MiB stored)`);
    verdict(sameRecords, `the cold fetch after merge + GC returned the same ${fmtNum(fetch2.value.records)} records (offsets, keys, values hashed) as before`);
    verdict(afterGc.sizeBytes === before.sizeBytes && afterGc.highWatermark === before.highWatermark, `describe's sizeBytes and highWatermark unchanged by merge + GC (${fmtNum(before.sizeBytes)} → ${fmtNum(afterGc.sizeBytes)})`);
    info(
      `requests per idle partition per hour: ${fmtNum(perPartitionHour, 2)} at 1 tick a minute (${idleTickCount} ticks over ${cfg.ticks} invocations, ${idleWork} with work; goal: a handful)` +
        (wholeSweepPeriods ? '' : `; ${cfg.ticks} ticks is not a whole number of ${TICKS_PER_SWEEP_PERIOD}-tick sweep periods, so the hourly sweep is missed or over-counted`),
    );
    const stampedTo = Math.max(0, ...merge.value.flatMap((r) => r.passes.map((p) => p.stamped)));
    info(`of the merge phase's ${fmtNum(merge.counts.sends['dynamodb UpdateItem'] ?? 0)} UpdateItems, ${fmtNum(stampedTo)} are time-index stamps (the passes' index upkeep: one per entry, once; stamped pointer 0 → ${fmtNum(stampedTo)}), ${fmtNum(mergeSummary.entriesMerged)} entries were repointed in ${fmtNum(merge.counts.sends['dynamodb TransactWriteItems'] ?? 0)} transactions`);
    const skips = [...skipped(merge.value), ...skipped(gc.value)];
    if (skips.length > 0) info(`merges skipped: ${skips.join(', ')}`);
    console.log(verdicts.join('\n'));
  } finally {
    await b.stop();
  }
}
