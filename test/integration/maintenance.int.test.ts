/**
 * Maintenance against the emulators (lib/maintenance): merge, garbage collection, index
 * upkeep and describe's sizes, each checked by what a reader sees. Every test has its own
 * tables and bucket (own-stack.ts): the collector sweeps a whole bucket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAINTENANCE_DEFAULTS } from '../../lib/config.ts';
import { decodeSegmentFooter } from '../../lib/codec/segment.ts';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { call } from '../support/http.ts';
import { FAST, describeTopic as describeIn, readAll as readAllIn, topicWithRequests } from '../support/maintenance-scenario.ts';

const readAll = (s: OwnStack, name: string, p: number) => readAllIn(s.app, name, p);
const describeTopic = (s: OwnStack, name: string) => describeIn(s.app, name);
import { ownStack, type OwnStack } from '../support/own-stack.ts';

const stacks: OwnStack[] = [];
async function stack(): Promise<OwnStack> {
  const s = await ownStack();
  stacks.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.dispose();
});

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
