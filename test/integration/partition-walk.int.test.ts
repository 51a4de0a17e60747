/**
 * The stable-prefix walk and fetch planning, on a real stack:
 *  - a cold reader walks page after page: a full page is "more to read", never a gap, so its
 *    first view reports the true high watermark and it fills no published slot;
 *  - a view's walk is bounded; a bounded view reports a lower, safe high watermark and the
 *    next view continues from where it stopped;
 *  - fetch plans by decoded size, so a zstd topic's cold fetch downloads about what it returns.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { PartitionIndex } from '../../lib/log/partition-index.ts';
import { createServices } from '../../lib/services.ts';
import { countCalls } from '../support/faults.ts';
import { call, uniqueName } from '../support/http.ts';
import { stackDeps } from '../support/stack.ts';

describe('stable-prefix walk', () => {
  it('walks full pages without mistaking their end for a gap, and bounds one view', async () => {
    const deps = stackDeps();
    const services = createServices(deps);
    const app = createApp(deps, services);
    const topic = uniqueName('walk');
    const created = await call(app, 'POST', '/v1/topics', { name: topic, partitions: 1 });
    for (let i = 0; i < 12; i++) await call(app, 'POST', `/v1/topics/${topic}/records`, { records: [{ value: i }] });
    const tp = { topicId: created.body.topicId as string, partition: 0 };

    // Bounded first (a later reader starts from the hint the earlier ones leave behind).
    const bounded = new PartitionIndex(services.index, deps.clock, { slotTimeoutMs: 60_000, hintIntervalMs: 60_000, cachedEntries: 100, cachedPartitions: 100, pageSize: 5, maxPagesPerView: 1 });
    expect((await bounded.view(tp)).highWatermark).toBe(5);
    expect((await bounded.view(tp)).highWatermark).toBe(10);
    expect((await bounded.view(tp)).highWatermark).toBe(12);

    let fills = 0;
    const index = services.index;
    const spy = Object.create(index, {
      fillHole: { value: async (...args: Parameters<typeof index.fillHole>) => { fills++; return index.fillHole(...args); } },
    }) as typeof index;
    // Slot timeout 0: a page end mistaken for a gap would be "filled" at once. It starts from
    // the hint (stable 5) and walks a full page, then a short one.
    const cold = new PartitionIndex(spy, deps.clock, { slotTimeoutMs: 0, hintIntervalMs: 60_000, cachedEntries: 100, cachedPartitions: 100, pageSize: 5, maxPagesPerView: 32 });
    expect((await cold.view(tp)).highWatermark).toBe(12);
    expect(fills).toBe(0);
  });

  it('keeps at most cachedPartitions partitions in the process cache, dropping the least recently used', async () => {
    const deps = stackDeps();
    const app = createApp(deps);
    const topic = uniqueName('lru');
    const created = await call(app, 'POST', '/v1/topics', { name: topic, partitions: 3 });
    for (const partition of [0, 1, 2]) {
      await call(app, 'POST', `/v1/topics/${topic}/records`, { records: [0, 1, 2].map((value) => ({ partition, value })) });
    }
    const tps = [0, 1, 2].map((partition) => ({ topicId: created.body.topicId as string, partition }));
    const reader = stackDeps();
    const counter = countCalls(reader.clients.dynamo);
    const index = new PartitionIndex(createServices(reader).index, reader.clock, { slotTimeoutMs: 60_000, hintIntervalMs: 0, cachedEntries: 100, cachedPartitions: 2, pageSize: 100, maxPagesPerView: 32 });
    for (const tp of tps) expect((await index.view(tp)).highWatermark).toBe(3);
    const queriesFor = async (tp: (typeof tps)[number]) => {
      counter.reset();
      expect((await index.view(tp)).highWatermark).toBe(3);
      return counter.count('QueryCommand');
    };
    // Cached: the head read alone. Dropped (partition 0, the least recently used): the head,
    // then a walk from the shared hint's anchor.
    expect(await queriesFor(tps[2]!)).toBe(1);
    expect(await queriesFor(tps[0]!)).toBe(2);
  });

  it('plans a cold fetch of a compressed topic by decoded size: few GETs for what it returns', async () => {
    const writer = createApp(stackDeps());
    const topic = uniqueName('zfetch');
    await call(writer, 'POST', '/v1/topics', { name: topic, partitions: 1, config: { 'compression.type': 'zstd' } });
    // Very compressible values: stored bytes are a small fraction of decoded bytes.
    for (let i = 0; i < 40; i++) {
      await call(writer, 'POST', `/v1/topics/${topic}/records`, { encoding: 'string', records: Array.from({ length: 10 }, () => ({ value: 'x'.repeat(1000) })) });
    }
    const deps = stackDeps();
    const counter = countCalls(deps.clients.s3);
    const reader = createApp(deps);
    const res = await call(reader, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=0&maxBytes=20000&maxRecords=10000`);
    expect(res.status).toBe(200);
    expect(res.body.records.length).toBeGreaterThan(10);
    expect(res.body.records.length).toBeLessThanOrEqual(20);
    // ~2 entries' worth returned; with compressed-size planning it would read all 40 objects.
    expect(counter.count('GetObjectCommand')).toBeLessThanOrEqual(3);
  });
});
