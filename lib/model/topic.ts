/**
 * Topics as every layer sees them (pure values, no imports): the record of a topic, its
 * config's shape, and a partition's identity. Storage decides how they are keyed.
 */

export const CLEANUP_POLICIES = ['delete', 'compact', 'compact,delete'] as const;
export const TIMESTAMP_TYPES = ['CreateTime', 'LogAppendTime'] as const;
export const COMPRESSION_TYPES = ['producer', 'none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

export interface TopicConfig {
  'retention.ms': number;
  'retention.bytes': number;
  'cleanup.policy': (typeof CLEANUP_POLICIES)[number];
  'delete.retention.ms': number;
  'max.message.bytes': number;
  'message.timestamp.type': (typeof TIMESTAMP_TYPES)[number];
  'compression.type': (typeof COMPRESSION_TYPES)[number];
  'min.compaction.lag.ms': number;
  'max.compaction.lag.ms': number;
}

export type TopicConfigKey = keyof TopicConfig;

export interface TopicRecord {
  readonly name: string;
  /** Stable identity: a deleted and re-created topic gets a new one. */
  readonly topicId: string;
  readonly partitions: number;
  readonly config: TopicConfig;
  readonly createdAt: number;
  /** Bumped by every update; the condition of the next one. */
  readonly version: number;
}

/** One partition of one topic incarnation (topicId, not name: a re-created topic starts empty). */
export interface TopicPartition {
  readonly topicId: string;
  readonly partition: number;
}

/** A string for in-memory maps keyed by partition (not a storage key). */
export function tpId(tp: TopicPartition): string {
  return `${tp.topicId}/${tp.partition}`;
}

/** The name two colliding topics share: '.' mapped to '_' (Kafka `Topic.unifyCollisionChars`). */
export function collisionName(name: string): string {
  return name.replaceAll('.', '_');
}
