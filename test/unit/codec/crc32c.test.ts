import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cJs, crc32cNative, crc32cNativeAvailable } from '../../../lib/codec/crc32c.ts';
import { loadVectors } from './vectors.ts';

interface CrcVector {
  input_utf8?: string;
  input_hex?: string;
  crc32c: number;
}
const { vectors } = loadVectors<{ vectors: CrcVector[]; }>('crc32c.json');
const input = (v: CrcVector): Buffer => (v.input_hex !== undefined ? Buffer.from(v.input_hex, 'hex') : Buffer.from(v.input_utf8!, 'utf8'));

const impls = [
  ['js fallback', crc32cJs],
  ['native (@node-rs/crc32)', crc32cNative],
  ['crc32c (selected)', crc32c],
] as const;

describe('CRC-32C', () => {
  it('loads the native implementation on this platform', () => {
    expect(crc32cNativeAvailable).toBe(true);
  });

  describe.each(impls)('%s', (_name, fn) => {
    it.skipIf(fn === undefined).each(vectors.map((v, i) => ({ i, v })))('matches vector #$i', ({ v }) => {
      expect(fn!(input(v))).toBe(v.crc32c);
    });

    it.skipIf(fn === undefined)('continues a running CRC from `initial`', () => {
      const whole = Buffer.from('123456789');
      expect(fn!(whole.subarray(4), fn!(whole.subarray(0, 4)))).toBe(0xe3069283);
    });

    it.skipIf(fn === undefined)('honours subarray views (byteOffset)', () => {
      const big = Buffer.from('xx123456789yy');
      expect(fn!(big.subarray(2, 11))).toBe(0xe3069283);
    });
  });

  it('native and JS agree on random input of any length and split point', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
        const expected = crc32cJs(bytes);
        if (crc32cNative) expect(crc32cNative(bytes)).toBe(expected);
        const k = bytes.length === 0 ? 0 : cut % bytes.length;
        expect(crc32cJs(bytes.subarray(k), crc32cJs(bytes.subarray(0, k)))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
