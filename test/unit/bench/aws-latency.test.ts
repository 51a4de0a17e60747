/** The AWS latency model of bench/aws-model.ts: sampling, overrides and routing (plain data, seeded RNG). */
import { describe, expect, it } from 'vitest';
import {
  MIB,
  bodyBytes,
  callKey,
  defaultLatencyModel,
  opKey,
  parseLatencyOverrides,
  rangeBytes,
  sampleMs,
  seededRandom,
  type Distribution,
} from '../../../bench/aws-latency.ts';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function draw(d: Distribution, n: number, seed: number, bytes = 0): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => sampleMs(d, bytes, random)).sort((a, b) => a - b);
}

describe('sampleMs', () => {
  it('draws a lognormal whose p50 and p99 match the parameters', () => {
    for (const d of [
      { p50Ms: 30, p99Ms: 200, source: 't' },
      { p50Ms: 5, p99Ms: 15, source: 't' },
      { p50Ms: 8, p99Ms: 25, source: 't' },
    ]) {
      const s = draw(d, 200_000, 42);
      expect(Math.abs(quantile(s, 0.5) / d.p50Ms - 1)).toBeLessThan(0.02);
      expect(Math.abs(quantile(s, 0.99) / d.p99Ms - 1)).toBeLessThan(0.05);
      expect(s[0]).toBeGreaterThan(0);
    }
  });

  it('adds perMiBMs per MiB of body, deterministically', () => {
    const d = { p50Ms: 10, p99Ms: 10, perMiBMs: 12, source: 't' };
    expect(sampleMs(d, 0, seededRandom(1))).toBeCloseTo(10, 9);
    expect(sampleMs(d, 2 * MIB, seededRandom(1))).toBeCloseTo(34, 9);
    expect(sampleMs(d, MIB / 2, seededRandom(1))).toBeCloseTo(16, 9);
  });

  it('is constant when p99 equals p50 and zero when p50 is zero', () => {
    expect(new Set(draw({ p50Ms: 7, p99Ms: 7, source: 't' }, 100, 3)).size).toBe(1);
    expect(draw({ p50Ms: 0, p99Ms: 0, source: 't' }, 10, 3).every((x) => x === 0)).toBe(true);
  });

  it('is reproducible from its seed', () => {
    const d = { p50Ms: 30, p99Ms: 200, source: 't' };
    expect(draw(d, 50, 9)).toEqual(draw(d, 50, 9));
    expect(draw(d, 50, 9)).not.toEqual(draw(d, 50, 10));
  });
});

describe('defaultLatencyModel', () => {
  it('has every distribution the write and read paths use, each with a source', () => {
    const m = defaultLatencyModel();
    for (const key of [
      's3-standard PutObject',
      's3-standard GetObject',
      's3-express PutObject',
      's3-express GetObject',
      'dynamodb UpdateItem',
      'dynamodb PutItem',
      'dynamodb GetItem',
      'dynamodb TransactWriteItems',
      'dynamodb Query',
      'dynamodb BatchGetItem',
    ]) {
      const d = m.ops[key];
      expect(d, key).toBeDefined();
      expect(d!.p99Ms).toBeGreaterThanOrEqual(d!.p50Ms);
      expect(d!.source.length).toBeGreaterThan(10);
    }
    expect(m.ops['s3-standard PutObject']!.perMiBMs).toBeGreaterThan(0);
    expect(m.ops['s3-standard GetObject']!.perMiBMs).toBeGreaterThan(0);
    expect(m.apiOverheadMs.source.length).toBeGreaterThan(10);
    // Express is the faster tier.
    expect(m.ops['s3-express PutObject']!.p50Ms).toBeLessThan(m.ops['s3-standard PutObject']!.p50Ms);
  });

  it('returns a fresh copy each time', () => {
    const a = defaultLatencyModel();
    a.ops['dynamodb PutItem']!.p50Ms = 999;
    expect(defaultLatencyModel().ops['dynamodb PutItem']!.p50Ms).not.toBe(999);
  });
});

