/**
 * The real Durable Streams TypeScript client (@durable-streams/client) against Sluice's `/ds`
 * surface, served over real HTTP on the emulator stack (as `sluice dev` serves it):
 *  - the client's IdempotentProducer across injected storage faults (publish refused, publish
 *    committed but its answer lost, segment PUT refused): every message exactly once, in order;
 *  - a catch-up read from the start (more than one server page), with the returned offset;
 *  - live reads by long-poll and by SSE (JSON and binary) woken by another client's append;
 *  - a resume from a saved offset.
 *
 * The producer itself does not retry 5xx answers or network errors (its source says so:
 * "Does NOT implement general retry/backoff"), it takes a custom `fetch`. The test hands it
 * one that resends the very same request (same Producer-Id, Epoch and Seq) on a 5xx, as an
 * application would: deduplicating the resend of a committed batch is the server's job.
 */
import { DurableStream, IdempotentProducer, stream, type JsonBatch } from '@durable-streams/client';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeOffset } from '../../lib/ds/protocol.ts';
import { crash, intercept, isolatedStack, sleep, type IsolatedStack } from '../support/faults.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';

interface Served {
  readonly stack: IsolatedStack;
  readonly http: ServedApp;
}

let cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  // Newest first: readers are cancelled before their server closes, clients destroyed last.
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

async function served(): Promise<Served> {
  const stack = isolatedStack({ slotTimeoutMs: 1500, dsLongPollMs: 3_000 });
  cleanups.push(() => stack.dispose());
  const http = await serveApp(stack.app);
  cleanups.push(() => http.close());
  return { stack, http };
}

