/**
 * lib/ds/body.ts against the Durable Streams protocol: JSON mode (section 9.1: boundaries,
 * one-level flattening, empty arrays, validation, the read's array) and byte streams (a body
 * is bytes, stored in chunks that a read concatenates back).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, recordsOfBody, responseBody, topLevelElements } from '../../../lib/ds/body.ts';
import { DsRequestError } from '../../../lib/ds/protocol.ts';

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const jsonRecords = (body: string, allowEmptyArray = false) => recordsOfBody(utf8(body), true, allowEmptyArray).map(text);

function expect400(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(DsRequestError);
  expect((thrown as DsRequestError).status).toBe(400);
}

/** Deterministic pseudo-random bytes (xorshift), so large bodies are cheap to generate. */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('byte streams', () => {
  it('keeps record values under the 1 MiB message limit', () => {
    expect(CHUNK_BYTES).toBeGreaterThan(0);
    expect(CHUNK_BYTES).toBeLessThan(1024 * 1024);
  });

  it('stores nothing for an empty body', () => {
    expect(recordsOfBody(new Uint8Array(0), false, false)).toEqual([]);
  });

  it('stores a small body as one record, byte for byte, without parsing it', () => {
    const body = utf8('not json at all, {[');
    const records = recordsOfBody(body, false, false);
    expect(records).toHaveLength(1);
    expect(Buffer.from(records[0]!).equals(Buffer.from(body))).toBe(true);
  });

  it('keeps arbitrary bytes, including ones that are not UTF-8', () => {
    const body = new Uint8Array([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80]);
    expect(Buffer.concat(recordsOfBody(body, false, false)).equals(Buffer.from(body))).toBe(true);
  });

  it.each([
    [CHUNK_BYTES, [CHUNK_BYTES]],
    [CHUNK_BYTES + 1, [CHUNK_BYTES, 1]],
    [2 * CHUNK_BYTES, [CHUNK_BYTES, CHUNK_BYTES]],
    [3 * CHUNK_BYTES - 1, [CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES - 1]],
  ])('chunks a body of %i bytes into records of %j bytes', (length, sizes) => {
    const body = bytes(length, 7);
    const records = recordsOfBody(body, false, false);
    expect(records.map((r) => r.byteLength)).toEqual(sizes);
    expect(Buffer.concat(records).equals(Buffer.from(body))).toBe(true);
  });

  it('chunks any body into full records and a non-empty rest that concatenate back to it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * CHUNK_BYTES + 10 }), fc.integer(), (length, seed) => {
        const body = bytes(length, seed);
        const records = recordsOfBody(body, false, false);
        expect(records).toHaveLength(Math.ceil(length / CHUNK_BYTES));
        records.forEach((r, i) => {
          expect(r.byteLength).toBeGreaterThan(0);
          if (i < records.length - 1) expect(r.byteLength).toBe(CHUNK_BYTES);
          else expect(r.byteLength).toBeLessThanOrEqual(CHUNK_BYTES);
        });
        expect(Buffer.concat(records).equals(Buffer.from(body))).toBe(true);
        expect(responseBody(records, false).equals(Buffer.from(body))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('small random bodies survive a store and read unchanged', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (body) => {
        expect(responseBody(recordsOfBody(body, false, false), false).equals(Buffer.from(body))).toBe(true);
      }),
    );
  });
});

describe('JSON mode: message boundaries and flattening (section 9.1.1-9.1.2)', () => {
  it('stores a non-array body as one message', () => {
    expect(jsonRecords('{"event": "created"}')).toEqual(['{"event": "created"}']);
  });

  it('flattens an array of objects into one message each, keeping their text', () => {
    expect(jsonRecords('[{"event": "a"}, {"event": "b"}]')).toEqual(['{"event": "a"}', '{"event": "b"}']);
  });

  it('flattens exactly one level', () => {
    expect(jsonRecords('[[1,2], [3,4]]')).toEqual(['[1,2]', '[3,4]']);
    expect(jsonRecords('[[[1,2,3]]]')).toEqual(['[[1,2,3]]']);
  });

  it('stores scalars as messages too', () => {
    expect(jsonRecords('null')).toEqual(['null']);
    expect(jsonRecords('"str"')).toEqual(['"str"']);
    expect(jsonRecords('[1, "two", true, null, -3.5e-2]')).toEqual(['1', '"two"', 'true', 'null', '-3.5e-2']);
  });

  it('drops the whitespace around messages but not inside them', () => {
    expect(jsonRecords('\n  {"a" : 1}  \r\n')).toEqual(['{"a" : 1}']);
    expect(jsonRecords('\n[\n  1 ,\t2\r\n ,  { "k" : [ 1 , 2 ] }\n]\n')).toEqual(['1', '2', '{ "k" : [ 1 , 2 ] }']);
  });

  it('is not fooled by commas, brackets, quotes and backslashes inside strings', () => {
    const body = String.raw`["a,b", "c]d", "e\"f,", "g\\", {"h": "[,]}"}, "\\\"", "\u005d"]`;
    expect(jsonRecords(body)).toEqual([
      '"a,b"',
      '"c]d"',
      String.raw`"e\"f,"`,
      String.raw`"g\\"`,
      '{"h": "[,]}"}',
      String.raw`"\\\""`,
      String.raw`"\u005d"`,
    ]);
  });

  it('keeps numbers exactly as sent, beyond what a double holds', () => {
    expect(jsonRecords('[12345678901234567890, 1.0, 1e400, 0.10000000000000000001, -0]')).toEqual([
      '12345678901234567890',
      '1.0',
      '1e400',
      '0.10000000000000000001',
      '-0',
    ]);
    expect(jsonRecords('12345678901234567890')).toEqual(['12345678901234567890']);
    expect(jsonRecords('{"id": 12345678901234567890}')).toEqual(['{"id": 12345678901234567890}']);
  });

  it('keeps non-ASCII text byte for byte', () => {
    const records = recordsOfBody(utf8('["é", "😀", {"ключ": "値"}]'), true, false);
    expect(records.map((r) => Buffer.from(r).toString('hex'))).toEqual(
      ['"é"', '"😀"', '{"ключ": "値"}'].map((s) => Buffer.from(s, 'utf8').toString('hex')),
    );
  });
});

