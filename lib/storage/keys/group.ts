/**
 * Consumer group items of the meta table:
 *   group          pk "group#<group>"               sk "group"      kind "group"
 *                  The whole membership state (JSON) + a version: every change is one
 *                  conditional write on the version (the coordinator is DynamoDB itself).
 *   group offset   pk "group#<group>"               sk "offset#<topicId>#<partition>"
 *                  Keyed by topicId: a re-created topic never inherits old commits.
 */
import type { MetaKey } from './meta-item.ts';
import { parsePartitionKey } from './partition.ts';

const GROUP_PREFIX = 'group#';
const GROUP_SK = 'group';
const OFFSET_SK_PREFIX = 'offset#';

/** Begins every offset item's sk: a Query with begins_with lists a group's offsets. */
export const GROUP_OFFSET_SK_PREFIX = OFFSET_SK_PREFIX;

export function groupKey(group: string): MetaKey {
  return { pk: `${GROUP_PREFIX}${group}`, sk: GROUP_SK };
}

export function parseGroupPk(pk: string): string | undefined {
  return pk.startsWith(GROUP_PREFIX) ? pk.slice(GROUP_PREFIX.length) : undefined;
}

export function groupOffsetKey(group: string, topicId: string, partition: number): MetaKey {
  return { pk: `${GROUP_PREFIX}${group}`, sk: `${OFFSET_SK_PREFIX}${topicId}#${partition}` };
}

/**
 * Begins the sk of every offset of one topic incarnation (`offset#<topicId>#`). Topic ids may
 * contain '#', so a begins_with on it also matches a topic whose id extends this one past a
 * '#': keep only the items whose parseGroupOffsetSk gives this topicId back.
 */
export function groupOffsetTopicPrefix(topicId: string): string {
  return `${OFFSET_SK_PREFIX}${topicId}#`;
}

export function parseGroupOffsetSk(sk: string): { topicId: string; partition: number } | undefined {
  if (!sk.startsWith(OFFSET_SK_PREFIX)) return undefined;
  try {
    return parsePartitionKey(sk.slice(OFFSET_SK_PREFIX.length));
  } catch {
    return undefined;
  }
}
