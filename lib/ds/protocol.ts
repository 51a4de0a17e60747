/**
 * The Durable Streams protocol's wire rules (pure, no I/O): header names, offset tokens,
 * header validation and cursors. docs/STREAMING.md "Durable Streams" says how a stream maps
 * onto Sluice; this module only speaks the protocol.
 *
 * Offset tokens: `<16 digits>_<16 digits>`, the first part always zero, the second the
 * stream position (a Kafka offset of the stream's topic, shifted by a fork's base). Fixed
 * width makes them sort lexicographically as they sort numerically, and they never equal the
 * sentinels `-1` and `now`.
 */

export const H = {
  nextOffset: 'Stream-Next-Offset',
  upToDate: 'Stream-Up-To-Date',
  closed: 'Stream-Closed',
  cursor: 'Stream-Cursor',
  seq: 'Stream-Seq',
  ttl: 'Stream-TTL',
  expiresAt: 'Stream-Expires-At',
  forkedFrom: 'Stream-Forked-From',
  forkOffset: 'Stream-Fork-Offset',
  forkSubOffset: 'Stream-Fork-Sub-Offset',
  producerId: 'Producer-Id',
  producerEpoch: 'Producer-Epoch',
  producerSeq: 'Producer-Seq',
  expectedSeq: 'Producer-Expected-Seq',
  receivedSeq: 'Producer-Received-Seq',
  sseEncoding: 'Stream-SSE-Data-Encoding',
} as const;

/** A 4xx the protocol defines, with the plain-text reason the answer carries. */
export class DsRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 410 | 413,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'DsRequestError';
  }
}

const bad = (message: string) => new DsRequestError(400, message);

const DIGITS = 16;
const ZERO = '0'.repeat(DIGITS);
const TOKEN = /^(\d{1,16})_(\d{1,16})$/;

/** Positions past any stream's tail (a token whose first part is not zero). */
export const BEYOND = Number.MAX_SAFE_INTEGER;

export function encodeOffset(position: number): string {
  return `${ZERO}_${String(position).padStart(DIGITS, '0')}`;
}

export type OffsetParam = { readonly kind: 'start' } | { readonly kind: 'now' } | { readonly kind: 'at'; readonly position: number };

/** A token as a position; 400 for anything that is not one (the protocol forbids guessing). */
export function decodeOffset(token: string, what = 'offset'): number {
  const m = TOKEN.exec(token);
  if (!m) throw bad(`invalid ${what} '${printable(token)}'`);
  const position = Number(m[2]);
  // A first part other than zero, or a number past 2^53, is past any tail there can be.
  if (Number(m[1]) !== 0 || !Number.isSafeInteger(position)) return BEYOND;
  return position;
}

/** The `offset` query parameter: absent or `-1` is the start, `now` the tail. */
export function parseOffsetParam(values: readonly string[]): OffsetParam {
  if (values.length > 1) throw bad('offset must be given once');
  const raw = values[0];
  if (raw === undefined || raw === '-1') return { kind: 'start' };
  if (raw === '') throw bad('offset must not be empty');
  if (raw === 'now') return { kind: 'now' };
  return { kind: 'at', position: decodeOffset(raw) };
}

/** Stream-Closed is present only when it says `true` (any case); other values are ignored. */
export function closedHeader(value: string | undefined): boolean {
  return value !== undefined && value.toLowerCase() === 'true';
}

const NON_NEGATIVE = /^(0|[1-9]\d*)$/;

/** Stream-TTL: a decimal integer of seconds, no sign, no leading zero, no fraction. */
export function parseTtl(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!NON_NEGATIVE.test(value)) throw bad(`invalid ${H.ttl} '${printable(value)}'`);
  const ttl = Number(value);
  if (!Number.isSafeInteger(ttl)) throw bad(`invalid ${H.ttl} '${printable(value)}'`);
  return ttl;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

/**
 * Stream-Expires-At: an RFC 3339 timestamp; kept as given, compared as epoch ms. Every field
 * is range-checked (Date.parse would roll 2025-02-30 over into March); a leap second (:60)
 * counts as the second before it.
 */
