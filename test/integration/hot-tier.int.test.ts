/**
 * The S3 Express hot tier (writeTier 'express') against the emulators: a second bucket of the
 * emulator stands in for the directory bucket (the SDK treats both the same way; only the
 * bucket name differs on AWS). Produce writes there; fetch reads either tier; maintenance moves
 * hot entries into the Standard bucket once older than the merge age and then collects the hot
 * objects; readers see the same records before, during and after.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { MAINTENANCE_DEFAULTS } from '../../lib/config.ts';
import { createServices } from '../../lib/services.ts';
import { call } from '../support/http.ts';
import { FAST, readAll, topicWithRequests } from '../support/maintenance-scenario.ts';
import { ownStacks, type OwnStack } from '../support/own-stack.ts';

const stack = ownStacks();
const hotStack = () => stack({ slotTimeoutMs: 1500 }, { hotTier: true });

/** A reader in another process: no write-through cache, nothing shared with the writer. */
function coldReader(s: OwnStack) {
  const deps = { ...s.deps, tuning: { ...s.deps.tuning, segmentCacheBytes: 0 } };
  return createApp(deps, createServices(deps));
}

describe('hot tier (S3 Express One Zone)', () => {
  it('produce writes to the hot bucket; maintenance moves it to Standard and collects it; readers see the same records throughout', async () => {
    const s = await hotStack();
    const name = await topicWithRequests(s, 12, 5, 2); // multi-partition requests: each hot object holds both partitions
    const hot = await s.hotObjects();
    expect(hot).toHaveLength(12);
    expect(hot.every((o) => o.key.startsWith('hot/seg/'))).toBe(true);
    expect(await s.objects()).toHaveLength(0); // nothing in Standard yet

    const reader = coldReader(s);
    const before = [await readAll(reader, name, 0), await readAll(reader, name, 1)];
    expect(before[0]!.length + before[1]!.length).toBe(60);

    // Too young: a pass leaves the hot entries where they are.
    const m = s.maintenance({ ...FAST, mergeMinAgeMs: 60_000 });
    await m.maintenance.runUntilIdle();
    expect(await s.objects()).toHaveLength(0);

    s.clock.advance(60_001);
    await m.maintenance.runUntilIdle();
    const standard = await s.objects();
    expect(standard.length).toBeGreaterThan(0);
    expect(standard.length).toBeLessThanOrEqual(2); // one object per partition: hot entries move together
    for (const p of [0, 1]) expect(await readAll(coldReader(s), name, p)).toEqual(before[p]);
    // Within the grace the hot objects stay (a reader may hold an old pointer).
    expect(await s.hotObjects()).toHaveLength(12);

    s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 1);
    await m.maintenance.runUntilIdle();
    expect(await s.hotObjects()).toHaveLength(0);
    for (const p of [0, 1]) expect(await readAll(coldReader(s), name, p)).toEqual(before[p]);
    // Describe's size counts the same bytes in their new place.
    const described = await call(s.app, 'GET', `/v1/topics/${name}`);
    expect(described.body.partitions.map((p: { highWatermark: number }) => p.highWatermark)).toEqual([30, 30]);
    m.dispose();
  });

  it('a hot object past the grace that an entry still references is kept, and read', async () => {
    const s = await hotStack();
    const name = await topicWithRequests(s, 3, 4, 1);
    const before = await readAll(coldReader(s), name, 0);
    // Merges held back (the entries are never old enough), the clock far past the grace.
    const m = s.maintenance({ ...FAST, mergeMinAgeMs: 24 * 3600_000 });
    s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 60_001);
    const reports = await m.maintenance.runUntilIdle();
    expect(reports.some((r) => (r.gc?.listed ?? 0) >= 3)).toBe(true); // the hot tier was swept...
    expect(await s.hotObjects()).toHaveLength(3); // ...and nothing referenced went
    expect(await readAll(coldReader(s), name, 0)).toEqual(before);
    m.dispose();
  });
});
