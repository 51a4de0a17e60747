/**
 * Keys of the meta table (pk S, sk S) and the `kind` values its byKind index lists by.
 * Stable: persisted values, never rename one.
 */
export interface MetaKey {
  readonly pk: string;
  readonly sk: string;
}

export const ITEM_KIND = {
  topic: 'topic',
  deletedTopic: 'deleted-topic',
  group: 'group',
  /** A Durable Streams stream's state (a producer item with an attachment, lib/ds). */
  dsStream: 'ds-stream',
} as const;
