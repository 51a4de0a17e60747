/**
 * Table and bucket definitions, declared ONCE.
 *
 * Both the CDK stack (`infra/`) and the local bootstrap (`lib/storage/bootstrap.ts`) read these
 * plain objects, so local and cloud cannot drift: key schema, index names and keys, TTL
 * attribute names. Item layouts inside the tables are owned by `lib/storage/keys/`.
 *
 * Stable: renaming a table, key attribute or index here is a data migration.
 */

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface GlobalIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Attributes copied into the index besides the keys (INCLUDE projection); ALL when undefined. */
  readonly nonKeyAttributes?: readonly string[];
}

export interface TableDefinition {
  /** Logical id, also the suffix of the physical table name (`<prefix>-<id>`). */
  readonly id: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndexDefinition[];
  /** Attribute holding an epoch-seconds expiry; DynamoDB deletes expired items eventually. */
  readonly timeToLiveAttribute?: string;
}

/** Index names: query by these, never by a position in `globalIndexes`. */
export const META_INDEX = { byKind: 'byKind' } as const;
export const LOG_INDEX = { byOffset: 'byOffset', byTime: 'byTime', byObject: 'byObject' } as const;

/**
 * `meta`: topics, consumer groups (group, members, committed offsets) and producer state.
 * Small, cold items. pk/sk are strings; layouts in keys/.
 * Index `byKind` lists every item of one kind (topics, groups) without a scan.
 */
export const META_TABLE = {
  id: 'meta',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    {
      indexName: META_INDEX.byKind,
      partitionKey: { name: 'kind', type: 'S' },
      sortKey: { name: 'pk', type: 'S' },
    },
  ],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDefinition;

/**
 * `log`: the offset index. One item collection per (topicId, partition):
 *   sk = -2            the hint item (stable prefix, high watermark, log start offset)
 *   sk = -1            the head item (slot and offset counters, the reserve target)
 *   sk = slot >= 0     one slot entry per commit (or hole)
 * Index `byOffset` (sparse: only entries have `base`) finds the slot holding an offset.
 * Index `byTime` (sparse: only stamped stable entries have `tsKey`) finds the first entry
 * whose running max timestamp is >= T; `tsKey` is "<maxTs padded>#<slot padded>" so ties
 * order by slot (a numeric key would leave equal timestamps in undefined order).
 * Index `byObject` (sparse: only data entries have `obj`) tells garbage collection whether
 * any entry references a segment object.
 */
export const LOG_TABLE = {
  id: 'log',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'N' },
  globalIndexes: [
    {
      indexName: LOG_INDEX.byOffset,
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'base', type: 'N' },
      nonKeyAttributes: ['end'],
    },
    {
      indexName: LOG_INDEX.byTime,
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'tsKey', type: 'S' },
      nonKeyAttributes: ['base', 'end'],
    },
    {
      indexName: LOG_INDEX.byObject,
      partitionKey: { name: 'obj', type: 'S' },
      nonKeyAttributes: ['base'],
    },
  ],
} as const satisfies TableDefinition;

export const TABLES = [META_TABLE, LOG_TABLE] as const satisfies readonly TableDefinition[];

export type TableId = (typeof TABLES)[number]['id'];

/** Physical names: one prefix per deployment (stack name, or `sluice` locally). */
export interface ResourceNames {
  readonly tables: Record<TableId, string>;
  /** The segment bucket (S3 Standard): every merged and compacted object, and all of it without a hot tier. */
  readonly bucket: string;
  /**
   * The hot tier: an S3 Express One Zone directory bucket that produce writes new segment
   * objects to (keys under HOT_PREFIX); maintenance moves them into `bucket` minutes later.
   * Absent: produce writes to `bucket`.
   */
  readonly expressBucket?: string | undefined;
}

export function resourceNames(prefix: string, bucket?: string): ResourceNames {
  return {
    tables: { meta: `${prefix}-meta`, log: `${prefix}-log` },
    bucket: bucket ?? `${prefix}-segments`,
  };
}

/** Environment variables through which a Lambda function (or the dev server) learns the names. */
export const RESOURCE_ENV = {
  metaTable: 'SLUICE_META_TABLE',
  logTable: 'SLUICE_LOG_TABLE',
  bucket: 'SLUICE_BUCKET',
} as const;

/** Optional names: the hot tier's directory bucket (writeTier 'express'). */
export const OPTIONAL_RESOURCE_ENV = {
  expressBucket: 'SLUICE_EXPRESS_BUCKET',
} as const;

/** The segment bucket: private, versioning off (objects are immutable), lifecycle for orphans. */
export const SEGMENT_BUCKET = {
  /** Incomplete multipart uploads are aborted after this many days. */
  abortIncompleteMultipartUploadDays: 1,
} as const;
