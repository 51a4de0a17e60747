import { toHttpError } from '../../../lib/api/error-mapping.ts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordTooDeepError } from '../../../lib/errors.ts';
import { MAX_JSON_DEPTH, jsonByteLength, jsonDepth } from '../../../lib/wire/json-value.ts';
import { encodeValue } from '../../../lib/api/record-wire.ts';

/** Built in a loop: a literal this deep could not be written, nor parsed by a recursive parser. */
function nested(depth: number, kind: 'array' | 'object' = 'array', leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { k: v, s: 'x' };
  return v;
}

describe('jsonDepth', () => {
  it.each([
    [1, 0],
    ['s', 0],
    [null, 0],
    [[], 1],
    [{}, 1],
    [[[1]], 2],
    [{ a: [1, { b: [] }], c: 2 }, 4],
    [[1, [2, [3]], 4], 3],
  ])('%j is %i deep', (value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it('measures 100,000 levels without recursing', () => {
    expect(jsonDepth(nested(100_000))).toBe(100_000);
    expect(jsonDepth(nested(100_000, 'object'))).toBe(100_000);
  });

  it('stops once past the limit', () => {
    expect(jsonDepth(nested(100_000), 10)).toBe(11);
  });
});

describe('jsonByteLength', () => {
  it('equals the UTF-8 length of JSON.stringify for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(jsonByteLength(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees on what JSON.stringify escapes or drops', () => {
    const values = [
      'a"b\\c\n\u0001',
      '\ud800 lone surrogate',
      'ключ 😀',
      [undefined, () => 1, Symbol('s'), NaN, Infinity, -0],
      { skipped: undefined, fn: () => 1, kept: null, '': 'empty key', 'é"': 1 },
      JSON.parse('{"__proto__": [1, 2]}'),
      1e21,
      -1.5e-7,
    ];
    for (const v of values) expect(jsonByteLength(v)).toBe(Buffer.byteLength(JSON.stringify(v)));
  });

  it('sizes a value far too deep for JSON.stringify', () => {
    expect(jsonByteLength(nested(100_000))).toBe(2 * 100_000 + 1);
    expect(jsonByteLength(nested(100_000, 'object', 'ü'))).toBe(100_000 * '{"k":,"s":"x"}'.length + 4);
  });
});

describe('json record values: at most MAX_JSON_DEPTH levels', () => {
  it('stores a value exactly at the limit', () => {
    const value = nested(MAX_JSON_DEPTH, 'object');
    expect(encodeValue(value, 'json', 'value')!.toString()).toBe(JSON.stringify(value));
  });

  it('refuses one level more with INVALID_RECORD, carrying the size for the checks that outrank it', () => {
    const value = nested(MAX_JSON_DEPTH + 1);
    let caught: unknown;
    try {
      encodeValue(value, 'json', 'records[2].value');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RecordTooDeepError);
    const err = caught as RecordTooDeepError;
    expect(err.code).toBe('INVALID_RECORD');
    expect(toHttpError(err).status).toBe(400);
    expect(err.message).toMatch(/^records\[2\]\.value nests arrays and objects deeper than 1000 levels$/);
    expect(err.details).toEqual({ maxJsonDepth: MAX_JSON_DEPTH });
    expect(err.byteLength).toBe(Buffer.byteLength(JSON.stringify(value)));
  });

  it('leaves the stack room: JSON.stringify copes with twice the limit (fetch re-serialises inside its answer)', () => {
    const value = nested(2 * MAX_JSON_DEPTH, 'object');
    expect(JSON.parse(JSON.stringify({ records: [{ value }] })).records[0].value).toEqual(value);
  });
});
