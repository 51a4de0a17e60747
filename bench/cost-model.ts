/**
 * The pricing math of `npm run cost` (pure: no AWS, no I/O). It takes a workload, the per-request
 * counts measured on the real code path (bench/cost.ts fills `MeasuredProfile`) and a price table
 * (bench/prices.ts) and returns a monthly bill by line item, for Sluice and for the services it is
 * compared with. Every number that is not a price or a measured count is a named assumption in
 * `Assumptions`, printed with the bill.
 */
import { API_MEMORY_MB, FETCH_MEMORY_MB } from '../infra/constructs/function-memory.ts';
import { BILLING, type PriceTable } from './prices.ts';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

// ---- inputs ---------------------------------------------------------------------------------

export interface Workload {
  /** Record value bytes produced per second, in MiB. */
  readonly writeMiBps: number;
  readonly recordBytes: number;
  readonly recordsPerRequest: number;
  /** Consumers that each read everything (tail consumers). */
  readonly readers: number;
  readonly retentionDays: number;
  /** Partitions of the topic (Sluice and MSK); Kinesis sizes its own shards. */
  readonly partitions: number;
}

/** S3 requests and bytes of one storage class. */
export interface S3Use {
  readonly puts: number;
  readonly putBytes: number;
  readonly gets: number;
  readonly getBytes: number;
  /** LIST requests (priced as PUTs). */
  readonly lists: number;
}

export const NO_S3: S3Use = { puts: 0, putBytes: 0, gets: 0, getBytes: 0, lists: 0 };

/** What one request (or one unit of maintenance work) costs in AWS calls, measured. */
export interface RequestUse {
  readonly standard: S3Use;
  /** S3 Express One Zone use (the express tier); zeros on the standard tier. */
  readonly express: S3Use;
  /** DynamoDB write and read request units (ConsumedCapacity, or computed from item sizes). */
  readonly wru: number;
  readonly rru: number;
  /** Billed Lambda duration, ms. */
  readonly lambdaMs: number;
}

export interface HttpUse extends RequestUse {
  /** Mean API Gateway billed requests per request (512 KB increments of request + response). */
  readonly apiUnits: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export interface MeasuredProfile {
  /** Per produce request of `workload.recordsPerRequest` records. */
  readonly produce: HttpUse;
  /**
   * Per tail fetch (POST /v1/fetch over every partition) that returned `producesPerFetch` produce
   * requests' worth of records. S3 use, response bytes and read units scale with that number.
   */
  readonly fetch: HttpUse & { readonly producesPerFetch: number };
  /** Maintenance work per MiB of record values produced (merge, collection, retention), ticks' fixed part excluded. */
  readonly maintenancePerMiB: RequestUse;
  /** One scheduled maintenance invocation on a deployment with nothing to do. */
  readonly maintenanceIdleTick: RequestUse;
  /** Bytes S3 stores per byte of record values (zstd, the topic default). */
  readonly storedRatio: number;
  /** DynamoDB bytes (item + 100 B overhead, index copies included) of a live index entry, and of an emptied one. */
  readonly ddbEntryBytes: number;
  readonly ddbHoleBytes: number;
  /** Index entries one produce request writes (one per partition it touches). */
  readonly entriesPerProduce: number;
}

export interface Assumptions {
  /** Memory of the API function (produce) and of maintenance (infra: API_MEMORY_MB, 1,024 MB). */
  readonly lambdaMemoryMb: number;
  /**
   * Memory of the fetch function, which serves the tail consumers' long polls (infra:
   * FETCH_MEMORY_MB, 512 MB; SluiceLog `fetchMemorySize`).
   */
  readonly fetchMemoryMb: number;
  /** The consumers' long-poll wait (the client's default, 5 s). */
  readonly fetchWaitMs: number;
  /** Maintenance schedule period (infra default: rate(1 minute)). */
  readonly tickIntervalS: number;
  /** Express tier: how long a produced object stays in S3 Express before it is deleted (merge age + half a tick + the GC grace). */
  readonly expressResidencyS: number;
  /** Bytes on the Kafka wire per record value byte (MSK: producers compress with the same codec). */
  readonly kafkaWireRatio: number;
  /** WarpStream BYOC: agents deployed, and object PUTs per agent per second (250 ms batches). */
  readonly warpstreamAgents: number;
  readonly warpstreamPutsPerAgentPerS: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  // The stack's defaults, from the one place infra reads them (a constants module, no CDK).
  lambdaMemoryMb: API_MEMORY_MB,
  fetchMemoryMb: FETCH_MEMORY_MB,
  fetchWaitMs: 5000,
  tickIntervalS: 60,
  expressResidencyS: 60 + 30 + 15 * 60,
  kafkaWireRatio: 1,
  warpstreamAgents: 3,
  warpstreamPutsPerAgentPerS: 4,
};

// ---- output ---------------------------------------------------------------------------------

export interface LineItem {
  readonly item: string;
  /** Billed quantity per month, in `unit`. */
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
  /** False for what is paid with no traffic (storage, fixed hourly fees, the maintenance schedule). */
  readonly variable: boolean;
}

export interface Bill {
  readonly system: string;
  readonly items: LineItem[];
  readonly total: number;
  /** No traffic at all, the retained data kept: what the month costs anyway. */
  readonly idle: number;
}

function bill(system: string, items: LineItem[], idleItems?: LineItem[]): Bill {
  const total = items.reduce((n, i) => n + i.usd, 0);
  const idle = (idleItems ?? items.filter((i) => !i.variable)).reduce((n, i) => n + i.usd, 0);
  return { system, items, total, idle };
}

// ---- unit rules (tested on their own) ---------------------------------------------------------

/** API Gateway HTTP API: one request per started 512 KB of payload (at least one). */
export function apiGatewayUnits(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / BILLING.apiGwIncrementBytes));
}

