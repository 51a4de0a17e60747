/**
 * Maintenance against the emulators (lib/maintenance): merge, garbage collection, index
 * upkeep and describe's sizes, each checked by what a reader sees. Every test has its own
 * tables and bucket (own-stack.ts): the collector sweeps a whole bucket.
 */
import { STREAM_SWEEP_INTERVAL_MS } from '../../lib/maintenance/maintenance.ts';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { FETCH_DEFAULTS, MAINTENANCE_DEFAULTS } from '../../lib/config.ts';
import { decodeSegmentFooter } from '../../lib/codec/segment.ts';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { call, uniqueName } from '../support/http.ts';
import { countCalls, crash, failCalls, sleep } from '../support/faults.ts';
import { createApp } from '../../lib/api/app.ts';
import { createServices } from '../../lib/services.ts';
import { scheduledMaintenanceHandler } from '../../lib/maintenance/scheduled.ts';
import { FAST, describeTopic as describeIn, expectOnlyReferencedObjects, readAll as readAllIn, topicWithRequests } from '../support/maintenance-scenario.ts';
import { QueryCommand } from '@aws-sdk/client-dynamodb';

const readAll = (s: OwnStack, name: string, p: number) => readAllIn(s.app, name, p);
const describeTopic = (s: OwnStack, name: string) => describeIn(s.app, name);
import { ownStacks, type OwnStack } from '../support/own-stack.ts';

/** Own stacks, disposed after each test. */
const stack = ownStacks();

describe('maintenance: merge and garbage collection', () => {
  it('merges a partition into few per-partition segments; readers see the same records; GC leaves only the merged objects', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 60, 10);
    const before = await readAll(s, name, 0);
    const [described] = await describeTopic(s, name);
    expect(described).toMatchObject({ highWatermark: 600, segments: 60 });
    const produced = await s.objects();
    expect(produced).toHaveLength(60);

    const m = s.maintenance(FAST);
    const reports = await m.maintenance.runUntilIdle();
    const merges = reports.flatMap((r) => r.passes.flatMap((p) => p.merges));
    expect(merges.length).toBeGreaterThan(0);
    expect(merges.every((x) => x.kind === 'merged' && x.lost === 0)).toBe(true);

    const [after] = await describeTopic(s, name);
    expect(after!.highWatermark).toBe(600);
    expect(after!.sizeBytes).toBe(described!.sizeBytes);
    expect(after!.segments).toBeLessThanOrEqual(Math.ceil(described!.sizeBytes / FAST.segmentTargetBytes) + 1);
    expect(await readAll(s, name, 0)).toEqual(before);

    // Within the grace nothing is deleted; past it only the merged objects are left.
    expect(await s.objects()).toHaveLength(60 + merges.length);
    s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 1);
    await m.maintenance.runUntilIdle();
    const left = await s.objects();
    expect(left.length).toBe(after!.segments);
    expect(new Set(left.map((o) => o.key))).toEqual(new Set(merges.map((x) => (x.kind === 'merged' ? x.object : ''))));
    expect(await readAll(s, name, 0)).toEqual(before);
    m.dispose();
  });

  it('writes self-describing segments: the footer names topic id, partition and each chunk offsets', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 12, 5);
    const topicId = (await call(s.app, 'GET', `/v1/topics/${name}`)).body.topicId as string;
    const m = s.maintenance({ ...FAST, segmentTargetBytes: 1024 * 1024 });
    const reports = await m.maintenance.runUntilIdle();
    const merged = reports.flatMap((r) => r.passes.flatMap((p) => p.merges)).filter((x) => x.kind === 'merged');
    expect(merged).toHaveLength(1);
    const object = merged[0]!.kind === 'merged' ? merged[0]!.object : '';
    const out = await s.deps.clients.s3.send(new GetObjectCommand({ Bucket: s.deps.names.bucket, Key: object }));
    const bytes = await out.Body!.transformToByteArray();
    const footer = decodeSegmentFooter(bytes);
    if (!footer.complete) throw new Error('footer incomplete');
    expect(footer.footer.version).toBe(2);
    expect(footer.footer.chunks.map((c) => [c.topicId, c.partition, c.baseOffset, c.endOffset])).toEqual(
      Array.from({ length: 12 }, (_, i) => [topicId, 0, i * 5, i * 5 + 5]),
    );
    m.dispose();
  });
});

