/**
 * Creates the tables and the bucket for local and test stacks (DynamoDB Local + s3rver, or
 * LocalStack), from the SAME definitions the CDK stack reads (tables.ts), so local and cloud
 * cannot drift.
 *
 * Idempotent and convergent: a missing table is created with all its indexes; an existing
 * table gets the indexes it lacks (one UpdateTable per index, which is all DynamoDB allows at
 * a time), indexes whose keys or projection changed are dropped and re-created (an index is
 * derived data: nothing is lost), and TTL is turned on when off; an existing bucket is left
 * alone. Returns when every table and index is ACTIVE. Items are never touched, and a changed
 * TABLE key schema is refused (that is a migration, not a bootstrap). Extra indexes that are
 * no longer declared are left in place.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type GlobalSecondaryIndexDescription,
  type KeySchemaElement,
  type Projection,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AwsClients } from './clients.ts';
import {
  TABLES,
  type GlobalIndexDefinition,
  type KeyAttribute,
  type ResourceNames,
  type TableDefinition,
} from './tables.ts';

export interface EnsureOptions {
  /** How long to wait for tables and indexes to become ACTIVE. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export async function ensureResources(
  clients: AwsClients,
  names: ResourceNames,
  opts: EnsureOptions = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  await Promise.all([
    ...TABLES.map((table) => ensureTable(clients.dynamo, table, names.tables[table.id], deadline)),
    ensureBucket(clients.s3, names.bucket),
    // Locally the emulator's plain bucket stands in for the hot tier's directory bucket.
    ...(names.expressBucket !== undefined ? [ensureBucket(clients.s3, names.expressBucket)] : []),
  ]);
}

// ---- Definitions → DynamoDB API shapes ------------------------------------------------

export function keySchema(partitionKey: KeyAttribute, sortKey: KeyAttribute | undefined): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

/** Every key attribute of the table and its indexes, once each. */
export function attributeDefinitions(table: TableDefinition): AttributeDefinition[] {
  const byName = new Map<string, KeyAttribute>();
  const keys = [
    table.partitionKey,
    table.sortKey,
    ...table.globalIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  for (const key of keys) {
    if (key === undefined) continue;
    const seen = byName.get(key.name);
    if (seen !== undefined && seen.type !== key.type) {
      throw new Error(`table ${table.id}: attribute ${key.name} declared as ${seen.type} and ${key.type}`);
    }
    byName.set(key.name, key);
  }
  return [...byName.values()].map((key) => ({ AttributeName: key.name, AttributeType: key.type }));
}

export function projection(index: GlobalIndexDefinition): Projection {
  return index.nonKeyAttributes === undefined
    ? { ProjectionType: 'ALL' }
    : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.nonKeyAttributes] };
}

export function globalSecondaryIndex(index: GlobalIndexDefinition): GlobalSecondaryIndex {
  return {
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: projection(index),
  };
}

// ---- Tables ----------------------------------------------------------------------------

async function ensureTable(
  dynamo: DynamoDBClient,
  table: TableDefinition,
  tableName: string,
  deadline: number,
): Promise<void> {
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions(table),
        KeySchema: keySchema(table.partitionKey, table.sortKey),
        ...(table.globalIndexes.length > 0
          ? { GlobalSecondaryIndexes: table.globalIndexes.map(globalSecondaryIndex) }
          : {}),
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
    // Exists (or is being created by a concurrent bootstrap): converge below.
  }
  let description = await waitUntilActive(dynamo, tableName, deadline);
  if (!sameKeys(description.KeySchema, keySchema(table.partitionKey, table.sortKey))) {
    throw new Error(
      `table ${tableName} exists with key schema ${JSON.stringify(description.KeySchema)}, which is not the ` +
        `declared one; that needs a migration (locally: delete the data directory)`,
    );
  }
  for (const index of table.globalIndexes) {
    const existing = description.GlobalSecondaryIndexes?.find((gsi) => gsi.IndexName === index.indexName);
    if (existing !== undefined && indexMatches(existing, index)) continue;
    if (existing !== undefined) {
      // Declared differently now (keys or projection): drop it, then create it below.
      await dynamo.send(
        new UpdateTableCommand({
          TableName: tableName,
          GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: index.indexName } }],
        }),
      );
      description = await waitUntilIndexGone(dynamo, tableName, index.indexName, deadline);
    }
    try {
      await dynamo.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributeDefinitions(table),
          GlobalSecondaryIndexUpdates: [{ Create: globalSecondaryIndex(index) }],
        }),
      );
    } catch (err) {
      // A concurrent bootstrap added it first, or the table is busy with another update.
      if (!(err instanceof ResourceInUseException) && !isIndexExists(err)) throw err;
    }
    description = await waitUntilActive(dynamo, tableName, deadline);
  }
  if (table.timeToLiveAttribute !== undefined) {
    await ensureTimeToLive(dynamo, tableName, table.timeToLiveAttribute);
  }
}

