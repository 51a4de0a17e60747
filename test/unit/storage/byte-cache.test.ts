import { describe, expect, it } from 'vitest';
import { ByteLru } from '../../../lib/storage/byte-cache.ts';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('ByteLru', () => {
  it('returns what was set and counts its bytes', () => {
    const lru = new ByteLru(100);
    const v = bytes(10);
    lru.set('a', v);
    expect(lru.get('a')).toBe(v);
    expect(lru.get('missing')).toBeUndefined();
    expect(lru.size).toBe(10);
  });

  it('evicts least recently used entries until the byte budget holds again', () => {
    const lru = new ByteLru(100);
    lru.set('a', bytes(40));
    lru.set('b', bytes(40));
    lru.set('c', bytes(40)); // 120 > 100: 'a' goes
    expect(lru.get('a')).toBeUndefined();
    expect(lru.get('b')).toBeDefined();
    expect(lru.get('c')).toBeDefined();
    expect(lru.size).toBe(80);
  });

  it('evicts by bytes, not by count: one large entry can push out several small ones', () => {
    const lru = new ByteLru(100);
    for (const k of ['a', 'b', 'c', 'd', 'e']) lru.set(k, bytes(20));
    lru.set('big', bytes(70)); // must drop a, b, c, d (80 bytes) to fit: 20 + 70 = 90
    expect(['a', 'b', 'c', 'd'].map((k) => lru.get(k))).toEqual([undefined, undefined, undefined, undefined]);
    expect(lru.get('e')).toBeDefined();
    expect(lru.get('big')).toBeDefined();
    expect(lru.size).toBe(90);
  });

  it('a get makes an entry most recently used', () => {
    const lru = new ByteLru(100);
    lru.set('a', bytes(40));
    lru.set('b', bytes(40));
    lru.get('a'); // now b is the least recently used
    lru.set('c', bytes(40));
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBeDefined();
    expect(lru.get('c')).toBeDefined();
  });

  it('re-setting a key replaces its bytes (no double counting) and refreshes its recency', () => {
    const lru = new ByteLru(100);
    lru.set('a', bytes(40));
    lru.set('b', bytes(40));
    lru.set('a', bytes(30, 2));
    expect(lru.size).toBe(70);
    expect(lru.get('a')![0]).toBe(2);
    lru.set('c', bytes(40)); // 110: b is the LRU now
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBeDefined();
    expect(lru.size).toBe(70);
  });

  it('never caches a value larger than the whole budget, and keeps what it had', () => {
    const lru = new ByteLru(100);
    lru.set('a', bytes(50));
    lru.set('huge', bytes(101));
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.get('a')).toBeDefined();
    expect(lru.size).toBe(50);
    lru.set('exact', bytes(100)); // exactly the budget fits, alone
    expect(lru.get('exact')).toBeDefined();
    expect(lru.get('a')).toBeUndefined();
    expect(lru.size).toBe(100);
  });

  it('caches empty values', () => {
    const lru = new ByteLru(10);
    lru.set('empty', bytes(0));
    expect(lru.get('empty')).toEqual(new Uint8Array(0));
    expect(lru.size).toBe(0);
  });
});

describe('ByteLru accounting of views', () => {
  const MiB = 1024 * 1024;

  it('counts a cached slice of a 6 MB buffer as what it keeps alive, never more than the budget', () => {
    const lru = new ByteLru(1 * MiB);
    for (let i = 0; i < 20; i++) {
      const segment = new Uint8Array(6 * MiB).fill(i);
      lru.set(`k${i}`, segment.subarray(1000, 1000 + 1024));
    }
    // Every slice is still cached, and together they keep alive only their own bytes.
    let alive = 0;
    for (let i = 0; i < 20; i++) {
      const v = lru.get(`k${i}`)!;
      expect(v.byteLength).toBe(1024);
      expect(v[0]).toBe(i);
      alive += v.buffer.byteLength;
    }
    expect(alive).toBe(20 * 1024);
    expect(lru.size).toBe(20 * 1024);
  });

  it('charges a view that pins most of its buffer for the whole buffer', () => {
    const lru = new ByteLru(8 * MiB);
    const segment = new Uint8Array(6 * MiB);
    const big = segment.subarray(0, 5 * MiB);
    lru.set('big', big);
    expect(lru.get('big')).toBe(big); // kept as is: copying would save less than half
    expect(lru.size).toBe(6 * MiB);
    lru.set('small', segment.subarray(5 * MiB, 5 * MiB + 10));
    expect(lru.get('small')!.buffer.byteLength).toBe(10);
    expect(lru.size).toBe(6 * MiB + 10);
    lru.set('other', new Uint8Array(3 * MiB)); // 9 MiB + 10 > 8 MiB: 'big' (the LRU) goes
    expect(lru.get('big')).toBeUndefined();
    expect(lru.size).toBe(3 * MiB + 10);
  });

  it('copies a view of a buffer larger than the whole budget instead of refusing it', () => {
    const lru = new ByteLru(4 * MiB);
    const segment = new Uint8Array(6 * MiB).fill(7);
    lru.set('a', segment.subarray(0, 3 * MiB + 1));
    const v = lru.get('a')!;
    expect(v.buffer.byteLength).toBe(3 * MiB + 1);
    expect(v[3 * MiB]).toBe(7);
    expect(lru.size).toBe(3 * MiB + 1);
  });

  it('re-setting a key with a view releases the old charge exactly', () => {
    const lru = new ByteLru(8 * MiB);
    const segment = new Uint8Array(6 * MiB);
    lru.set('a', segment.subarray(0, 4 * MiB)); // charged 6 MiB
    lru.set('a', bytes(100));
    expect(lru.size).toBe(100);
  });
});
