/**
 * The client's batching producer (lib/client/producer.ts) against the app served over real
 * HTTP on the shared stack, as `sluice dev` serves it. Requests are recorded by a fetch
 * wrapper (test/support/client-fetch.ts), which also injects the faults: synthetic 503/429
 * answers, and answers dropped after the server committed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidRecordError, ProducerFencedError, RecordTooLargeError, RequestTimeoutError, Sluice, UnknownTopicOrPartitionError,
  type Producer, type ProducerOptions,
} from '../../lib/client/index.ts';
import { partitionForKey } from '../../lib/partition/partitioner.ts';
import { errorResponse, recordingFetch, type RecordingFetch } from '../support/client-fetch.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { uniqueName } from '../support/http.ts';
import { stackApp } from '../support/stack.ts';

let served: ServedApp;
beforeAll(async () => {
  served = await serveApp(stackApp());
});
afterAll(async () => {
  await served.close();
});

const producers: Producer[] = [];
afterAll(async () => {
  await Promise.allSettled(producers.map((p) => p.close()));
});

function client(rec: RecordingFetch = recordingFetch()): Sluice {
  return new Sluice({ url: served.base, fetch: rec.fetch });
}

function producerOf(rec: RecordingFetch, opts: ProducerOptions = {}): Producer {
  const p = client(rec).producer(opts);
  producers.push(p);
  return p;
}

async function topic(partitions = 1, config: Record<string, string | number> = {}): Promise<string> {
  const name = uniqueName('cp');
  await client().admin.createTopic({ name, partitions, config });
  return name;
}

/** Every record of every partition, read with plain fetches. */
async function readAll(name: string): Promise<{ partition: number; offset: number; key: string | null; value: unknown }[]> {
  const admin = client().admin;
  const out: { partition: number; offset: number; key: string | null; value: unknown }[] = [];
  for (const p of (await admin.describeTopic(name)).partitions) {
    let offset = p.logStartOffset;
    while (offset < p.highWatermark) {
      const res = await fetch(`${served.base}/v1/topics/${name}/partitions/${p.partition}/records?offset=${offset}&maxRecords=10000`);
      const body = (await res.json()) as { records: { partition: number; offset: number; key: string | null; value: unknown }[]; nextOffset: number };
      out.push(...body.records.map((r) => ({ partition: r.partition, offset: r.offset, key: r.key, value: r.value })));
      offset = body.nextOffset;
    }
  }
  return out;
}

