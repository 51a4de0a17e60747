/**
 * Every key kind of lib/storage/keys/ round-trips: parse(format(x)) = x for any value a caller
 * may pass (ids with separators, unicode, long names), and parsers refuse other kinds' keys.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupKey, groupOffsetKey, parseGroupOffsetSk, parseGroupPk } from '../../../lib/storage/keys/group.ts';
import { parsePartitionKey, parseTimeIndexKey, partitionKey, timeIndexKey, timeIndexLowerBound } from '../../../lib/storage/keys/partition.ts';
import { parseProducerKey, parseTransactionalIdKey, producerKey, transactionalIdKey } from '../../../lib/storage/keys/producer.ts';
import { parseSegmentObjectKey, segmentObjectKey } from '../../../lib/storage/keys/segment.ts';
import { deletedTopicKey, parseDeletedTopicKey, parseTopicKey, topicKey } from '../../../lib/storage/keys/topic.ts';
import { parseTokenHashKey, parseTokenNameKey, tokenHashKey, tokenNameKey } from '../../../lib/storage/keys/token.ts';

const id = fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' });
const partition = fc.integer({ min: 0, max: 9_999 });
const topicName = fc.stringMatching(/^[a-zA-Z0-9._-]{1,249}$/);

describe('key round trips', () => {
  it('partition keys, whatever the topic id holds', () => {
    fc.assert(fc.property(id, partition, (topicId, p) => {
      expect(parsePartitionKey(partitionKey(topicId, p))).toEqual({ topicId, partition: p });
    }));
  });

  it('group offset keys', () => {
    fc.assert(
      fc.property(id, id, partition, (group, topicId, p) => {
        const key = groupOffsetKey(group, topicId, p);
        expect(key.pk).toBe(groupKey(group).pk);
        expect(parseGroupPk(key.pk)).toBe(group);
        expect(parseGroupOffsetSk(key.sk)).toEqual({ topicId, partition: p });
      }),
    );
    expect(parseGroupOffsetSk(groupKey('g').sk)).toBeUndefined();
  });

  it('topic keys (by collision name) and deleted-topic markers', () => {
    fc.assert(fc.property(topicName, (name) => {
      expect(parseTopicKey(topicKey(name))).toBe(name.replaceAll('.', '_'));
    }));
    fc.assert(fc.property(id, (topicId) => {
      expect(parseDeletedTopicKey(deletedTopicKey(topicId).pk)).toBe(topicId);
    }));
    expect(parseTopicKey(deletedTopicKey('x'))).toBeUndefined();
  });

  it('producer and transactional-id keys, never confused', () => {
    fc.assert(
      fc.property(id, (x) => {
        expect(parseProducerKey(producerKey(x))).toBe(x);
        expect(parseTransactionalIdKey(transactionalIdKey(x))).toBe(x);
        expect(parseProducerKey(transactionalIdKey(x))).toBeUndefined();
        expect(parseTransactionalIdKey(producerKey(x))).toBeUndefined();
      }),
    );
  });

  it('token hash and token name keys, never confused', () => {
    fc.assert(
      fc.property(id, (x) => {
        expect(parseTokenHashKey(tokenHashKey(x))).toBe(x);
        expect(parseTokenNameKey(tokenNameKey(x))).toBe(x);
        expect(parseTokenHashKey(tokenNameKey(x))).toBeUndefined();
        expect(parseTokenNameKey(tokenHashKey(x))).toBeUndefined();
        expect(parseTokenHashKey(producerKey(x))).toBeUndefined();
      }),
    );
  });

  it('segment object keys', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 0, max: 4_102_444_800_000 }), (uuid, now) => {
        const parsed = parseSegmentObjectKey(segmentObjectKey(uuid, now));
        expect(parsed).toEqual({ shard: uuid.slice(0, 2).toLowerCase(), hour: new Date(now).toISOString().slice(0, 13).replace(/[-T]/g, ''), id: uuid });
      }),
    );
  });

  it('time-index keys round-trip and sort as (maxTs, slot)', () => {
    const ts = fc.integer({ min: 0, max: 9_999_999_999_999 });
    const slot = fc.integer({ min: 0, max: 999_999_999_999 });
    fc.assert(fc.property(ts, slot, (t, s) => {
      expect(parseTimeIndexKey(timeIndexKey(t, s))).toEqual({ maxTs: t, slot: s });
    }));
    fc.assert(
      fc.property(ts, slot, ts, slot, (t1, s1, t2, s2) => {
        const byString = timeIndexKey(t1, s1) < timeIndexKey(t2, s2);
        const byValue = t1 < t2 || (t1 === t2 && s1 < s2);
        expect(byString).toBe(byValue);
        // The lower bound of T sorts before every key with maxTs >= T, after every key below it.
        expect(timeIndexKey(t1, s1) >= timeIndexLowerBound(t2)).toBe(t1 >= t2);
      }),
    );
  });
});
