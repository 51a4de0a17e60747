import { describe, expect, it } from 'vitest';
import { GroupChangedError, InvalidRequestError } from '../../lib/errors.ts';
import { retryOnConflict, type ConflictPolicy } from '../../lib/retry-on-conflict.ts';

function policy(sleeps: number[], attempts = 5): ConflictPolicy {
  return { attempts, baseDelayMs: 10, maxDelayMs: 50, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) };
}

describe('retryOnConflict', () => {
  it('runs fn again after a lost race, with jittered capped backoff, until it wins', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await retryOnConflict('group g', async () => {
      if (++calls < 4) throw new GroupChangedError('g');
      return 'won';
    }, policy(sleeps));
    expect(result).toBe('won');
    expect(calls).toBe(4);
    expect(sleeps).toEqual([10, 20, 25]); // 0.5 x min(50, 10 x 2^n)
  });

  it('answers a retriable KAFKA_STORAGE_ERROR after the attempts run out', async () => {
    let calls = 0;
    const err = await retryOnConflict('group g', async () => {
      calls++;
      throw new GroupChangedError('g');
    }, policy([], 3)).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true });
    expect((err as Error).message).toContain('group g');
  });

  it('passes any other error through untried', async () => {
    let calls = 0;
    const bad = new InvalidRequestError('no');
    await expect(retryOnConflict('x', async () => {
      calls++;
      throw bad;
    }, policy([]))).rejects.toBe(bad);
    expect(calls).toBe(1);
  });
});
