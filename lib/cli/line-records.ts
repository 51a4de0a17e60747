/**
 * `sluice produce`: one input line → one record. Pure.
 *
 *  - An empty line is skipped (no record), so a trailing newline or a blank line never makes
 *    an empty record. A line of spaces is not empty.
 *  - `-K DELIM` (kcat's -K): the key is the text before the FIRST DELIM, the value the rest
 *    (which may contain DELIM again). A line without DELIM has a null key and is all value,
 *    as in kcat; `DELIM` at the start gives the empty key (which Kafka hashes too).
 *  - encoding `json`: the value must parse as JSON (the key stays a string); `base64`: key and
 *    value must be base64; `string`: taken as is. A line that does not fit is refused with its
 *    line number (InvalidRecordError, exit 1).
 */
import { InvalidRecordError } from '../client/errors.ts';
import type { ProducerRecord } from '../client/records.ts';
import type { Encoding } from '../client/types.ts';

export interface LineRecordOptions {
  readonly encoding: Encoding;
  readonly keyDelimiter?: string;
  readonly partition?: number;
  readonly headers?: readonly { key: string; value: string }[];
}

export interface LineRecord {
  readonly record: ProducerRecord;
  /** UTF-8 bytes of the key and value text as read (what the summary counts). */
  readonly bytes: number;
}

/** kcat -K: split at the first `delimiter`; no delimiter → null key, all value. */
export function splitKey(line: string, delimiter: string): { key: string | null; value: string } {
  if (delimiter.length === 0) throw new RangeError('the key delimiter must not be empty');
  const at = line.indexOf(delimiter);
  if (at < 0) return { key: null, value: line };
  return { key: line.slice(0, at), value: line.slice(at + delimiter.length) };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64.test(text);
}

/** The record of line number `lineNo` (1-based, for messages), or undefined for an empty line. */
export function lineRecord(line: string, lineNo: number, opts: LineRecordOptions): LineRecord | undefined {
  if (line.length === 0) return undefined;
  const { key, value } = opts.keyDelimiter === undefined ? { key: null, value: line } : splitKey(line, opts.keyDelimiter);
  let parsed: unknown = value;
  if (opts.encoding === 'json') {
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      throw new InvalidRecordError(`line ${lineNo}: the value is not JSON (${(err as Error).message})`, { details: { line: lineNo } });
    }
  } else if (opts.encoding === 'base64') {
    if (!isBase64(value)) throw new InvalidRecordError(`line ${lineNo}: the value is not base64`, { details: { line: lineNo } });
    if (key !== null && !isBase64(key)) throw new InvalidRecordError(`line ${lineNo}: the key is not base64`, { details: { line: lineNo } });
  }
  const record: ProducerRecord = {
    ...(key !== null ? { key } : {}),
    value: parsed,
    ...(opts.partition !== undefined ? { partition: opts.partition } : {}),
    ...(opts.headers !== undefined && opts.headers.length > 0 ? { headers: opts.headers } : {}),
  };
  return { record, bytes: Buffer.byteLength(value) + (key === null ? 0 : Buffer.byteLength(key)) };
}