describe('JSON mode: empty arrays and validation (section 9.1.3-9.1.4)', () => {
  it('refuses an empty array on append with 400', () => {
    expect400(() => recordsOfBody(utf8('[]'), true, false));
    expect400(() => recordsOfBody(utf8(' [ \n ] '), true, false));
  });

  it('accepts an empty array where allowed (a PUT), storing nothing', () => {
    expect(recordsOfBody(utf8('[]'), true, true)).toEqual([]);
    expect(recordsOfBody(utf8(' [ \n ] '), true, true)).toEqual([]);
  });

  it('does not treat an array holding an empty array as empty', () => {
    expect(jsonRecords('[[]]')).toEqual(['[]']);
    expect(jsonRecords('[{}, []]')).toEqual(['{}', '[]']);
  });

  it.each(['', '   ', '{', '[1,]', '[1 2]', "{'a': 1}", 'undefined', 'NaN', '[1]]', '{"a":1} {"b":2}', '01', '"unterminated'])(
    'refuses invalid JSON %j with 400',
    (body) => {
      expect400(() => recordsOfBody(utf8(body), true, true));
    },
  );
});

describe('topLevelElements', () => {
  it('splits an empty array into nothing', () => {
    expect(topLevelElements('[]')).toEqual([]);
    expect(topLevelElements('  [  ]  ')).toEqual([]);
  });

  it('re-parses to the array elements and keeps canonical text as it was, for any JSON array', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 12 }), (arr) => {
        const source = JSON.stringify(arr);
        const elements = topLevelElements(source);
        const parsed = JSON.parse(source) as unknown[];
        expect(elements.map((e) => JSON.parse(e) as unknown)).toEqual(parsed);
        expect(elements).toEqual(parsed.map((v) => JSON.stringify(v)));
      }),
    );
  });

  it('re-parses to the elements of pretty-printed arrays too', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), (arr) => {
        const source = JSON.stringify(arr, null, 2);
        const parsed = JSON.parse(source) as unknown[];
        expect(topLevelElements(source).map((e) => JSON.parse(e) as unknown)).toEqual(parsed);
      }),
    );
  });

  it('keeps integer literals of any size byte for byte', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String), { minLength: 1, maxLength: 10 }), (literals) => {
        expect(topLevelElements(`[${literals.join(', ')}]`)).toEqual(literals);
      }),
    );
  });
});

describe('responseBody', () => {
  it('answers an empty JSON range as []', () => {
    expect(responseBody([], true).toString('utf8')).toBe('[]');
  });

  it('wraps JSON messages in one array, as stored', () => {
    const body = responseBody([utf8('{"event":"created"}'), utf8('{"event":"updated"}')], true).toString('utf8');
    expect(body).toBe('[{"event":"created"},{"event":"updated"}]');
  });

  it('answers an empty byte range with no bytes', () => {
    expect(responseBody([], false).byteLength).toBe(0);
  });

  it('concatenates byte records', () => {
    expect(responseBody([utf8('ab'), utf8(''), utf8('c')], false).toString('utf8')).toBe('abc');
  });

  it('reads back what JSON appends stored, across appends, with big numbers intact', () => {
    const stored = [...jsonRecords('[{"n": 12345678901234567890}, 2]'), ...jsonRecords('"three"')].map(utf8);
    expect(responseBody(stored, true).toString('utf8')).toBe('[{"n": 12345678901234567890},2,"three"]');
  });

  it('reads any appended JSON array back as the same array', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 10 }), (arr) => {
        const source = JSON.stringify(arr);
        const read = responseBody(recordsOfBody(utf8(source), true, false), true).toString('utf8');
        expect(JSON.parse(read)).toEqual(JSON.parse(source));
      }),
    );
  });
});

describe('JSON bodies must be UTF-8', () => {
  it('refuses bytes that are not UTF-8 (no replacement characters stored)', () => {
    const body = Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]); // ["\xFF\xFE"]
    expect(() => recordsOfBody(body, true, false)).toThrow(DsRequestError);
  });
});