export function parseExpiresAt(value: string | undefined): { readonly raw: string; readonly ms: number } | undefined {
  if (value === undefined) return undefined;
  const m = RFC3339.exec(value);
  const invalid = () => bad(`invalid ${H.expiresAt} '${printable(value)}'`);
  if (!m) throw invalid();
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offsetOk = m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60 || !offsetOk) throw invalid();
  const ms = Date.parse(second === 60 ? value.replace(/:60(?=[.Zz+-])/, ':59') : value);
  if (Number.isNaN(ms)) throw invalid();
  return { raw: value, ms };
}

export interface ProducerHeaders {
  readonly id: string;
  readonly epoch: number;
  readonly seq: number;
}

const STRICT_INT = /^\d+$/;

/**
 * Producer-Id and Stream-Seq are kept in the stream's state, one DynamoDB item of at most
 * 400 KB: each is at most this long (MAX_PRODUCERS ids of it fit with room to spare).
 */
export const MAX_ID_BYTES = 256;

/** Stream-Seq, when sent: at most MAX_ID_BYTES. */
export function parseStreamSeq(value: string | undefined): string | undefined {
  if (value !== undefined && Buffer.byteLength(value) > MAX_ID_BYTES) throw bad(`${H.seq} is longer than ${MAX_ID_BYTES} bytes`);
  return value;
}

function producerNumber(name: string, value: string): number {
  const n = Number(value);
  if (!STRICT_INT.test(value) || !Number.isSafeInteger(n)) throw bad(`invalid ${name} '${printable(value)}': a non-negative integer`);
  return n;
}

/** All three producer headers or none; an empty id or a non-integer is a 400. */
export function parseProducerHeaders(id: string | undefined, epoch: string | undefined, seq: string | undefined): ProducerHeaders | undefined {
  if (id === undefined && epoch === undefined && seq === undefined) return undefined;
  if (id === undefined || epoch === undefined || seq === undefined) {
    throw bad(`${H.producerId}, ${H.producerEpoch} and ${H.producerSeq} must be sent together`);
  }
  if (id === '') throw bad(`${H.producerId} must not be empty`);
  if (Buffer.byteLength(id) > MAX_ID_BYTES) throw bad(`${H.producerId} is longer than ${MAX_ID_BYTES} bytes`);
  return { id, epoch: producerNumber(H.producerEpoch, epoch), seq: producerNumber(H.producerSeq, seq) };
}

export function parseSubOffset(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!NON_NEGATIVE.test(value) || !Number.isSafeInteger(Number(value))) throw bad(`invalid ${H.forkSubOffset} '${printable(value)}'`);
  return Number(value);
}

/**
 * A content type as streams compare it: the media type, lower-cased, without parameters
 * (`Application/JSON; charset=utf-8` is `application/json`).
 */
export function mediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

const MEDIA_TYPE = /^[\w.+-]+\/[\w.+-]+/;

/** The content type a PUT sets: the header if it names a media type, else the default. */
export function createContentType(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '' || !MEDIA_TYPE.test(header.trim())) return undefined;
  return header.trim();
}

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function isJson(contentType: string): boolean {
  return mediaType(contentType) === 'application/json';
}

/** SSE carries text/* and JSON as text, everything else base64 (Stream-SSE-Data-Encoding). */
export function sseBase64(contentType: string): boolean {
  const type = mediaType(contentType);
  return !(type.startsWith('text/') || type === 'application/json');
}

/** Cursor intervals: 20 s from 2024-10-09T00:00:00Z, as the protocol's default. */
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
const CURSOR_INTERVAL_MS = 20_000;

/**
 * The cursor of a live answer: the current interval, or, when the client's is not behind it,
 * the client's plus 1-3600 s of jitter, so cursors never go back and CDN keys move on.
 */
export function responseCursor(now: number, clientCursor: string | undefined, random: () => number): string {
  const current = Math.floor((now - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS);
  const client = clientCursor === undefined ? NaN : Number.parseInt(clientCursor, 10);
  if (Number.isNaN(client) || client < current) return String(current);
  const jitterSeconds = 1 + Math.floor(random() * 3600);
  return String(client + Math.max(1, Math.ceil((jitterSeconds * 1000) / CURSOR_INTERVAL_MS)));
}

function printable(s: string): string {
  const shown = s.length > 64 ? `${s.slice(0, 64)}…` : s;
  return JSON.stringify(shown).slice(1, -1);
}
