/** The client's record helpers (lib/client/records.ts) and retry delays (backoff.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../lib/client/backoff.ts';
import { InvalidRecordError } from '../../../lib/client/errors.ts';
import { keyBytes, partitionOf, toWire, wireBytes } from '../../../lib/client/records.ts';
import { encodeText } from '../../../lib/wire/record-encoding.ts';
import { choosePartition } from '../../../lib/partition/partitioner.ts';

describe('partitionOf', () => {
  it("chooses the partition the server's partitioner chooses for the same key bytes", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 500 }), fc.constantFrom('json', 'string') , (key, n, encoding) => {
        const server = choosePartition({ key: encodeText(key, encoding, 'key') }, n, 0);
        expect(partitionOf({ key }, encoding, n)).toBe(server);
      }),
    );
  });

  it('hashes the decoded bytes of a base64 key, as the server stores them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 64 }), (bytes, n) => {
        const key = Buffer.from(bytes).toString('base64');
        expect(keyBytes(key, 'base64')).toEqual(new Uint8Array(bytes));
        expect(partitionOf({ key }, 'base64', n)).toBe(choosePartition({ key: Buffer.from(bytes) }, n, 0));
      }),
    );
    expect(() => keyBytes('not base64', 'base64')).toThrow(InvalidRecordError);
  });

  it('an explicit partition wins; a null key is left to the sticky partition', () => {
    expect(partitionOf({ key: 'k', partition: 3 }, 'json', 4)).toBe(3);
    expect(partitionOf({ key: null }, 'json', 4)).toBeUndefined();
    expect(partitionOf({ value: 1 }, 'json', 4)).toBeUndefined();
  });
});

describe('toWire / wireBytes', () => {
  it('keeps null keys and values as real nulls, turns header objects into lists, and counts the JSON bytes', () => {
    const wire = toWire({ key: null, value: null, headers: { a: '1', b: null } }, 2);
    expect(wire).toEqual({ key: null, value: null, headers: [{ key: 'a', value: '1' }, { key: 'b', value: null }], partition: 2 });
    expect(wireBytes(toWire({ value: 'é' }, 0))).toBe(new TextEncoder().encode(JSON.stringify({ partition: 0, value: 'é' })).length + 1);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially to the cap, within ±20% jitter', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 9].map((a) => backoffDelay(a, policy, () => 0.5))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(1, policy, () => 0)).toBe(80);
    expect(backoffDelay(1, policy, () => 0.999999)).toBe(120);
  });
});

describe('Encoding', () => {
  it("is the server's list of encodings", async () => {
    const { ENCODINGS } = await import('../../../lib/wire/record-encoding.ts');
    const all: readonly import('../../../lib/client/types.ts').Encoding[] = ENCODINGS; // compile-time: every server encoding is a client one
    const back: readonly (typeof ENCODINGS)[number][] = ['json', 'string', 'base64'] satisfies import('../../../lib/client/types.ts').Encoding[];
    expect([...all].sort()).toEqual([...back].sort());
  });
});
