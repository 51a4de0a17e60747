import { randomBytes } from 'node:crypto';
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureResources } from '../../lib/storage/bootstrap.ts';
import {
  LOG_TABLE,
  META_TABLE,
  TABLES,
  resourceNames,
  type GlobalIndexDefinition,
  type TableDefinition,
  type TableId,
  LOG_INDEX,
} from '../../lib/storage/tables.ts';
import { stackDeps } from '../support/stack.ts';

describe('ensureResources', () => {
  const { clients } = stackDeps();
  // Own names: the shared stack's tables are in use by other files running in parallel.
  const names = resourceNames(`boot-${randomBytes(4).toString('hex')}`);

  afterAll(async () => {
    await Promise.all(
      Object.values(names.tables).map((TableName) =>
        clients.dynamo.send(new DeleteTableCommand({ TableName })).catch(() => undefined),
      ),
    );
  });

  const describeTable = async (name: string) =>
    (await clients.dynamo.send(new DescribeTableCommand({ TableName: name }))).Table;

  it('creates every table ACTIVE with the declared keys, indexes and projections', async () => {
    await ensureResources(clients, names);
    for (const def of TABLES as readonly TableDefinition[]) {
      const table = await describeTable(names.tables[def.id as TableId]);
      expect(table?.TableStatus).toBe('ACTIVE');
      expect(table?.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST').toBe('PAY_PER_REQUEST');
      expect(table?.KeySchema?.[0]).toEqual({ AttributeName: def.partitionKey.name, KeyType: 'HASH' });
      const indexes = new Map((table?.GlobalSecondaryIndexes ?? []).map((gsi) => [gsi.IndexName, gsi]));
      expect([...indexes.keys()].sort()).toEqual(def.globalIndexes.map((i) => i.indexName).sort());
      for (const index of def.globalIndexes as readonly GlobalIndexDefinition[]) {
        const gsi = indexes.get(index.indexName);
        expect(gsi?.IndexStatus).toBe('ACTIVE');
        expect(gsi?.KeySchema?.map((k) => k.AttributeName)).toEqual(
          [index.partitionKey.name, index.sortKey?.name].filter(Boolean),
        );
        if (index.nonKeyAttributes === undefined) {
          expect(gsi?.Projection?.ProjectionType).toBe('ALL');
        } else {
          expect(gsi?.Projection?.ProjectionType).toBe('INCLUDE');
          expect([...(gsi?.Projection?.NonKeyAttributes ?? [])].sort()).toEqual([...index.nonKeyAttributes].sort());
        }
      }
    }
  });

  it('enables TTL on the declared attribute', async () => {
    const { TimeToLiveDescription } = await clients.dynamo.send(
      new DescribeTimeToLiveCommand({ TableName: names.tables.meta }),
    );
    expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('ENABLED');
    expect(TimeToLiveDescription?.AttributeName).toBe(META_TABLE.timeToLiveAttribute);
  });

  it('creates the bucket', async () => {
    await expect(clients.s3.send(new HeadBucketCommand({ Bucket: names.bucket }))).resolves.toBeDefined();
  });

  it('is idempotent, also when run concurrently', async () => {
    await Promise.all([ensureResources(clients, names), ensureResources(clients, names)]);
    await ensureResources(clients, names);
    const table = await describeTable(names.tables.log);
    expect(table?.GlobalSecondaryIndexes).toHaveLength(LOG_TABLE.globalIndexes.length);
  });

  it('adds an index missing from an existing table', async () => {
    const missing = LOG_INDEX.byTime;
    await clients.dynamo.send(
      new UpdateTableCommand({
        TableName: names.tables.log,
        GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: missing } }],
      }),
    );
    // DynamoDB Local drops an index asynchronously: under a loaded suite that takes seconds.
    await expect.poll(async () => (await describeTable(names.tables.log))?.GlobalSecondaryIndexes?.length, { timeout: 20_000 }).toBe(
      LOG_TABLE.globalIndexes.length - 1,
    );
    await ensureResources(clients, names);
    const table = await describeTable(names.tables.log);
    const gsi = table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === missing);
    expect(gsi?.IndexStatus).toBe('ACTIVE');
  });

  it('re-creates an index whose declared keys or projection changed', async () => {
    const index = LOG_TABLE.globalIndexes.find((i) => i.indexName === LOG_INDEX.byOffset)!;
    // Simulate an older declaration: same name, ALL projection instead of INCLUDE.
    await clients.dynamo.send(
      new UpdateTableCommand({
        TableName: names.tables.log,
        GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: index.indexName } }],
      }),
    );
    await expect
      .poll(async () => (await describeTable(names.tables.log))?.GlobalSecondaryIndexes?.some((i) => i.IndexName === index.indexName), { timeout: 20_000 })
      .toBe(false);
    await clients.dynamo.send(
      new UpdateTableCommand({
        TableName: names.tables.log,
        AttributeDefinitions: [
          { AttributeName: index.partitionKey.name, AttributeType: index.partitionKey.type },
          { AttributeName: index.sortKey.name, AttributeType: index.sortKey.type },
        ],
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: index.indexName,
              KeySchema: [
                { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
                { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          },
        ],
      }),
    );
    await ensureResources(clients, names);
    const gsi = (await describeTable(names.tables.log))?.GlobalSecondaryIndexes?.find(
      (i) => i.IndexName === index.indexName,
    );
    expect(gsi?.IndexStatus).toBe('ACTIVE');
    expect(gsi?.Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.nonKeyAttributes] });
  });
});
