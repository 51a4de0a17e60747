/**
 * SDK failures turned into Sluice errors, inside lib/storage. Callers above
 * storage never see an SDK exception: they see ThrottledError (429), UnavailableError (503)
 * or a domain error a store raised for a failed condition.
 */
import { SluiceError, ThrottledError, UnavailableError, UnknownServerError } from '../errors.ts';

const THROTTLING = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
  'Throttling',
]);

const UNAVAILABLE = new Set([
  'ServiceUnavailable',
  'InternalServerError',
  'InternalError',
  'InternalFailure',
  'TransactionInProgressException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function errorName(err: unknown): string {
  const e = (err ?? {}) as SdkLikeError;
  return e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error');
}

/** A transient failure worth retrying: throttling, 5xx, network trouble. */
export function isTransient(err: unknown): boolean {
  if (err instanceof SluiceError) return err.retriable;
  const name = errorName(err);
  if (THROTTLING.has(name) || UNAVAILABLE.has(name)) return true;
  const e = err as SdkLikeError;
  const status = e?.$metadata?.httpStatusCode;
  return (typeof status === 'number' && status >= 500) || e?.$retryable !== undefined;
}

/** Maps anything thrown by an AWS call to a SluiceError (already-mapped errors pass through). */
export function toSluiceError(err: unknown, what: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const name = errorName(err);
  if (THROTTLING.has(name)) return new ThrottledError(`${what}: throttled by AWS (${name}); retry later`, err);
  if (isTransient(err)) return new UnavailableError(`${what}: storage briefly unavailable (${name}); retry`, err);
  return new UnknownServerError(`${what} failed (${name})`, err);
}