/** DynamoDB write request units of one item write: one per started KB, doubled in a transaction. */
export function ddbWriteUnits(itemBytes: number, transactional = false): number {
  return Math.max(1, Math.ceil(itemBytes / 1024)) * (transactional ? 2 : 1);
}

/** DynamoDB read request units of a read of `bytes` (summed over the items of a Query): per started 4 KB. */
export function ddbReadUnits(bytes: number, consistency: 'eventual' | 'strong' | 'transactional' = 'strong'): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistency === 'eventual' ? units / 2 : consistency === 'transactional' ? units * 2 : units;
}

// ---- derived rates ----------------------------------------------------------------------------

export interface Rates {
  readonly seconds: number;
  readonly mibPerMonth: number;
  readonly gibPerMonth: number;
  readonly recordsPerSec: number;
  readonly producesPerSec: number;
  readonly producesPerMonth: number;
  /** Fetches per second per reader, and the produce requests' worth each returns. */
  readonly fetchesPerSecPerReader: number;
  readonly producesPerFetch: number;
  readonly fetchesPerMonth: number;
  readonly ticksPerMonth: number;
  /** Record value GiB held over the retention period. */
  readonly retainedGiB: number;
}

export function rates(w: Workload, m: MeasuredProfile, a: Assumptions = DEFAULT_ASSUMPTIONS): Rates {
  const seconds = BILLING.hoursPerMonth * 3600;
  const bytesPerSec = w.writeMiBps * MiB;
  const recordsPerSec = bytesPerSec / w.recordBytes;
  const producesPerSec = recordsPerSec / w.recordsPerRequest;
  // A tail consumer always has one fetch in flight: each answer comes as soon as a produce
  // commits (or after the wait), and the next fetch is sent at once. It cannot answer more often
  // than its own round trip allows; then each fetch returns several produce requests' records.
  const activeS = Math.max(m.fetch.lambdaMs, 1) / 1000;
  let fetchesPerSec = Math.min(producesPerSec, 1 / activeS);
  fetchesPerSec = Math.max(fetchesPerSec, 1000 / a.fetchWaitMs);
  const producesPerFetch = producesPerSec > 0 ? producesPerSec / fetchesPerSec : 0;
  return {
    seconds,
    mibPerMonth: w.writeMiBps * seconds,
    gibPerMonth: (w.writeMiBps * seconds) / 1024,
    recordsPerSec,
    producesPerSec,
    producesPerMonth: producesPerSec * seconds,
    fetchesPerSecPerReader: fetchesPerSec,
    producesPerFetch,
    fetchesPerMonth: fetchesPerSec * seconds * w.readers,
    ticksPerMonth: seconds / a.tickIntervalS,
    retainedGiB: (bytesPerSec * w.retentionDays * 86400) / GiB,
  };
}

