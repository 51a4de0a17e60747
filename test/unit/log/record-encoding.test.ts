import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../../../lib/errors.ts';
import { encodeText, encodeValue } from '../../../lib/api/record-wire.ts';
import { decodeText, decodeValue, ENCODINGS } from '../../../lib/wire/record-encoding.ts';

const bytes = (...b: number[]) => Buffer.from(b);

describe('record encodings: null is not empty', () => {
  it.each(ENCODINGS)('%s: null and undefined are a real null, the empty string is empty bytes', (encoding) => {
    expect(encodeText(null, encoding, 'key')).toBeNull();
    expect(encodeText(undefined, encoding, 'key')).toBeNull();
    expect(encodeValue(null, encoding, 'value')).toBeNull();
    expect(encodeValue(undefined, encoding, 'value')).toBeNull();
    expect(encodeText('', encoding, 'key')).toEqual(Buffer.alloc(0));
    expect(decodeText(null, encoding)).toEqual({ value: null, fellBackToBase64: false });
    expect(decodeValue(null, encoding)).toEqual({ value: null, fellBackToBase64: false });
    expect(decodeText(new Uint8Array(0), encoding)).toEqual({ value: '', fellBackToBase64: false });
  });

  it('json: an empty string value is the JSON text "" (two bytes), read back as ""', () => {
    const stored = encodeValue('', 'json', 'value')!;
    expect(stored.toString('utf8')).toBe('""');
    expect(decodeValue(stored, 'json')).toEqual({ value: '', fellBackToBase64: false });
  });

  it('string/base64: an empty value stays empty bytes, and round-trips', () => {
    expect(encodeValue('', 'string', 'value')).toEqual(Buffer.alloc(0));
    expect(encodeValue('', 'base64', 'value')).toEqual(Buffer.alloc(0));
    expect(decodeValue(new Uint8Array(0), 'string')).toEqual({ value: '', fellBackToBase64: false });
    expect(decodeValue(new Uint8Array(0), 'base64')).toEqual({ value: '', fellBackToBase64: false });
  });
});

describe('record encodings: json values', () => {
  it.each([
    ['an object', { amount: 200, nested: [1, null, 'x'] }],
    ['an array', [1, 'two', { three: 3 }]],
    ['a string', 'hello'],
    ['a number', 42.5],
    ['false', false],
    ['unicode', 'ζ€😀'],
  ])('stores %s as its UTF-8 JSON text and reads it back parsed', (_l, value) => {
    const stored = encodeValue(value, 'json', 'value')!;
    expect(stored.toString('utf8')).toBe(JSON.stringify(value));
    expect(decodeValue(stored, 'json')).toEqual({ value, fellBackToBase64: false });
  });

  it('json keys are strings: anything else is INVALID_RECORD naming the field', () => {
    expect(encodeText('k', 'json', 'key')).toEqual(Buffer.from('k'));
    expect(() => encodeText(5, 'json', 'records[3].key')).toThrow(InvalidRecordError);
    expect(() => encodeText({ a: 1 }, 'json', 'records[3].key')).toThrow(/records\[3\]\.key/);
  });

  it('string encoding accepts only strings for values too', () => {
    expect(() => encodeValue(5, 'string', 'records[0].value')).toThrow(InvalidRecordError);
    expect(() => encodeValue({ a: 1 }, 'string', 'records[0].value')).toThrow(/records\[0\]\.value/);
  });
});

describe('record encodings: base64 validation', () => {
  it.each([
    ['AAE=', [0, 1]],
    ['AAEC', [0, 1, 2]],
    ['AA==', [0]],
    ['/+8=', [0xff, 0xef]],
  ])('accepts %s', (text, expected) => {
    expect(encodeText(text, 'base64', 'key')).toEqual(Buffer.from(expected));
    expect(encodeValue(text, 'base64', 'value')).toEqual(Buffer.from(expected));
  });

  it.each([
    ['not base64!'],
    ['AAE'], // length not a multiple of 4
    ['AA=A'], // padding in the middle
    ['A==='], // too much padding
    ['===='],
    ['AA-_'], // URL-safe alphabet
    ['AA E'], // whitespace
    ['AAE=\n'],
  ])('refuses %j with INVALID_RECORD', (text) => {
    expect(() => encodeValue(text, 'base64', 'records[0].value')).toThrow(InvalidRecordError);
    expect(() => encodeText(text, 'base64', 'records[0].key')).toThrow(/records\[0\]\.key is not valid base64/);
  });

  it('base64 read-back is canonical base64 of the stored bytes', () => {
    expect(decodeValue(bytes(0xff, 0, 0xfe, 0x80), 'base64')).toEqual({ value: '/wD+gA==', fellBackToBase64: false });
    expect(decodeText(bytes(0x68, 0x69), 'base64')).toEqual({ value: 'aGk=', fellBackToBase64: false });
  });
});

describe('record encodings: reading bytes that are not what the encoding expects', () => {
  it('json: bytes that are not valid UTF-8 JSON come back as base64, flagged', () => {
    expect(decodeValue(Buffer.from('plain text'), 'json')).toEqual({ value: Buffer.from('plain text').toString('base64'), fellBackToBase64: true });
    expect(decodeValue(bytes(0xff, 0xfe), 'json')).toEqual({ value: '//4=', fellBackToBase64: true });
    // Empty bytes are not a JSON text either.
    expect(decodeValue(new Uint8Array(0), 'json')).toEqual({ value: '', fellBackToBase64: true });
  });

  it('json/string keys: invalid UTF-8 comes back as base64 (never lossy replacement characters)', () => {
    for (const encoding of ['json', 'string'] as const) {
      expect(decodeText(bytes(0xc3, 0x28), encoding)).toEqual({ value: 'wyg=', fellBackToBase64: true });
      expect(decodeText(bytes(0xed, 0xa0, 0x80), encoding)).toEqual({ value: '7aCA', fellBackToBase64: true }); // a lone surrogate
    }
    expect(decodeValue(bytes(0xc3, 0x28), 'string')).toEqual({ value: 'wyg=', fellBackToBase64: true });
  });

  it('valid UTF-8 text is returned as text by string, and by json for keys', () => {
    expect(decodeText(Buffer.from('ζ€😀'), 'string')).toEqual({ value: 'ζ€😀', fellBackToBase64: false });
    expect(decodeText(Buffer.from('not json'), 'json')).toEqual({ value: 'not json', fellBackToBase64: false });
  });

  // Regression: TextDecoder strips a leading byte-order mark unless ignoreBOM is set, which
  // silently shortened such text on read (fixed in 78952d7).
  it('text starting with U+FEFF round-trips unchanged (a leading BOM is data, not framing)', () => {
    const key = encodeText('\uFEFFk', 'string', 'key');
    expect(decodeText(key, 'string')).toEqual({ value: '\uFEFFk', fellBackToBase64: false });
    // Bytes EF BB BF 31 are not the JSON text "1": with json they must not read back as 1.
    expect(decodeValue(bytes(0xef, 0xbb, 0xbf, 0x31), 'json').value).not.toBe(1);
  });
});
