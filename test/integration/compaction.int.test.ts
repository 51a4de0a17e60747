/**
 * Log compaction on the emulators (lib/maintenance/compaction.ts, decision compaction-plan.ts):
 * Kafka's four guarantees over random keyed workloads with overwrites and tombstones,
 * interleaved with maintenance ticks and concurrent readers, against a model built from the
 * produce acknowledgements; and crashes between its steps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAINTENANCE_DEFAULTS } from '../../lib/config.ts';
import { crash, runThenThrow } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';
import { FAST, describeTopic, expectOnlyReferencedObjects } from '../support/maintenance-scenario.ts';
import { ownStack, type OwnStack } from '../support/own-stack.ts';
import { prng } from '../support/prng.ts';

const stacks: OwnStack[] = [];
afterEach(async () => {
  for (const s of stacks.splice(0)) await s.dispose();
});

interface Acked {
  readonly offset: number;
  readonly key: string;
  readonly value: unknown;
  readonly timestamp: number;
}

async function readFrom(s: OwnStack, name: string, offset: number): Promise<{ offset: number; key: string; value: unknown }[]> {
  const out: { offset: number; key: string; value: unknown }[] = [];
  let at = offset;
  for (;;) {
    const res = await call(s.app, 'GET', `/v1/topics/${name}/partitions/0/records?offset=${at}&maxRecords=200`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    out.push(...res.body.records);
    if (res.body.nextOffset >= res.body.highWatermark) return out;
    at = res.body.nextOffset;
  }
}

/** Checks what a reader sees against the acknowledged log (Kafka's guarantees 2-4). */
function checkCompacted(seen: { offset: number; key: string; value: unknown }[], acked: readonly Acked[], horizonOf: (a: Acked) => boolean): void {
  const byOffset = new Map(acked.map((a) => [a.offset, a]));
  // (2) order never changes and (3) offsets never change: each record is the one acknowledged there.
  for (let i = 0; i < seen.length; i++) {
    if (i > 0) expect(seen[i]!.offset).toBeGreaterThan(seen[i - 1]!.offset);
    const a = byOffset.get(seen[i]!.offset)!;
    expect({ key: seen[i]!.key, value: seen[i]!.value }).toEqual({ key: a.key, value: a.value });
  }
  // (4) the final value of every key is there (a tombstone within its horizon too).
  const last = new Map<string, Acked>();
  for (const a of acked) last.set(a.key, a);
  const present = new Set(seen.map((r) => r.offset));
  for (const a of last.values()) {
    if (a.value === null && !horizonOf(a)) continue; // a tombstone past delete.retention.ms may go
    expect(present.has(a.offset), `final record of ${a.key} at ${a.offset}`).toBe(true);
  }
}