// ---- Sluice -----------------------------------------------------------------------------------

function scaleS3(s: S3Use, f: number): S3Use {
  return { puts: s.puts * f, putBytes: s.putBytes * f, gets: s.gets * f, getBytes: s.getBytes * f, lists: s.lists * f };
}

function addS3(...xs: S3Use[]): S3Use {
  return xs.reduce((t, s) => ({ puts: t.puts + s.puts, putBytes: t.putBytes + s.putBytes, gets: t.gets + s.gets, getBytes: t.getBytes + s.getBytes, lists: t.lists + s.lists }), NO_S3);
}

function s3Items(prefix: string, std: S3Use, exp: S3Use, p: PriceTable, variable: boolean): LineItem[] {
  const out: LineItem[] = [];
  const std1000 = (std.puts + std.lists) / 1000;
  if (std1000 > 0 || exp.puts === 0) out.push({ item: `${prefix}S3 Standard PUT/LIST`, quantity: std.puts + std.lists, unit: 'requests', usd: std1000 * p.s3StandardPutPer1000.usd, variable });
  if (std.gets > 0 || exp.gets === 0) out.push({ item: `${prefix}S3 Standard GET`, quantity: std.gets, unit: 'requests', usd: (std.gets / 1000) * p.s3StandardGetPer1000.usd, variable });
  if (exp.puts + exp.lists > 0) out.push({ item: `${prefix}S3 Express PUT`, quantity: exp.puts + exp.lists, unit: 'requests', usd: ((exp.puts + exp.lists) / 1000) * p.s3ExpressPutPer1000.usd, variable });
  if (exp.gets > 0) out.push({ item: `${prefix}S3 Express GET`, quantity: exp.gets, unit: 'requests', usd: (exp.gets / 1000) * p.s3ExpressGetPer1000.usd, variable });
  if (exp.putBytes + exp.getBytes > 0) {
    const up = exp.putBytes / GiB;
    const down = exp.getBytes / GiB;
    out.push({ item: `${prefix}S3 Express data upload + retrieval`, quantity: up + down, unit: 'GiB', usd: up * p.s3ExpressUploadPerGb.usd + down * p.s3ExpressRetrievalPerGb.usd, variable });
  }
  return out;
}

export interface SluiceOptions {
  readonly tier: 'standard' | 'express';
}

/**
 * Sluice's month: API Gateway, Lambda, S3, DynamoDB on the request path (produce and the tail
 * consumers' fetches), maintenance (per MiB merged, collected and expired, plus the schedule's
 * fixed ticks), and storage (S3 for the retention period, DynamoDB index items: live entries
 * for the retention period, emptied ones for the month they accumulate in).
 */
