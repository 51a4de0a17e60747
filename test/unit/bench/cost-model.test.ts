/**
 * The pricing math of `npm run cost` (bench/cost-model.ts) on plain data: the unit rules of
 * each bill, and how the bills move with the workload.
 */
import { describe, expect, it } from 'vitest';
import {
  type Bill,
  type MeasuredProfile,
  type Workload,
  GiB,
  MiB,
  NO_S3,
  apiGatewayUnits,
  compare,
  ddbReadUnits,
  ddbWriteUnits,
  goal,
  kinesisOnDemandBill,
  kinesisProvisionedBill,
  kinesisShards,
  mskServerlessBill,
  rates,
  sluiceBill,
  DEFAULT_ASSUMPTIONS,
} from '../../../bench/cost-model.ts';
import { API_MEMORY_MB, FETCH_MEMORY_MB } from '../../../infra/constructs/function-memory.ts';
import { PRICES } from '../../../bench/prices.ts';

const HOUR_S = 3600;
const MONTH_S = 730 * HOUR_S;

const reference: Workload = { writeMiBps: 1, recordBytes: 1024, recordsPerRequest: 800, readers: 3, retentionDays: 7, partitions: 4 };

/** A profile shaped like a measured one (1 PUT per produce, 4 GETs per fetch, ...), values made up. */
function profile(over: Partial<MeasuredProfile> = {}): MeasuredProfile {
  return {
    produce: { standard: { ...NO_S3, puts: 1, putBytes: 600 * 1024 }, express: NO_S3, wru: 20, rru: 1, lambdaMs: 100, apiUnits: 2, requestBytes: 1_000_000, responseBytes: 20_000 },
    fetch: { standard: { ...NO_S3, gets: 4, getBytes: 600 * 1024 }, express: NO_S3, wru: 1, rru: 10, lambdaMs: 80, apiUnits: 3, requestBytes: 300, responseBytes: 1_100_000, producesPerFetch: 1 },
    maintenancePerMiB: { standard: { ...NO_S3, puts: 0.1, gets: 5, lists: 0.1 }, express: NO_S3, wru: 14, rru: 3, lambdaMs: 100 },
    maintenanceIdleTick: { standard: { ...NO_S3, lists: 1 / 60 }, express: NO_S3, wru: 0, rru: 5, lambdaMs: 40 },
    storedRatio: 0.78,
    ddbEntryBytes: 900,
    ddbHoleBytes: 550,
    entriesPerProduce: 4,
    ...over,
  };
}

const item = (bill: Bill, prefix: string) => bill.items.find((i) => i.item.startsWith(prefix))!;

describe('unit rules', () => {
  it('API Gateway HTTP API bills requests in 512 KB increments', () => {
    expect(apiGatewayUnits(0)).toBe(1);
    expect(apiGatewayUnits(1)).toBe(1);
    expect(apiGatewayUnits(512 * 1024)).toBe(1);
    expect(apiGatewayUnits(512 * 1024 + 1)).toBe(2);
    expect(apiGatewayUnits(MiB)).toBe(2);
    expect(apiGatewayUnits(MiB + 1)).toBe(3);
  });

  it('DynamoDB write units round up per 1 KB, doubled in a transaction', () => {
    expect(ddbWriteUnits(1)).toBe(1);
    expect(ddbWriteUnits(1024)).toBe(1);
    expect(ddbWriteUnits(1025)).toBe(2);
    expect(ddbWriteUnits(3 * 1024)).toBe(3);
    expect(ddbWriteUnits(1025, true)).toBe(4);
  });

  it('DynamoDB read units round up per 4 KB; eventually consistent reads cost half', () => {
    expect(ddbReadUnits(4096)).toBe(1);
    expect(ddbReadUnits(4097)).toBe(2);
    expect(ddbReadUnits(4097, 'eventual')).toBe(1);
    expect(ddbReadUnits(100, 'transactional')).toBe(2);
  });
});

