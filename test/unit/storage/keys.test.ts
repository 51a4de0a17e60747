import { describe, expect, it } from 'vitest';
import { parsePartitionKey, partitionKey } from '../../../lib/storage/keys/partition.ts';
import { deletedTopicKey, parseDeletedTopicKey, topicKey } from '../../../lib/storage/keys/topic.ts';

describe('key schema', () => {
  it('keys colliding topic names to the same item', () => {
    expect(topicKey('a.b')).toEqual(topicKey('a_b'));
    expect(topicKey('a-b')).not.toEqual(topicKey('a_b'));
  });

  it('round-trips partition keys, including topic ids with separators', () => {
    for (const [id, p] of [['0b6c0a3e-1', 0], ['x#y', 12], ['t', 9999]] as const) {
      expect(parsePartitionKey(partitionKey(id, p))).toEqual({ topicId: id, partition: p });
    }
    expect(() => parsePartitionKey('nohash')).toThrow();
    expect(() => parsePartitionKey('id#-1')).toThrow();
  });

  it('round-trips deleted-topic markers', () => {
    expect(parseDeletedTopicKey(deletedTopicKey('abc').pk)).toBe('abc');
    expect(parseDeletedTopicKey(topicKey('abc').pk)).toBeUndefined();
  });
});
