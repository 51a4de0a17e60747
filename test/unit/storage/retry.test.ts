import { describe, expect, it } from 'vitest';
import { toHttpError } from '../../../lib/api/error-mapping.ts';
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
    const err = await withRetries('op', async () => { calls++; throw throttle(); }, policy(sleeps)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'THROTTLING_QUOTA_EXCEEDED', retriable: true });
    expect(toHttpError(err).status).toBe(429);
    expect(calls).toBe(4);
    expect(sleeps).toEqual([9, 19, 39]);
  });

  it('gives up with a retriable 503 for an unavailable dependency', async () => {
    const err = await withRetries('op', async () => { throw unavailable(); }, policy([])).catch((e: unknown) => e);
    expect(err).toMatchObject({ retriable: true });
    expect(toHttpError(err).status).toBe(503);
  });

  it('passes a failed condition through untouched and untried', async () => {
    let calls = 0;
    const cond = Object.assign(new Error('cond'), { name: 'ConditionalCheckFailedException' });
    await expect(withRetries('op', async () => { calls++; throw cond; }, policy([]))).rejects.toBe(cond);
    expect(calls).toBe(1);
  });
});
