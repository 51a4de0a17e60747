import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur2, toPositive } from '../../../lib/partition/murmur2.ts';
import { StickyPartitioner, choosePartition, partitionForKey, stickySeedFromId } from '../../../lib/partition/partitioner.ts';

// kafkajs is the reference implementation here (dev dependency only).
const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;
const { Partitioners } = require('kafkajs') as {
  Partitioners: { DefaultPartitioner: () => (args: { topic: string; partitionMetadata: { partitionId: number; leader: number; }[]; message: { key: Buffer; }; }) => number; };
};

/**
 * apache/kafka UtilsTest.testMurmur2. Each pair was checked against kafkajs's murmur2 before
 * being trusted (all six agree; none dropped), and the test below re-checks that.
 */
const KAFKA_VECTORS: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

describe('murmur2', () => {
  it.each(KAFKA_VECTORS)('hashes %j to %i like Kafka (and kafkajs)', (input, expected) => {
    expect(kafkajsMurmur2(Buffer.from(input))).toBe(expected);
    expect(murmur2(Buffer.from(input))).toBe(expected);
  });

  it('agrees with kafkajs on 100k random keys of every tail length', () => {
    // Deterministic LCG so the run is reproducible; lengths 0..64 cover all `length % 4` tails.
    let s = 0x1234567;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 16;
    for (let i = 0; i < 100_000; i++) {
      const key = Buffer.allocUnsafe(next() % 65);
      for (let j = 0; j < key.length; j++) key[j] = next() & 0xff;
      const ours = murmur2(key);
      const ref = kafkajsMurmur2(key);
      if (ours !== ref) expect.fail(`key ${key.toString('hex')}: ours ${ours}, kafkajs ${ref}`);
    }
  });

  it('agrees with kafkajs on arbitrary keys (fast-check)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (k) => murmur2(k) === kafkajsMurmur2(Buffer.from(k))), { numRuns: 2000 });
  });

  it('toPositive clears the sign bit rather than negating', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-0x80000000)).toBe(0);
  });
});

describe('partitionForKey', () => {
  it("matches kafkajs's DefaultPartitioner for every partition count", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    let s = 42;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 16;
    for (let i = 0; i < 20_000; i++) {
      const key = Buffer.allocUnsafe(1 + (next() % 40));
      for (let j = 0; j < key.length; j++) key[j] = next() & 0xff;
      const n = 1 + (i % 97);
      const partitionMetadata = Array.from({ length: n }, (_, p) => ({ partitionId: p, leader: 0 }));
      expect(partitionForKey(key, n)).toBe(partitioner({ topic: 't', partitionMetadata, message: { key } }));
    }
  });

  it('hashes an empty key (only null keys are spread)', () => {
    expect(partitionForKey(new Uint8Array(0), 50)).toBe(toPositive(275646681) % 50);
    expect(choosePartition({ key: new Uint8Array(0) }, 50, 3)).toBe(partitionForKey(new Uint8Array(0), 50));
  });

  it('rejects a non-positive partition count', () => {
    expect(() => partitionForKey(Buffer.from('k'), 0)).toThrow(RangeError);
  });
});

describe('StickyPartitioner', () => {
  it('gives one partition per request and walks partitions round-robin across requests', () => {
    const sticky = new StickyPartitioner({ seed: 7 });
    const seen = Array.from({ length: 12 }, () => sticky.partitionForRequest('orders', 4));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBe((seen[i - 1]! + 1) % 4);
  });

  it('is deterministic for a seed, and different seeds start elsewhere', () => {
    const a = new StickyPartitioner({ seed: 1 });
    const b = new StickyPartitioner({ seed: 1 });
    const c = new StickyPartitioner({ seed: 2 });
    expect(a.partitionForRequest('t', 16)).toBe(b.partitionForRequest('t', 16));
    expect(new StickyPartitioner({ seed: 1 }).partitionForRequest('t', 16)).not.toBe(c.partitionForRequest('t', 16));
  });

  it('keeps a separate rotation per topic', () => {
    const s = new StickyPartitioner();
    const a0 = s.partitionForRequest('a', 1000);
    s.partitionForRequest('b', 1000);
    expect(s.partitionForRequest('a', 1000)).toBe((a0 + 1) % 1000);
  });

  it('choosePartition: explicit partition, then key hash, then the sticky partition', () => {
    expect(choosePartition({ partition: 5, key: Buffer.from('k') }, 8, 1)).toBe(5);
    expect(choosePartition({ key: Buffer.from('foobar') }, 50, 1)).toBe(toPositive(-790332482) % 50);
    expect(choosePartition({ key: null }, 8, 3)).toBe(3);
  });
});

describe('stickySeedFromId', () => {
  it('is a pure function of the id, and different ids spread the first choice', () => {
    expect(stickySeedFromId('instance-a')).toBe(stickySeedFromId('instance-a'));
    const firsts = new Set(
      Array.from({ length: 64 }, (_, i) => new StickyPartitioner({ seed: stickySeedFromId(`instance-${i}`) }).partitionForRequest('t', 8)),
    );
    expect(firsts.size).toBeGreaterThan(1);
  });
});
