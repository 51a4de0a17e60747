import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  atMostOne, exactlyOne, integerArg, parseAlterConfig, parseCreateConfig, parseHeaders, parseInteger, parseKeyValue, parseTimestamp, UsageError,
} from '../../../lib/cli/parse.ts';

describe('k=v parsing', () => {
  it('splits at the first =, so values may contain =', () => {
    expect(parseKeyValue('a=b=c', '--config')).toEqual({ key: 'a', value: 'b=c' });
    expect(parseKeyValue('a=', '--config')).toEqual({ key: 'a', value: '' });
  });

  it('refuses a missing = or an empty key, naming the flag', () => {
    expect(() => parseKeyValue('retention.ms', '--config')).toThrow("--config expects key=value, got 'retention.ms'");
    expect(() => parseKeyValue('=1', '--header')).toThrow(UsageError);
  });

  it('create config: every value given, later keys win', () => {
    expect(parseCreateConfig(['retention.ms=1000', 'cleanup.policy=compact,delete', 'retention.ms=2000'])).toEqual({
      'retention.ms': '2000',
      'cleanup.policy': 'compact,delete',
    });
    expect(parseCreateConfig()).toEqual({});
    expect(() => parseCreateConfig(['retention.ms='])).toThrow(/has no value/);
  });

  it('alter config: k= and --delete-config reset to the default (null)', () => {
    expect(parseAlterConfig(['retention.ms=1000', 'retention.bytes='], ['cleanup.policy'])).toEqual({
      'retention.ms': '1000',
      'retention.bytes': null,
      'cleanup.policy': null,
    });
    expect(() => parseAlterConfig(['retention.ms=1'], ['retention.ms'])).toThrow(/contradict/);
    expect(() => parseAlterConfig([], ['a=b'])).toThrow(UsageError);
  });

  it('headers keep order and repeats', () => {
    expect(parseHeaders(['a=1', 'a=2', 'b='])).toEqual([
      { key: 'a', value: '1' },
      { key: 'a', value: '2' },
      { key: 'b', value: '' },
    ]);
  });
});

describe('integers', () => {
  it('accepts plain decimal integers at or above the minimum', () => {
    expect(parseInteger('0', 0, '--offset')).toBe(0);
    expect(parseInteger('42', 1, '--count')).toBe(42);
    expect(parseInteger('-5', -Infinity, '--offset')).toBe(-5);
  });

  it('refuses fractions, exponents, signs, words and values below the minimum', () => {
    for (const bad of ['1.5', '1e3', '+1', '', 'abc', '0x10', '007', '99999999999999999999']) {
      expect(() => parseInteger(bad, 0, '--partition'), bad).toThrow(UsageError);
    }
    expect(() => parseInteger('0', 1, '--partitions')).toThrow("--partitions must be an integer ≥ 1, got '0'");
  });

  it('integerArg throws commander InvalidArgumentError (its one-line usage error)', () => {
    expect(integerArg(1)('3')).toBe(3);
    expect(() => integerArg(1)('zero')).toThrow(expect.objectContaining({ code: 'commander.invalidArgument' }));
  });
});

describe('timestamps', () => {
  // Local time must differ from UTC for the local-time cases to mean anything: a fixed zone
  // without DST (UTC+05:30), whatever the machine's.
  const savedTz = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = 'Asia/Kolkata';
  });
  afterAll(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('takes ms since the epoch, or an ISO date-time with Z or an offset as that instant', () => {
    expect(new Date(2024, 4, 1).getTime()).toBe(Date.UTC(2024, 3, 30, 18, 30)); // the zone is in force
    expect(parseTimestamp('1700000000000', '--timestamp')).toBe(1_700_000_000_000);
    expect(parseTimestamp('2024-05-01T12:00:00Z', '--timestamp')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parseTimestamp('2024-05-01T12:00:00.250+02:00', '--timestamp')).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 250));
    expect(parseTimestamp('2024-05-01T12:00:00-0700', '--timestamp')).toBe(Date.UTC(2024, 4, 1, 19));
  });

  it('without Z or an offset: local time, a date alone being local midnight (not UTC midnight, as Date.parse has it)', () => {
    expect(parseTimestamp('2024-05-01', '--timestamp')).toBe(new Date(2024, 4, 1).getTime());
    expect(parseTimestamp('2024-05-01', '--to-datetime')).not.toBe(Date.parse('2024-05-01'));
    expect(parseTimestamp('2024-05-01T12:00', '--timestamp')).toBe(new Date(2024, 4, 1, 12).getTime());
    expect(parseTimestamp('2024-05-01 12:00:30.5', '--timestamp')).toBe(new Date(2024, 4, 1, 12, 0, 30, 500).getTime());
  });

  it('refuses anything else, and dates that do not exist', () => {
    for (const bad of ['yesterday', '-1', '1.5', '2024-13-45T99:00:00Z', '2024/05/01', '2024-02-30', '2023-02-29T00:00:00Z', '2024-00-10', '2024-05-00']) {
      expect(() => parseTimestamp(bad, '--to-datetime'), bad).toThrow(UsageError);
    }
    expect(parseTimestamp('2024-02-29', '--timestamp')).toBe(new Date(2024, 1, 29).getTime());
  });
});

describe('flag rules', () => {
  it('atMostOne names the flags given together', () => {
    expect(() => atMostOne([['--from-beginning', true], ['--offset', undefined], ['--timestamp', undefined]])).not.toThrow();
    expect(() => atMostOne([['--from-beginning', true], ['--offset', 3], ['--timestamp', undefined]])).toThrow('--from-beginning and --offset cannot be used together');
    expect(() => atMostOne([['--a', false], ['--b', 0]])).not.toThrow(); // 0 is a value given
  });

  it('exactlyOne wants one', () => {
    const flags = (e?: boolean, o?: number): [string, unknown][] => [['--to-earliest', e], ['--to-offset', o]];
    expect(() => exactlyOne(flags(true))).not.toThrow();
    expect(() => exactlyOne(flags(undefined, 0))).not.toThrow();
    expect(() => exactlyOne(flags())).toThrow('one of --to-earliest, --to-offset is required');
    expect(() => exactlyOne(flags(true, 1))).toThrow(/only one of/);
  });
});