async function workload(seed: number): Promise<void> {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const s = await ownStack();
  stacks.push(s);
  const name = uniqueName('cmp');
  const deleteRetentionMs = 120_000;
  const minLagMs = 300_000;
  const res = await call(s.app, 'POST', '/v1/topics', { name, partitions: 1, config: { 'cleanup.policy': 'compact', 'delete.retention.ms': deleteRetentionMs, 'min.compaction.lag.ms': minLagMs } });
  expect(res.status).toBe(201);
  const acked: Acked[] = [];
  // Small maps: several passes per clean (the memory bound at work).
  const m = s.maintenance({ ...FAST, segmentTargetBytes: 16 * 1024, compactionMaxKeys: 3 + int(6) });
  const keys = 4 + int(8);
  let removedSomething = false;
  const gone = new Set<number>();
  // A tombstone written less than delete.retention.ms ago is surely within its horizon (it
  // starts when a pass first cleans it, never before it was written).
  const recent = (a: Acked) => s.clock.now() - a.timestamp < deleteRetentionMs;
  // (1) A consumer that keeps up within min.compaction.lag.ms sees every record: it reads on
  // before its oldest unread record is that old, and must find every acknowledged one.
  let position = 0;
  const catchUp = async (): Promise<void> => {
    const seen = await readFrom(s, name, position);
    const expected = acked.filter((a) => a.offset >= position);
    expect(seen.map((r) => r.offset)).toEqual(expected.map((a) => a.offset));
    position = expected.length > 0 ? expected[expected.length - 1]!.offset + 1 : position;
  };
  for (let step = 0; step < 30; step++) {
    const unread = acked.find((a) => a.offset >= position);
    if (unread && (s.clock.now() - unread.timestamp > minLagMs / 2 || rand() < 0.3)) await catchUp();
    const roll = rand();
    if (roll < 0.5) {
      const records = Array.from({ length: 1 + int(6) }, () => {
        const key = `k${int(keys)}`;
        return { key, value: rand() < 0.15 ? null : { step, v: int(1000) } };
      });
      const out = await call(s.app, 'POST', `/v1/topics/${name}/records`, { records });
      expect(out.status).toBe(200);
      out.body.offsets.forEach((o: { offset: number }, i: number) => acked.push({ offset: o.offset, key: records[i]!.key, value: records[i]!.value, timestamp: s.clock.now() }));
    } else {
      if (rand() < 0.2) {
        await catchUp(); // keeps up: never further behind than the lag allows
        s.clock.advance(deleteRetentionMs / 2);
      }
      // A tick with a reader in flight.
      const [reports, seen] = await Promise.all([m.maintenance.tick(), readFrom(s, name, 0)]);
      removedSomething ||= reports.passes.some((p) => (p.compaction?.removed ?? 0) > 0);
      checkCompacted(seen, acked, recent);
      // Nothing removed reappears: a record once missing from a read from the start stays gone.
      const present = new Set(seen.map((r) => r.offset));
      for (const o of gone) expect(present.has(o), `offset ${o} came back`).toBe(false);
      const upTo = seen.length > 0 ? seen[seen.length - 1]!.offset : -1;
      for (const a of acked) if (a.offset < upTo && !present.has(a.offset)) gone.add(a.offset);
    }
  }
  await catchUp();
  // Past the lag everything is compactable: one more pass, then the whole log is compacted.
  s.clock.advance(minLagMs + 1);
  const lastRun = await m.maintenance.runUntilIdle();
  removedSomething ||= lastRun.some((r) => r.passes.some((p) => (p.compaction?.removed ?? 0) > 0));
  const final = await readFrom(s, name, 0);
  checkCompacted(final, acked, recent);
  // Compaction really removed superseded records (the test is not vacuous).
  const distinctKeys = new Set(acked.map((a) => a.key)).size;
  if (acked.length > distinctKeys * 3) expect(removedSomething && final.length < acked.length).toBe(true);
  for (const o of gone) expect(final.some((r) => r.offset === o), `offset ${o} came back`).toBe(false);
  m.dispose();
}