describe('maintenance: topic deletion', () => {
  it('returns a deleted topic\'s objects and index items to zero within a few ticks; a re-created topic is untouched', async () => {
    const s = await stack();
    const doomed = await topicWithRequests(s, 12, 6, 3);
    const kept = await topicWithRequests(s, 5, 4, 2);
    const doomedId = (await call(s.app, 'GET', `/v1/topics/${doomed}`)).body.topicId as string;
    const keptRecords = [await readAll(s, kept, 0), await readAll(s, kept, 1)];
    expect((await call(s.app, 'DELETE', `/v1/topics/${doomed}`)).status).toBe(204);
    // Re-created at once under the same name: a new incarnation (topic id).
    expect((await call(s.app, 'POST', '/v1/topics', { name: doomed, partitions: 3 })).status).toBe(201);
    expect((await call(s.app, 'POST', `/v1/topics/${doomed}/records`, { records: [{ partition: 1, value: 'new' }] })).status).toBe(200);

    const m = s.maintenance(FAST);
    s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 1);
    const reports = await m.maintenance.runUntilIdle({}, { maxTicks: 10 });
    expect(reports.length).toBeLessThanOrEqual(10);
    expect(reports.at(-1)!.more).toBe(false);
    m.dispose();

    // Index items of the old incarnation: none (every partition's collection is empty).
    for (let p = 0; p < 3; p++) {
      const items = await s.deps.clients.dynamo.send(
        new QueryCommand({ TableName: s.deps.names.tables.log, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `${doomedId}#${p}` } }, ConsistentRead: true }),
      );
      expect(items.Count).toBe(0);
    }
    // Its objects: none left. The other topic's (merged) and the new incarnation's remain.
    const left = await s.objects();
    const keptDescribed = await describeTopic(s, kept);
    const newDescribed = await describeTopic(s, doomed);
    expect(left.length).toBe([...keptDescribed, ...newDescribed].reduce((n, p) => n + p.segments, 0));
    await expectOnlyReferencedObjects(s);
    // The marker is forgotten, the kept topic reads the same, the new one holds only its record.
    expect(reports.flatMap((r) => r.deletion?.topics ?? []).some((t) => t.topicId === doomedId && t.finished)).toBe(true);
    expect([await readAll(s, kept, 0), await readAll(s, kept, 1)]).toEqual(keptRecords);
    expect(newDescribed.map((p) => p.highWatermark)).toEqual([0, 1, 0]);
    expect(((await readAll(s, doomed, 1)) as { value: string }[]).map((r) => r.value)).toEqual(['new']);
  });
});

describe('maintenance: what a cold reader pays', () => {
  it('a cold fetch of a merged partition costs at most 1.2 S3 GETs per MiB (before: one per produced object)', async () => {
    const s = await stack();
    const name = uniqueName('cold');
    expect((await call(s.app, 'POST', '/v1/topics', { name, partitions: 1 })).status).toBe(201);
    // 1 KB values of random base64 text: batches store them at about 3/4 of their size.
    for (let r = 0; r < 200; r++) {
      const res = await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: Array.from({ length: 20 }, () => ({ value: randomBytes(750).toString('base64') })) });
      expect(res.status).toBe(200);
    }
    const coldGetsPerMiB = async () => {
      const app = createApp(s.deps, createServices(s.deps)); // empty caches
      const gets = countCalls(s.deps.clients.s3);
      const records = await readAllIn(app, name, 0, FETCH_DEFAULTS.maxBytes);
      const perMiB = gets.count('GetObjectCommand') / ((await describeIn(app, name))[0]!.sizeBytes / 2 ** 20);
      gets.remove();
      return { perMiB, records };
    };
    const before = await coldGetsPerMiB();
    expect(before.perMiB).toBeGreaterThan(40);
    const m = s.maintenance({ mergeMinAgeMs: 0 }); // the default 64 MiB target
    await m.maintenance.runUntilIdle();
    m.dispose();
    expect((await describeTopic(s, name))[0]!.segments).toBe(1);
    const after = await coldGetsPerMiB();
    expect(after.records).toEqual(before.records);
    expect(after.perMiB).toBeLessThanOrEqual(1.2);
  });
});

