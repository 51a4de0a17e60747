/**
 * Bounded retries with full-jitter exponential backoff for transient storage failures
 * (AWS Architecture Blog, "Exponential Backoff And Jitter"). Never unbounded: after
 * `attempts` tries the last error is mapped (429 / 503, retriable) and thrown, so a request
 * never hangs on a sick dependency.
 */
import { STORAGE_RETRY_DEFAULTS } from '../config.ts';
import { isTransient, toSluiceError } from './aws-errors.ts';

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Injected for tests; defaults to Math.random. */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = STORAGE_RETRY_DEFAULTS;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetries<T>(
  what: string,
  fn: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  const random = policy.random ?? Math.random;
  const sleep = policy.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      // A failed condition or a validation error is an answer, not a fault: the caller decides.
      if (!isTransient(err)) throw err;
      if (attempt >= policy.attempts) throw toSluiceError(err, what);
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.floor(random() * cap));
    }
  }
}
