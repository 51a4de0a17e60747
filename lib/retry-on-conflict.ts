/**
 * The one retry loop for lost races (conditional writes are Sluice's only concurrency
 * control). `fn` reads, decides and writes conditionally; when the write loses to a concurrent
 * change (a ConcurrentChangeError from storage), the loop waits a jittered, capped exponential
 * backoff and runs `fn` again from the read. After `attempts` lost races it answers a
 * retriable error: the caller's client retries, as Kafka clients retry a coordinator that moved.
 * Any other error passes through at once. Sleep and randomness are injected so tests are exact.
 */
import { CONFLICT_RETRY_DEFAULTS } from './config.ts';
import { ConcurrentChangeError, UnavailableError } from './errors.ts';

export interface ConflictPolicy {
  /** Total tries of `fn`, the first included. */
  readonly attempts: number;
  /** The n-th wait is uniform in [0, min(maxDelayMs, baseDelayMs * 2^n)). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_CONFLICT_POLICY: ConflictPolicy = {
  attempts: CONFLICT_RETRY_DEFAULTS.attempts.group,
  baseDelayMs: CONFLICT_RETRY_DEFAULTS.baseDelayMs,
  maxDelayMs: CONFLICT_RETRY_DEFAULTS.maxDelayMs,
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** `what` names the contended thing in the final error ("group 'g'"). */
export async function retryOnConflict<T>(what: string, fn: () => Promise<T>, policy: ConflictPolicy = DEFAULT_CONFLICT_POLICY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ConcurrentChangeError)) throw err;
      if (attempt >= policy.attempts) throw new UnavailableError(`${what} is changing too fast; retry`, err);
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 10));
      await policy.sleep(Math.floor(policy.random() * cap));
    }
  }
}