function sameKeys(actual: readonly KeySchemaElement[] | undefined, expected: readonly KeySchemaElement[]): boolean {
  return (
    actual?.length === expected.length &&
    expected.every((key, i) => actual[i]?.AttributeName === key.AttributeName && actual[i]?.KeyType === key.KeyType)
  );
}

/** Same keys and projection as declared (attribute types are checked by DynamoDB itself). */
export function indexMatches(actual: GlobalSecondaryIndexDescription, index: GlobalIndexDefinition): boolean {
  const expected = projection(index);
  const actualNonKey = [...(actual.Projection?.NonKeyAttributes ?? [])].sort();
  const expectedNonKey = [...(expected.NonKeyAttributes ?? [])].sort();
  return (
    sameKeys(actual.KeySchema, keySchema(index.partitionKey, index.sortKey)) &&
    actual.Projection?.ProjectionType === expected.ProjectionType &&
    actualNonKey.length === expectedNonKey.length &&
    actualNonKey.every((name, i) => name === expectedNonKey[i])
  );
}

async function waitUntilIndexGone(
  dynamo: DynamoDBClient,
  tableName: string,
  indexName: string,
  deadline: number,
): Promise<TableDescription> {
  for (;;) {
    const description = await waitUntilActive(dynamo, tableName, deadline, indexName);
    if (!description.GlobalSecondaryIndexes?.some((gsi) => gsi.IndexName === indexName)) return description;
    if (Date.now() > deadline) throw new Error(`index ${indexName} of ${tableName} was not deleted in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isIndexExists(err: unknown): boolean {
  return err instanceof Error && err.name === 'ValidationException' && /already exists/i.test(err.message);
}

/** Polls until the table and all its indexes are ACTIVE; DynamoDB Local is ACTIVE at once. */
async function waitUntilActive(
  dynamo: DynamoDBClient,
  tableName: string,
  deadline: number,
  /** An index being deleted: its DELETING status does not count as "not ready". */
  ignoreIndex?: string,
): Promise<TableDescription> {
  let delay = 50;
  for (;;) {
    try {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
      const ready =
        Table?.TableStatus === 'ACTIVE' &&
        (Table.GlobalSecondaryIndexes ?? []).every(
          (gsi) => gsi.IndexStatus === 'ACTIVE' || gsi.IndexName === ignoreIndex,
        );
      if (ready && Table) return Table;
    } catch (err) {
      // Right after CreateTable, some implementations briefly answer "not found".
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become ACTIVE in time`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5_000);
  }
}

async function ensureTimeToLive(dynamo: DynamoDBClient, tableName: string, attribute: string): Promise<void> {
  const { TimeToLiveDescription: ttl } = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl?.TimeToLiveStatus;
  if ((status === 'ENABLED' || status === 'ENABLING') && ttl?.AttributeName === attribute) return;
  if (status === 'ENABLED' || status === 'ENABLING') {
    throw new Error(
      `table ${tableName}: TTL is on attribute ${ttl?.AttributeName}, expected ${attribute}; change it by hand`,
    );
  }
  await dynamo.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: attribute },
    }),
  );
}

// ---- Bucket ----------------------------------------------------------------------------

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  if (await bucketAccessible(s3, bucket)) return;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'BucketAlreadyOwnedByYou') return;
    // s3rver answers BucketAlreadyExists for our own bucket when a concurrent bootstrap won.
    if (name === 'BucketAlreadyExists' && (await bucketAccessible(s3, bucket))) return;
    throw err;
  }
}

async function bucketAccessible(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (err instanceof Error && err.name === 'NotFound')) return false;
    throw err;
  }
}