describe('the others', () => {
  it('Kinesis on demand charges per GiB in and per GiB out for every reader, plus stream-hours and retention beyond 24 h', () => {
    const b = kinesisOnDemandBill(reference, PRICES);
    const gibIn = MONTH_S / 1024;
    expect(item(b, 'data in').usd).toBeCloseTo(gibIn * PRICES.kinesisOnDemandPerGbIn.usd, 6);
    expect(item(b, 'data out').usd).toBeCloseTo(3 * gibIn * PRICES.kinesisOnDemandPerGbOut.usd, 6);
    expect(item(b, 'stream-hours').usd).toBeCloseTo(730 * PRICES.kinesisOnDemandStreamHour.usd, 6);
    expect(item(b, 'extended retention').usd).toBeCloseTo(((6 * 86400 * MiB) / GiB) * PRICES.kinesisOnDemandExtendedRetentionGbMonth.usd, 6);
    // One reader fewer: exactly one reader's GiB out less.
    const fewer = kinesisOnDemandBill({ ...reference, readers: 2 }, PRICES);
    expect(b.total - fewer.total).toBeCloseTo(gibIn * PRICES.kinesisOnDemandPerGbOut.usd, 6);
    // Retention of a day or less costs nothing extra.
    expect(item(kinesisOnDemandBill({ ...reference, retentionDays: 1 }, PRICES), 'extended retention').usd).toBe(0);
  });

  it('Kinesis provisioned sizes shards for the write rate and for the readers sharing 2 MB/s per shard', () => {
    expect(kinesisShards(reference)).toBe(2); // 1.05 MB/s in; 3.1 MB/s out
    expect(kinesisShards({ ...reference, readers: 1, writeMiBps: 0.5 })).toBe(1);
    expect(kinesisShards({ ...reference, readers: 10 })).toBe(6); // 10.5 MB/s of reads
    const b = kinesisProvisionedBill(reference, PRICES);
    expect(item(b, 'shard-hours').usd).toBeCloseTo(2 * 730 * PRICES.kinesisShardHour.usd, 6);
    expect(item(b, 'PUT payload units').quantity).toBe(Math.ceil((MONTH_S * MiB) / (25 * 1024)));
  });

  it('MSK Serverless: cluster-hours, partition-hours, data in and out, storage', () => {
    const b = mskServerlessBill(reference, PRICES);
    expect(item(b, 'cluster-hours').usd).toBeCloseTo(730 * PRICES.mskServerlessClusterHour.usd, 6);
    expect(item(b, 'partition-hours').quantity).toBe(4 * 730);
    expect(item(b, 'data out').quantity).toBeCloseTo(3 * item(b, 'data in').quantity, 6);
    expect(item(b, 'storage').quantity).toBeCloseTo((7 * 86400 * MiB) / GiB, 6);
  });
});

