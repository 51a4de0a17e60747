/**
 * Hedged requests, for S3's latency tail. AWS's own advice for latency-sensitive applications
 * ("Performance design patterns for Amazon S3", timeouts and retries) is to track and
 * aggressively retry slow operations: a second request is likely to take a different path and
 * answer quickly. So a request not answered after `afterMs` is sent once more; the first answer
 * wins, and the other is aborted.
 *
 * Only for requests that may run twice: a ranged GET of immutable bytes, and a PUT whose copy
 * writes a key of its own (`copy` is 1 for the hedge), so the two copies of one attempt never
 * write one key (S3 would take either atomically; other S3-compatible stores may not), and the caller points
 * at whichever answered first. The extra request costs what any request costs, for the few
 * that are slow (the benches count them); a loser's object is an orphan for garbage collection.
 *
 * Failures: a failure before the hedge goes out is the answer (the caller's retries decide); a
 * failure of one of two in flight waits for the other; both failing answer the last error.
 * A HedgeBudget bounds the share of requests hedged.
 */
export function hedged<T>(
  send: (signal: AbortSignal | undefined, copy: 0 | 1) => Promise<T>,
  afterMs: number,
  onHedge?: () => void,
  budget?: HedgeBudget,
): Promise<T> {
  if (!(afterMs > 0)) return send(undefined, 0);
  budget?.earn();
  return new Promise<T>((resolve, reject) => {
    const controllers: AbortController[] = [];
    let done = false;
    let running = 0;
    const launch = (copy: 0 | 1): void => {
      const controller = new AbortController();
      controllers.push(controller);
      running++;
      send(controller.signal, copy).then(
        (value) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          for (const other of controllers) if (other !== controller) other.abort();
          resolve(value);
        },
        (err: unknown) => {
          if (done) return;
          if (--running > 0) return; // the other copy may still answer
          done = true;
          clearTimeout(timer);
          reject(err);
        },
      );
    };
    const timer = setTimeout(() => {
      if (done || (budget !== undefined && !budget.spend())) return;
      onHedge?.();
      launch(1);
    }, afterMs);
    launch(0);
  });
}

/** When a segment request is hedged, per bucket tier (0 = never). */
export interface HedgeAfter {
  /** S3 Standard, ms. */
  readonly standard: number;
  /** S3 Express One Zone, ms. */
  readonly express: number;
}

export const NO_HEDGE: HedgeAfter = { standard: 0, express: 0 };

/** A larger body legitimately takes longer: the hedge waits this much more per MiB moved. */
export const HEDGE_MS_PER_MIB = 20;

export function hedgeDelay(base: number, bytes: number): number {
  return base > 0 ? base + (bytes / (1024 * 1024)) * HEDGE_MS_PER_MIB : 0;
}

/**
 * At most about `share` of requests are hedged, over time: each request earns `share` of a
 * token (up to `burst`), each hedge spends one. Without a bound, a process that is slow for its
 * own reasons (an overloaded event loop, a saturated network) would hedge nearly every request
 * and double its load exactly when it can least take it.
 */
export class HedgeBudget {
  private tokens: number;

  constructor(
    private readonly share = 0.1,
    private readonly burst = 10,
  ) {
    this.tokens = burst;
  }

  /** A request starts: it earns its share. */
  earn(): void {
    this.tokens = Math.min(this.burst, this.tokens + this.share);
  }

  /** May a hedge go out now? Spends a token when it may. */
  spend(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
