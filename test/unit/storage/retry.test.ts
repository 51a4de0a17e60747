import { describe, expect, it } from 'vitest';
import { toHttpError } from '../../../lib/api/error-mapping.ts';
import { ShortReadError } from '../../../lib/errors.ts';
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

describe('a short read of a segment object', () => {
  it('is retried, and answers a retriable 503 KAFKA_STORAGE_ERROR naming the object if it persists', async () => {
    let calls = 0;
    const err = await withRetries('read segment', async () => { calls++; throw new ShortReadError('seg/ab/x.seg', 10, 7); }, policy([])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShortReadError);
    expect(calls).toBe(4);
    const { status, body } = toHttpError(err);
    expect(status).toBe(503);
    expect(body.error).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true, object: 'seg/ab/x.seg', expectedBytes: 10, receivedBytes: 7 });
  });

  it('is cured by reading again', async () => {
    let calls = 0;
    const result = await withRetries('read segment', async () => {
      if (++calls === 1) throw new ShortReadError('seg/ab/x.seg', 10, 7);
      return 'bytes';
    }, policy([]));
    expect(result).toBe('bytes');
    expect(calls).toBe(2);
  });
});