export function sluiceBill(w: Workload, m: MeasuredProfile, p: PriceTable, opts: SluiceOptions, a: Assumptions = DEFAULT_ASSUMPTIONS): Bill {
  const r = rates(w, m, a);
  const memGb = a.lambdaMemoryMb / 1024;
  const fetchMemGb = a.fetchMemoryMb / 1024;
  const fetchScale = m.fetch.producesPerFetch > 0 ? r.producesPerFetch / m.fetch.producesPerFetch : 1;
  // A fetch that returns more (or fewer) produce requests' worth than measured: its answer grows with them.
  const fetchApiUnits = fetchScale === 1 ? m.fetch.apiUnits : apiGatewayUnits(m.fetch.requestBytes + m.fetch.responseBytes * fetchScale);
  const apiUnits = r.producesPerMonth * m.produce.apiUnits + r.fetchesPerMonth * fetchApiUnits;

  // Lambda: produce requests for their billed duration, at the API function's memory; a tail
  // consumer's fetch is in flight all the time (long poll), so each reader keeps one invocation
  // of the fetch function (its own memory) running all month.
  const produceGbS = (r.producesPerMonth * m.produce.lambdaMs) / 1000 * memGb;
  const readerGbS = w.readers * r.seconds * fetchMemGb;
  const maintGbS = ((r.mibPerMonth * m.maintenancePerMiB.lambdaMs + r.ticksPerMonth * m.maintenanceIdleTick.lambdaMs) / 1000) * memGb;

  const pathStd = addS3(scaleS3(m.produce.standard, r.producesPerMonth), scaleS3(m.fetch.standard, r.fetchesPerMonth * fetchScale));
  const pathExp = addS3(scaleS3(m.produce.express, r.producesPerMonth), scaleS3(m.fetch.express, r.fetchesPerMonth * fetchScale));
  const maintStd = addS3(scaleS3(m.maintenancePerMiB.standard, r.mibPerMonth), scaleS3(m.maintenanceIdleTick.standard, r.ticksPerMonth));
  const maintExp = addS3(scaleS3(m.maintenancePerMiB.express, r.mibPerMonth), scaleS3(m.maintenanceIdleTick.express, r.ticksPerMonth));

  const wru = r.producesPerMonth * m.produce.wru + r.fetchesPerMonth * m.fetch.wru;
  const rru = r.producesPerMonth * m.produce.rru + r.fetchesPerMonth * m.fetch.rru * fetchScale;
  const maintWru = r.mibPerMonth * m.maintenancePerMiB.wru;
  const maintRru = r.mibPerMonth * m.maintenancePerMiB.rru;
  const tickWru = r.ticksPerMonth * m.maintenanceIdleTick.wru;
  const tickRru = r.ticksPerMonth * m.maintenanceIdleTick.rru;

  const storedGiB = r.retainedGiB * m.storedRatio;
  const expressGiBMonth = opts.tier === 'express' ? ((w.writeMiBps * MiB * m.storedRatio * a.expressResidencyS) / GiB) : 0;
  const entriesPerMonth = r.producesPerMonth * m.entriesPerProduce;
  const liveEntries = r.producesPerSec * m.entriesPerProduce * w.retentionDays * 86400;
  const ddbGb = (liveEntries * m.ddbEntryBytes + entriesPerMonth * m.ddbHoleBytes) / GiB;

  const lambdaReq = r.producesPerMonth + r.fetchesPerMonth + r.ticksPerMonth;
  const gbS = p.lambdaArmPerGbSecond.usd;
  const items: LineItem[] = [
    { item: 'API Gateway HTTP API requests (512 KB increments)', quantity: apiUnits, unit: 'billed requests', usd: (apiUnits / 1e6) * p.apiGwHttpPerMillion.usd, variable: true },
    { item: 'Lambda requests (API, fetch, maintenance)', quantity: lambdaReq, unit: 'invocations', usd: (lambdaReq / 1e6) * p.lambdaPerMillionRequests.usd, variable: true },
    { item: 'Lambda GB-s: produce', quantity: produceGbS, unit: 'GB-s', usd: produceGbS * gbS, variable: true },
    { item: 'Lambda GB-s: tail consumers (long polls)', quantity: readerGbS, unit: 'GB-s', usd: readerGbS * gbS, variable: true },
    ...s3Items('', pathStd, pathExp, p, true),
    { item: 'S3 Standard storage (retention period)', quantity: storedGiB, unit: 'GiB-month', usd: storedGiB * p.s3StandardPerGbMonth.usd, variable: false },
    ...(opts.tier === 'express' ? [{ item: 'S3 Express storage (until merged and collected)', quantity: expressGiBMonth, unit: 'GiB-month', usd: expressGiBMonth * p.s3ExpressPerGbMonth.usd, variable: true }] : []),
    { item: 'DynamoDB write request units', quantity: wru, unit: 'WRU', usd: (wru / 1e6) * p.ddbPerMillionWru.usd, variable: true },
    { item: 'DynamoDB read request units', quantity: rru, unit: 'RRU', usd: (rru / 1e6) * p.ddbPerMillionRru.usd, variable: true },
    { item: 'DynamoDB storage (index items)', quantity: ddbGb, unit: 'GiB-month', usd: ddbGb * p.ddbPerGbMonth.usd, variable: false },
    ...s3Items('maintenance: ', maintStd, maintExp, p, true),
    { item: 'maintenance: DynamoDB (merge, stamps, retention)', quantity: maintWru + maintRru, unit: 'WRU + RRU', usd: (maintWru / 1e6) * p.ddbPerMillionWru.usd + (maintRru / 1e6) * p.ddbPerMillionRru.usd, variable: true },
    { item: 'maintenance: Lambda GB-s', quantity: maintGbS, unit: 'GB-s', usd: maintGbS * gbS, variable: true },
    { item: 'maintenance: schedule (idle ticks, DynamoDB)', quantity: tickWru + tickRru, unit: 'WRU + RRU', usd: (tickWru / 1e6) * p.ddbPerMillionWru.usd + (tickRru / 1e6) * p.ddbPerMillionRru.usd, variable: false },
  ];
  // Idle: no produce, no consumers; the data is kept; the schedule still ticks (a Lambda
  // invocation and the idle tick's requests each minute).
  const idleTickGbS = (r.ticksPerMonth * m.maintenanceIdleTick.lambdaMs) / 1000 * memGb;
  const idleTickS3 = scaleS3(addS3(m.maintenanceIdleTick.standard, m.maintenanceIdleTick.express), r.ticksPerMonth);
  const idleItems: LineItem[] = [
    items.find((i) => i.item.startsWith('S3 Standard storage'))!,
    items.find((i) => i.item.startsWith('DynamoDB storage'))!,
    items.find((i) => i.item.startsWith('maintenance: schedule'))!,
    { item: 'idle ticks: Lambda', quantity: r.ticksPerMonth, unit: 'invocations', usd: (r.ticksPerMonth / 1e6) * p.lambdaPerMillionRequests.usd + idleTickGbS * gbS, variable: false },
    { item: 'idle ticks: S3 LIST/GET', quantity: idleTickS3.lists + idleTickS3.gets, unit: 'requests', usd: ((idleTickS3.lists + idleTickS3.puts) / 1000) * p.s3StandardPutPer1000.usd + (idleTickS3.gets / 1000) * p.s3StandardGetPer1000.usd, variable: false },
  ];
  return bill(opts.tier === 'express' ? 'Sluice (S3 Express tier)' : 'Sluice (S3 Standard)', items, idleItems);
}

