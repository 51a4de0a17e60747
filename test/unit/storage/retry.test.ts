import { describe, expect, it } from 'vitest';
import { withRetries } from '../../../lib/storage/retry.ts';

const throttle = () => Object.assign(new Error('x'), { name: 'ThrottlingException' });
const unavailable = () => Object.assign(new Error('x'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });

function policy(sleeps: number[]) {
  return { attempts: 4, baseDelayMs: 10, maxDelayMs: 40, random: () => 0.999, sleep: async (ms: number) => void sleeps.push(ms) };
}

describe('withRetries', () => {
  it('retries transient failures with capped exponential backoff, then succeeds', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await withRetries('op', async () => {
      calls++;
      if (calls < 3) throw throttle();
      return 'ok';
    }, policy(sleeps));
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(sleeps).toEqual([9, 19]);
  });

  it('gives up after the bounded attempts with 429 for throttling', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    await expect(withRetries('op', async () => { calls++; throw throttle(); }, policy(sleeps)))
      .rejects.toMatchObject({ code: 'THROTTLING_QUOTA_EXCEEDED', status: 429, retriable: true });
    expect(calls).toBe(4);
    expect(sleeps).toEqual([9, 19, 39]);
  });

  it('gives up with a retriable 503 for an unavailable dependency', async () => {
    await expect(withRetries('op', async () => { throw unavailable(); }, policy([])))
      .rejects.toMatchObject({ status: 503, retriable: true });
  });

  it('passes a failed condition through untouched and untried', async () => {
    let calls = 0;
    const cond = Object.assign(new Error('cond'), { name: 'ConditionalCheckFailedException' });
    await expect(withRetries('op', async () => { calls++; throw cond; }, policy([]))).rejects.toBe(cond);
    expect(calls).toBe(1);
  });
});
