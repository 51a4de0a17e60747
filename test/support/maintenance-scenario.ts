/**
 * Shared steps of the maintenance tests: a topic filled by many small produce requests, a full
 * read of a partition, describe's sizes, and which objects entries reference.
 */
import { expect } from 'vitest';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { Hono } from 'hono';
import { LOG_INDEX } from '../../lib/storage/tables.ts';
import { call, uniqueName } from './http.ts';
import type { OwnStack } from './own-stack.ts';

/** Merges everything at once: no minimum age, small segments. */
export const FAST = { mergeMinAgeMs: 0, segmentTargetBytes: 64 * 1024 } as const;

export async function topicWithRequests(s: OwnStack, requests: number, perRequest: number, partitions = 1): Promise<string> {
  const name = uniqueName('mnt');
  expect((await call(s.app, 'POST', '/v1/topics', { name, partitions })).status).toBe(201);
  for (let r = 0; r < requests; r++) {
    const records = Array.from({ length: perRequest }, (_, i) => ({ partition: (r + i) % partitions, key: `k${r}-${i}`, value: { r, i, pad: 'x'.repeat(200) } }));
    const res = await call(s.app, 'POST', `/v1/topics/${name}/records`, { records });
    expect(res.status).toBe(200);
  }
  return name;
}

/** Every record of a partition, fetched from offset 0 in answers of at most `maxBytes`. */
export async function readAll(app: Hono, name: string, partition: number, maxBytes = 16384): Promise<unknown[]> {
  const out: unknown[] = [];
  let offset = 0;
  for (;;) {
    const res = await call(app, 'GET', `/v1/topics/${name}/partitions/${partition}/records?offset=${offset}&maxBytes=${maxBytes}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    out.push(...res.body.records);
    if (res.body.nextOffset >= res.body.highWatermark) return out;
    offset = res.body.nextOffset;
  }
}

export interface DescribedPartition {
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly sizeBytes: number;
  readonly segments: number;
}

export async function describeTopic(app: Hono, name: string): Promise<DescribedPartition[]> {
  const res = await call(app, 'GET', `/v1/topics/${name}`);
  expect(res.status).toBe(200);
  return res.body.partitions as DescribedPartition[];
}

/** Is `object` referenced by an entry (the byObject index, as GC asks it)? */
export async function referenced(s: OwnStack, object: string): Promise<boolean> {
  const out = await s.deps.clients.dynamo.send(
    new QueryCommand({ TableName: s.deps.names.tables.log, IndexName: LOG_INDEX.byObject, KeyConditionExpression: 'obj = :o', ExpressionAttributeValues: { ':o': { S: object } }, Limit: 1 }),
  );
  return (out.Items?.length ?? 0) > 0;
}

/** Every object an entry references exists, and (past the grace, after GC) nothing else does. */
export async function expectOnlyReferencedObjects(s: OwnStack): Promise<void> {
  const objects = await s.objects();
  for (const o of objects) expect(await referenced(s, o.key), `${o.key} is left unreferenced`).toBe(true);
}