// ---- the others -------------------------------------------------------------------------------

/**
 * Kinesis Data Streams on demand: stream-hours, GiB in (producers aggregate records, so the
 * 1 KB rounding per record adds nothing), GiB out (every reader reads everything, through the
 * shared-throughput GetRecords path), extended retention for what is kept beyond 24 h (up to 7 days).
 */
export function kinesisOnDemandBill(w: Workload, p: PriceTable): Bill {
  const seconds = BILLING.hoursPerMonth * 3600;
  const gibIn = (w.writeMiBps * seconds) / 1024;
  const gibOut = gibIn * w.readers;
  const extendedGiB = (w.writeMiBps * MiB * Math.max(0, Math.min(w.retentionDays, 7) - 1) * 86400) / GiB;
  return bill('Kinesis Data Streams on demand', [
    { item: 'stream-hours', quantity: BILLING.hoursPerMonth, unit: 'stream-hours', usd: BILLING.hoursPerMonth * p.kinesisOnDemandStreamHour.usd, variable: false },
    { item: 'data in', quantity: gibIn, unit: 'GiB', usd: gibIn * p.kinesisOnDemandPerGbIn.usd, variable: true },
    { item: 'data out (each reader reads everything)', quantity: gibOut, unit: 'GiB', usd: gibOut * p.kinesisOnDemandPerGbOut.usd, variable: true },
    { item: 'extended retention (beyond 24 h)', quantity: extendedGiB, unit: 'GiB-month', usd: extendedGiB * p.kinesisOnDemandExtendedRetentionGbMonth.usd, variable: false },
  ]);
}

