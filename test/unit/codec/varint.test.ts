import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VarintError } from '../../../lib/codec/errors.ts';
import {
  type Cursor,
  encodeUnsignedVarint,
  encodeVarint,
  encodeVarlong,
  readUnsignedVarint,
  readVarint,
  readVarlong,
  readVarlongBig,
  sizeOfVarint,
  sizeOfVarlong,
  sizeOfVarlongBig,
} from '../../../lib/codec/varint.ts';
import { hex, loadVectors } from './vectors.ts';

interface VarintVectors {
  unsigned_varint_int32: { value: number; hex: string; }[];
  varint_zigzag_int32: { value: number; hex: string; }[];
  // values beyond 2^53 lose precision in JSON.parse; read them as strings below
  varlong_zigzag_int64: { value: number; hex: string; }[];
  invalid: { kind: 'varint' | 'varlong'; hex: string; }[];
}

const vectors = loadVectors<VarintVectors>('varint.json');

/** Parse varint.json keeping int64 values exact (JSON numbers above 2^53 are rounded). */
function varlongVectorsExact(): { value: bigint; hex: string; }[] {
  const text = readFileSync(new URL('./vectors/varint.json', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('"varlong_zigzag_int64"'), text.indexOf('"invalid"'));
  const out: { value: bigint; hex: string; }[] = [];
  for (const m of section.matchAll(/"value":\s*(-?\d+),\s*"hex":\s*"([0-9a-f]+)"/g)) {
    out.push({ value: BigInt(m[1]!), hex: m[2]! });
  }
  return out;
}

const read = <T>(fn: (b: Uint8Array, c: Cursor) => T, bytes: Uint8Array): { value: T; pos: number; } => {
  const cur = { pos: 0 };
  const value = fn(bytes, cur);
  return { value, pos: cur.pos };
};

describe('varint (zigzag int32)', () => {
  it.each(vectors.varint_zigzag_int32)('encodes and decodes $value as $hex (Kafka ByteUtilsTest)', ({ value, hex: h }) => {
    expect(encodeVarint(value).toString('hex')).toBe(h);
    expect(sizeOfVarint(value)).toBe(h.length / 2);
    expect(read(readVarint, hex(h))).toEqual({ value, pos: h.length / 2 });
  });

  it('round-trips any int32', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (n) => {
        const b = encodeVarint(n);
        expect(b.length).toBe(sizeOfVarint(n));
        expect(read(readVarint, b)).toEqual({ value: n, pos: b.length });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('unsigned varint', () => {
  it.each(vectors.unsigned_varint_int32)('encodes and decodes $value as $hex', ({ value, hex: h }) => {
    expect(encodeUnsignedVarint(value).toString('hex')).toBe(h);
    expect(read(readUnsignedVarint, hex(h)).value).toBe(value);
  });
});

describe('varlong (zigzag int64)', () => {
  const exact = varlongVectorsExact();

  it('has every vector of the file', () => {
    expect(exact).toHaveLength(vectors.varlong_zigzag_int64.length);
  });

  it.each(exact)('encodes and decodes $value as $hex (bigint API)', ({ value, hex: h }) => {
    expect(encodeVarlong(value).toString('hex')).toBe(h);
    expect(sizeOfVarlongBig(value)).toBe(h.length / 2);
    expect(read(readVarlongBig, hex(h))).toEqual({ value, pos: h.length / 2 });
  });

  it.each(exact.filter((v) => v.value <= BigInt(Number.MAX_SAFE_INTEGER) && v.value >= -BigInt(Number.MAX_SAFE_INTEGER)))(
    'encodes and decodes $value as $hex (number API)',
    ({ value, hex: h }) => {
      const n = Number(value);
      expect(encodeVarlong(n).toString('hex')).toBe(h);
      expect(sizeOfVarlong(n)).toBe(h.length / 2);
      expect(read(readVarlong, hex(h))).toEqual({ value: n, pos: h.length / 2 });
    },
  );

  it('round-trips any safe integer and agrees with the bigint codec', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const b = encodeVarlong(n);
        expect(b).toEqual(encodeVarlong(BigInt(n)));
        expect(read(readVarlong, b)).toEqual({ value: n, pos: b.length });
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses to return an unsafe integer as a number', () => {
    const b = encodeVarlong(2n ** 60n);
    expect(() => read(readVarlong, b)).toThrow(VarintError);
    expect(read(readVarlongBig, b).value).toBe(2n ** 60n);
  });
});

describe('invalid input', () => {
  it.each(vectors.invalid)('rejects overlong $kind $hex (Kafka ByteUtilsTest)', ({ kind, hex: h }) => {
    const fn: (b: Uint8Array, c: Cursor) => unknown = kind === 'varint' ? readVarint : readVarlongBig;
    try {
      read(fn, hex(h));
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(VarintError);
      expect((err as VarintError).reason).toBe('overlong');
    }
    if (kind === 'varlong') expect(() => read(readVarlong, hex(h))).toThrow(VarintError);
  });

  it('rejects input that ends inside a varint', () => {
    for (const h of ['80', 'ffff', 'ffffffff']) {
      expect(() => read(readVarint, hex(h))).toThrow(expect.objectContaining({ reason: 'truncated' }));
      expect(() => read(readVarlong, hex(h))).toThrow(expect.objectContaining({ reason: 'truncated' }));
    }
    expect(() => read(readVarint, new Uint8Array(0))).toThrow(VarintError);
  });

  it('respects the end bound', () => {
    const b = hex('8001');
    expect(() => readVarint(b, { pos: 0 }, 1)).toThrow(VarintError);
  });
});
