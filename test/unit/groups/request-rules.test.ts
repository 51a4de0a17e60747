import { describe, expect, it } from 'vitest';
import { codeOf } from '../../support/error-code.ts';
import { validateHeartbeat, validateOffsetCommit } from '../../../lib/groups/request-rules.ts';

const LONG_TOPIC = 't'.repeat(3000);
const offset = (topic: string) => ({ topic, partition: 0, offset: 1 });

describe('offset commits, before anything is read', () => {
  it('accepts a well-formed commit, with or without a member', () => {
    expect(codeOf(() => validateOffsetCommit('g', { offsets: [offset('orders')] }))).toBeUndefined();
    expect(codeOf(() => validateOffsetCommit('g', { memberId: 'm-1', memberEpoch: 3, offsets: [offset('a.b')] }))).toBeUndefined();
  });

  it.each([
    ['a group id over 255 characters', 'g'.repeat(256), {}],
    ['a group id with DEL', 'g\u007f', {}],
    ['a group id with a C1 control', 'g\u0085', {}],
    ['a group id with a lone surrogate', 'g\ud800', {}],
    ['a memberId over 255 characters', 'g', { memberId: 'm'.repeat(256) }],
    ['a memberId with a lone surrogate', 'g', { memberId: '\udfff' }],
  ])('refuses %s with INVALID_REQUEST', (_what, group, extra) => {
    expect(codeOf(() => validateOffsetCommit(group, { ...extra, offsets: [offset('orders')] }))).toBe('INVALID_REQUEST');
  });

  it('refuses more offsets than maxCommitOffsetsPerRequest', () => {
    const offsets = Array.from({ length: 65 }, (_, i) => ({ topic: 't', partition: i, offset: 0 }));
    expect(codeOf(() => validateOffsetCommit('g', { offsets }))).toBe('INVALID_REQUEST');
  });

  it.each([LONG_TOPIC, 'a b', '..'])('answers a topic no topic can be named (%#) as unknown', (topic) => {
    expect(codeOf(() => validateOffsetCommit('g', { offsets: [offset('ok'), offset(topic)] }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});

describe('heartbeats, before anything is read', () => {
  const join = { memberId: null, memberEpoch: 0, topics: ['orders'] };

  it('accepts a join, a heartbeat and a leave', () => {
    expect(codeOf(() => validateHeartbeat('g', join))).toBeUndefined();
    expect(codeOf(() => validateHeartbeat('g', { memberId: 'm', memberEpoch: 4, ownedPartitions: [{ topic: 'orders', partitions: [0] }] }))).toBeUndefined();
    expect(codeOf(() => validateHeartbeat('g', { memberId: 'm', memberEpoch: -1 }))).toBeUndefined();
  });

  it.each([
    ['group id', '\u009f', join],
    ['memberId', 'g', { ...join, memberId: 'm'.repeat(256) }],
    ['memberId on a leave', 'g', { memberId: 'm\u0000', memberEpoch: -1 }],
  ])('refuses a bad %s with INVALID_REQUEST', (_what, group, req) => {
    expect(codeOf(() => validateHeartbeat(group, req))).toBe('INVALID_REQUEST');
  });

  it('refuses a subscription to a name no topic can have with INVALID_TOPIC_EXCEPTION', () => {
    expect(codeOf(() => validateHeartbeat('g', { ...join, topics: ['orders', LONG_TOPIC] }))).toBe('INVALID_TOPIC_EXCEPTION');
    expect(
      codeOf(() => validateHeartbeat('g', { memberId: 'm', memberEpoch: 2, ownedPartitions: [{ topic: 'x y', partitions: [0] }] })),
    ).toBe('INVALID_TOPIC_EXCEPTION');
  });
});