/** Shards for the write rate (1 MB/s and 1,000 records/s each) and the readers' 2 MB/s per shard. */
export function kinesisShards(w: Workload): number {
  const bytesPerSec = w.writeMiBps * MiB;
  // Aggregated records of up to 25 KB (KPL), so the records/s limit counts aggregates.
  const aggregatesPerSec = bytesPerSec / BILLING.kinesisPayloadUnitBytes;
  return Math.max(
    1,
    Math.ceil(bytesPerSec / BILLING.kinesisShardInBytesPerSec),
    Math.ceil(aggregatesPerSec / BILLING.kinesisShardInRecordsPerSec),
    Math.ceil((bytesPerSec * w.readers) / BILLING.kinesisShardOutBytesPerSec),
  );
}

/** Kinesis provisioned: shard-hours, PUT payload units (25 KB aggregates), extended retention shard-hours. */
export function kinesisProvisionedBill(w: Workload, p: PriceTable): Bill {
  const seconds = BILLING.hoursPerMonth * 3600;
  const shards = kinesisShards(w);
  const shardHours = shards * BILLING.hoursPerMonth;
  const units = Math.ceil((w.writeMiBps * MiB * seconds) / BILLING.kinesisPayloadUnitBytes);
  const items: LineItem[] = [
    { item: `shard-hours (${shards} shards)`, quantity: shardHours, unit: 'shard-hours', usd: shardHours * p.kinesisShardHour.usd, variable: false },
    { item: 'PUT payload units (25 KB aggregates)', quantity: units, unit: 'units', usd: (units / 1e6) * p.kinesisPutPayloadUnitPerMillion.usd, variable: true },
  ];
  if (w.retentionDays > 1) items.push({ item: 'extended retention (up to 7 days)', quantity: shardHours, unit: 'shard-hours', usd: shardHours * p.kinesisExtendedRetentionShardHour.usd, variable: false });
  return bill('Kinesis Data Streams provisioned', items);
}

/** MSK Serverless: cluster-hours, partition-hours, GiB in and out on the Kafka wire, GiB-months stored. */
export function mskServerlessBill(w: Workload, p: PriceTable, a: Assumptions = DEFAULT_ASSUMPTIONS): Bill {
  const seconds = BILLING.hoursPerMonth * 3600;
  const gibIn = ((w.writeMiBps * seconds) / 1024) * a.kafkaWireRatio;
  const gibOut = gibIn * w.readers;
  const storedGiB = ((w.writeMiBps * MiB * w.retentionDays * 86400) / GiB) * a.kafkaWireRatio;
  const partitionHours = w.partitions * BILLING.hoursPerMonth;
  return bill('MSK Serverless', [
    { item: 'cluster-hours', quantity: BILLING.hoursPerMonth, unit: 'cluster-hours', usd: BILLING.hoursPerMonth * p.mskServerlessClusterHour.usd, variable: false },
    { item: `partition-hours (${w.partitions} partitions)`, quantity: partitionHours, unit: 'partition-hours', usd: partitionHours * p.mskServerlessPartitionHour.usd, variable: false },
    { item: 'data in', quantity: gibIn, unit: 'GiB', usd: gibIn * p.mskServerlessPerGbIn.usd, variable: true },
    { item: 'data out (each reader reads everything)', quantity: gibOut, unit: 'GiB', usd: gibOut * p.mskServerlessPerGbOut.usd, variable: true },
    { item: 'storage (retention period)', quantity: storedGiB, unit: 'GiB-month', usd: storedGiB * p.mskServerlessStorageGbMonth.usd, variable: false },
  ]);
}

