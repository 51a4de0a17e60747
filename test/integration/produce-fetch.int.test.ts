import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import type { IdGenerator } from '../../lib/deps.ts';
import { StickyPartitioner, stickySeedFromId } from '../../lib/partition/partitioner.ts';
import { call, uniqueName } from '../support/http.ts';
import { registerLogScenarios } from '../support/scenarios/log.ts';
import { stackDeps } from '../support/stack.ts';

describe('produce and fetch on the emulator stack', () => registerLogScenarios(() => stackDeps()));

/** Ids whose first draw is `first` (an instance takes its sticky seed from it), then random. */
function idsStartingWith(first: string): IdGenerator {
  let drawn = false;
  return {
    newId: () => {
      if (drawn) return randomUUID();
      drawn = true;
      return first;
    },
  };
}

describe('sticky partitioning across instances', () => {
  it('seeds each instance from an injected id, so two fresh instances can start on different partitions', async () => {
    const admin = createApp(stackDeps());
    const created = await call(admin, 'POST', '/v1/topics', { name: uniqueName('sticky'), partitions: 8 });
    expect(created.status).toBe(201);
    const { name, topicId } = created.body as { name: string; topicId: string };

    // Where an instance seeded from `id` sends its first null-key request for this topic.
    const firstPartition = (id: string) => new StickyPartitioner({ seed: stickySeedFromId(id) }).partitionForRequest(topicId, 8);
    const a = 'instance-a';
    let b = 'instance-b';
    for (let i = 0; firstPartition(b) === firstPartition(a); i++) b = `instance-b${i}`;

    const firstOf = async (id: string) => {
      const app = createApp(stackDeps({ ids: idsStartingWith(id) }));
      const res = await call(app, 'POST', `/v1/topics/${name}/records`, { records: [{ value: 1 }, { value: 2 }] });
      expect(res.status).toBe(200);
      const partitions = new Set(res.body.offsets.map((o: { partition: number }) => o.partition));
      expect(partitions.size).toBe(1);
      return [...partitions][0];
    };
    const [pa, pb] = [await firstOf(a), await firstOf(b)];
    expect(pa).toBe(firstPartition(a));
    expect(pb).toBe(firstPartition(b));
    expect(pa).not.toBe(pb);
  });
});
