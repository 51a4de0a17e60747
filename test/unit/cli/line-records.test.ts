import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../../../lib/client/errors.ts';
import { lineOptions } from '../../../lib/cli/commands/produce.ts';
import { lineRecord, splitKey } from '../../../lib/cli/line-records.ts';
import { UsageError } from '../../../lib/cli/parse.ts';

describe('-K splitting (kcat -K)', () => {
  it('splits at the first delimiter; the value keeps later ones', () => {
    expect(splitKey('alice:{"a":1}:x', ':')).toEqual({ key: 'alice', value: '{"a":1}:x' });
    expect(splitKey('k::v', '::')).toEqual({ key: 'k', value: 'v' });
  });

  it('no delimiter: null key, all value; a leading delimiter: the empty key', () => {
    expect(splitKey('no key here', ':')).toEqual({ key: null, value: 'no key here' });
    expect(splitKey(':v', ':')).toEqual({ key: '', value: 'v' });
    expect(splitKey('k:', ':')).toEqual({ key: 'k', value: '' });
  });
});

describe('lineRecord', () => {
  const string = { encoding: 'string' } as const;

  it('skips empty lines only', () => {
    expect(lineRecord('', 1, string)).toBeUndefined();
    expect(lineRecord(' ', 1, string)).toEqual({ record: { value: ' ' }, bytes: 1 });
  });

  it('carries key, partition and headers; counts key and value bytes', () => {
    const headers = [{ key: 'h', value: 'v' }];
    expect(lineRecord('kö:välue', 1, { encoding: 'string', keyDelimiter: ':', partition: 2, headers })).toEqual({
      record: { key: 'kö', value: 'välue', partition: 2, headers },
      bytes: 3 + 6,
    });
  });

  it('json: the value is parsed, the key stays text; a bad line names its number', () => {
    expect(lineRecord('7:{"n":[1,2]}', 1, { encoding: 'json', keyDelimiter: ':' })?.record).toEqual({ key: '7', value: { n: [1, 2] } });
    expect(lineRecord('null', 1, { encoding: 'json' })?.record).toEqual({ value: null });
    expect(() => lineRecord('{oops', 12, { encoding: 'json' })).toThrow(InvalidRecordError);
    expect(() => lineRecord('{oops', 12, { encoding: 'json' })).toThrow(/^line 12: the value is not JSON/);
  });

  it('base64: key and value must be base64', () => {
    expect(lineRecord('AAE=:AAEC', 1, { encoding: 'base64', keyDelimiter: ':' })?.record).toEqual({ key: 'AAE=', value: 'AAEC' });
    expect(() => lineRecord('not base64!', 3, { encoding: 'base64' })).toThrow('line 3: the value is not base64');
    expect(() => lineRecord('k:AAEC', 4, { encoding: 'base64', keyDelimiter: ':' })).toThrow('line 4: the key is not base64');
  });
});

describe('produce flags', () => {
  it('string encoding by default; headers parsed; an empty -K refused', () => {
    expect(lineOptions({ header: ['a=1'] })).toEqual({ encoding: 'string', headers: [{ key: 'a', value: '1' }] });
    expect(() => lineOptions({ keyDelimiter: '' })).toThrow(UsageError);
    expect(() => lineOptions({ header: ['novalue'] })).toThrow(UsageError);
  });

  it('base64 header values must be base64', () => {
    expect(() => lineOptions({ encoding: 'base64', header: ['a=xyz'] })).toThrow(/must be base64/);
    expect(lineOptions({ encoding: 'base64', header: ['a=AAE='] }).headers).toEqual([{ key: 'a', value: 'AAE=' }]);
  });
});
