/**
 * Topic items of the meta table:
 *   topic          pk "topic#<collision name>"      sk "topic"      kind "topic"
 *                  The collision name maps '.' to '_', so creating "a.b" while "a_b" exists
 *                  fails the same attribute_not_exists condition as an exact duplicate.
 *   deleted topic  pk "deleted-topic#<topicId>"     sk "topic"      kind "deleted-topic"
 *                  Left by DELETE for maintenance, which removes the topic's index and objects.
 */
import { collisionName } from '../../model/topic.ts';
import type { MetaKey } from './meta-item.ts';

const TOPIC_PREFIX = 'topic#';
const DELETED_TOPIC_PREFIX = 'deleted-topic#';
const TOPIC_SK = 'topic';

export function topicKey(name: string): MetaKey {
  return { pk: `${TOPIC_PREFIX}${collisionName(name)}`, sk: TOPIC_SK };
}

/** The collision name a topic key was made from (the name itself is an attribute of the item). */
export function parseTopicKey(key: MetaKey): string | undefined {
  return key.sk === TOPIC_SK && key.pk.startsWith(TOPIC_PREFIX) ? key.pk.slice(TOPIC_PREFIX.length) : undefined;
}

export function deletedTopicKey(topicId: string): MetaKey {
  return { pk: `${DELETED_TOPIC_PREFIX}${topicId}`, sk: TOPIC_SK };
}

export function parseDeletedTopicKey(pk: string): string | undefined {
  return pk.startsWith(DELETED_TOPIC_PREFIX) ? pk.slice(DELETED_TOPIC_PREFIX.length) : undefined;
}
