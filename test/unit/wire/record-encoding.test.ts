import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../../lib/wire/json-value.ts';
import { RecordEncodingError, decodeValue, encodeText, encodeValue } from '../../../lib/wire/record-encoding.ts';

const nested = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('wire record encodings (shared with clients)', () => {
  it('refuses a field it cannot encode with its own error kind, no server error types', () => {
    expect(() => encodeText('not base64!', 'base64', 'key')).toThrow(expect.objectContaining({ name: 'RecordEncodingError', kind: 'invalid' }));
    expect(() => encodeText(7, 'string', 'key')).toThrow(RecordEncodingError);
    const deep = nested(MAX_JSON_DEPTH + 1);
    try {
      encodeValue(deep, 'json', 'value');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ kind: 'too-deep', byteLength: JSON.stringify(deep).length });
    }
  });

  it('round-trips a json value through bytes', () => {
    const value = { a: [1, 'x', null], b: { c: true } };
    expect(decodeValue(encodeValue(value, 'json', 'value'), 'json')).toEqual({ value, fellBackToBase64: false });
  });
});
