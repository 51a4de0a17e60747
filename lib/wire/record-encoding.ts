/**
 * API record encodings (docs/API.md "Conventions"), pure and shared by the server and clients:
 *   json   (default) value: any JSON value, stored as its UTF-8 JSON text, read back parsed;
 *          keys and header values: strings (UTF-8)
 *   string value, keys, header values: UTF-8 text
 *   base64 value, keys, header values: arbitrary bytes, base64 on the wire
 * `null` is a real null (distinct from empty), in every encoding. A json value may nest at most
 * MAX_JSON_DEPTH (1000) levels of arrays and objects (json-value.ts).
 * Reading with `json`, bytes that are not valid UTF-8 JSON (value) or not valid UTF-8 (key,
 * header) come back as base64 with `valueEncoding` / `keyEncoding` on that record.
 */
import { MAX_JSON_DEPTH, jsonByteLength, jsonDepth } from './json-value.ts';

/**
 * A record field that cannot be encoded: `invalid` (wrong type, bad base64) or `too-deep`
 * (a json value nested past MAX_JSON_DEPTH; `byteLength` is the size of its JSON text, so the
 * checks that outrank this refusal can still run). The server maps it to INVALID_RECORD.
 */
export class RecordEncodingError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'too-deep',
    readonly byteLength = 0,
  ) {
    super(message);
    this.name = 'RecordEncodingError';
  }
}

export const ENCODINGS = ['json', 'string', 'base64'] as const;
export type Encoding = (typeof ENCODINGS)[number];

// ignoreBOM: a value that starts with U+FEFF must come back with it (the default strips it).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: string, what: string): Buffer {
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new RecordEncodingError(`${what} is not valid base64`, 'invalid');
  }
  return Buffer.from(text, 'base64');
}

/** Key or header value from the wire to bytes. */
export function encodeText(value: unknown, encoding: Encoding, what: string): Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') {
    throw new RecordEncodingError(`${what} must be a string or null with encoding ${encoding}`, 'invalid');
  }
  return encoding === 'base64' ? decodeBase64(value, what) : Buffer.from(value, 'utf8');
}

/**
 * Record value from the wire to bytes. A json value nested deeper than MAX_JSON_DEPTH is
 * refused (RecordEncodingError 'too-deep') rather than re-serialised, which could overflow the stack.
 */
export function encodeValue(value: unknown, encoding: Encoding, what: string): Buffer | null {
  if (value === null || value === undefined) return null;
  if (encoding === 'json') {
    if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      throw new RecordEncodingError(`${what} nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`, 'too-deep', jsonByteLength(value));
    }
    return Buffer.from(JSON.stringify(value), 'utf8');
  }
  return encodeText(value, encoding, what);
}

export interface DecodedText {
  readonly value: string | null;
  readonly fellBackToBase64: boolean;
}

export function decodeText(bytes: Uint8Array | null, encoding: Encoding): DecodedText {
  if (bytes === null) return { value: null, fellBackToBase64: false };
  if (encoding === 'base64') return { value: Buffer.from(bytes).toString('base64'), fellBackToBase64: false };
  try {
    return { value: utf8.decode(bytes), fellBackToBase64: false };
  } catch {
    // Lossy replacement characters would silently corrupt the bytes: fall back to base64.
    return { value: Buffer.from(bytes).toString('base64'), fellBackToBase64: true };
  }
}

export interface DecodedValue {
  readonly value: unknown;
  readonly fellBackToBase64: boolean;
}

export function decodeValue(bytes: Uint8Array | null, encoding: Encoding): DecodedValue {
  if (bytes === null) return { value: null, fellBackToBase64: false };
  if (encoding !== 'json') return decodeText(bytes, encoding);
  try {
    return { value: JSON.parse(utf8.decode(bytes)) as unknown, fellBackToBase64: false };
  } catch {
    return { value: Buffer.from(bytes).toString('base64'), fellBackToBase64: true };
  }
}
