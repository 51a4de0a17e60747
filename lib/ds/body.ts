/**
 * Durable Streams bodies ↔ Sluice records (pure): what an append stores and what a read
 * answers.
 *
 *  - JSON streams keep message boundaries: each message is one record holding the message's
 *    own JSON text, byte for byte as sent (a top-level array is flattened one level; `[]`
 *    appends nothing, which a POST may not do). A read answers `[m1,m2,…]`.
 *  - Every other stream is bytes: a body is one record, or several of at most CHUNK_BYTES
 *    (a record's size limit), written in one request. A read answers the bytes concatenated.
 */
import { DsRequestError } from './protocol.ts';

/** Under Sluice's 1 MiB max.message.bytes, with room for the record's framing. */
export const CHUNK_BYTES = 512 * 1024;

/** The values one append stores, in order. */
export function recordsOfBody(body: Uint8Array, json: boolean, allowEmptyArray: boolean): Uint8Array[] {
  if (!json) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < body.byteLength; at += CHUNK_BYTES) chunks.push(body.subarray(at, Math.min(at + CHUNK_BYTES, body.byteLength)));
    return chunks;
  }
  let text: string;
  let value: unknown;
  try {
    // JSON is UTF-8 (RFC 8259): bytes that are not are refused, not replaced.
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    value = JSON.parse(text);
  } catch {
    throw new DsRequestError(400, 'invalid JSON');
  }
  if (!Array.isArray(value)) return sized([Buffer.from(text.trim(), 'utf8')]);
  if (value.length === 0 && !allowEmptyArray) throw new DsRequestError(400, 'empty JSON arrays cannot be appended');
  return sized(topLevelElements(text).map((element) => Buffer.from(element, 'utf8')));
}

/** A JSON message is one record: one over a record's limit is refused before anything is written. */
export const MAX_JSON_MESSAGE_BYTES = 1024 * 1024 - 1024;

function sized(messages: Uint8Array[]): Uint8Array[] {
  const big = messages.findIndex((m) => m.byteLength > MAX_JSON_MESSAGE_BYTES);
  if (big >= 0) throw new DsRequestError(413, `JSON message ${big} is ${messages[big]!.byteLength} bytes, more than ${MAX_JSON_MESSAGE_BYTES}`);
  return messages;
}

/**
 * The source text of each element of a JSON array (the text is already known to parse), so
 * a message is stored as sent: no number loses digits to a re-serialisation.
 */
export function topLevelElements(text: string): string[] {
  const elements: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      if (depth === 1 && start < 0) start = i;
    } else if (ch === '[' || ch === '{') {
      if (depth === 1 && start < 0) start = i;
      depth++;
    } else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        if (start >= 0) elements.push(text.slice(start, i).trim());
        break;
      }
    } else if (ch === ',' && depth === 1) {
      elements.push(text.slice(start, i).trim());
      start = -1;
    } else if (depth === 1 && start < 0 && !/\s/.test(ch)) {
      start = i;
    }
  }
  return elements;
}

/** A read's body from the records' values. */
export function responseBody(values: readonly Uint8Array[], json: boolean): Buffer {
  if (!json) return Buffer.concat(values);
  const parts: Uint8Array[] = [Buffer.from('[')];
  values.forEach((v, i) => {
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(v);
  });
  parts.push(Buffer.from(']'));
  return Buffer.concat(parts);
}