describe('parseLatencyOverrides', () => {
  const base = defaultLatencyModel();

  it('sets p50 and p99 of a command and keeps its perMiB unless given', () => {
    const m = parseLatencyOverrides(['--lat.dynamodb.UpdateItem=4,12', '--lat.s3-standard.PutObject=40,300', '--lat.s3-express.GetObject=3,9,2'], base);
    expect(m.ops['dynamodb UpdateItem']).toMatchObject({ p50Ms: 4, p99Ms: 12, source: 'override (--lat.dynamodb.UpdateItem)' });
    expect(m.ops['s3-standard PutObject']).toMatchObject({ p50Ms: 40, p99Ms: 300, perMiBMs: base.ops['s3-standard PutObject']!.perMiBMs });
    expect(m.ops['s3-express GetObject']).toMatchObject({ p50Ms: 3, p99Ms: 9, perMiBMs: 2 });
    // the input is not changed
    expect(base.ops['dynamodb UpdateItem']!.p50Ms).toBe(defaultLatencyModel().ops['dynamodb UpdateItem']!.p50Ms);
  });

  it('adds a new command, a fallback, the API overhead and a global scale', () => {
    const m = parseLatencyOverrides(['--lat.dynamodb.BatchWriteItem=6,18', '--lat.dynamodb.*=1,2', '--lat.api=20,60'], base);
    expect(m.ops['dynamodb BatchWriteItem']).toMatchObject({ p50Ms: 6, p99Ms: 18 });
    expect(m.ops['dynamodb *']).toMatchObject({ p50Ms: 1, p99Ms: 2 });
    expect(m.apiOverheadMs).toMatchObject({ p50Ms: 20, p99Ms: 60 });
    const zero = parseLatencyOverrides(['--lat.scale=0'], base);
    expect(Object.values(zero.ops).every((d) => d.p50Ms === 0 && d.p99Ms === 0 && (d.perMiBMs ?? 0) === 0)).toBe(true);
    expect(zero.apiOverheadMs.p50Ms).toBe(0);
    const half = parseLatencyOverrides(['--lat.scale=0.5'], base);
    expect(half.ops['s3-standard PutObject']!.p99Ms).toBe(base.ops['s3-standard PutObject']!.p99Ms / 2);
  });

  it('ignores other flags and refuses malformed --lat flags', () => {
    expect(parseLatencyOverrides(['--seconds=2', '--tier=express'], base)).toEqual(base);
    for (const bad of ['--lat.dynamodb.UpdateItem=4', '--lat.dynamodb.UpdateItem=12,4', '--lat.dynamodb.UpdateItem=a,b', '--lat.redis.Get=1,2', '--lat.api=1,2,3', '--lat.dynamodb.UpdateItem', '--lat.s3-standard=1,2', '--lat.dynamodb.UpdateItem=-1,2']) {
      expect(() => parseLatencyOverrides([bad], base), bad).toThrow();
    }
  });
});

describe('routing', () => {
  const m = defaultLatencyModel();
  const express = new Set(['hot-bucket']);

  it('picks s3-express for a bucket in expressBuckets, s3-standard otherwise', () => {
    expect(opKey(m, 's3', 'PutObjectCommand', { Bucket: 'hot-bucket' }, express)).toBe('s3-express PutObject');
    expect(opKey(m, 's3', 'PutObjectCommand', { Bucket: 'segments' }, express)).toBe('s3-standard PutObject');
    expect(opKey(m, 's3', 'GetObjectCommand', { Bucket: 'hot-bucket' }, express)).toBe('s3-express GetObject');
    expect(opKey(m, 's3', 'GetObjectCommand', {}, express)).toBe('s3-standard GetObject');
  });

  it('picks the DynamoDB command, and the fallback for a command without its own entry', () => {
    expect(opKey(m, 'dynamodb', 'UpdateItemCommand', {}, express)).toBe('dynamodb UpdateItem');
    expect(opKey(m, 'dynamodb', 'TransactWriteItemsCommand', {}, express)).toBe('dynamodb TransactWriteItems');
    expect(opKey(m, 'dynamodb', 'DescribeTableCommand', {}, express)).toBe('dynamodb *');
    expect(opKey(m, 's3', 'ListObjectsV2Command', { Bucket: 'hot-bucket' }, express)).toBe('s3-express *');
    expect(callKey('s3', 'ListObjectsV2Command', { Bucket: 'hot-bucket' }, express)).toBe('s3-express ListObjectsV2');
  });

  it('measures bodies and ranges', () => {
    expect(bodyBytes(Buffer.alloc(1234))).toBe(1234);
    expect(bodyBytes(new Uint8Array(10))).toBe(10);
    expect(bodyBytes('héllo')).toBe(6);
    expect(bodyBytes(undefined)).toBe(0);
    expect(rangeBytes('bytes=100-199')).toBe(100);
    expect(rangeBytes('bytes=0-0')).toBe(1);
    expect(rangeBytes('bytes=100-')).toBeUndefined();
    expect(rangeBytes(undefined)).toBeUndefined();
  });
});