/**
 * WarpStream BYOC: WarpStream's fee (cluster-hours, uncompressed GiB written and stored) plus
 * the cloud resources in the customer's account: the agents (EC2) and S3 (PUTs of the agents'
 * 250 ms batches, storage of the compressed data). Reads are served by the agents (their GETs,
 * a few per batch file, are not counted).
 */
export function warpstreamBill(w: Workload, m: Pick<MeasuredProfile, 'storedRatio'>, p: PriceTable, a: Assumptions = DEFAULT_ASSUMPTIONS): Bill {
  const seconds = BILLING.hoursPerMonth * 3600;
  const gibWritten = (w.writeMiBps * seconds) / 1024;
  const storedGiB = (w.writeMiBps * MiB * w.retentionDays * 86400) / GiB;
  const puts = a.warpstreamAgents * a.warpstreamPutsPerAgentPerS * seconds;
  const agentHours = a.warpstreamAgents * BILLING.hoursPerMonth;
  return bill('WarpStream BYOC', [
    { item: 'WarpStream cluster-hours (Fundamentals)', quantity: BILLING.hoursPerMonth, unit: 'cluster-hours', usd: BILLING.hoursPerMonth * p.warpstreamClusterHour.usd, variable: false },
    { item: 'WarpStream uncompressed GiB written', quantity: gibWritten, unit: 'GiB', usd: gibWritten * p.warpstreamPerGibWritten.usd, variable: true },
    { item: 'WarpStream uncompressed GiB stored', quantity: storedGiB, unit: 'GiB-month', usd: storedGiB * p.warpstreamPerGibStoredMonth.usd, variable: false },
    { item: `agents: ${a.warpstreamAgents} × m7g.large`, quantity: agentHours, unit: 'instance-hours', usd: agentHours * p.ec2M7gLargeHour.usd, variable: false },
    { item: 'S3 PUT (agent batch files)', quantity: puts, unit: 'requests', usd: (puts / 1000) * p.s3StandardPutPer1000.usd, variable: true },
    { item: 'S3 Standard storage (compressed)', quantity: storedGiB * m.storedRatio, unit: 'GiB-month', usd: storedGiB * m.storedRatio * p.s3StandardPerGbMonth.usd, variable: false },
  ]);
}

export interface Comparison {
  readonly sluice: Bill;
  readonly sluiceExpress: Bill;
  readonly kinesisOnDemand: Bill;
  readonly kinesisProvisioned: Bill;
  readonly mskServerless: Bill;
  readonly warpstream: Bill;
}

export function compare(w: Workload, standard: MeasuredProfile, express: MeasuredProfile, p: PriceTable, a: Assumptions = DEFAULT_ASSUMPTIONS): Comparison {
  const kafka = { ...a, kafkaWireRatio: standard.storedRatio };
  return {
    sluice: sluiceBill(w, standard, p, { tier: 'standard' }, a),
    sluiceExpress: sluiceBill(w, express, p, { tier: 'express' }, a),
    kinesisOnDemand: kinesisOnDemandBill(w, p),
    kinesisProvisioned: kinesisProvisionedBill(w, p),
    mskServerless: mskServerlessBill(w, p, kafka),
    warpstream: warpstreamBill(w, standard, p, a),
  };
}

/** The goal: Sluice at most 1/5 of Kinesis on demand and 1/10 of MSK Serverless. */
export function goal(c: Comparison, bill: Bill = c.sluice): { kinesisRatio: number; mskRatio: number; met: boolean } {
  const kinesisRatio = bill.total / c.kinesisOnDemand.total;
  const mskRatio = bill.total / c.mskServerless.total;
  return { kinesisRatio, mskRatio, met: kinesisRatio <= 1 / 5 && mskRatio <= 1 / 10 };
}
