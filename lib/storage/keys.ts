/**
 * THE key schema: every DynamoDB key and S3 object key Sluice writes is formatted (and parsed)
 * here, nowhere else. Tables are declared in tables.ts.
 *
 * meta table (pk S, sk S; GSI byKind on (kind, pk)):
 *   topic          pk "topic#<collision name>"      sk "topic"      kind "topic"
 *                  The collision name maps '.' to '_', so creating "a.b" while "a_b" exists
 *                  fails the same attribute_not_exists condition as an exact duplicate.
 *   deleted topic  pk "deleted-topic#<topicId>"     sk "topic"      kind "deleted-topic"
 *                  Left by DELETE for maintenance, which removes the topic's index and objects.
 *   group          pk "group#<group>"               sk "group"      kind "group"
 *                  The whole membership state (JSON) + a version: every change is one
 *                  conditional write on the version (the coordinator is DynamoDB itself).
 *   group offset   pk "group#<group>"               sk "offset#<topicId>#<partition>"
 *                  Keyed by topicId: a re-created topic never inherits old commits.
 *   producer       pk "producer#<producerId>"       sk "producer"   (idempotent producer state)
 *   txn id         pk "txn#<transactionalId>"       sk "txn"        → producerId
 *
 * log table (pk S, sk N):
 *   partition      pk "<topicId>#<partition>"       sk -2 (hint), -1 (head), slot >= 0 (entries)
 *                  Keyed by topicId, never by name: a re-created topic starts empty.
 *
 * S3 segment objects:
 *   "seg/<shard>/<yyyymmddHH>/<id>.seg"  shard = the first two hex digits of the random id, so
 *   writes spread over 256 prefixes (S3 scales request rates per prefix); the hour lets
 *   garbage collection list old objects of a shard with StartAfter without reading new ones.
 *
 * Stable: these layouts are persisted. Never change a prefix without a migration.
 */
import { collisionName } from '../model/topic.ts';

export const ITEM_KIND = {
  topic: 'topic',
  deletedTopic: 'deleted-topic',
  group: 'group',
} as const;

export interface MetaKey {
  readonly pk: string;
  readonly sk: string;
}

const TOPIC_PREFIX = 'topic#';
const DELETED_TOPIC_PREFIX = 'deleted-topic#';
const TOPIC_SK = 'topic';

export function topicKey(name: string): MetaKey {
  return { pk: `${TOPIC_PREFIX}${collisionName(name)}`, sk: TOPIC_SK };
}

export function deletedTopicKey(topicId: string): MetaKey {
  return { pk: `${DELETED_TOPIC_PREFIX}${topicId}`, sk: TOPIC_SK };
}

export function parseDeletedTopicKey(pk: string): string | undefined {
  return pk.startsWith(DELETED_TOPIC_PREFIX) ? pk.slice(DELETED_TOPIC_PREFIX.length) : undefined;
}

const GROUP_PREFIX = 'group#';
const GROUP_SK = 'group';
const OFFSET_SK_PREFIX = 'offset#';

export function groupKey(group: string): MetaKey {
  return { pk: `${GROUP_PREFIX}${group}`, sk: GROUP_SK };
}

export function groupOffsetKey(group: string, topicId: string, partition: number): MetaKey {
  return { pk: `${GROUP_PREFIX}${group}`, sk: `${OFFSET_SK_PREFIX}${topicId}#${partition}` };
}

export const GROUP_OFFSET_SK_PREFIX = OFFSET_SK_PREFIX;

export function parseGroupOffsetSk(sk: string): { topicId: string; partition: number } | undefined {
  if (!sk.startsWith(OFFSET_SK_PREFIX)) return undefined;
  return parsePartitionKey(sk.slice(OFFSET_SK_PREFIX.length));
}

export function producerKey(producerId: string): MetaKey {
  return { pk: `producer#${producerId}`, sk: 'producer' };
}

export function transactionalIdKey(transactionalId: string): MetaKey {
  return { pk: `txn#${transactionalId}`, sk: 'txn' };
}

// ---- log table ----------------------------------------------------------------------------

/** Sort key of a partition's head item; entries use their slot number (>= 0). */
export const HEAD_SLOT = -1;
/** Sort key of a partition's hint item (lazily kept summary of the stable prefix). */
export const HINT_SLOT = -2;

export function partitionKey(topicId: string, partition: number): string {
  return `${topicId}#${partition}`;
}

export function parsePartitionKey(pk: string): { topicId: string; partition: number } {
  const hash = pk.lastIndexOf('#');
  const partition = Number(pk.slice(hash + 1));
  if (hash <= 0 || !Number.isInteger(partition) || partition < 0) {
    throw new Error(`not a partition key: ${pk}`);
  }
  return { topicId: pk.slice(0, hash), partition };
}

// ---- S3 -----------------------------------------------------------------------------------

export const SEGMENT_PREFIX = 'seg/';

/** `id` must start with two hex digits (a random UUID does). */
export function segmentObjectKey(id: string, now: number): string {
  const shard = id.slice(0, 2).toLowerCase();
  if (!/^[0-9a-f]{2}$/.test(shard)) throw new Error(`segment id must start with two hex digits: ${id}`);
  const hour = new Date(now).toISOString().slice(0, 13).replace(/[-T]/g, '');
  return `${SEGMENT_PREFIX}${shard}/${hour}/${id}.seg`;
}

export function parseSegmentObjectKey(key: string): { shard: string; hour: string; id: string } | undefined {
  const m = /^seg\/([0-9a-f]{2})\/(\d{10})\/(.+)\.seg$/.exec(key);
  return m ? { shard: m[1]!, hour: m[2]!, id: m[3]! } : undefined;
}
