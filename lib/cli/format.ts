/**
 * `sluice consume -f`: kcat's output format, compiled once into a function of a record.
 *
 *   %t topic   %p partition   %o offset   %T timestamp (ms)   %k key   %K key size (bytes)
 *   %s value   %S value size (bytes)      %h headers as k=v,k=v     %% a literal %
 *   escapes: \n \t \r \\
 *
 * A null key or value prints as nothing (its size as 0, as kcat); a header with a null value
 * prints as its key alone. Values print as stored: with the json encoding that is the value's
 * JSON text (a JSON string keeps its quotes), otherwise the text as fetched (base64 text for
 * base64, and for any key or value the server had to send as base64). An unknown token or
 * escape is refused when compiling (a UsageError), so a typo never prints half-formatted lines.
 * Pure.
 */
import type { ConsumedRecord, Encoding } from '../client/types.ts';
import { UsageError } from './parse.ts';

export const DEFAULT_FORMAT = '%s\\n';

export type RecordFormatter = (record: ConsumedRecord) => string;

type Part = string | RecordFormatter;

const utf8 = new TextEncoder();

/** Bytes of base64 text once decoded (padding excluded). */
function base64Bytes(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

/** A record's value as text, as stored (see the module comment). */
export function valueText(record: ConsumedRecord, encoding: Encoding): string {
  const { value } = record;
  if (value === null || value === undefined) return '';
  if (encoding === 'json' && record.valueEncoding !== 'base64') return JSON.stringify(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function valueBytes(record: ConsumedRecord, encoding: Encoding): number {
  if (record.value === null || record.value === undefined) return 0;
  const text = valueText(record, encoding);
  return encoding === 'base64' || record.valueEncoding === 'base64' ? base64Bytes(text) : utf8.encode(text).length;
}

function keyBytes(record: ConsumedRecord, encoding: Encoding): number {
  if (record.key === null) return 0;
  return encoding === 'base64' || record.keyEncoding === 'base64' ? base64Bytes(record.key) : utf8.encode(record.key).length;
}

export function headersText(record: ConsumedRecord): string {
  return record.headers.map((h) => (h.value === null ? h.key : `${h.key}=${h.value}`)).join(',');
}

function tokens(encoding: Encoding): Readonly<Record<string, RecordFormatter>> {
  return {
    t: (r) => r.topic,
    p: (r) => String(r.partition),
    o: (r) => String(r.offset),
    T: (r) => String(r.timestamp),
    k: (r) => r.key ?? '',
    K: (r) => String(keyBytes(r, encoding)),
    s: (r) => valueText(r, encoding),
    S: (r) => String(valueBytes(r, encoding)),
    h: headersText,
  };
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** Compiles `format` (throws UsageError on an unknown token or escape, or a dangling % or \). */
export function compileFormat(format: string, encoding: Encoding = 'string'): RecordFormatter {
  const known = tokens(encoding);
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%' && c !== '\\') {
      literal += c;
      continue;
    }
    const next = format[i + 1];
    if (next === undefined) throw new UsageError(`--format ends with a lone '${c}' (write '${c}${c}' for a literal one)`);
    i++;
    if (c === '\\') {
      const escaped = ESCAPES[next];
      if (escaped === undefined) throw new UsageError(`--format has an unknown escape '\\${next}' (known: \\n \\t \\r \\\\)`);
      literal += escaped;
    } else if (next === '%') {
      literal += '%';
    } else {
      const token = known[next];
      if (token === undefined) throw new UsageError(`--format has an unknown token '%${next}' (known: ${Object.keys(known).map((k) => `%${k}`).join(' ')} %%)`);
      if (literal.length > 0) parts.push(literal);
      literal = '';
      parts.push(token);
    }
  }
  if (literal.length > 0) parts.push(literal);
  return (record) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : part(record);
    return out;
  };
}

/** The record as `--json` prints it: the REST API's fields, the fallback encodings where present. */
export function recordJson(record: ConsumedRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key,
    value: record.value ?? null,
    headers: record.headers,
  };
  if (record.keyEncoding !== undefined) out.keyEncoding = record.keyEncoding;
  if (record.valueEncoding !== undefined) out.valueEncoding = record.valueEncoding;
  return out;
}