describe('maintenance: what a quiet deployment pays', () => {
  const isReferenceCheck = (c: { commandName: string; input: { IndexName?: string } }) => c.commandName === 'QueryCommand' && c.input.IndexName === 'byObject';

  it('lists the bucket once an hour when nothing changes, and then checks only objects new since the last sweep; a crashed producer\'s orphan is collected', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 10, 5);
    // A short grace in real time: S3 stamps objects with the real clock, and this test compares
    // the ages of objects written before and after a sweep.
    const m = s.maintenance({ ...FAST, gcGraceMs: 1_000, gcSettleMs: 200, gcSweepIntervalMs: 0 });
    await m.maintenance.runUntilIdle();
    await sleep(1_500);
    await m.maintenance.runUntilIdle(); // the full sweep after the merge: the old objects go
    const merged = await s.objects();
    expect(merged.length).toBe((await describeTopic(s, name))[0]!.segments);

    // Quiet: an hour of ticks (one a minute) reads state only; no LIST, no reference check.
    const dynamo = countCalls(m.deps.clients.dynamo);
    const s3 = countCalls(m.deps.clients.s3);
    for (let minute = 0; minute < 59; minute++) {
      s.clock.advance(60_000);
      await m.maintenance.tick();
    }
    expect(s3.total()).toBe(0);
    expect(dynamo.calls().filter(isReferenceCheck)).toHaveLength(0);
    // Each tick: the deleted-topic markers, the topic list, one BatchGetItem of states, the sweep item;
    // every STREAM_SWEEP_INTERVAL_MS the Durable Streams sweep (a byKind query and the topic list).
    const streamSweeps = Math.floor((59 * 60_000) / STREAM_SWEEP_INTERVAL_MS);
    expect(streamSweeps).toBe(3);
    expect(dynamo.counts()).toEqual({ QueryCommand: 59 * 2 + streamSweeps * 2, BatchGetItemCommand: 59, GetItemCommand: 59 });

    // A producer crashes between its PUT and its publish: an orphan.
    const fault = failCalls(s.deps.clients.dynamo, { command: 'UpdateItemCommand' }, crash, { times: 1 }); // the slot reserve, after the PUT
    expect((await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ value: 'lost' }] })).status).toBe(500);
    fault.remove();
    const orphan = (await s.objects()).find((o) => !merged.some((m2) => m2.key === o.key))!;
    expect(orphan).toBeDefined();

    // The hourly sweep lists the bucket but asks the index only about new objects.
    s.clock.advance(60_000);
    dynamo.reset();
    s3.reset();
    const report = await m.maintenance.tick();
    expect(report.gc?.sweep).toBe('new-objects');
    expect(s3.count('ListObjectsV2Command')).toBe(1);
    expect(dynamo.calls().filter(isReferenceCheck).map((c) => c.input.ExpressionAttributeValues[':o'].S)).toEqual([orphan.key]);
    expect(report.gc?.deleted).toEqual([orphan.key]);
    expect((await s.objects()).map((o) => o.key).sort()).toEqual(merged.map((o) => o.key).sort());
    dynamo.remove();
    s3.remove();
    m.dispose();
  });
});

describe('the scheduled function', () => {
  it('runs one pass within its time, merges, and logs one line with the counts; near its timeout it starts nothing', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 10, 3);
    const lines: string[] = [];
    const handler = scheduledMaintenanceHandler(s.deps, { SLUICE_MERGE_MIN_AGE_MS: '0' }, (l) => lines.push(l));
    const late = await handler({}, { getRemainingTimeInMillis: () => 10_000 });
    expect(late).toMatchObject({ ticks: 0, merges: 0 });
    expect((await describeTopic(s, name))[0]!.segments).toBe(10);
    const summary = await handler({}, { getRemainingTimeInMillis: () => 300_000 });
    expect(summary).toMatchObject({ merges: 1, entriesMerged: 10, more: false });
    expect((await describeTopic(s, name))[0]!.segments).toBe(1);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 'info', msg: 'maintenance run', ticks: 0 }),
      expect.objectContaining({ level: 'info', msg: 'maintenance run', merges: 1, entriesMerged: 10 }),
    ]);
  });
});

describe('maintenance: partitions of tiny entries', () => {
  it('keeps merging when half a target is more entries than a pass reads, and goes idle', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 60, 1);
    const before = await readAll(s, name, 0);
    const m = s.maintenance({ ...FAST, maxWindowEntries: 20 });
    const reports = await m.maintenance.runUntilIdle({}, { maxTicks: 200 });
    expect(reports.length).toBeLessThan(200);
    expect(reports.at(-1)!.more).toBe(false);
    // Objects of 4 entries are settled (a fifth of the window): about 60 / 4 segments, not 41.
    const [p] = await describeTopic(s, name);
    expect(p!.segments).toBeLessThanOrEqual(20);
    expect(await readAll(s, name, 0)).toEqual(before);
    // Idle now: another run finds nothing to do.
    const again = await m.maintenance.runUntilIdle({}, { maxTicks: 5 });
    expect(again.flatMap((r) => r.passes)).toEqual([]);
    m.dispose();
  });
});
