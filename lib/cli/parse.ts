/**
 * Pure parsing of the client commands' flag values: integers, `k=v` pairs (--config,
 * --header), timestamps, and the rules between flags (exactly one --to-*, at most one start
 * position). A bad value throws UsageError, which the CLI reports in one line with exit code 2.
 * commander calls the `*Arg` parsers (argParser); their InvalidArgumentError reads the same way.
 */
import { InvalidArgumentError } from 'commander';
import type { Encoding } from '../client/types.ts';

/** The record encodings of the REST API (docs/API.md), for --encoding. */
export const ENCODINGS: readonly Encoding[] = ['string', 'json', 'base64'];

/** A command asked for something it cannot mean (exit code 2, like commander's own errors). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const DIGITS = /^(0|[1-9][0-9]*)$/;

/** A plain decimal integer ≥ `min` (no signs beyond a leading '-', no exponents, no fractions). */
export function parseInteger(text: string, min: number, what: string): number {
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  const n = DIGITS.test(digits) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${what} must be an integer${Number.isFinite(min) ? ` ≥ ${min}` : ''}, got '${text}'`);
  }
  return n;
}

/** commander argParser: an integer ≥ min (a bad value is commander's one-line usage error). */
export function integerArg(min: number): (text: string) => number {
  return (text) => {
    try {
      return parseInteger(text, min, 'the value');
    } catch {
      throw new InvalidArgumentError(`expected an integer${Number.isFinite(min) ? ` ≥ ${min}` : ''}`);
    }
  };
}

/** commander argParser for repeatable options: collects every occurrence in order. */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** `k=v`, split at the first '=' (values may contain '='). `k=` is an empty value; `k` alone is refused. */
export function parseKeyValue(text: string, flag: string): KeyValue {
  const at = text.indexOf('=');
  if (at < 0) throw new UsageError(`${flag} expects key=value, got '${text}'`);
  const key = text.slice(0, at);
  if (key.length === 0) throw new UsageError(`${flag} expects key=value with a non-empty key, got '${text}'`);
  return { key, value: text.slice(at + 1) };
}

/** --config k=v ... for `topics create`: every value must be non-empty (there is no default to reset to). */
export function parseCreateConfig(pairs: readonly string[] = []): Record<string, string> {
  const config: Record<string, string> = {};
  for (const pair of pairs) {
    const { key, value } = parseKeyValue(pair, '--config');
    if (value === '') throw new UsageError(`--config ${key}= has no value (an empty value resets a key, which only 'topics alter' does)`);
    config[key] = value;
  }
  return config;
}

/**
 * --config k=v and --delete-config k for `topics alter`: `k=` (empty) and --delete-config
 * both reset the key to its default (null in the PATCH, Kafka's incrementalAlterConfigs DELETE).
 * A key both set and deleted is refused rather than silently picking one.
 */
export function parseAlterConfig(pairs: readonly string[] = [], deletes: readonly string[] = []): Record<string, string | null> {
  const config: Record<string, string | null> = {};
  for (const pair of pairs) {
    const { key, value } = parseKeyValue(pair, '--config');
    config[key] = value === '' ? null : value;
  }
  for (const key of deletes) {
    if (key.length === 0 || key.includes('=')) throw new UsageError(`--delete-config expects a config key, got '${key}'`);
    if (config[key] !== undefined && config[key] !== null) throw new UsageError(`--config ${key}=${config[key]} and --delete-config ${key} contradict each other`);
    config[key] = null;
  }
  return config;
}

/** --header k=v ..., in order (Kafka headers may repeat a key). */
export function parseHeaders(pairs: readonly string[] = []): { key: string; value: string }[] {
  return pairs.map((pair) => parseKeyValue(pair, '--header'));
}

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A timestamp in ms since the epoch (digits), or an ISO 8601 date or date-time:
 * `2024-05-01T12:00:00Z` and `2024-05-01T14:00:00+02:00` are that instant; without `Z` or an
 * offset it is LOCAL time, a date alone included (`2024-05-01` is local midnight, as ISO 8601
 * says, not UTC midnight as Date.parse takes a bare date). A date that does not exist
 * (`2024-02-30`) is refused rather than rolled over.
 */
export function parseTimestamp(text: string, flag: string): number {
  if (DIGITS.test(text)) {
    const ms = Number(text);
    if (Number.isSafeInteger(ms)) return ms;
  } else {
    const m = ISO_DATE_TIME.exec(text);
    if (m !== null) {
      const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
      // A bare date gets a time, which makes Date.parse read it as local time.
      const ms = Date.parse(m[4] === undefined ? `${text}T00:00:00` : text);
      if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && Number.isFinite(ms) && ms >= 0) return ms;
    }
  }
  throw new UsageError(`${flag} expects milliseconds since the epoch or an ISO date (e.g. 2024-05-01T12:00:00Z), got '${text}'`);
}

/** The names of the flags that were given, among `flags` (each `[name, given]`). */
function given(flags: readonly (readonly [string, unknown])[]): string[] {
  return flags.filter(([, v]) => v !== undefined && v !== false).map(([name]) => name);
}

/** At most one of these flags may be given. */
export function atMostOne(flags: readonly (readonly [string, unknown])[]): void {
  const names = given(flags);
  if (names.length > 1) throw new UsageError(`${names.join(' and ')} cannot be used together`);
}

/** Exactly one of these flags must be given. */
export function exactlyOne(flags: readonly (readonly [string, unknown])[]): void {
  const names = given(flags);
  if (names.length === 0) throw new UsageError(`one of ${flags.map(([n]) => n).join(', ')} is required`);
  if (names.length > 1) throw new UsageError(`only one of ${flags.map(([n]) => n).join(', ')} may be given (got ${names.join(' and ')})`);
}
