import { describe, expect, it } from 'vitest';
import { payloadBytes, requestKind, topicOfPath } from '../../../lib/api/request-log.ts';

describe('request-log helpers', () => {
  it('classifies produce and fetch requests (the latency metrics), nothing else', () => {
    expect(requestKind('POST', '/v1/topics/t/records')).toBe('produce');
    expect(requestKind('GET', '/v1/topics/t/partitions/0/records')).toBe('fetch');
    expect(requestKind('POST', '/v1/fetch')).toBe('fetch');
    expect(requestKind('GET', '/v1/topics/t/records')).toBeUndefined();
    expect(requestKind('POST', '/v1/topics')).toBeUndefined();
    expect(requestKind('GET', '/v1/topics/t/partitions/0/offsets')).toBeUndefined();
  });

  it('names the topic of a path, decoded, and none for paths without one', () => {
    expect(topicOfPath('/v1/topics/orders')).toBe('orders');
    expect(topicOfPath('/v1/topics/a%2Eb/partitions/0/records')).toBe('a.b');
    expect(topicOfPath('/v1/topics/bad%E0')).toBe('bad%E0');
    expect(topicOfPath('/v1/topics')).toBeUndefined();
    expect(topicOfPath('/v1/groups/g')).toBeUndefined();
  });

  it('counts key, value, header key and header value bytes', () => {
    const b = (s: string) => new TextEncoder().encode(s);
    expect(payloadBytes([{ key: b('k'), value: b('vvv'), headers: [{ key: 'hé', value: b('xy') }] }, { key: null, value: null, headers: [] }] as never)).toBe(1 + 3 + 3 + 2);
  });
});
