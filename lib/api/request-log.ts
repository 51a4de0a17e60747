/**
 * What every request leaves behind, in one place: one log line (`request`: method, path,
 * status, ms, and topic when the route names one) and, for produce and fetch, their latency.
 * Only the path is logged: never a header (the Authorization token) and never the query.
 * Errors are counted where an error answer is built (`countErrorAnswer`), by Kafka code.
 */
import type { MiddlewareHandler } from 'hono';
import type { Clock, Logger } from '../deps.ts';
import type { Metrics } from '../metrics.ts';
import type { ProduceRecordInput } from '../log/produce.ts';
import type { LogRecord } from '../model/record.ts';

const TOPIC_PATH = /^\/v1\/topics\/([^/]+)(?:\/|$)/;
const PRODUCE_PATH = /^\/v1\/topics\/[^/]+\/records$/;
const FETCH_PATH = /^\/v1\/topics\/[^/]+\/partitions\/[^/]+\/records$/;

export type RequestKind = 'produce' | 'fetch' | undefined;

/** Which latency metric a request counts for (undefined: none). */
export function requestKind(method: string, path: string): RequestKind {
  if (method === 'POST' && PRODUCE_PATH.test(path)) return 'produce';
  if ((method === 'GET' && FETCH_PATH.test(path)) || (method === 'POST' && path === '/v1/fetch')) return 'fetch';
  return undefined;
}

/** The topic a path names, decoded (as written when it does not decode). */
export function topicOfPath(path: string): string | undefined {
  const raw = TOPIC_PATH.exec(path)?.[1];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function requestLog(logger: Logger, metrics: Metrics, clock: Clock): MiddlewareHandler {
  return async (c, next) => {
    const start = clock.now();
    // Errors are answered by app.onError inside next(): c.res is the answer either way.
    await next();
    const ms = clock.now() - start;
    const { method, path } = c.req;
    const kind = requestKind(method, path);
    if (kind === 'produce') metrics.ms('ProduceLatency', ms);
    if (kind === 'fetch') metrics.ms('FetchLatency', ms);
    const topic = topicOfPath(path);
    logger.info('request', { method, path, status: c.res.status, ms, ...(topic !== undefined ? { topic } : {}) });
  };
}

/** One error answer (a whole answer's, or one partition's in a multi-partition fetch). */
export function countErrorAnswer(metrics: Metrics, code: string): void {
  metrics.count('Errors', 1, { code });
}

/** Payload bytes of records: keys, values, header keys and values (what ProduceBytes/FetchBytes count). */
export function payloadBytes(records: readonly (ProduceRecordInput | LogRecord)[]): number {
  let n = 0;
  const len = (v: unknown) => (v instanceof Uint8Array ? v.byteLength : 0);
  for (const r of records) {
    n += len(r.key) + len(r.value);
    for (const h of r.headers) n += Buffer.byteLength(h.key) + len(h.value);
  }
  return n;
}