function streamUrl(s: Served, name: string): string {
  return `${s.http.base}/ds/it/${name}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
}

/** A fetch that records every request's URL and answer status (live mode checks). */
function recordingFetch(): { fetch: typeof fetch; urls: string[]; statuses: number[] } {
  const urls: string[] = [];
  const statuses: number[] = [];
  return {
    urls,
    statuses,
    fetch: async (input, init) => {
      urls.push(String(input));
      const res = await fetch(input, init);
      statuses.push(res.status);
      return res;
    },
  };
}

/**
 * What an application hands the producer so 5xx answers and network errors are retried: the
 * same request again (same body, same producer headers) after a short pause. Every other
 * answer (200, 204, 403, 409, …) goes to the producer, whose own protocol handling decides.
 */
function retryingFetch(log: { status: number; seq: string | null }[]): typeof fetch {
  return async (input, init) => {
    const seq = new Headers(init?.headers).get('Producer-Seq');
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(input, init);
      } catch (err) {
        if (attempt >= 20) throw err;
        log.push({ status: 0, seq });
        await sleep(10 * attempt);
        continue;
      }
      log.push({ status: res.status, seq });
      if (res.status < 500 || attempt >= 20) return res;
      await res.arrayBuffer();
      await sleep(10 * attempt);
    }
  };
}

/** The stream's tail offset by HEAD (the stream must exist). */
async function tailOffset(handle: DurableStream): Promise<string> {
  const head = await handle.head();
  if (!head.exists || head.offset === undefined) throw new Error(`HEAD ${handle.url}: no tail offset`);
  return head.offset;
}

/** Resolves once `check` holds (polled), or fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Every JSON item of the stream, read by the client from the start until up to date.
 * Not `live: false`: client 0.2.7 then stops after the FIRST response even when it lacks
 * Stream-Up-To-Date (StreamResponseState.shouldContinueLive returns false for live === false
 * before looking at upToDate), so it reads one server page only. `json()` with a live mode
 * follows Stream-Next-Offset and stops at the first up-to-date answer, without a live request.
 */
async function readAllJson<T>(url: string): Promise<{ items: T[]; offset: string }> {
  const res = await stream<T>({ url, offset: '-1', live: 'long-poll' });
  const items = await res.json();
  return { items, offset: res.offset };
}

describe('@durable-streams/client against /ds', () => {
  it('IdempotentProducer across injected faults (publish refused, answer lost, segment PUT refused): every message exactly once, in order', async () => {
    const s = await served();
    const url = streamUrl(s, 'producer-faults');
    const handle = await DurableStream.create({ url, contentType: 'application/json' });

    // The publish of an append is one TransactWriteItems (index entries + the stream's state).
    // Publish #2 and #6 fail before reaching DynamoDB; #3, #5 and #8 commit and then the
    // function "crashes" (the HTTP answer is a 500 although the batch is in the log); the
    // second segment PUT to S3 fails. The app does not retry a crash itself: the client sees 500s.
    const logTable = s.stack.deps.names.tables.log;
    let publishes = 0;
    let puts = 0;
    const injected = { refused: 0, lost: 0, s3: 0 };
    intercept(s.stack.deps.clients.dynamo, async (call, next) => {
      const isPublish = call.commandName === 'TransactWriteItemsCommand' &&
        (call.input.TransactItems as { Put?: { TableName?: string } }[]).some((i) => i.Put?.TableName === logTable);
      if (!isPublish) return next();
      const n = ++publishes;
      if (n === 2 || n === 6) {
        injected.refused++;
        throw crash();
      }
      if (n === 3 || n === 5 || n === 8) {
        injected.lost++;
        await next(); // committed on the server…
        throw crash(); // …but the answer never reaches the client
      }
      return next();
    });
    intercept(s.stack.deps.clients.s3, async (call, next) => {
      if (call.commandName === 'PutObjectCommand' && ++puts === 2) {
        injected.s3++;
        throw crash();
      }
      return next();
    });

    const log: { status: number; seq: string | null }[] = [];
    const errors: Error[] = [];
    const producerId = `writer-${Math.random().toString(36).slice(2)}`;
    const producer = new IdempotentProducer(handle, producerId, {
      lingerMs: 1,
      maxInFlight: 3,
      fetch: retryingFetch(log),
      onError: (err) => errors.push(err),
    });
    const N = 60;
    for (let i = 0; i < N; i++) {
      producer.append(JSON.stringify({ i }));
      if (i % 4 === 3) await sleep(3); // ~15 batches, up to 3 in flight
    }
    await producer.flush();
    await producer.detach();

    expect(errors).toEqual([]);
    expect(injected).toEqual({ refused: 2, lost: 3, s3: 1 });
    // The client really saw failures and resent: 5xx answers, and at least one resend of a
    // committed batch answered 204 (the server's duplicate) for the very seq that got a 500.
    const failedSeqs = new Set(log.filter((l) => l.status >= 500).map((l) => l.seq));
    expect(failedSeqs.size).toBeGreaterThanOrEqual(3);
    const duplicateSeqs = log.filter((l) => l.status === 204).map((l) => l.seq);
    expect(duplicateSeqs.length).toBeGreaterThanOrEqual(1);
    for (const seq of duplicateSeqs) expect(failedSeqs.has(seq)).toBe(true);
    expect(producer.nextSeq).toBeGreaterThanOrEqual(5); // several batches, not one

    const { items, offset } = await readAllJson<{ i: number }>(url);
    expect(items).toEqual(Array.from({ length: N }, (_, i) => ({ i })));
    // Offsets are opaque and need not be dense: a publish refused before DynamoDB leaves its
    // reserved slots as holes, which take positions. The read ends where HEAD says the tail is.
    expect(offset >= encodeOffset(N)).toBe(true);
    const head = await handle.head();
    expect(head).toMatchObject({ exists: true, offset, streamClosed: false });

    // The documented contract, by hand: the last batch's (id, epoch, seq) sent again is a
    // duplicate (204), and nothing is appended.
    const last = producer.nextSeq - 1;
    const again = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'Producer-Id': producerId,
        'Producer-Epoch': String(producer.epoch),
        'Producer-Seq': String(last),
      },
      body: JSON.stringify([{ i: 'again' }]),
    });
    expect(again.status).toBe(204);
    expect(again.headers.get('Producer-Seq')).toBe(String(last));
    expect((await readAllJson<{ i: number }>(url)).items).toHaveLength(N);
  });

  it('catch-up from offset -1 reads everything (more than one server page) and returns the tail offset', async () => {
    const s = await served();
    const url = streamUrl(s, 'catch-up');
    const handle = await DurableStream.create({ url, contentType: 'application/json' });
    // 1,250 messages in three producer batches: a read answers at most 1,000 records, so the
    // client must follow Stream-Next-Offset to the end.
    const producer = new IdempotentProducer(handle, 'catch-up-writer', { lingerMs: 50 });
    let n = 0;
    for (const size of [600, 400, 250]) {
      for (let i = 0; i < size; i++) producer.append(JSON.stringify({ n: n++, pad: 'x'.repeat(20) }));
      await producer.flush();
    }
    expect(producer.nextSeq).toBe(3);
    await producer.detach();
    // (`live: 'long-poll'` + json(): see readAllJson on why not `live: false`.)
    const fetched = recordingFetch();
    const res = await stream<{ n: number; pad: string }>({ url, offset: '-1', live: 'long-poll', fetch: fetched.fetch });
    const items = await res.json();
    expect(items.map((m) => m.n)).toEqual(Array.from({ length: 1250 }, (_, i) => i));
    expect(items.every((m) => m.pad === 'x'.repeat(20))).toBe(true);
    expect(res.offset).toBe(encodeOffset(1250));
    expect(res.upToDate).toBe(true);
    expect(res.streamClosed).toBe(false);
    expect(fetched.urls).toHaveLength(2); // two pages: 1,000 + 250, the second up to date
    expect(fetched.statuses).toEqual([200, 200]);
    expect(fetched.urls.every((u) => !u.includes('live='))).toBe(true); // catch-up requests only
    expect(await tailOffset(handle)).toBe(res.offset);

    // A text stream: bytes back as sent, offset = messages appended.
    const textUrl = streamUrl(s, 'catch-up-text');
    const text = await DurableStream.create({ url: textUrl, contentType: 'text/plain', batching: false });
    await text.append('alpha\n');
    await text.append('beta\n');
    await text.append('γάμμα\n');
    const tres = await stream({ url: textUrl, offset: '-1', live: false });
    expect(await tres.text()).toBe('alpha\nbeta\nγάμμα\n');
    expect(tres.offset).toBe(encodeOffset(3));
  });

  it('long-poll live read at the tail receives another client’s append', async () => {
    const s = await served();
    const url = streamUrl(s, 'long-poll');
    const writer = await DurableStream.create({ url, contentType: 'application/json', batching: false });
    await writer.append(JSON.stringify({ before: true }));
    const tail = await tailOffset(writer);
    expect(tail).toBe(encodeOffset(1));

    const fetched = recordingFetch();
    const reader = await stream<{ m: number }>({ url, offset: tail, live: 'long-poll', fetch: fetched.fetch });
    cleanups.push(() => reader.cancel());
    const batches: JsonBatch<{ m: number }>[] = [];
    reader.subscribeJson((batch) => {
      batches.push(batch);
    });
    // Let the reader park in a long poll before the append.
    await until(() => fetched.urls.some((u) => u.includes('live=long-poll')), 3_000, 'a long-poll request');
    await sleep(200);

    const other = await DurableStream.connect({ url });
    // Two appends fired together (the client may batch them into one POST).
    await Promise.all([other.append(JSON.stringify({ m: 1 })), other.append(JSON.stringify({ m: 2 }))]);
    await until(() => batches.flatMap((b) => b.items).length >= 2, 5_000, 'the appended items');
    const got = batches.flatMap((b) => b.items);
    expect(got).toEqual([{ m: 1 }, { m: 2 }]); // not the message before the tail
    expect(batches.at(-1)!.offset).toBe(encodeOffset(3));
    expect(fetched.urls.some((u) => u.includes('live=long-poll'))).toBe(true);
    expect(fetched.urls.some((u) => u.includes('live=sse'))).toBe(false);
  });

  it('SSE live read (JSON) at the tail receives another client’s append, over SSE (no long-poll fallback)', async () => {
    const s = await served();
    const url = streamUrl(s, 'sse-json');
    const writer = await DurableStream.create({ url, contentType: 'application/json', batching: false });
    await writer.append(JSON.stringify({ before: true }));
    const tail = await tailOffset(writer);

    const fetched = recordingFetch();
    const reader = await stream<{ m: string }>({ url, offset: tail, live: 'sse', fetch: fetched.fetch });
    cleanups.push(() => reader.cancel());
    const batches: JsonBatch<{ m: string }>[] = [];
    reader.subscribeJson((batch) => {
      batches.push(batch);
    });
    await until(() => fetched.urls.some((u) => u.includes('live=sse')), 3_000, 'an SSE request');
    await sleep(200);

    const other = await DurableStream.connect({ url });
    await other.append(JSON.stringify({ m: 'one' }));
    await until(() => batches.flatMap((b) => b.items).length >= 1, 5_000, 'the first SSE item');
    await Promise.all([other.append(JSON.stringify({ m: 'two' })), other.append(JSON.stringify({ m: 'three\nwith a newline' }))]);
    await until(() => batches.flatMap((b) => b.items).length >= 3, 5_000, 'the later SSE items');

    expect(batches.flatMap((b) => b.items)).toEqual([{ m: 'one' }, { m: 'two' }, { m: 'three\nwith a newline' }]);
    expect(batches.at(-1)!.offset).toBe(encodeOffset(4));
    expect(fetched.urls.filter((u) => u.includes('live=sse'))).toHaveLength(1); // one connection carried both
    expect(fetched.urls.some((u) => u.includes('live=long-poll'))).toBe(false);
  });

  it('SSE live read of a binary stream: base64 data events decoded to the appended bytes', async () => {
    const s = await served();
    const url = streamUrl(s, 'sse-binary');
    const writer = await DurableStream.create({ url, contentType: 'application/octet-stream', batching: false });
    await writer.append(new Uint8Array([9, 9, 9]));
    const tail = await tailOffset(writer);

    const fetched = recordingFetch();
    const reader = await stream({ url, offset: tail, live: 'sse', fetch: fetched.fetch });
    cleanups.push(() => reader.cancel());
    const chunks: Uint8Array[] = [];
    let lastOffset = '';
    reader.subscribeBytes((chunk) => {
      if (chunk.data.byteLength > 0) chunks.push(chunk.data);
      lastOffset = chunk.offset;
    });
    await until(() => fetched.urls.some((u) => u.includes('live=sse')), 3_000, 'an SSE request');
    await sleep(200);

    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i); // every byte value, \r and \n too
    await (await DurableStream.connect({ url })).append(bytes);
    await until(() => chunks.reduce((sum, c) => sum + c.byteLength, 0) >= 256, 5_000, 'the binary bytes');
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(bytes));
    expect(lastOffset).toBe(encodeOffset(2));
    expect(fetched.urls.some((u) => u.includes('live=long-poll'))).toBe(false);
  });

  it('resume from a saved offset reads exactly the data appended after it', async () => {
    const s = await served();
    const url = streamUrl(s, 'resume');
    const writer = await DurableStream.create({ url, contentType: 'application/json', batching: false });
    for (const k of ['a', 'b', 'c']) await writer.append(JSON.stringify({ k }));

    const first = await stream<{ k: string }>({ url, offset: '-1', live: false });
    expect(await first.json()).toEqual([{ k: 'a' }, { k: 'b' }, { k: 'c' }]);
    const saved = first.offset;
    expect(saved).toBe(encodeOffset(3));

    await writer.append(JSON.stringify({ k: 'd' }));
    await writer.append(JSON.stringify({ k: 'e' }));
    await writer.append(JSON.stringify({ k: 'f' }));

    const resumed = await stream<{ k: string }>({ url, offset: saved, live: false });
    expect(await resumed.json()).toEqual([{ k: 'd' }, { k: 'e' }, { k: 'f' }]);
    expect(resumed.offset).toBe(encodeOffset(6));

    // From the new tail: nothing, the same offset back, up to date.
    const atTail = await stream<{ k: string }>({ url, offset: resumed.offset, live: false });
    expect(await atTail.json()).toEqual([]);
    expect(atTail.offset).toBe(encodeOffset(6));
    expect(atTail.upToDate).toBe(true);

    // A saved offset also resumes a live read: the next append only.
    const live = await stream<{ k: string }>({ url, offset: resumed.offset, live: 'long-poll' });
    cleanups.push(() => live.cancel());
    const seen: { k: string }[] = [];
    live.subscribeJson((b) => {
      seen.push(...b.items);
    });
    await writer.append(JSON.stringify({ k: 'g' }));
    await until(() => seen.length >= 1, 5_000, 'the live item');
    expect(seen).toEqual([{ k: 'g' }]);
  });
});
