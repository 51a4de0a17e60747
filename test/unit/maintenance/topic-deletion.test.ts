/**
 * TopicDeletion's decisions on in-memory stores: the budget across topics, when `more` is
 * set, when a marker is forgotten (a sweep that began past the grace and found nothing), and
 * that a dry run decides the same and writes nothing. The storage I/O itself is tested on the
 * emulators (test/integration/topic-deletion.int.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  TopicDeletion,
  type TopicDeletionGroups,
  type TopicDeletionPartitions,
  type TopicDeletionTopics,
} from '../../../lib/maintenance/topic-deletion.ts';
import type { TopicPartition } from '../../../lib/model/topic.ts';
import type { DeletedTopicMarker } from '../../../lib/storage/topic-store.ts';

const GRACE = 1000;

/** Markers, per-partition item counts and per-topic offset counts, with a log of writes. */
function fakes(markers: DeletedTopicMarker[], items: Record<string, number>, offsets: Record<string, number>) {
  const writes: string[] = [];
  let now = 0;
  const topics: TopicDeletionTopics = {
    deletedTopics: async () => [...markers].sort((a, b) => a.deletedAt - b.deletedAt),
    deletedTopic: async (id) => markers.find((m) => m.topicId === id),
    forgetDeletedTopic: async (id) => {
      writes.push(`forget ${id}`);
      markers.splice(markers.findIndex((m) => m.topicId === id), 1);
    },
  };
  const take = (store: Record<string, number>, key: string, limit: number, dryRun: boolean | undefined, what: string) => {
    if (limit <= 0) return { deleted: 0, more: true };
    const have = store[key] ?? 0;
    const deleted = Math.min(have, limit);
    if (!dryRun && deleted > 0) {
      store[key] = have - deleted;
      writes.push(`${what} ${key} ${deleted}`);
    }
    return { deleted, more: have > limit };
  };
  const partitions: TopicDeletionPartitions = {
    purge: async (tp: TopicPartition, limit, opts = {}) => take(items, `${tp.topicId}#${tp.partition}`, limit, opts.dryRun, 'purge'),
  };
  const groups: TopicDeletionGroups = {
    deleteTopicOffsets: async (topicId, limit, opts = {}) => take(offsets, topicId, limit, opts.dryRun, 'offsets'),
  };
  const clock = { now: () => now, set: (t: number) => void (now = t) };
  return { topics, partitions, groups, clock, writes, markers };
}

const marker = (topicId: string, partitions: number, deletedAt = 0): DeletedTopicMarker => ({ topicId, name: `n-${topicId}`, partitions, deletedAt });

describe('TopicDeletion.step', () => {
  it('spends one budget across topics in order: offsets, then partition by partition', async () => {
    const f = fakes([marker('a', 2), marker('b', 1, 5)], { 'a#0': 3, 'a#1': 2, 'b#0': 4 }, { a: 2, b: 1 });
    const d = new TopicDeletion(f.topics, f.partitions, f.groups, f.clock, { graceMs: GRACE, itemsPerStep: 6 });
    const first = await d.step();
    expect(f.writes).toEqual(['offsets a 2', 'purge a#0 3', 'purge a#1 1']);
    expect(first).toEqual({
      dryRun: false,
      topics: [{ topicId: 'a', name: 'n-a', itemsDeleted: 4, offsetsDeleted: 2, swept: false, finished: false }],
      more: true,
    });
    const second = await d.step();
    expect(second.topics.map((t) => [t.topicId, t.itemsDeleted, t.offsetsDeleted, t.swept])).toEqual([
      ['a', 1, 0, true],
      ['b', 4, 1, true],
    ]);
    // Within the grace, everything is gone and nothing is left to do: no more, markers kept.
    expect(second.more).toBe(false);
    expect((await d.step()).topics.every((t) => t.swept && !t.finished)).toBe(true);
    expect(f.markers).toHaveLength(2);
  });

  it('forgets a marker only after a sweep that began past the grace found nothing', async () => {
    const f = fakes([marker('a', 1)], { 'a#0': 2 }, {});
    const d = new TopicDeletion(f.topics, f.partitions, f.groups, f.clock, { graceMs: GRACE, itemsPerStep: 10 });
    f.clock.set(GRACE);
    // Found items: deleted, and the next step must confirm before forgetting.
    expect(await d.step()).toMatchObject({ more: true, topics: [{ itemsDeleted: 2, swept: true, finished: false }] });
    expect(f.markers).toHaveLength(1);
    const dry = await d.step({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, more: true, topics: [{ itemsDeleted: 0, finished: true }] });
    expect(f.markers).toHaveLength(1);
    expect(await d.step()).toMatchObject({ more: false, topics: [{ itemsDeleted: 0, finished: true }] });
    expect(f.writes).toEqual(['purge a#0 2', 'forget a']);
    expect(await d.step()).toEqual({ dryRun: false, topics: [], more: false });
  });

  it('measures the grace at the start of the sweep, not after it', async () => {
    const f = fakes([marker('a', 1)], {}, {});
    const d = new TopicDeletion(f.topics, f.partitions, f.groups, f.clock, { graceMs: GRACE, itemsPerStep: 10 });
    f.clock.set(GRACE - 1);
    const purge = f.partitions.purge;
    f.partitions.purge = async (...args) => {
      f.clock.set(GRACE + 1); // the grace ends while the step sweeps
      return purge(...args);
    };
    expect((await d.step()).topics[0]).toMatchObject({ swept: true, finished: false });
    expect((await d.step()).topics[0]).toMatchObject({ swept: true, finished: true });
  });

  it('a dry run reports what a step would do, bounded the same, and writes nothing', async () => {
    const f = fakes([marker('a', 2), marker('b', 1, 5)], { 'a#0': 3, 'a#1': 2, 'b#0': 4 }, { a: 2 });
    const d = new TopicDeletion(f.topics, f.partitions, f.groups, f.clock, { graceMs: GRACE, itemsPerStep: 6 });
    const dry = await d.step({ dryRun: true });
    expect(f.writes).toEqual([]);
    expect(dry.topics).toEqual([{ topicId: 'a', name: 'n-a', itemsDeleted: 4, offsetsDeleted: 2, swept: false, finished: false }]);
    expect(dry.more).toBe(true);
    expect((await d.step({ topicId: 'b', dryRun: true })).topics).toEqual([
      { topicId: 'b', name: 'n-b', itemsDeleted: 4, offsetsDeleted: 0, swept: true, finished: false },
    ]);
  });

  it('refuses a budget below one', () => {
    const f = fakes([], {}, {});
    expect(() => new TopicDeletion(f.topics, f.partitions, f.groups, f.clock, { itemsPerStep: 0 })).toThrow(RangeError);
  });
});
