/**
 * Retention by time and size on the emulators (lib/maintenance/retention.ts, rule
 * retention-plan.ts): the log start offset moves, old records answer 416 with both bounds,
 * newer ones stay readable, describe and offsets agree, and the bucket shrinks after GC.
 * Crashes between the steps lose nothing kept and bring nothing back.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAINTENANCE_DEFAULTS } from '../../lib/config.ts';
import { crash, failCalls, runThenThrow } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';
import { FAST, describeTopic, expectOnlyReferencedObjects, readAll } from '../support/maintenance-scenario.ts';
import { ownStacks, type OwnStack } from '../support/own-stack.ts';

/** Own stacks, disposed after each test. */
const stack = ownStacks();

const GRACE = MAINTENANCE_DEFAULTS.gcGraceMs;
/** No merging in these tests unless asked: retention alone. */
const NO_MERGE = { mergeMinAgeMs: 24 * 3600 * 1000 };

async function topic(s: OwnStack, config: Record<string, unknown>, partitions = 1): Promise<{ name: string; topicId: string }> {
  const name = uniqueName('ret');
  const res = await call(s.app, 'POST', '/v1/topics', { name, partitions, config });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { name, topicId: res.body.topicId };
}

/** One request per timestamp list; values of random text (they do not compress away). */
async function produce(s: OwnStack, name: string, batches: number[][]): Promise<void> {
  for (const ts of batches) {
    const res = await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: ts.map((timestamp) => ({ value: randomBytes(600).toString('base64'), timestamp })) });
    expect(res.status).toBe(200);
  }
}

async function expectStart(s: OwnStack, name: string, start: number, hwm: number): Promise<void> {
  const below = await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=${Math.max(0, start - 1)}`);
  if (start > 0) {
    expect(below.status).toBe(416);
    expect(below.body.error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', logStartOffset: start, highWatermark: hwm });
  }
  expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=earliest`)).body.offset).toBe(start);
  expect((await describeTopic(s.app, name))[0]).toMatchObject({ logStartOffset: start, highWatermark: hwm });
  const earliest = await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=earliest&maxRecords=1`);
  if (start < hwm) expect(earliest.body.records[0].offset).toBe(start);
}

describe('retention by time', () => {
  it('drops entries whose newest record is older than retention.ms; newer ones stay; GC takes their objects', async () => {
    const s = await stack();
    const { name } = await topic(s, { 'retention.ms': 60_000 });
    const now = s.clock.now();
    // Entries 0-2 are old; entry 3 holds one old and one new record (judged by its newest).
    await produce(s, name, [[now - 300_000, now - 200_000], [now - 120_000], [now - 90_000], [now - 400_000, now], [now]]);
    const all = (await readAll(s.app, name, 0)) as { offset: number }[];
    expect(all).toHaveLength(7);
    const before = (await describeTopic(s.app, name))[0]!;

    const m = s.maintenance(NO_MERGE);
    const reports = await m.maintenance.runUntilIdle();
    expect(reports.flatMap((r) => r.passes.map((p) => p.retention?.plan?.reason))).toContain('time');
    // Offsets 0-3 (entries 0-2) are gone; entry 3 (4-5) stays for its new record.
    await expectStart(s, name, 4, 7);
    const after = await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=4`);
    expect(after.body.records.map((r: { offset: number }) => r.offset)).toEqual([4, 5, 6]);
    expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/offsets?at=0`)).body.offset).toBe(4);
    // Describe counts only what a reader can see.
    const described = (await describeTopic(s.app, name))[0]!;
    expect(described.sizeBytes).toBeLessThan(before.sizeBytes);
    expect(described.segments).toBe(2);

    // Past the grace the emptied entries' objects go; the kept ones stay.
    expect((await s.objects()).length).toBe(5);
    s.clock.advance(GRACE + 2 * MAINTENANCE_DEFAULTS.gcSettleMs);
    await m.maintenance.runUntilIdle();
    // Time moved on 15 min: now everything is past retention.ms (60 s), so all of it goes.
    await expectStart(s, name, 7, 7);
    s.clock.advance(GRACE + 2 * MAINTENANCE_DEFAULTS.gcSettleMs);
    await m.maintenance.runUntilIdle();
    expect(await s.objects()).toEqual([]);
    expect((await describeTopic(s.app, name))[0]).toMatchObject({ sizeBytes: 0, segments: 0 });
    // The log goes on from its high watermark.
    await produce(s, name, [[s.clock.now()]]);
    expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=earliest`)).body.records.map((r: { offset: number }) => r.offset)).toEqual([7]);
    m.dispose();
  });

  it('a quiet partition is looked at again when its oldest entry expires', async () => {
    const s = await stack();
    const { name } = await topic(s, { 'retention.ms': 600_000 });
    const now = s.clock.now();
    await produce(s, name, [[now - 1000], [now + 60_000]]);
    const m = s.maintenance(NO_MERGE);
    await m.maintenance.runUntilIdle();
    await expectStart(s, name, 0, 2);
    // The oldest entry (newest record now - 1 s) expires 599 s from now.
    s.clock.advance(598_000);
    const quiet = await m.maintenance.runUntilIdle();
    expect(quiet.flatMap((r) => r.passes)).toEqual([]); // nothing due yet: no pass at all
    s.clock.advance(2_000);
    await m.maintenance.runUntilIdle();
    await expectStart(s, name, 1, 2);
    m.dispose();
  });
});

