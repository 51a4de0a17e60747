/**
 * Maintenance crashes at every step, injected with SDK middleware on maintenance's own clients
 * (the API's are untouched): after the merged PUT, between transaction chunks, after the
 * repoint and before GC, during a batch of deletes. Each time: no acknowledged record lost or
 * changed, nothing half-visible, and a later run finishes the work. And two runners at once.
 */
import { describe, expect, it } from 'vitest';
import { MAINTENANCE_DEFAULTS, PUBLISH_DEADLINE_MS } from '../../lib/config.ts';
import { countCalls, crash, failCalls, pauseUntilReleased, runThenThrow, sleep } from '../support/faults.ts';
import { FAST, describeTopic, expectOnlyReferencedObjects, readAll, topicWithRequests } from '../support/maintenance-scenario.ts';
import { ownStacks, type OwnStack } from '../support/own-stack.ts';
import { call } from '../support/http.ts';

/** Own stacks, disposed after each test. */
const stack = ownStacks();

const GRACE = MAINTENANCE_DEFAULTS.gcGraceMs;

/** After a crash: the same records, the same high watermark, and a clean finish. */
async function expectRecoveredAndFinished(s: OwnStack, name: string, before: unknown[], settings = FAST): Promise<void> {
  expect(await readAll(s.app, name, 0)).toEqual(before);
  const m = s.maintenance(settings);
  await m.maintenance.runUntilIdle();
  s.clock.advance(GRACE + 1);
  await m.maintenance.runUntilIdle();
  expect(await readAll(s.app, name, 0)).toEqual(before);
  const [p] = await describeTopic(s.app, name);
  expect(p!.segments).toBeLessThanOrEqual(Math.ceil(p!.sizeBytes / settings.segmentTargetBytes) + 1);
  // Past the grace the bucket holds exactly the referenced objects.
  await expectOnlyReferencedObjects(s);
  expect((await s.objects()).length).toBe(p!.segments);
  m.dispose();
}

describe('maintenance crashes', () => {
  it('after the merged PUT: the new object is an orphan, readers never see it, and GC removes it', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 20, 5);
    const before = await readAll(s.app, name, 0);
    const m = s.maintenance(FAST);
    const fault = runThenThrow(m.deps.clients.s3, { command: 'PutObjectCommand' }, crash, { times: 1 });
    await expect(m.maintenance.tick()).rejects.toThrow(/simulated crash/);
    expect(fault.fired).toBe(1);
    m.dispose();
    expect((await s.objects()).length).toBe(21);
    expect((await describeTopic(s.app, name))[0]!.segments).toBe(20);
    await expectRecoveredAndFinished(s, name, before);
  });

  it('between transaction chunks: the first 100 entries moved, the rest not, every record the same', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 150, 1);
    const before = await readAll(s.app, name, 0);
    const settings = { ...FAST, segmentTargetBytes: 1024 * 1024 };
    const m = s.maintenance(settings);
    let transactions = 0;
    const fault = failCalls(m.deps.clients.dynamo, { command: 'TransactWriteItemsCommand', where: () => ++transactions === 2 }, crash);
    await expect(m.maintenance.tick()).rejects.toThrow(/simulated crash/);
    expect(fault.fired).toBe(1);
    m.dispose();
    // Half applied per entry, never per record: 100 entries in the new object, 50 where they were.
    const [p] = await describeTopic(s.app, name);
    expect(p!.highWatermark).toBe(150);
    expect(p!.segments).toBe(51);
    expect(await readAll(s.app, name, 0)).toEqual(before);
    await expectRecoveredAndFinished(s, name, before, settings);
  });

  it('after the repoint, in GC: a crash listing the bucket leaves the old objects for the next sweep', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 20, 5);
    const before = await readAll(s.app, name, 0);
    const m = s.maintenance(FAST);
    await m.maintenance.runUntilIdle();
    s.clock.advance(GRACE + 1);
    const fault = failCalls(m.deps.clients.s3, { command: 'ListObjectsV2Command' }, crash, { times: 1 });
    await expect(m.maintenance.runUntilIdle()).rejects.toThrow(/simulated crash/);
    expect(fault.fired).toBe(1);
    m.dispose();
    expect((await s.objects()).length).toBeGreaterThan(20);
    await expectRecoveredAndFinished(s, name, before);
  });

  it('during a batch of deletes: what was deleted stays deleted, the rest goes next time', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 30, 5);
    const before = await readAll(s.app, name, 0);
    const settings = { ...FAST, gcPageSize: 10 };
    const m = s.maintenance(settings);
    await m.maintenance.runUntilIdle();
    s.clock.advance(GRACE + 1);
    let deletes = 0;
    // The first batch is deleted on the server and the runner dies before hearing so; the
    // second never reaches S3.
    const after = runThenThrow(m.deps.clients.s3, { command: 'DeleteObjectsCommand', where: () => ++deletes === 1 }, crash);
    const calls = countCalls(m.deps.clients.s3);
    await expect(m.maintenance.runUntilIdle()).rejects.toThrow(/simulated crash/);
    expect(after.fired).toBe(1);
    expect(calls.count('DeleteObjectsCommand')).toBe(1);
    m.dispose();
    expect(await readAll(s.app, name, 0)).toEqual(before);
    await expectRecoveredAndFinished(s, name, before, settings);
  });
});

