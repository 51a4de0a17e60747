/**
 * Produce / fetch / offsets scenarios (API.md "Produce", "Fetch"), against a real stack.
 * Every refused request asserts that no high watermark moved.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../lib/api/app.ts';
import { partitionForKey } from '../../../lib/partition/partitioner.ts';
import { call, uniqueName } from '../http.ts';
import type { RequestTarget } from '../lambda-app.ts';
import type { AppFactory, DepsProvider } from './index.ts';

export function registerLogScenarios(getDeps: DepsProvider, makeApp: AppFactory = createApp): void {
  let app: RequestTarget;
  beforeAll(() => {
    app = makeApp(getDeps());
  });

  async function topic(partitions = 1, config: Record<string, unknown> = {}): Promise<string> {
    const name = uniqueName();
    const res = await call(app, 'POST', '/v1/topics', { name, partitions, config });
    expect(res.status).toBe(201);
    return name;
  }
  const produce = (t: string, body: unknown) => call(app, 'POST', `/v1/topics/${t}/records`, body);
  const fetch = (t: string, p: number, query = '') => call(app, 'GET', `/v1/topics/${t}/partitions/${p}/records${query}`);
  async function hwms(t: string): Promise<number[]> {
    const res = await call(app, 'GET', `/v1/topics/${t}`);
    return res.body.partitions.map((p: { highWatermark: number }) => p.highWatermark);
  }

  describe('produce then fetch', () => {
    it('round-trips json records with keys, null values, ordered duplicate headers and timestamps', async () => {
      const t = await topic(1);
      const records = [
        { key: 'alice', value: { amount: 200 }, headers: [{ key: 'h', value: '1' }, { key: 'h', value: '2' }, { key: 'n', value: null }] },
        { key: null, value: 'no key', timestamp: 1_700_000_000_000 },
        { key: 'bob', value: null },
        { key: '', value: '' },
        { value: [1, 'two', { three: 3 }] },
      ];
      const res = await produce(t, { records: records.map((r) => ({ ...r, partition: 0 })) });
      expect(res.status).toBe(200);
      expect(res.body.offsets).toEqual([0, 1, 2, 3, 4].map((offset) => ({ partition: 0, offset })));

      const got = await fetch(t, 0, '?offset=0');
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ nextOffset: 5, highWatermark: 5, logStartOffset: 0 });
      const r = got.body.records;
      expect(r.map((x: { offset: number }) => x.offset)).toEqual([0, 1, 2, 3, 4]);
      expect(r[0]).toMatchObject({ partition: 0, key: 'alice', value: { amount: 200 }, headers: [{ key: 'h', value: '1' }, { key: 'h', value: '2' }, { key: 'n', value: null }] });
      expect(r[1]).toMatchObject({ key: null, value: 'no key', timestamp: 1_700_000_000_000 });
      expect(r[2]).toMatchObject({ key: 'bob', value: null });
      expect(r[3]).toMatchObject({ key: '', value: '' });
      expect(r[4].value).toEqual([1, 'two', { three: 3 }]);
      expect(typeof r[0].timestamp).toBe('number');
    });

    it('round-trips string and base64 encodings, and falls back to base64 for non-JSON bytes', async () => {
      const t = await topic(1);
      const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
      await produce(t, { encoding: 'base64', records: [{ key: bytes.toString('base64'), value: bytes.toString('base64'), headers: [{ key: 'b', value: 'AAE=' }] }] });
      await produce(t, { encoding: 'string', records: [{ key: 'k', value: 'plain text' }] });
      const b64 = await fetch(t, 0, '?offset=0&encoding=base64');
      expect(b64.body.records[0]).toMatchObject({ key: bytes.toString('base64'), value: bytes.toString('base64'), headers: [{ key: 'b', value: 'AAE=' }] });
      expect(b64.body.records[1]).toMatchObject({ key: Buffer.from('k').toString('base64'), value: Buffer.from('plain text').toString('base64') });
      const str = await fetch(t, 0, '?offset=1&encoding=string');
      expect(str.body.records[0]).toMatchObject({ key: 'k', value: 'plain text' });
      const json = await fetch(t, 0, '?offset=0&encoding=json');
      expect(json.body.records[0]).toMatchObject({ keyEncoding: 'base64', key: bytes.toString('base64'), valueEncoding: 'base64', value: bytes.toString('base64') });
      expect(json.body.records[1]).toMatchObject({ key: 'k', valueEncoding: 'base64' });
    });

    it("places keyed records where Kafka's default partitioner would", async () => {
      const t = await topic(7);
      const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
      const res = await produce(t, { records: keys.map((key) => ({ key, value: key })) });
      expect(res.status).toBe(200);
      res.body.offsets.forEach((o: { partition: number }, i: number) => {
        expect(o.partition).toBe(partitionForKey(Buffer.from(keys[i]!), 7));
      });
    });

    it('keeps request order and consecutive offsets per partition, answering in request order', async () => {
      const t = await topic(3);
      const records = [0, 1, 2, 0, 1, 2, 0].map((partition, i) => ({ partition, value: i }));
      const first = await produce(t, { records });
      expect(first.body.offsets).toEqual([
        { partition: 0, offset: 0 }, { partition: 1, offset: 0 }, { partition: 2, offset: 0 },
        { partition: 0, offset: 1 }, { partition: 1, offset: 1 }, { partition: 2, offset: 1 },
        { partition: 0, offset: 2 },
      ]);
      const p0 = await fetch(t, 0, '?offset=0');
      expect(p0.body.records.map((r: { value: number }) => r.value)).toEqual([0, 3, 6]);
      expect(await hwms(t)).toEqual([3, 2, 2]);
    });

    it('spreads null-keyed records: sticky within a request, moving across requests', async () => {
      const t = await topic(4);
      const seen = new Set<number>();
      for (let i = 0; i < 8; i++) {
        const res = await produce(t, { records: [{ value: 1 }, { value: 2 }, { value: 3 }] });
        const parts = new Set(res.body.offsets.map((o: { partition: number }) => o.partition));
        expect(parts.size).toBe(1);
        seen.add([...parts][0] as number);
      }
      expect(seen.size).toBeGreaterThan(1);
    });

    it('stamps LogAppendTime topics with server time whatever the client sent', async () => {
      const t = await topic(1, { 'message.timestamp.type': 'LogAppendTime' });
      const before = Date.now();
      await produce(t, { records: [{ value: 1, timestamp: 5 }] });
      const got = await fetch(t, 0, '?offset=0');
      expect(got.body.records[0].timestamp).toBeGreaterThanOrEqual(before);
    });
  });

  describe('fetch positions and limits', () => {
    it('honours maxRecords and continues from nextOffset; earliest and latest', async () => {
      const t = await topic(1);
      await produce(t, { records: Array.from({ length: 10 }, (_, i) => ({ value: i })) });
      await produce(t, { records: Array.from({ length: 10 }, (_, i) => ({ value: 10 + i })) });
      const a = await fetch(t, 0, '?offset=3&maxRecords=4');
      expect(a.body.records.map((r: { offset: number }) => r.offset)).toEqual([3, 4, 5, 6]);
      expect(a.body.nextOffset).toBe(7);
      const b = await fetch(t, 0, `?offset=${a.body.nextOffset}&maxRecords=100`);
      expect(b.body.records.map((r: { value: number }) => r.value)).toEqual(Array.from({ length: 13 }, (_, i) => 7 + i));
      expect(b.body.nextOffset).toBe(20);
      expect((await fetch(t, 0, '?offset=earliest&maxRecords=1')).body.records[0].offset).toBe(0);
      const latest = await fetch(t, 0, '?offset=latest');
      expect(latest.body).toMatchObject({ records: [], nextOffset: 20, highWatermark: 20 });
    });

    it('returns at least one record even when it exceeds maxBytes, and stops at maxBytes', async () => {
      const t = await topic(1);
      await produce(t, { encoding: 'string', records: Array.from({ length: 5 }, () => ({ value: 'x'.repeat(1000) })) });
      const one = await fetch(t, 0, '?offset=0&maxBytes=10');
      expect(one.body.records).toHaveLength(1);
      const some = await fetch(t, 0, '?offset=0&maxBytes=2500');
      expect(some.body.records.length).toBeGreaterThanOrEqual(2);
      expect(some.body.records.length).toBeLessThan(5);
    });

    it('answers empty at the high watermark and 416 beyond it, with both bounds', async () => {
      const t = await topic(1);
      await produce(t, { records: [{ value: 1 }, { value: 2 }] });
      expect((await fetch(t, 0, '?offset=2')).body).toMatchObject({ records: [], nextOffset: 2, highWatermark: 2 });
      const res = await fetch(t, 0, '?offset=3');
      expect(res.status).toBe(416);
      expect(res.body.error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', logStartOffset: 0, highWatermark: 2 });
    });

    it.each([
      ['a negative offset', '?offset=-1'],
      ['a fractional offset', '?offset=1.5'],
      ['a word offset', '?offset=soon'],
      ['maxRecords 0', '?maxRecords=0'],
      ['a bad encoding', '?encoding=xml'],
      ['negative waitMs', '?waitMs=-5'],
    ])('refuses %s with 400 INVALID_REQUEST', async (_l, query) => {
      const t = await topic(1);
      const res = await fetch(t, 0, query);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
    });

    it('answers 404 for an unknown topic or partition', async () => {
      const t = await topic(2);
      expect((await fetch(t, 2)).body.error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      expect((await fetch(uniqueName(), 0)).status).toBe(404);
    });
  });

  describe('refused produce requests change nothing', () => {
    it.each([
      ['no records', { records: [] }],
      ['malformed record', { records: [{ value: 1, extra: true }] }],
      ['a negative partition', { records: [{ value: 1, partition: -1 }] }],
      ['a fractional timestamp', { records: [{ value: 1, timestamp: 1.5 }] }],
      ['a numeric key', { records: [{ key: 5, value: 1 }] }],
      ['an unknown encoding', { encoding: 'xml', records: [{ value: 1 }] }],
    ])('refuses %s with 400 INVALID_REQUEST', async (_l, body) => {
      const t = await topic(2);
      const res = await produce(t, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
      expect(await hwms(t)).toEqual([0, 0]);
    });

    it('refuses invalid base64 with 400 INVALID_RECORD', async () => {
      const t = await topic(1);
      const res = await produce(t, { encoding: 'base64', records: [{ value: 'not base64!' }] });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_RECORD');
      expect(await hwms(t)).toEqual([0]);
    });

    it('refuses a keyless record on a compacted topic with INVALID_RECORD (Kafka LogValidator)', async () => {
      const t = await topic(1, { 'cleanup.policy': 'compact' });
      const res = await produce(t, { records: [{ key: 'k', value: 1 }, { value: 2 }] });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_RECORD');
      expect(await hwms(t)).toEqual([0]);
    });

    it('refuses a partition beyond the count with 404 and writes none of the request', async () => {
      const t = await topic(2);
      const res = await produce(t, { records: [{ value: 1, partition: 0 }, { value: 2, partition: 2 }] });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      expect(await hwms(t)).toEqual([0, 0]);
    });

    it('refuses an unknown topic with 404', async () => {
      const res = await produce(uniqueName(), { records: [{ value: 1 }] });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    });

    it('refuses a record over max.message.bytes with 413 RECORD_TOO_LARGE', async () => {
      const t = await topic(1, { 'max.message.bytes': 100 });
      const res = await produce(t, { encoding: 'string', records: [{ value: 'ok' }, { value: 'x'.repeat(101) }] });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('RECORD_TOO_LARGE');
      expect(await hwms(t)).toEqual([0]);
    });

    it('refuses a body over 6 MB with 413 MESSAGE_TOO_LARGE', async () => {
      const t = await topic(1);
      const res = await produce(t, { encoding: 'string', records: [{ value: 'x'.repeat(6 * 1024 * 1024) }] });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('MESSAGE_TOO_LARGE');
      expect(await hwms(t)).toEqual([0]);
    });

    it('refuses more partitions than maxPartitionsPerRequest, naming the cap', async () => {
      const cap = (await call(app, 'GET', '/v1/cluster')).body.limits.maxPartitionsPerRequest as number;
      const t = await topic(cap + 1);
      const res = await produce(t, { records: Array.from({ length: cap + 1 }, (_, partition) => ({ partition, value: partition })) });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
      expect(res.body.error.message).toContain(String(cap));
      expect((await hwms(t)).every((h) => h === 0)).toBe(true);
    });
  });

  describe('offsets by time, describe, long poll, multi-partition fetch', () => {
    it('finds the first offset with timestamp >= T, and the high watermark with null when none', async () => {
      const t = await topic(1);
      await produce(t, { records: [{ value: 0, timestamp: 1000 }, { value: 1, timestamp: 3000 }] });
      await produce(t, { records: [{ value: 2, timestamp: 2000 }, { value: 3, timestamp: 5000 }] });
      await produce(t, { records: [{ value: 4, timestamp: 4000 }] });
      const at = async (q: string) => (await call(app, 'GET', `/v1/topics/${t}/partitions/0/offsets?at=${q}`)).body;
      expect(await at('0')).toEqual({ offset: 0, timestamp: 1000 });
      expect(await at('1000')).toEqual({ offset: 0, timestamp: 1000 });
      expect(await at('1001')).toEqual({ offset: 1, timestamp: 3000 });
      expect(await at('3001')).toEqual({ offset: 3, timestamp: 5000 });
      expect(await at('5001')).toEqual({ offset: 5, timestamp: null });
      expect(await at('earliest')).toEqual({ offset: 0, timestamp: 1000 });
      expect(await at('latest')).toEqual({ offset: 5, timestamp: null });
      // Later records after stamping: the index keeps answering.
      await produce(t, { records: [{ value: 5, timestamp: 9000 }] });
      expect(await at('5001')).toEqual({ offset: 5, timestamp: 9000 });
      expect(await at('1001')).toEqual({ offset: 1, timestamp: 3000 });
      expect((await call(app, 'GET', `/v1/topics/${t}/partitions/0/offsets?at=-1`)).status).toBe(400);
    });

    it('shows real high watermarks in describe', async () => {
      const t = await topic(2);
      await produce(t, { records: [{ partition: 1, value: 1 }, { partition: 1, value: 2 }] });
      const d = await call(app, 'GET', `/v1/topics/${t}`);
      expect(d.body.partitions).toEqual([
        { partition: 0, logStartOffset: 0, highWatermark: 0, sizeBytes: 0, segments: 0 },
        { partition: 1, logStartOffset: 0, highWatermark: 2, sizeBytes: expect.any(Number), segments: 1 },
      ]);
      // One RecordBatch of two small records: its stored bytes (61-byte header + records).
      expect(d.body.partitions[1].sizeBytes).toBeGreaterThan(61);
      expect(d.body.partitions[1].sizeBytes).toBeLessThan(200);
    });

    it('wakes a long poll within ~100 ms of a commit', async () => {
      const t = await topic(1);
      const started = Date.now();
      const poll = fetch(t, 0, '?offset=0&waitMs=5000');
      await new Promise((r) => setTimeout(r, 300));
      const producedAt = Date.now();
      await produce(t, { records: [{ value: 'wake' }] });
      const res = await poll;
      const answeredAt = Date.now();
      expect(res.body.records.map((r: { value: string }) => r.value)).toEqual(['wake']);
      expect(answeredAt - producedAt).toBeLessThan(1000);
      expect(answeredAt - started).toBeLessThan(5000);
    });

    it('ends an idle long poll after waitMs with no records', async () => {
      const t = await topic(1);
      const started = Date.now();
      const res = await fetch(t, 0, '?offset=0&waitMs=400');
      expect(res.body.records).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    });

    it('fetches several partitions at once and returns as soon as any has data', async () => {
      const t = await topic(3);
      await produce(t, { records: [{ partition: 1, value: 'one' }] });
      const res = await call(app, 'POST', '/v1/fetch', {
        partitions: [0, 1, 2].map((partition) => ({ topic: t, partition, offset: 0 })).concat([{ topic: t, partition: 9, offset: 0 }]),
        waitMs: 5000,
      });
      expect(res.status).toBe(200);
      const byPartition = new Map(res.body.partitions.map((p: { partition: number }) => [p.partition, p]));
      expect((byPartition.get(1) as { records: { value: string }[] }).records.map((r) => r.value)).toEqual(['one']);
      expect((byPartition.get(0) as { records: unknown[] }).records).toEqual([]);
      expect((byPartition.get(9) as { error: { code: string } }).error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    });

    it('never shows a deleted topic\'s records in a re-created topic of the same name', async () => {
      const t = await topic(1);
      await produce(t, { records: [{ value: 'old' }] });
      await call(app, 'DELETE', `/v1/topics/${t}`);
      await call(app, 'POST', '/v1/topics', { name: t, partitions: 1 });
      const res = await fetch(t, 0, '?offset=0');
      expect(res.body).toMatchObject({ records: [], highWatermark: 0 });
    });
  });
}