describe('retention by size', () => {
  it("keeps Kafka's rule: drops the oldest while size minus it stays at or above retention.bytes, never the newest", async () => {
    const s = await stack();
    const { name, topicId } = await topic(s, { 'retention.bytes': 3_000 });
    const now = s.clock.now();
    await produce(s, name, Array.from({ length: 8 }, () => [now]));
    const m = s.maintenance(NO_MERGE);
    // Kafka's rule on the stored sizes of the entries, worked out here independently.
    const lengths = (await s.services.index.entries({ topicId, partition: 0 }, 0, 8, 8)).map((e) => e.length!);
    let size = lengths.reduce((a, b) => a + b, 0);
    let expected = 0;
    while (expected < lengths.length - 1 && size - lengths[expected]! >= 3_000) size -= lengths[expected++]!;
    expect(expected).toBeGreaterThan(2);
    expect(expected).toBeLessThan(7);
    await m.maintenance.runUntilIdle();
    const [p] = await describeTopic(s.app, name);
    expect(p!.logStartOffset).toBe(expected);
    expect(p!.sizeBytes).toBe(size);
    expect(p!.sizeBytes).toBeGreaterThanOrEqual(3_000);
    await expectStart(s, name, expected, 8);
    // retention.bytes 0 still keeps the newest entry.
    expect((await call(s.app, 'PATCH', `/v1/topics/${name}`, { config: { 'retention.bytes': 0 } })).status).toBe(200);
    // No new records: the changed config alone brings the partition its pass.
    await m.maintenance.runUntilIdle();
    await expectStart(s, name, 7, 8);
    m.dispose();
  });
});

describe('retention crashes', () => {
  it('a crash after the start moved and before the entries were emptied: nothing kept is lost, the next pass empties them', async () => {
    const s = await stack();
    const { name } = await topic(s, { 'retention.ms': 1_000 });
    const now = s.clock.now();
    await produce(s, name, [[now - 10_000], [now - 10_000], [now + 3_600_000]]); // the last stays an hour
    const m = s.maintenance(NO_MERGE);
    const fault = failCalls(m.deps.clients.dynamo, { command: 'TransactWriteItemsCommand' }, crash, { times: 1 });
    await expect(m.maintenance.tick()).rejects.toThrow(/simulated crash/);
    expect(fault.fired).toBe(1);
    fault.remove();
    await expectStart(s, name, 2, 3);
    expect((await describeTopic(s.app, name))[0]!.segments).toBe(3); // not emptied yet
    await m.maintenance.runUntilIdle();
    await expectStart(s, name, 2, 3);
    expect((await describeTopic(s.app, name))[0]!.segments).toBe(1);
    s.clock.advance(GRACE + 2 * MAINTENANCE_DEFAULTS.gcSettleMs);
    await m.maintenance.runUntilIdle();
    await expectOnlyReferencedObjects(s);
    expect(await s.objects()).toHaveLength(1);
    const kept = await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=2`);
    expect(kept.body.records).toHaveLength(1);
    m.dispose();
  });

  it('a crash between emptying chunks on a summarised, merged partition: the emptied stay emptied, the rest follow, describe stays exact', async () => {
    const s = await stack();
    const { name, topicId } = await topic(s, { 'retention.ms': -1 });
    const now = s.clock.now();
    await produce(s, name, [...Array.from({ length: 150 }, () => [now - 10_000]), [now + 3_600_000]]);
    // Merged and summarised first: the emptying then takes real bytes and objects off the summary.
    const m = s.maintenance({ ...FAST, segmentTargetBytes: 24 * 1024 });
    await m.maintenance.runUntilIdle();
    const merged = (await describeTopic(s.app, name))[0]!;
    expect(merged.segments).toBeLessThan(50);
    expect((await call(s.app, 'PATCH', `/v1/topics/${name}`, { config: { 'retention.ms': 1_000 } })).status).toBe(200);
    let transactions = 0;
    const fault = runThenThrow(m.deps.clients.dynamo, { command: 'TransactWriteItemsCommand', where: (input) => JSON.stringify(input).includes('"cleared"') && ++transactions === 1 }, crash);
    await expect(m.maintenance.tick()).rejects.toThrow(/simulated crash/);
    expect(fault.fired).toBe(1);
    fault.remove();
    await expectStart(s, name, 150, 151);
    await m.maintenance.runUntilIdle();
    await expectStart(s, name, 150, 151);
    const one = await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=150`);
    expect(one.body.records).toHaveLength(1);
    // Describe equals what the index holds: the kept entries' bytes and distinct objects.
    const entries = await s.services.index.entries({ topicId, partition: 0 }, 0, 151, 151);
    const data = entries.filter((e) => !e.hole);
    expect(data.map((e) => e.slot)).toEqual([150]);
    expect((await describeTopic(s.app, name))[0]).toMatchObject({ sizeBytes: data[0]!.length, segments: 1 });
    m.dispose();
  });

  it('two runners retaining at once: describe stays exact and nothing kept is lost', async () => {
    const s = await stack();
    const { name, topicId } = await topic(s, { 'retention.ms': -1 });
    const now = s.clock.now();
    await produce(s, name, [...Array.from({ length: 120 }, () => [now - 10_000]), ...Array.from({ length: 10 }, () => [now + 3_600_000])]);
    const a = s.maintenance({ ...FAST, segmentTargetBytes: 16 * 1024 });
    const b = s.maintenance({ ...FAST, segmentTargetBytes: 16 * 1024 });
    await a.maintenance.runUntilIdle();
    const keptBefore = (await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=120&maxRecords=100`)).body.records;
    expect(keptBefore).toHaveLength(10);
    expect((await call(s.app, 'PATCH', `/v1/topics/${name}`, { config: { 'retention.ms': 1_000 } })).status).toBe(200);
    await Promise.all([a.maintenance.runUntilIdle(), b.maintenance.runUntilIdle()]);
    await a.maintenance.runUntilIdle();
    await expectStart(s, name, 120, 130);
    expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=120&maxRecords=100`)).body.records).toEqual(keptBefore);
    const data = (await s.services.index.entries({ topicId, partition: 0 }, 0, 130, 130)).filter((e) => !e.hole);
    expect((await describeTopic(s.app, name))[0]).toMatchObject({
      sizeBytes: data.reduce((n, e) => n + e.length!, 0),
      segments: new Set(data.map((e) => e.object)).size,
    });
    a.dispose();
    b.dispose();
  });
});

