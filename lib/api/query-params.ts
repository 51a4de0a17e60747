/**
 * Query parameters of the routes under a partition (docs/API.md "Fetch"), parsed strictly:
 * "1e3", "-1", "1.5", "" are refused, never coerced. One copy, used by the fetch route and by
 * its streaming form (routes/sse.ts), so the two answer a bad parameter the same way.
 */
import { FETCH_DEFAULTS } from '../config.ts';
import { InvalidRequestError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import type { OffsetSpec } from '../log/fetch.ts';
import { ENCODINGS } from '../wire/record-encoding.ts';
import { encodingSchema } from '../wire/schemas.ts';
import { parseWith } from './validation.ts';

const DIGITS = /^\d{1,16}$/;

export type Encoding = (typeof ENCODINGS)[number];

export function intParam(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  if (raw === undefined || !DIGITS.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new InvalidRequestError(`${name} must be a non-negative integer, got ${JSON.stringify(raw ?? null)}`);
  }
  return Number(raw);
}

export function offsetParam(raw: string | undefined): OffsetSpec {
  if (raw === undefined || raw === 'earliest') return 'earliest';
  if (raw === 'latest') return 'latest';
  return intParam('offset', raw);
}

export function encodingParam(raw: string | undefined): Encoding {
  return parseWith(encodingSchema, raw ?? 'json', {}) as Encoding;
}

export interface FetchQuery {
  readonly partition: number;
  readonly offset: OffsetSpec;
  readonly maxRecords: number;
  readonly maxBytes: number;
  /** Capped at LIMITS.maxWaitMs by the fetch service. */
  readonly waitMs: number;
  readonly encoding: Encoding;
}

/** A fetch's parameters, checked in the order the API refuses them. */
export function parseFetchQuery(q: Readonly<Record<string, string | undefined>>, partition: string | undefined): FetchQuery {
  const maxRecords = intParam('maxRecords', q.maxRecords, FETCH_DEFAULTS.maxRecords);
  if (maxRecords < 1 || maxRecords > LIMITS.maxRecordsPerFetch) {
    throw new InvalidRequestError(`maxRecords must be between 1 and ${LIMITS.maxRecordsPerFetch}`);
  }
  const maxBytes = intParam('maxBytes', q.maxBytes, FETCH_DEFAULTS.maxBytes);
  if (maxBytes < 1) throw new InvalidRequestError('maxBytes must be at least 1');
  const encoding = encodingParam(q.encoding);
  return {
    maxRecords,
    maxBytes,
    encoding,
    partition: intParam('partition', partition),
    offset: offsetParam(q.offset),
    waitMs: intParam('waitMs', q.waitMs, FETCH_DEFAULTS.waitMs),
  };
}