describe('concurrent runners', () => {
  it('two runners over the same partitions at once: same records, and the bucket ends clean', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 80, 3, 2);
    const before = [await readAll(s.app, name, 0), await readAll(s.app, name, 1)];
    const a = s.maintenance(FAST);
    const b = s.maintenance(FAST);
    const [ra, rb] = await Promise.all([a.maintenance.runUntilIdle(), b.maintenance.runUntilIdle()]);
    // Between them they merged (whichever lost a race left an orphan, collected below).
    expect([...ra, ...rb].some((r) => r.passes.some((p) => p.merges.some((x) => x.kind === 'merged' && x.entries > 0)))).toBe(true);
    expect([await readAll(s.app, name, 0), await readAll(s.app, name, 1)]).toEqual(before);
    // Whatever either lost is an orphan now; once past the grace, both runners collect together.
    s.clock.advance(GRACE + 1);
    await Promise.all([a.maintenance.runUntilIdle(), b.maintenance.runUntilIdle()]);
    await a.maintenance.runUntilIdle();
    expect([await readAll(s.app, name, 0), await readAll(s.app, name, 1)]).toEqual(before);
    await expectOnlyReferencedObjects(s);
    const described = await describeTopic(s.app, name);
    expect((await s.objects()).length).toBe(described.reduce((n, p) => n + p.segments, 0));
    a.dispose();
    b.dispose();
  });
});

describe('garbage collection hears of every move', () => {
  it('a crash right after the last repoint still leaves the sources for the next full sweep', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 20, 5);
    const before = await readAll(s.app, name, 0);
    const gc = { gcGraceMs: 1_000, gcSettleMs: 200, gcSweepIntervalMs: 0 };
    // A sweep while everything is referenced (nothing merges yet: the entries are "young").
    const first = s.maintenance({ ...FAST, ...gc, mergeMinAgeMs: 3_600_000 });
    await sleep(1_200);
    await first.maintenance.runUntilIdle();
    first.dispose();
    expect((await s.objects()).length).toBe(20);
    // That pass put the partition off for an hour (its entries' due time): ask for a look now.
    const topicId = (await call(s.app, 'GET', `/v1/topics/${name}`)).body.topicId as string;
    await s.services.index.requestMaintenance({ topicId, partition: 0 }, s.clock.now());
    // The merge repoints every entry (one transaction) and dies before hearing back.
    const m = s.maintenance({ ...FAST, ...gc });
    const fault = runThenThrow(m.deps.clients.dynamo, { command: 'TransactWriteItemsCommand' }, crash, { times: 1 });
    await expect(m.maintenance.tick()).rejects.toThrow(/simulated crash/);
    expect(fault.fired).toBe(1);
    fault.remove();
    expect(await readAll(s.app, name, 0)).toEqual(before);
    // Nothing is left to merge (the crashed pass's summary is redone by the next pass); the sources are older than the last sweep's window, so only a
    // full sweep finds them, and the mark made before the repoint asks for one.
    await sleep(1_200);
    const reports = await m.maintenance.runUntilIdle();
    expect(reports.flatMap((r) => r.passes.flatMap((p) => p.merges))).toEqual([]);
    expect(reports.some((r) => r.gc?.sweep === 'full')).toBe(true);
    expect((await s.objects()).length).toBe(1);
    await expectOnlyReferencedObjects(s);
    expect((await describeTopic(s.app, name))[0]!.segments).toBe(1);
    expect(await readAll(s.app, name, 0)).toEqual(before);
    m.dispose();
  });
});

describe('the publish deadline', () => {
  it('a produce paused past the deadline between its PUT and its publish gives up (503): its object can never be referenced after collection', async () => {
    const s = await stack();
    const name = await topicWithRequests(s, 2, 1);
    const gate = pauseUntilReleased(s.deps.clients.dynamo, { command: 'UpdateItemCommand' }); // the reserve, after the PUT
    const late = call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ value: 'late' }] });
    await gate.reached;
    s.clock.advance(PUBLISH_DEADLINE_MS + 1);
    gate.release();
    const res = await late;
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true });
    gate.remove();
    // Nothing of it is visible: its slot became a hole.
    const all = (await readAll(s.app, name, 0)) as { value: unknown }[];
    expect(all).toHaveLength(2);
    expect((await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ value: 'next' }] })).status).toBe(200);
  });
});
