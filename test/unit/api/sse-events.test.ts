/**
 * The events of a streaming read (lib/api/sse-events.ts) as they go on the wire: built here,
 * written by Hono's own SSEStreamingApi, read back by the tests' parser (test/support/sse.ts).
 */
import { SSEStreamingApi, type SSEMessage } from 'hono/streaming';
import { describe, expect, it } from 'vitest';
import { toHttpError } from '../../../lib/api/error-mapping.ts';
import {
  endEvent,
  errorEvent,
  lastEventIdOffset,
  pingEvent,
  recordsEvent,
  SSE_DEFAULTS,
  sseOptionsFrom,
} from '../../../lib/api/sse-events.ts';
import { OffsetOutOfRangeError, SluiceError } from '../../../lib/errors.ts';
import { SseParser } from '../../support/sse.ts';

/** The exact text Hono writes for `messages`. */
async function wire(messages: SSEMessage[]): Promise<string> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const stream = new SSEStreamingApi(writable, readable);
  const text = new Response(stream.responseReadable).text();
  for (const m of messages) await stream.writeSSE(m);
  await stream.close();
  return text;
}

const batch = {
  partition: 0,
  highWatermark: 9,
  logStartOffset: 0,
  records: [{ partition: 0, offset: 6, timestamp: 1, key: 'k', value: { a: 'line\nbreak' }, headers: [] }],
  nextOffset: 7,
};

describe('SSE events', () => {
  it('formats records, ping, error and end events as the docs show them', async () => {
    const error = toHttpError(new OffsetOutOfRangeError(3, 5, 9));
    const text = await wire([recordsEvent(batch), pingEvent(7, 9), errorEvent(error), endEvent(7, 1000)]);
    expect(text).toBe(
      `event: records\ndata: ${JSON.stringify(batch)}\nid: 7\n\n` +
        'event: ping\ndata: {"nextOffset":7,"highWatermark":9}\nid: 7\n\n' +
        'event: error\ndata: {"error":{"offset":3,"logStartOffset":5,"highWatermark":9,"code":"OFFSET_OUT_OF_RANGE","message":"offset 3 is outside [5, 9]","retriable":false}}\n\n' +
        'event: end\ndata: {"nextOffset":7,"reason":"max-duration"}\nid: 7\nretry: 1000\n\n',
    );
    // A newline inside a value stays escaped in the JSON: every event's data is one line.
    expect(text.split('\n').filter((l) => l.startsWith('data:'))).toHaveLength(4);
    // The error's data is exactly the REST answer's body.
    expect(JSON.parse(errorEvent(error).data as string)).toEqual(error.body);
  });

  it('reads back what it wrote, in chunks of any size', async () => {
    const text = await wire([recordsEvent(batch), pingEvent(7, 9), endEvent(7, 250)]);
    for (const size of [1, 2, 7, text.length]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
      expect(events).toEqual([
        { event: 'records', data: JSON.stringify(batch), id: '7' },
        { event: 'ping', data: '{"nextOffset":7,"highWatermark":9}', id: '7' },
        { event: 'end', data: '{"nextOffset":7,"reason":"max-duration"}', id: '7', retry: 250 },
      ]);
    }
    // CRLF, comments, multi-line data and a default event name, as other servers send them.
    expect(new SseParser().push(': hi\r\ndata: a\r\ndata: b\r\n\r\n')).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('takes Last-Event-ID as an offset: plain digits, none when absent or empty', () => {
    expect(lastEventIdOffset(undefined)).toBeUndefined();
    expect(lastEventIdOffset('')).toBeUndefined();
    expect(lastEventIdOffset('0')).toBe(0);
    expect(lastEventIdOffset(' 42 ')).toBe(42);
    for (const bad of ['-1', '1.5', '1e3', 'abc', '99999999999999999']) {
      expect(() => lastEventIdOffset(bad)).toThrow(SluiceError);
      try {
        lastEventIdOffset(bad);
      } catch (err) {
        expect(toHttpError(err)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
      }
    }
  });

  it('takes its two tunables from the log tuning (SLUICE_SSE_MAX_MS, SLUICE_SSE_PING_MS), 0 keeping the default', async () => {
    const { tuningFromEnv } = await import('../../../lib/env.ts');
    expect(tuningFromEnv({ SLUICE_SSE_MAX_MS: '600000', SLUICE_SSE_PING_MS: '5000' })).toEqual({ sseMaxMs: 600_000, ssePingMs: 5000 });
    expect(sseOptionsFrom({ sseMaxMs: 600_000, ssePingMs: 5000 })).toEqual({ ...SSE_DEFAULTS, maxDurationMs: 600_000, pingIntervalMs: 5000 });
    expect(sseOptionsFrom({ sseMaxMs: 0, ssePingMs: 0 })).toEqual(SSE_DEFAULTS);
  });
});
