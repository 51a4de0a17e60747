/**
 * The events of a streaming read (docs/API.md "Streaming reads (SSE)", docs/STREAMING.md):
 * pure builders of the messages that Hono's `writeSSE` puts on the wire, and the stream's
 * tunables. Every event but `error` carries `id:` = the next offset to read, so a client that
 * reconnects with `Last-Event-ID` continues exactly after the last event it saw.
 */
import type { SSEMessage } from 'hono/streaming';
import { InvalidRequestError } from '../errors.ts';
import type { HttpError } from './error-mapping.ts';

export interface SseOptions {
  /** A stream ends by itself (`event: end`) after this long; the client reconnects. */
  readonly maxDurationMs: number;
  /** `event: ping` after this long without any event. */
  readonly pingIntervalMs: number;
  /** The `retry:` the end event sends: how long an EventSource waits before it reconnects. */
  readonly retryMs: number;
  /** How often a stream re-checks that its topic still exists (deleted, or re-created). */
  readonly topicCheckMs: number;
}

/**
 * 25 s: under API Gateway's 30 s integration timeout and the API function's 30 s timeout, so
 * the same default fits a future AWS streaming endpoint; a reconnect every 25 s costs one
 * request. Pings every 15 s keep idle proxies (nginx's 60 s read timeout) from closing it.
 * The topic is re-checked at the topic cache's TTL (5 s), so it costs no extra reads.
 */
export const SSE_DEFAULTS: SseOptions = { maxDurationMs: 25_000, pingIntervalMs: 15_000, retryMs: 1000, topicCheckMs: 5000 };

/** The stream's options from the log tunables (SLUICE_SSE_MAX_MS, SLUICE_SSE_PING_MS; lib/env.ts); 0 keeps the default. */
export function sseOptionsFrom(tuning: { readonly sseMaxMs: number; readonly ssePingMs: number }): SseOptions {
  return {
    ...SSE_DEFAULTS,
    maxDurationMs: tuning.sseMaxMs > 0 ? tuning.sseMaxMs : SSE_DEFAULTS.maxDurationMs,
    pingIntervalMs: tuning.ssePingMs > 0 ? tuning.ssePingMs : SSE_DEFAULTS.pingIntervalMs,
  };
}

/** What a `records` event's data is: the fetch answer for that batch. */
export interface WireBatchLike {
  readonly nextOffset: number;
  readonly highWatermark: number;
}

/** One batch read: `data` is exactly what a fetch answers for it. */
export function recordsEvent(batch: WireBatchLike): SSEMessage {
  return { event: 'records', data: JSON.stringify(batch), id: String(batch.nextOffset) };
}

/** Idle at the high watermark (and the stream's first event when it starts there). */
export function pingEvent(nextOffset: number, highWatermark: number): SSEMessage {
  return { event: 'ping', data: JSON.stringify({ nextOffset, highWatermark }), id: String(nextOffset) };
}

/** The read failed: the REST answer's body; the stream ends after it. No id: resume stays at the last records. */
export function errorEvent(answer: HttpError): SSEMessage {
  return { event: 'error', data: JSON.stringify(answer.body) };
}

/** The stream's maximum duration is over: reconnect (with Last-Event-ID) after `retryMs`. */
export function endEvent(nextOffset: number, retryMs: number): SSEMessage {
  return { event: 'end', data: JSON.stringify({ nextOffset, reason: 'max-duration' }), id: String(nextOffset), retry: retryMs };
}

/**
 * The offset a `Last-Event-ID` header names, or undefined when there is none (absent or
 * empty, as EventSource sends none before its first id). Plain digits only, as `offset`.
 */
export function lastEventIdOffset(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidRequestError(`Last-Event-ID must be an offset (a non-negative integer), got ${JSON.stringify(raw)}`);
  }
  return Number(text);
}
