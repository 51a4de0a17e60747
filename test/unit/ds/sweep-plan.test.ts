import { describe, expect, it } from 'vitest';
import { MIN_SWEEP_GRACE_MS, planStreamSweep, type SweptStream } from '../../../lib/ds/sweep-plan.ts';
import type { DsStreamState } from '../../../lib/ds/stream-state.ts';

const NOW = Date.UTC(2026, 11, 1);
const GRACE = 15 * 60_000;

function stream(id: string, over: Partial<DsStreamState> = {}, changedAt = NOW - GRACE - 1): SweptStream {
  return {
    id,
    epoch: 7,
    changedAt,
    state: {
      path: `/${id}`, topic: `__ds.${id}`, topicId: id, base: 0, inherited: [], contentType: 'text/plain',
      createdAt: 0, touchedAt: NOW, tail: 0, producers: {}, forks: 0, ...over,
    },
  };
}

describe('planStreamSweep', () => {
  it('S1: expires streams past their TTL or Expires-At, never a soft-deleted one again', () => {
    const plan = planStreamSweep([
      stream('ttl', { ttlSeconds: 10, touchedAt: NOW - 10_000 }),
      stream('fresh', { ttlSeconds: 10, touchedAt: NOW - 9_999 }),
      stream('at', { expiresAtMs: NOW }),
      stream('soft', { expiresAtMs: NOW - 1, softDeleted: true, forks: 1 }),
      stream('forever'),
    ], [], NOW, GRACE);
    expect(plan.expire).toEqual(['ttl', 'at']);
  });

  it('S2: deletes only topics no state names (own or inherited) and older than the grace', () => {
    const fork = stream('fork', { inherited: [{ topic: '__ds.gone-source', base: 0, from: 0, to: 3 }], fork: { sourceId: 'gone-source', sourceEpoch: 7, sourcePath: '/x', offset: 3, subOffset: 0 } });
    const plan = planStreamSweep([stream('a'), fork], [
      { name: '__ds.a', createdAt: 0 },
      { name: '__ds.gone-source', createdAt: 0 },
      { name: '__ds.fork', createdAt: 0 },
      { name: '__ds.orphan-old', createdAt: NOW - GRACE },
      { name: '__ds.orphan-young', createdAt: NOW - GRACE + 1 },
    ], NOW, GRACE);
    expect(plan.orphanTopics).toEqual(['__ds.orphan-old']);
  });

  it('the grace is at least MIN_SWEEP_GRACE_MS, whatever the GC grace', () => {
    const topics = [{ name: '__ds.orphan', createdAt: NOW - MIN_SWEEP_GRACE_MS + 1 }];
    expect(planStreamSweep([], topics, NOW, 0).orphanTopics).toEqual([]);
    expect(planStreamSweep([], [{ name: '__ds.orphan', createdAt: NOW - MIN_SWEEP_GRACE_MS }], NOW, 0).orphanTopics).toEqual(['__ds.orphan']);
  });

  it('S3: corrects a count above the forks that exist, only once the source is quiet for the grace, never upwards', () => {
    const forkOf = (id: string, source: string, sourceEpoch = 7) => stream(id, { fork: { sourceId: source, sourceEpoch, sourcePath: `/${source}`, offset: 0, subOffset: 0 } });
    const plan = planStreamSweep([
      stream('leaked', { forks: 2 }), forkOf('f1', 'leaked'),
      stream('busy', { forks: 1 }, NOW - 1), // just counted a fork being created
      stream('exact', { forks: 1 }), forkOf('f2', 'exact'),
      stream('under', { forks: 0 }), forkOf('f3', 'under'),
      // A fork of an earlier incarnation of the path does not count for this one.
      stream('reborn', { forks: 1 }), forkOf('f4', 'reborn', 6),
    ], [], NOW, GRACE);
    expect(plan.forkCounts).toEqual([{ id: 'leaked', epoch: 7, forks: 1 }, { id: 'reborn', epoch: 7, forks: 0 }]);
  });
});
