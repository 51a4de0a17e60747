/**
 * The console's one way to the server: a `Sluice` client (lib/client) for this origin with the
 * token kept in localStorage. Records go through the client's transport (its typed errors,
 * timeouts and auth), always as base64 so the browser decides how to show them.
 */
import { Sluice, SluiceClientError } from '../lib/client/index.ts';
import type { ConsumedRecord, FetchedPartition } from '../lib/client/index.ts';

const TOKEN_KEY = 'sluice.console.token';

export function storedToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function storeToken(token: string): void {
  try {
    if (token === '') localStorage.removeItem(TOKEN_KEY);
    else localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage disabled: the token lasts for this page only
  }
}

export function makeClient(token: string): Sluice {
  return new Sluice({ url: location.origin, ...(token === '' ? {} : { token }) });
}

const seg = encodeURIComponent;

export interface FetchOptions {
  readonly maxRecords?: number;
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
}

/** GET …/records as base64 (values, keys and header values). */
export function fetchRecords(sluice: Sluice, topic: string, partition: number, offset: number, opts: FetchOptions = {}): Promise<FetchedPartition> {
  return sluice.transport.request('GET', `/v1/topics/${seg(topic)}/partitions/${partition}/records`, {
    query: { offset, maxRecords: opts.maxRecords ?? 20, waitMs: opts.waitMs, encoding: 'base64' },
    ...(opts.signal ? { signal: opts.signal } : {}),
    timeoutMs: (opts.waitMs ?? 0) + 15_000,
  });
}

export type MultiFetched = FetchedPartition | { topic: string; partition: number; error: { code: string; message: string } };

/** POST /v1/fetch: every listed partition, answered as soon as one has data (a long poll). */
export async function fetchMany(
  sluice: Sluice,
  partitions: readonly { topic: string; partition: number; offset: number }[],
  opts: FetchOptions = {},
): Promise<MultiFetched[]> {
  const answer = await sluice.transport.request<{ partitions: MultiFetched[] }>('POST', '/v1/fetch', {
    body: { partitions, maxRecords: opts.maxRecords ?? 100, waitMs: opts.waitMs ?? 0, encoding: 'base64' },
    ...(opts.signal ? { signal: opts.signal } : {}),
    timeoutMs: (opts.waitMs ?? 0) + 15_000,
  });
  return answer.partitions;
}

export interface ProduceRecord {
  readonly key?: string | null;
  readonly value?: unknown;
  readonly headers?: readonly { key: string; value: string }[];
  readonly partition?: number;
}

export async function produce(sluice: Sluice, topic: string, encoding: 'json' | 'string', record: ProduceRecord): Promise<{ partition: number; offset: number }> {
  const answer = await sluice.transport.request<{ offsets: { partition: number; offset: number }[] }>('POST', `/v1/topics/${seg(topic)}/records`, {
    body: { encoding, records: [record] },
  });
  return answer.offsets[0]!;
}

/** An error as the console shows it: the Kafka code and the server's message. */
export function describeError(err: unknown): { code: string; message: string; status: number } {
  if (err instanceof SluiceClientError) return { code: err.code, message: err.message, status: err.status };
  return { code: 'CONSOLE_ERROR', message: err instanceof Error ? err.message : String(err), status: 0 };
}

export type { ConsumedRecord };