describe('Sluice', () => {
  it('prices the measured counts: one PUT per produce request, API units per request, DynamoDB units', () => {
    const m = profile();
    const r = rates(reference, m);
    const b = sluiceBill(reference, m, PRICES, { tier: 'standard' });
    expect(r.producesPerSec).toBeCloseTo(1.28, 6);
    expect(item(b, 'S3 Standard PUT').quantity).toBeCloseTo(r.producesPerMonth, 3);
    expect(item(b, 'API Gateway').quantity).toBeCloseTo(r.producesPerMonth * 2 + r.fetchesPerMonth * 3, 3);
    expect(item(b, 'DynamoDB write').quantity).toBeCloseTo(r.producesPerMonth * 20 + r.fetchesPerMonth * 1, 3);
  });

  it('a tail consumer fetches once per produce request, at most once per round trip, and keeps one long poll running', () => {
    const m = profile();
    expect(rates(reference, m).fetchesPerSecPerReader).toBeCloseTo(1.28, 6);
    // 1 record per request: 1,024 produce requests/s, but a fetch takes 80 ms: 12.5 fetches/s, ~82 produces each.
    const small = rates({ ...reference, recordsPerRequest: 1 }, m);
    expect(small.fetchesPerSecPerReader).toBeCloseTo(12.5, 6);
    expect(small.producesPerFetch).toBeCloseTo(1024 / 12.5, 6);
    // Quiet: an empty long poll every 5 s.
    expect(rates({ ...reference, writeMiBps: 0.0001 }, m).fetchesPerSecPerReader).toBeCloseTo(0.2, 6);
    const b = sluiceBill(reference, m, PRICES, { tier: 'standard' });
    // At the fetch function's memory (512 MB): half a GB-s per second per reader.
    expect(item(b, 'Lambda GB-s: tail').quantity).toBe(3 * MONTH_S * (FETCH_MEMORY_MB / 1024));
  });

  it('prices long polls at the fetch function\'s memory and produce at the API function\'s, the stack\'s defaults', () => {
    expect(DEFAULT_ASSUMPTIONS.fetchMemoryMb).toBe(FETCH_MEMORY_MB);
    expect(DEFAULT_ASSUMPTIONS.lambdaMemoryMb).toBe(API_MEMORY_MB);
    expect([FETCH_MEMORY_MB, API_MEMORY_MB]).toEqual([512, 1024]);
    const m = profile();
    const r = rates(reference, m);
    const b = sluiceBill(reference, m, PRICES, { tier: 'standard' });
    expect(item(b, 'Lambda GB-s: tail').quantity).toBeCloseTo(3 * r.seconds * 0.5, 6);
    expect(item(b, 'Lambda GB-s: produce').quantity).toBeCloseTo((r.producesPerMonth * 100) / 1000 * 1, 6);
    // The fetch memory moves the readers' line only; the API memory moves produce and maintenance only.
    const bigFetch = sluiceBill(reference, m, PRICES, { tier: 'standard' }, { ...DEFAULT_ASSUMPTIONS, fetchMemoryMb: 1024 });
    const bigApi = sluiceBill(reference, m, PRICES, { tier: 'standard' }, { ...DEFAULT_ASSUMPTIONS, lambdaMemoryMb: 2048 });
    for (const i of b.items) {
      const f = bigFetch.items.find((x) => x.item === i.item)!;
      const api = bigApi.items.find((x) => x.item === i.item)!;
      if (i.item.startsWith('Lambda GB-s: tail')) {
        expect(f.usd / i.usd).toBeCloseTo(2, 9);
        expect(api.usd).toBeCloseTo(i.usd, 9);
      } else if (i.item === 'Lambda GB-s: produce' || i.item === 'maintenance: Lambda GB-s') {
        expect(f.usd).toBeCloseTo(i.usd, 9);
        expect(api.usd / i.usd).toBeCloseTo(2, 9);
      } else {
        expect(f.usd, i.item).toBeCloseTo(i.usd, 9);
        expect(api.usd, i.item).toBeCloseTo(i.usd, 9);
      }
    }
  });

  it('a doubled workload roughly doubles the variable items', () => {
    const m = profile();
    const one = sluiceBill(reference, m, PRICES, { tier: 'standard' });
    const two = sluiceBill({ ...reference, writeMiBps: 2 }, m, PRICES, { tier: 'standard' });
    for (const i of one.items.filter((x) => x.variable && x.usd > 0)) {
      const j = two.items.find((x) => x.item === i.item)!;
      if (i.item.startsWith('Lambda GB-s: tail')) {
        expect(j.usd).toBeCloseTo(i.usd, 9); // per reader, not per byte
        continue;
      }
      // Exactly 2, or a little less where the schedule's ticks are part of the item (Lambda requests, maintenance Lambda).
      expect(j.usd / i.usd, i.item).toBeGreaterThan(1.9);
      expect(j.usd / i.usd, i.item).toBeLessThanOrEqual(2 + 1e-9);
    }
    // ...and twice the readers double what the readers cost.
    const readers = sluiceBill({ ...reference, readers: 6 }, m, PRICES, { tier: 'standard' });
    expect(item(readers, 'Lambda GB-s: tail').usd / item(one, 'Lambda GB-s: tail').usd).toBeCloseTo(2, 9);
    expect(item(readers, 'S3 Standard GET').usd / item(one, 'S3 Standard GET').usd).toBeCloseTo(2, 9);
  });

  it('idle = storage + the fixed schedule only', () => {
    const m = profile();
    const b = sluiceBill(reference, m, PRICES, { tier: 'standard' });
    const storage = item(b, 'S3 Standard storage').usd + item(b, 'DynamoDB storage').usd;
    const ticks = MONTH_S / 60;
    const schedule =
      item(b, 'maintenance: schedule').usd +
      (ticks / 1e6) * PRICES.lambdaPerMillionRequests.usd +
      ((ticks * 40) / 1000) * PRICES.lambdaArmPerGbSecond.usd +
      ((ticks / 60) / 1000) * PRICES.s3StandardPutPer1000.usd;
    expect(b.idle).toBeCloseTo(storage + schedule, 6);
    expect(b.idle).toBeLessThan(b.total / 5);
    // Storage is the retained data: 7 days of 1 MiB/s at the stored ratio.
    expect(item(b, 'S3 Standard storage').quantity).toBeCloseTo(((7 * 86400 * MiB) / GiB) * 0.78, 6);
    // The others' idle is their fixed items.
    const k = kinesisOnDemandBill(reference, PRICES);
    expect(k.idle).toBeCloseTo(item(k, 'stream-hours').usd + item(k, 'extended retention').usd, 9);
  });

  it('the express tier prices PUT/GET on the hot bucket at S3 Express rates, with its per-GB charges', () => {
    const std = profile();
    const exp = profile({
      produce: { ...std.produce, standard: NO_S3, express: std.produce.standard },
      fetch: { ...std.fetch, standard: NO_S3, express: std.fetch.standard },
    });
    const b = sluiceBill(reference, exp, PRICES, { tier: 'express' });
    const r = rates(reference, exp);
    expect(item(b, 'S3 Express PUT').usd).toBeCloseTo((r.producesPerMonth / 1000) * PRICES.s3ExpressPutPer1000.usd, 6);
    const gib = (r.producesPerMonth * 600 * 1024 + r.fetchesPerMonth * 600 * 1024) / GiB;
    expect(item(b, 'S3 Express data').quantity).toBeCloseTo(gib, 3);
    expect(item(b, 'S3 Express storage').quantity).toBeGreaterThan(0);
  });

  it('goal: at most 1/5 of Kinesis on demand and 1/10 of MSK Serverless', () => {
    const c = compare(reference, profile(), profile(), PRICES);
    const g = goal(c);
    expect(g.kinesisRatio).toBeCloseTo(c.sluice.total / c.kinesisOnDemand.total, 9);
    expect(g.met).toBe(g.kinesisRatio <= 0.2 && g.mskRatio <= 0.1);
    // A free Sluice meets it.
    const free = goal({ ...c, sluice: { ...c.sluice, total: 0 } });
    expect(free.met).toBe(true);
  });
});
