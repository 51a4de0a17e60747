/** hedged() (lib/storage/hedge.ts) with fake timers: when a copy goes out, who wins, what fails. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hedgeDelay, hedged } from '../../../lib/storage/hedge.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A send whose n-th call answers (or fails) after `plan[n]` ms; records aborts. */
function sender(plan: readonly { ms: number; fail?: boolean }[]) {
  const aborted: number[] = [];
  const copies: number[] = [];
  let calls = 0;
  const send = (signal: AbortSignal | undefined, copy: 0 | 1) => {
    const n = calls++;
    copies.push(copy);
    const step = plan[n]!;
    signal?.addEventListener('abort', () => aborted.push(n));
    return new Promise<string>((resolve, reject) =>
      setTimeout(() => (step.fail ? reject(new Error(`copy ${n} failed`)) : resolve(`copy ${n}`)), step.ms),
    );
  };
  return { send, aborted, copies, calls: () => calls };
}

describe('hedged', () => {
  it('a fast answer sends no copy', async () => {
    const s = sender([{ ms: 10 }]);
    const p = hedged(s.send, 50);
    await vi.advanceTimersByTimeAsync(100);
    await expect(p).resolves.toBe('copy 0');
    expect(s.calls()).toBe(1);
  });

  it('a slow answer gets a copy after the delay; the first to answer wins and the other is aborted', async () => {
    const s = sender([{ ms: 500 }, { ms: 20 }]);
    const hedges = vi.fn();
    const p = hedged(s.send, 50, hedges);
    await vi.advanceTimersByTimeAsync(49);
    expect(s.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.calls()).toBe(2);
    expect(hedges).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(20);
    await expect(p).resolves.toBe('copy 1');
    expect(s.aborted).toEqual([0]);
    expect(s.copies).toEqual([0, 1]); // the caller can tell the copy (a PUT writes its own key)
  });

  it('the original may still win after the copy went out', async () => {
    const s = sender([{ ms: 60 }, { ms: 100 }]);
    const p = hedged(s.send, 50);
    await vi.advanceTimersByTimeAsync(60);
    await expect(p).resolves.toBe('copy 0');
    expect(s.aborted).toEqual([1]);
  });

  it('a failure before the delay is the answer at once, and no copy goes out', async () => {
    const s = sender([{ ms: 5, fail: true }]);
    const p = hedged(s.send, 50);
    const outcome = expect(p).rejects.toThrow('copy 0 failed');
    await vi.advanceTimersByTimeAsync(100);
    await outcome;
    expect(s.calls()).toBe(1);
  });

  it('one of two failing waits for the other; both failing answer the last error', async () => {
    const ok = sender([{ ms: 80, fail: true }, { ms: 60 }]);
    const p1 = hedged(ok.send, 50);
    await vi.advanceTimersByTimeAsync(200);
    await expect(p1).resolves.toBe('copy 1');

    const bad = sender([{ ms: 80, fail: true }, { ms: 60, fail: true }]);
    const p2 = hedged(bad.send, 50);
    const outcome = expect(p2).rejects.toThrow('copy 1 failed');
    await vi.advanceTimersByTimeAsync(200);
    await outcome;
  });

  it('0 turns hedging off; the delay grows with the bytes moved', async () => {
    const s = sender([{ ms: 500 }]);
    const p = hedged(s.send, 0);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(p).resolves.toBe('copy 0');
    expect(s.calls()).toBe(1);
    expect(hedgeDelay(0, 1 << 20)).toBe(0);
    expect(hedgeDelay(100, 2 << 20)).toBe(140);
  });
});

describe('HedgeBudget', () => {
  it('bounds hedges to about its share of requests once the burst is spent', async () => {
    const { HedgeBudget } = await import('../../../lib/storage/hedge.ts');
    const budget = new HedgeBudget(0.1, 2);
    let hedges = 0;
    for (let i = 0; i < 1000; i++) {
      budget.earn();
      if (budget.spend()) hedges++; // every request is slow: it would hedge each time
    }
    expect(hedges).toBeGreaterThanOrEqual(100);
    expect(hedges).toBeLessThanOrEqual(102);
  });

  it('a request whose hedge the budget refuses just waits for its first copy', async () => {
    const { HedgeBudget } = await import('../../../lib/storage/hedge.ts');
    const budget = new HedgeBudget(0, 0);
    const s = sender([{ ms: 300 }]);
    const p = hedged(s.send, 50, undefined, budget);
    await vi.advanceTimersByTimeAsync(400);
    await expect(p).resolves.toBe('copy 0');
    expect(s.calls()).toBe(1);
  });
});
