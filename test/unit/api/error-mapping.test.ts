import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS, toHttpError } from '../../../lib/api/error-mapping.ts';
import {
  CorruptStoredDataError,
  ERROR_CODES,
  InvalidRequestError,
  OffsetOutOfRangeError,
  ThrottledError,
  TopicAlreadyExistsError,
} from '../../../lib/errors.ts';

describe('error mapping', () => {
  it('maps a Sluice error to its status with code, message, retriable', () => {
    const { status, body } = toHttpError(new TopicAlreadyExistsError('t'));
    expect(status).toBe(409);
    expect(body.error).toMatchObject({ code: 'TOPIC_ALREADY_EXISTS', retriable: false });
    expect(body.error.message).toContain("'t'");
  });

  it('puts structured fields beside the code', () => {
    const { status, body } = toHttpError(new OffsetOutOfRangeError(9, 2, 5));
    expect(status).toBe(416);
    expect(body.error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', logStartOffset: 2, highWatermark: 5 });
  });

  it('marks throttling retriable with 429', () => {
    const { status, body } = toHttpError(new ThrottledError('slow down'));
    expect(status).toBe(429);
    expect(body.error.retriable).toBe(true);
  });

  it('hides unknown errors behind 500 UNKNOWN_SERVER_ERROR', () => {
    const { status, body } = toHttpError(new Error('secret detail'));
    expect(status).toBe(500);
    expect(body.error.code).toBe('UNKNOWN_SERVER_ERROR');
    expect(body.error.message).not.toContain('secret');
  });

  it('gives Hono guards Kafka names', () => {
    expect(toHttpError(new HTTPException(413)).body.error.code).toBe('MESSAGE_TOO_LARGE');
    expect(toHttpError(new HTTPException(400)).body.error.code).toBe('INVALID_REQUEST');
  });
});

describe('the code -> status table', () => {
  it('has a status for every code, and only 4xx/5xx ones', () => {
    for (const code of ERROR_CODES) {
      expect(HTTP_STATUS[code], code).toBeGreaterThanOrEqual(400);
      expect(HTTP_STATUS[code], code).toBeLessThan(600);
    }
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('answers stored data that fails its checks with CORRUPT_MESSAGE naming the object', () => {
    const { status, body } = toHttpError(new CorruptStoredDataError('seg/ab/2026120100/x.seg', 'crc-mismatch'));
    expect(status).toBe(500);
    expect(body.error).toMatchObject({ code: 'CORRUPT_MESSAGE', retriable: false, object: 'seg/ab/2026120100/x.seg', reason: 'crc-mismatch' });
  });

  it('never lets a detail overwrite code, message or retriable', () => {
    const err = new InvalidRequestError('bad', { code: 'X', message: 'y', retriable: true });
    expect(toHttpError(err).body.error).toMatchObject({ code: 'INVALID_REQUEST', message: 'bad', retriable: false });
  });
});