describe('compaction keeps Kafka\'s guarantees', () => {
  for (const seed of [11, 12, 13]) {
    it(`random keyed workload with overwrites and tombstones (seed ${seed})`, () => workload(seed), 120_000);
  }

  it('keeps the latest value of every key, removes superseded ones, and offsets and order never change', async () => {
    const s = await ownStack();
    stacks.push(s);
    const name = uniqueName('cmp');
    expect((await call(s.app, 'POST', '/v1/topics', { name, partitions: 1, config: { 'cleanup.policy': 'compact' } })).status).toBe(201);
    const acked: Acked[] = [];
    for (let r = 0; r < 20; r++) {
      const records = [0, 1, 2].map((k) => ({ key: `k${k}`, value: { r, k } }));
      const out = await call(s.app, 'POST', `/v1/topics/${name}/records`, { records });
      out.body.offsets.forEach((o: { offset: number }, i: number) => acked.push({ offset: o.offset, key: records[i]!.key, value: records[i]!.value, timestamp: 0 }));
    }
    const m = s.maintenance({ ...FAST, segmentTargetBytes: 64 * 1024 });
    const reports = await m.maintenance.runUntilIdle();
    expect(reports.flatMap((r) => r.passes.map((p) => p.compaction?.removed ?? 0)).reduce((a, b) => a + b, 0)).toBe(57);
    const seen = await readFrom(s, name, 0);
    expect(seen.map((r) => r.offset)).toEqual([57, 58, 59]);
    checkCompacted(seen, acked, () => true);
    // The log start stays 0 (compaction removes records, it does not move the start); the
    // emptied entries are gaps, and fetch from 0 skips them.
    expect((await describeTopic(s.app, name))[0]).toMatchObject({ logStartOffset: 0, highWatermark: 60 });
    // Past the grace GC leaves only objects entries reference.
    s.clock.advance(MAINTENANCE_DEFAULTS.gcGraceMs + 2 * MAINTENANCE_DEFAULTS.gcSettleMs);
    await m.maintenance.runUntilIdle();
    await expectOnlyReferencedObjects(s);
    expect(await readFrom(s, name, 0)).toEqual(seen);
    m.dispose();
  });

  it('a tombstone removes earlier values and stays readable until delete.retention.ms after it was first cleaned', async () => {
    const s = await ownStack();
    stacks.push(s);
    const name = uniqueName('cmp');
    expect((await call(s.app, 'POST', '/v1/topics', { name, partitions: 1, config: { 'cleanup.policy': 'compact', 'delete.retention.ms': 60_000 } })).status).toBe(201);
    for (const value of [{ v: 1 }, { v: 2 }, null]) {
      expect((await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ key: 'gone', value }, { key: 'kept', value: { with: value } }] })).status).toBe(200);
    }
    const m = s.maintenance({ ...FAST });
    await m.maintenance.runUntilIdle();
    const first = await readFrom(s, name, 0);
    expect(first.map((r) => [r.key, r.value])).toEqual([['gone', null], ['kept', { with: null }]]);
    // Within the horizon: still there after more passes.
    s.clock.advance(30_000);
    expect((await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ key: 'other', value: 1 }] })).status).toBe(200);
    await m.maintenance.runUntilIdle();
    expect((await readFrom(s, name, 0)).map((r) => r.key)).toContain('gone');
    // Past it: the tombstone goes too.
    s.clock.advance(40_000);
    expect((await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ key: 'other', value: 2 }] })).status).toBe(200);
    await m.maintenance.runUntilIdle();
    expect((await readFrom(s, name, 0)).map((r) => r.key)).toEqual(['kept', 'other']);
    m.dispose();
  });

  it('never compacts records newer than min.compaction.lag.ms', async () => {
    const s = await ownStack();
    stacks.push(s);
    const name = uniqueName('cmp');
    expect((await call(s.app, 'POST', '/v1/topics', { name, partitions: 1, config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': 600_000 } })).status).toBe(201);
    for (let r = 0; r < 5; r++) expect((await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ key: 'k', value: r }] })).status).toBe(200);
    const m = s.maintenance({ ...FAST });
    await m.maintenance.runUntilIdle();
    expect((await readFrom(s, name, 0)).map((r) => r.value)).toEqual([0, 1, 2, 3, 4]);
    s.clock.advance(600_001);
    expect((await call(s.app, 'POST', `/v1/topics/${name}/records`, { records: [{ key: 'k', value: 5 }] })).status).toBe(200);
    await m.maintenance.runUntilIdle();
    // The five old ones are compactable now; the newest (within the lag) stays with them? Only
    // the latest of the old ones may go when a later record of its key is mapped: the new one is
    // within the lag, so the map stops before it and the old ones keep their latest (4).
    expect((await readFrom(s, name, 0)).map((r) => r.value)).toEqual([4, 5]);
    m.dispose();
  });
});

describe('compaction crashes', () => {
  it('a crash between rewrite transactions: nothing kept is lost, nothing removed reappears, the next pass finishes', async () => {
    const s = await ownStack();
    stacks.push(s);
    const name = uniqueName('cmp');
    expect((await call(s.app, 'POST', '/v1/topics', { name, partitions: 1, config: { 'cleanup.policy': 'compact' } })).status).toBe(201);
    const acked: Acked[] = [];
    for (let r = 0; r < 150; r++) {
      const records = [{ key: `k${r % 7}`, value: { r } }];
      const out = await call(s.app, 'POST', `/v1/topics/${name}/records`, { records });
      acked.push({ offset: out.body.offsets[0].offset, key: records[0]!.key, value: records[0]!.value, timestamp: 0 });
    }
    const m = s.maintenance({ ...FAST });
    let transactions = 0;
    const fault = runThenThrow(m.deps.clients.dynamo, { command: 'TransactWriteItemsCommand', where: (input) => JSON.stringify(input).includes('"cTo"') || (JSON.stringify(input).includes('"mVer"') && ++transactions === 1) }, crash, { times: 1 });
    await expect(m.maintenance.tick()).rejects.toThrow(/simulated crash/);
    expect(fault.fired).toBe(1);
    fault.remove();
    const mid = await readFrom(s, name, 0);
    checkCompacted(mid, acked, () => true);
    // The crash fell between transactions: some superseded records are gone, not all.
    expect(mid.length).toBeGreaterThan(7);
    expect(mid.length).toBeLessThan(150);
    await m.maintenance.runUntilIdle();
    const after = await readFrom(s, name, 0);
    checkCompacted(after, acked, () => true);
    expect(after.map((r) => r.offset)).toEqual([143, 144, 145, 146, 147, 148, 149]);
    // Removed records never come back: every record of the middle read that is gone now was superseded.
    for (const r of mid) if (!after.some((a) => a.offset === r.offset)) expect(acked.some((a) => a.key === r.key && a.offset > r.offset)).toBe(true);
    m.dispose();
  });
});
