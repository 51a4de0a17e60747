import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../../lib/client/types.ts';
import { compileFormat, DEFAULT_FORMAT, recordJson } from '../../../lib/cli/format.ts';
import { UsageError } from '../../../lib/cli/parse.ts';

const record: ConsumedRecord = {
  topic: 'orders',
  partition: 2,
  offset: 41,
  timestamp: 1_700_000_000_123,
  key: 'alice',
  value: 'héllo',
  headers: [
    { key: 'source', value: 'web' },
    { key: 'trace', value: null },
  ],
};

describe('compileFormat', () => {
  it('expands every token', () => {
    const f = compileFormat('%t|%p|%o|%T|%k|%K|%s|%S|%h|%%');
    expect(f(record)).toBe('orders|2|41|1700000000123|alice|5|héllo|6|source=web,trace|%');
  });

  it('expands the escapes, and the default is the value and a newline', () => {
    expect(compileFormat('a\\tb\\rc\\nd\\\\e')(record)).toBe('a\tb\rc\nd\\e');
    expect(compileFormat(DEFAULT_FORMAT)(record)).toBe('héllo\n');
  });

  it('keeps literal text around tokens, including a token at either end', () => {
    expect(compileFormat('key=%k value=%s')(record)).toBe('key=alice value=héllo');
    expect(compileFormat('%o')(record)).toBe('41');
    expect(compileFormat('')(record)).toBe('');
  });

  it('prints null keys and values as nothing, with size 0', () => {
    const f = compileFormat('[%k][%K][%s][%S][%h]');
    expect(f({ ...record, key: null, value: null, headers: [] })).toBe('[][0][][0][]');
  });

  it('prints json values as their JSON text (a JSON string keeps its quotes)', () => {
    const f = compileFormat('%s %S', 'json');
    expect(f({ ...record, value: { a: [1, 'é'] } })).toBe('{"a":[1,"é"]} 14');
    expect(f({ ...record, value: 'x' })).toBe('"x" 3');
    // A value the server had to send as base64 prints as that base64, its size decoded.
    expect(f({ ...record, value: '/w==', valueEncoding: 'base64' })).toBe('/w== 1');
  });

  it('counts base64 sizes as the decoded bytes', () => {
    const f = compileFormat('%K %S', 'base64');
    expect(f({ ...record, key: 'AAEC', value: 'AAECAw==' })).toBe('3 4');
  });

  it('refuses unknown tokens and escapes, and a dangling % or \\', () => {
    for (const bad of ['%x', '%s\\q', 'abc%', 'abc\\']) {
      expect(() => compileFormat(bad)).toThrow(UsageError);
    }
    expect(() => compileFormat('%z')).toThrow(/unknown token '%z'/);
  });
});

describe('recordJson', () => {
  it("has the REST API's fields, and the fallback encodings only where present", () => {
    expect(recordJson(record)).toEqual({
      topic: 'orders', partition: 2, offset: 41, timestamp: 1_700_000_000_123, key: 'alice', value: 'héllo',
      headers: [{ key: 'source', value: 'web' }, { key: 'trace', value: null }],
    });
    expect(recordJson({ ...record, value: 'AA==', valueEncoding: 'base64' })).toMatchObject({ valueEncoding: 'base64' });
  });
});