describe('retention with merges', () => {
  it('retains inside merged segments: an object holding emptied and kept entries stays until none of its entries remain', async () => {
    const s = await stack();
    const { name } = await topic(s, { 'retention.ms': -1 });
    const now = s.clock.now();
    await produce(s, name, [...Array.from({ length: 20 }, () => [now - 120_000]), ...Array.from({ length: 5 }, () => [now + 3_600_000])]);
    const m = s.maintenance({ ...FAST, segmentTargetBytes: 1024 * 1024 });
    await m.maintenance.runUntilIdle();
    expect((await describeTopic(s.app, name))[0]!.segments).toBe(1); // all 25 in one object
    const kept = (await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=20&maxRecords=100`)).body.records;
    expect((await call(s.app, 'PATCH', `/v1/topics/${name}`, { config: { 'retention.ms': 60_000 } })).status).toBe(200);
    await m.maintenance.runUntilIdle();
    await expectStart(s, name, 20, 25);
    s.clock.advance(GRACE + 2 * MAINTENANCE_DEFAULTS.gcSettleMs);
    await m.maintenance.runUntilIdle();
    // The merged object is still referenced by the kept entries: GC keeps it, readers read it.
    await expectOnlyReferencedObjects(s);
    expect((await s.objects()).length).toBeGreaterThanOrEqual(1);
    expect((await describeTopic(s.app, name))[0]).toMatchObject({ logStartOffset: 20, highWatermark: 25, segments: 1 });
    expect((await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=20&maxRecords=100`)).body.records).toEqual(kept);
    m.dispose();
  });
});

describe('DeleteRecords and maintenance', () => {
  it('after DeleteRecords maintenance empties the entries below the start (even on a quiet partition) and GC takes their objects', async () => {
    const s = await stack();
    const { name } = await topic(s, {});
    const now = s.clock.now();
    await produce(s, name, Array.from({ length: 6 }, () => [now]));
    const m = s.maintenance(NO_MERGE);
    await m.maintenance.runUntilIdle(); // summarised, idle
    const res = await call(s.app, 'POST', `/v1/topics/${name}/partitions/0/delete-records`, { beforeOffset: 4 });
    expect(res.body).toEqual({ logStartOffset: 4 });
    const passes = await m.maintenance.runUntilIdle();
    expect(passes.flatMap((r) => r.passes.map((p) => p.retention?.cleared))).toContain(4);
    expect((await describeTopic(s.app, name))[0]).toMatchObject({ logStartOffset: 4, highWatermark: 6, segments: 2 });
    s.clock.advance(GRACE + 2 * MAINTENANCE_DEFAULTS.gcSettleMs);
    await m.maintenance.runUntilIdle();
    expect(await s.objects()).toHaveLength(2);
    await expectOnlyReferencedObjects(s);
    await expectStart(s, name, 4, 6);
    m.dispose();
  });
});