describe('batching', () => {
  it('sends made within one linger become one request, and each send learns its own offset', async () => {
    const name = await topic(1);
    const rec = recordingFetch();
    const producer = producerOf(rec, { lingerMs: 100 });
    await producer.send(name, { value: 'warm-up' }); // metadata, limits and producer id first
    const before = rec.produces(name).length;
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => producer.send(name, { value: i })));
    expect(rec.produces(name).length - before).toBe(1);
    expect(answers.map((a) => a[0]!.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await readAll(name)).map((r) => r.value)).toEqual(['warm-up', ...Array.from({ length: 50 }, (_, i) => i)]);
  });

  it('a batch never exceeds batchBytes', async () => {
    const name = await topic(1);
    const rec = recordingFetch();
    const producer = producerOf(rec, { lingerMs: 50, batchBytes: 10_000 });
    const value = 'x'.repeat(1000);
    await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send(name, { key: `k${i}`, value })));
    const produces = rec.produces(name);
    expect(produces.length).toBeGreaterThanOrEqual(10);
    for (const r of produces) {
      const recordBytes = r.body.records.reduce((n: number, x: unknown) => n + new TextEncoder().encode(JSON.stringify(x)).length + 1, 0);
      expect(recordBytes).toBeLessThanOrEqual(10_000);
    }
    expect(await readAll(name)).toHaveLength(100);
  });

  it("a batch never spans more partitions than the server's per-request cap", async () => {
    const name = await topic(80);
    const rec = recordingFetch();
    const producer = producerOf(rec, { lingerMs: 50 });
    const cap = (await client().cluster()).limits.maxPartitionsPerRequest;
    const records = Array.from({ length: 80 }, (_, p) => ({ partition: p, value: p }));
    const answers = await producer.send(name, records);
    expect(answers.map((a) => a.partition)).toEqual(records.map((r) => r.partition));
    const produces = rec.produces(name);
    expect(produces.length).toBe(Math.ceil(80 / cap));
    for (const r of produces) expect(new Set(r.body.records.map((x: { partition: number }) => x.partition)).size).toBeLessThanOrEqual(cap);
  });

  it("keyed records land where the server's partitioner (Kafka's murmur2) puts them", async () => {
    const name = await topic(7);
    const producer = producerOf(recordingFetch());
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const viaClient = await producer.send(name, keys.map((key) => ({ key, value: 1 })));
    // The same keys sent raw, without partitions: the server chooses.
    const raw = await fetch(`${served.base}/v1/topics/${name}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: keys.map((key) => ({ key, value: 2 })) }),
    });
    const server = ((await raw.json()) as { offsets: { partition: number }[] }).offsets;
    expect(viaClient.map((a) => a.partition)).toEqual(server.map((o) => o.partition));
    expect(viaClient.map((a) => a.partition)).toEqual(keys.map((k) => partitionForKey(new TextEncoder().encode(k), 7)));
    expect(new Set(viaClient.map((a) => a.partition)).size).toBeGreaterThan(3);
  });

  it('null-keyed records of one batch share a partition (sticky), and the next batch moves on', async () => {
    const name = await topic(4);
    const rec = recordingFetch();
    const producer = producerOf(rec, { lingerMs: 30 });
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send(name, { value: i })));
    const second = await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send(name, { value: i })));
    expect(new Set(first.map((a) => a[0]!.partition)).size).toBe(1);
    expect(new Set(second.map((a) => a[0]!.partition)).size).toBe(1);
    expect(second[0]![0]!.partition).toBe((first[0]![0]!.partition + 1) % 4);
  });
});

describe('delivery', () => {
  it('answers dropped after the server committed are retried with the same sequence: every record exactly once', async () => {
    const name = await topic(3);
    let produces = 0;
    const rec = recordingFetch({
      after: (req) => {
        if (req.method === 'POST' && req.path.endsWith('/records') && ++produces % 2 === 1) throw new TypeError('socket hang up (injected)');
      },
    });
    const producer = producerOf(rec, { lingerMs: 10, retryBackoffMs: 5, batchBytes: 2_000 });
    const sent = await Promise.all(Array.from({ length: 60 }, (_, i) => producer.send(name, { key: `k${i % 9}`, value: i })));
    const stored = await readAll(name);
    expect(stored.map((r) => r.value as number).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // What each send was told is where its record is.
    const at = new Map(stored.map((r) => [`${r.partition}/${r.offset}`, r.value]));
    sent.forEach((a, i) => expect(at.get(`${a[0]!.partition}/${a[0]!.offset}`)).toBe(i));
    expect(rec.count('POST', /\/v1\/producers$/)).toBe(1); // retries kept the producer and its sequence
  });

  it('retries 503 and 429 answers with backoff until they clear', async () => {
    const name = await topic(1);
    const faults = [errorResponse(503, 'KAFKA_STORAGE_ERROR', true), errorResponse(429, 'THROTTLING_QUOTA_EXCEEDED', true), new Response('bad gateway', { status: 502 })];
    const rec = recordingFetch({ before: (req) => (req.path.endsWith('/records') ? faults.shift() : undefined) });
    const producer = producerOf(rec, { retryBackoffMs: 5 });
    const [answer] = await producer.send(name, { value: 'finally' });
    expect(answer!.offset).toBe(0);
    expect(rec.produces(name).map((r) => r.status)).toEqual([503, 429, 502, 200]);
    expect((await readAll(name)).map((r) => r.value)).toEqual(['finally']);
  });

  it('surfaces non-retriable errors as typed classes, failing only the send that caused them', async () => {
    const name = await topic(2, { 'max.message.bytes': 1000 });
    const producer = producerOf(recordingFetch(), { lingerMs: 50 });
    const results = await Promise.allSettled([
      producer.send(name, { value: 'small-1' }),
      producer.send(name, { value: 'y'.repeat(5000) }), // past max.message.bytes: the server refuses
      producer.send(name, { key: 'k', value: 'small-2' }),
    ]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[2]!.status).toBe('fulfilled');
    expect(results[1]!.status === 'rejected' && results[1]!.reason).toBeInstanceOf(RecordTooLargeError);
    expect((await readAll(name)).map((r) => r.value).sort()).toEqual(['small-1', 'small-2']);
    await expect(producer.send(name, { partition: 5, value: 1 })).rejects.toBeInstanceOf(UnknownTopicOrPartitionError);
    await expect(producer.send(uniqueName('missing'), { value: 1 })).rejects.toBeInstanceOf(UnknownTopicOrPartitionError);
    const b64 = producerOf(recordingFetch(), { encoding: 'base64' });
    await expect(b64.send(name, { key: 'not base64!', value: 'AA==' })).rejects.toBeInstanceOf(InvalidRecordError);
  });

  it('gives up after deliveryTimeoutMs, and the next batch never reuses the unknown sequence', async () => {
    const name = await topic(1);
    let down = true;
    const rec = recordingFetch({
      after: (req) => {
        // The first request commits but its answer never arrives, nor any retry's.
        if (down && req.path.endsWith('/records')) throw new TypeError('connection reset (injected)');
      },
    });
    const producer = producerOf(rec, { deliveryTimeoutMs: 300, retryBackoffMs: 20, retryBackoffMaxMs: 50 });
    await expect(producer.send(name, { value: 'lost answer' })).rejects.toBeInstanceOf(RequestTimeoutError);
    down = false;
    const [next] = await producer.send(name, { value: 'next' });
    // Had the next batch reused the sequence, the server would have answered it as a repeat of
    // the first (offset 0) and written nothing.
    expect(next!.offset).toBe(1);
    expect((await readAll(name)).map((r) => r.value)).toEqual(['lost answer', 'next']);
    expect(rec.count('POST', /\/v1\/producers$/)).toBe(2);
  });

  it('PRODUCER_FENCED is fatal: a newer producer with the same transactionalId fences the older one', async () => {
    const name = await topic(1);
    const txn = uniqueName('txn');
    const older = producerOf(recordingFetch(), { transactionalId: txn });
    await older.send(name, { value: 'old' });
    const newer = producerOf(recordingFetch(), { transactionalId: txn });
    await newer.send(name, { value: 'new' });
    await expect(older.send(name, { value: 'zombie' })).rejects.toBeInstanceOf(ProducerFencedError);
    await expect(older.send(name, { value: 'again' })).rejects.toBeInstanceOf(ProducerFencedError);
    expect((await readAll(name)).map((r) => r.value)).toEqual(['old', 'new']);
  });
});

describe('under load', () => {
  it('a busy producer fills the next batch while a request is out, instead of sending one batch per linger', async () => {
    const name = await topic(4);
    // 100 ms per produce answer: records offered every ~3 ms pile up behind the request in flight.
    const rec = recordingFetch({ before: async (req) => { if (req.path.endsWith('/records')) await new Promise((r) => setTimeout(r, 100)); return undefined; } });
    const producer = producerOf(rec, { lingerMs: 5 });
    await producer.send(name, { value: 'warm-up' });
    const before = rec.produces(name).length;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      sends.push(producer.send(name, { key: `k${i}`, value: i }));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 30));
    }
    await Promise.all(sends);
    // ~0.9 s of offering at 100 ms per request: about 10 requests; one per linger would be ~90.
    expect(rec.produces(name).length - before).toBeLessThanOrEqual(20);
    expect(await readAll(name)).toHaveLength(301);
  });

  it('metadata lookups retry a blip, and a failed refresh keeps the partition count it had', async () => {
    const name = await topic(3);
    let failDescribes = 1;
    const rec = recordingFetch({
      before: (req) => (req.method === 'GET' && req.path === `/v1/topics/${name}` && failDescribes-- > 0 ? errorResponse(503, 'KAFKA_STORAGE_ERROR', true) : undefined),
    });
    const producer = producerOf(rec, { metadataMaxAgeMs: 1, retryBackoffMs: 5 });
    expect((await producer.send(name, { key: 'a', value: 1 }))[0]!.offset).toBe(0); // the first describe failed, its retry did not
    failDescribes = 1_000;
    await new Promise((r) => setTimeout(r, 5)); // the count is stale now: every send refreshes, and every refresh fails
    const [again] = await producer.send(name, { key: 'a', value: 2 });
    expect(again!.offset).toBe(1);
    expect(rec.count('GET', new RegExp(`^/v1/topics/${name}$`))).toBeGreaterThanOrEqual(3);
  });

  it('a batch that waited out its delivery timeout in the queue fails without being sent', async () => {
    const name = await topic(1);
    const rec = recordingFetch({ before: async (req) => { if (req.path.endsWith('/records') && req.body.records[0].value === 'slow') await new Promise((r) => setTimeout(r, 400)); return undefined; } });
    const producer = producerOf(rec, { deliveryTimeoutMs: 200, lingerMs: 0 });
    await producer.send(name, { value: 'warm-up' });
    const slow = producer.send(name, { value: 'slow' });
    await new Promise((r) => setTimeout(r, 20));
    const queued = producer.send(name, { value: 'queued' }); // waits behind 'slow' past its deadline
    expect((await slow)[0]!.offset).toBe(1); // the attempt in flight was not cut short
    await expect(queued).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(rec.produces(name).some((r) => r.body.records.some((x: { value: unknown }) => x.value === 'queued'))).toBe(false);
    expect((await readAll(name)).map((r) => r.value)).toEqual(['warm-up', 'slow']);
  });
});

describe('back-pressure, flush and close', () => {
  it('a send waits while the buffer is full, in order, and fails after maxBlockMs if it stays full', async () => {
    const name = await topic(1);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const rec = recordingFetch({ before: async (req) => { if (req.path.endsWith('/records')) await gate; return undefined; } });
    const producer = producerOf(rec, { bufferBytes: 5_000, lingerMs: 0, maxBlockMs: 200 });
    const value = 'z'.repeat(1000);
    const first = Array.from({ length: 4 }, () => producer.send(name, { value }));
    await new Promise((r) => setTimeout(r, 20));
    expect(producer.bufferedBytes).toBeGreaterThan(4_000);
    let blockedSettled = false;
    const blocked = producer.send(name, { value }).finally(() => (blockedSettled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(blockedSettled).toBe(false); // waiting for room, not queued
    expect(producer.bufferedBytes).toBeLessThanOrEqual(5_000);
    await expect(blocked).rejects.toBeInstanceOf(RequestTimeoutError);
    // A big send that must wait, then a small one that would fit: the small one waits its turn.
    const big = producer.send(name, { value: 'b'.repeat(2500) });
    const small = producer.send(name, { value: 's' });
    let smallSettled = false;
    void small.finally(() => (smallSettled = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(smallSettled).toBe(false);
    release(); // answers free the room: the waiting sends are admitted, in order
    await Promise.all(first);
    const [bigAt] = await big;
    const [smallAt] = await small;
    expect(smallAt!.offset).toBeGreaterThan(bigAt!.offset);
    expect((await readAll(name)).map((r) => (r.value as string).slice(0, 1))).toEqual(['z', 'z', 'z', 'z', 'b', 's']);
  });

  it('flush does not stall on a send waiting for room held by a lingering batch', async () => {
    const name = await topic(1);
    const producer = producerOf(recordingFetch(), { lingerMs: 10_000, bufferBytes: 3_000, maxBlockMs: 5_000 });
    const value = 'q'.repeat(1000);
    const sends = [producer.send(name, { value }), producer.send(name, { value }), producer.send(name, { value })];
    const started = performance.now();
    await producer.flush();
    expect(performance.now() - started).toBeLessThan(3_000);
    expect((await Promise.all(sends)).map((a) => a[0]!.offset)).toEqual([0, 1, 2]);
  });

  it('flush sends at once without waiting for the linger; close refuses later sends', async () => {
    const name = await topic(1);
    const producer = producerOf(recordingFetch(), { lingerMs: 60_000 });
    const pending = producer.send(name, [{ value: 1 }, { value: 2 }]);
    await producer.flush();
    expect((await pending).map((a) => a.offset)).toEqual([0, 1]);
    await producer.close();
    await expect(producer.send(name, { value: 3 })).rejects.toThrow(/closed/);
    expect(producer.stats).toMatchObject({ records: 2, batches: 1 });
  });
});
