/**
 * `npm run bench -- sse-latency [--records N] [--interval-ms I] [--consumers C]`: how long a
 * record takes from its produce to an SSE consumer (`GET …/partitions/0/records?live=sse`,
 * lib/api/routes/sse.ts, docs/STREAMING.md).
 *
 * The app is served over real HTTP by @hono/node-server on loopback against the local stack
 * (DynamoDB Local + s3rver, bench/support.ts). One producer sends N single-record produce
 * requests (default 300), one at a time, started every I ms (default 20; a produce slower than
 * that delays the next, none overlap), each record's value `{"seq": i}`. Consumers read the
 * partition with fetch() and a stream reader, parsing the events themselves, as a browser with
 * a token would (docs/STREAMING.md); an `end` event is followed by a reconnect with
 * Last-Event-ID, as EventSource does.
 *
 * Latency of a record for a consumer: from just before the producer calls fetch() for its POST
 * to the arrival of the chunk holding the `records` event that carries it (performance.now()
 * in this one process). Every consumer must see every seq exactly once, in order, at
 * consecutive offsets: anything else fails the bench.
 *
 * Scenarios:
 *  - same instance: the consumers read from the app that produced. Its CommitSignal
 *    (lib/log/commit-signal.ts) wakes the waiting stream at the commit: the dev server's case.
 *  - second instance: the consumers read from a second `createApp` on the same emulators
 *    (its own services: FetchService, CommitSignal, caches), which learns of a commit only by
 *    re-reading every pollIntervalMs (SLUICE_POLL_INTERVAL_MS, default 250): what a stream on
 *    AWS sees, where the producing Lambda is another process. Run at the default and at 50 ms.
 *
 * Durable Streams rows (`/ds`, lib/api/routes/ds.ts, docs/STREAMING.md "Durable Streams"): the
 * same method on a fresh JSON stream (PUT `content-type: application/json`). The producer sends
 * N POSTs of one message each (`{"seq": i}`, answered 204 with Stream-Next-Offset); consumers
 * read `GET /ds/<path>?offset=-1&live=sse`, parsing `event: data` (a JSON array of messages,
 * its `data:` lines joined with \n) and the `event: control` after each (streamNextOffset,
 * upToDate, ...). A response that ends (the server's ~60 s limit, capped by SLUICE_SSE_MAX_MS)
 * is followed by a reconnect at `offset=<last streamNextOffset>`. Latency: as above, to the
 * chunk holding the `data` event carrying the message. Every consumer must see every seq
 * exactly once, in order, each control's streamNextOffset must be the stream's position after
 * the messages seen so far, and a `data` event must be followed by its `control`: anything
 * else fails the bench. Rows: same instance with 1 and C consumers, second instance with 1
 * consumer at the default poll interval.
 *
 * Everything (producer, consumers, both servers, s3rver) shares this process's event loop on
 * a 2-core machine with the DynamoDB Local JVM: local emulators, not AWS latencies.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { TUNING_DEFAULTS } from '../lib/config.ts';
import { decodeOffset, encodeOffset } from '../lib/ds/protocol.ts';
import { BenchOptions, type BenchStack, createTopic, fmtMs, fmtNum, log, machine, overHttp, percentile, startBenchStack, table, uniqueName } from './support.ts';

interface Scenario {
  readonly name: string;
  /** 'v1': Sluice's own API (`/v1/…/records?live=sse`); 'ds': the Durable Streams protocol (`/ds/<path>?live=sse`). */
  readonly protocol: 'v1' | 'ds';
  /** 'same': consumers on the producing app; 'second': on another app instance. */
  readonly reader: 'same' | 'second';
  readonly consumers: number;
  /** The reading instance's pollIntervalMs. */
  readonly pollMs: number;
}

interface Server {
  readonly base: string;
  close(): Promise<void>;
}

function serveApp(app: Hono): Promise<Server> {
  return new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({
        base: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            // SSE connections may still be open (aborted by the client a moment ago): do not wait on them.
            (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            s.close(() => done());
          }),
      }),
    );
  });
}

interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/** Splits an SSE byte stream into events (text/event-stream framing: blank-line separated blocks). */
class SseParser {
  private buffer = '';

  push(text: string): SseEvent[] {
    this.buffer += text.replace(/\r\n?/g, '\n');
    const out: SseEvent[] = [];
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
      if (data.length > 0 || event !== 'message') out.push({ event, data: data.join('\n'), ...(id === undefined ? {} : { id }) });
    }
    return out;
  }
}

/**
 * What a scenario needs of a consumer, for either protocol, and the bookkeeping both share:
 * arrival times, failures (the first one rejects `done`), reconnects, and the two promises.
 */
abstract class Consumer {
  readonly arrivedAt: number[] = [];
  readonly failures: string[] = [];
  reconnects = 0;
  protected readyResolve!: () => void;
  protected doneResolve!: () => void;
  private doneReject!: (err: Error) => void;
  /** The stream is open and caught up. */
  readonly ready = new Promise<void>((resolve) => (this.readyResolve = resolve));
  /** Every expected message arrived. */
  readonly done = new Promise<void>((resolve, reject) => {
    this.doneResolve = resolve;
    this.doneReject = reject;
  });

  constructor(protected readonly name: string) {
    this.done.catch(() => {}); // observed by the scenario; never an unhandled rejection
  }

  protected fail(msg: string): void {
    this.failures.push(`${this.name}: ${msg}`);
    this.doneReject(new Error(`${this.name}: ${msg}`));
  }

  abstract run(): Promise<void>;
}

interface WireRecord {
  readonly partition: number;
  readonly offset: number;
  readonly value: unknown;
}

/**
 * One SSE reader of partition 0 from offset 0. Records every seq's arrival time; any gap,
 * duplicate, reordering, unexpected offset or `error` event is a failure (kept in `failures`,
 * and `done` rejects).
 */
class SseConsumer extends Consumer {
  private nextSeq = 0;
  private nextOffset = 0;
  private lastId: string | undefined;

  constructor(
    name: string,
    private readonly url: string,
    private readonly expected: number,
    private readonly sentAt: readonly number[],
    private readonly signal: AbortSignal,
  ) {
    super(name);
  }

  /** Reads until aborted, reconnecting after `end` with Last-Event-ID. */
  async run(): Promise<void> {
    try {
      while (!this.signal.aborted) {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (this.lastId !== undefined) headers['last-event-id'] = this.lastId;
        const res = await fetch(`${this.url}&offset=${this.nextOffset}`, { headers, signal: this.signal });
        if (!res.ok || res.body === null) {
          this.fail(`stream answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
          return;
        }
        const parser = new SseParser();
        const decoder = new TextDecoder();
        const reader = res.body.getReader();
        let ended = false;
        while (!ended) {
          const { value, done } = await reader.read();
          if (done) break;
          const at = performance.now();
          for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
            if (ev.id !== undefined) this.lastId = ev.id;
            if (ev.event === 'records') this.onRecords(ev.data, at);
            else if (ev.event === 'ping') this.readyResolve();
            else if (ev.event === 'end') ended = true;
            else if (ev.event === 'error') {
              this.fail(`event: error ${ev.data}`);
              return;
            } else this.fail(`unexpected event ${ev.event}`);
          }
        }
        await reader.cancel().catch(() => {});
        if (!this.signal.aborted) this.reconnects++;
      }
    } catch (err) {
      if (this.signal.aborted) return;
      this.fail(`stream failed: ${String(err)}`);
    }
  }

  private onRecords(data: string, at: number): void {
    this.readyResolve();
    const batch = JSON.parse(data) as { records: WireRecord[]; nextOffset: number };
    for (const r of batch.records) {
      const seq = (r.value as { seq?: unknown } | null)?.seq;
      if (r.partition !== 0 || r.offset !== this.nextOffset || seq !== this.nextSeq) {
        this.fail(`expected seq ${this.nextSeq} at offset ${this.nextOffset}, got ${JSON.stringify(r).slice(0, 200)}`);
        return;
      }
      const sent = this.sentAt[seq];
      if (sent === undefined) {
        this.fail(`seq ${seq} arrived before it was sent`);
        return;
      }
      this.arrivedAt[seq] = at;
      this.nextSeq++;
      this.nextOffset++;
      if (this.nextSeq > this.expected) {
        this.fail(`more records than produced: seq ${seq}`);
        return;
      }
      if (this.nextSeq === this.expected) this.doneResolve();
    }
    if (batch.nextOffset !== this.nextOffset) this.fail(`batch nextOffset ${batch.nextOffset}, expected ${this.nextOffset}`);
  }
}

/**
 * One Durable Streams SSE reader of a JSON stream from its start (`offset=-1`). Records every
 * seq's arrival time; a gap, duplicate, reordering, a control whose streamNextOffset is not the
 * position after the messages seen, a data event without its control, a closed stream or an
 * unexpected event is a failure (kept in `failures`, and `done` rejects). A response that ends
 * is followed by a reconnect at the last control's streamNextOffset.
 */
class DsSseConsumer extends Consumer {
  private nextSeq = 0;
  /** The offset to (re)connect at: `-1` until the first control event. */
  private offset = '-1';
  /** A data event was parsed, its control not yet. */
  private awaitingControl = false;

  constructor(
    name: string,
    /** The stream's URL, without a query. */
    private readonly url: string,
    /** The stream's position before its first message (PUT's Stream-Next-Offset). */
    private readonly base: number,
    private readonly expected: number,
    private readonly sentAt: readonly number[],
    private readonly signal: AbortSignal,
  ) {
    super(name);
  }

  /** Reads until aborted or failed, reconnecting at the last streamNextOffset when a response ends. */
  async run(): Promise<void> {
    try {
      while (!this.signal.aborted && this.failures.length === 0) {
        const res = await fetch(`${this.url}?offset=${encodeURIComponent(this.offset)}&live=sse`, { headers: { accept: 'text/event-stream' }, signal: this.signal });
        const type = res.headers.get('content-type') ?? '';
        if (!res.ok || res.body === null || !type.startsWith('text/event-stream')) {
          this.fail(`stream answered ${res.status} (${type}): ${(await res.text()).slice(0, 300)}`);
          return;
        }
        const parser = new SseParser();
        const decoder = new TextDecoder();
        const reader = res.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const at = performance.now();
          for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
            if (ev.event === 'data') this.onData(ev.data, at);
            else if (ev.event === 'control') this.onControl(ev.data);
            else this.fail(`unexpected event ${ev.event}: ${ev.data.slice(0, 200)}`);
            if (this.failures.length > 0) {
              await reader.cancel().catch(() => {});
              return;
            }
          }
        }
        await reader.cancel().catch(() => {});
        if (this.awaitingControl) {
          this.fail('the response ended between a data event and its control event');
          return;
        }
        if (!this.signal.aborted) this.reconnects++;
      }
    } catch (err) {
      if (this.signal.aborted) return;
      this.fail(`stream failed: ${String(err)}`);
    }
  }

  private onData(data: string, at: number): void {
    if (this.awaitingControl) {
      this.fail('two data events without a control event between them');
      return;
    }
    this.awaitingControl = true;
    const messages = JSON.parse(data) as unknown;
    if (!Array.isArray(messages) || messages.length === 0) {
      this.fail(`a data event that is not a non-empty JSON array: ${data.slice(0, 200)}`);
      return;
    }
    for (const m of messages as unknown[]) {
      const seq = (m as { seq?: unknown } | null)?.seq;
      if (seq !== this.nextSeq) {
        this.fail(`expected seq ${this.nextSeq}, got ${JSON.stringify(m).slice(0, 200)}`);
        return;
      }
      if (this.sentAt[seq] === undefined) {
        this.fail(`seq ${seq} arrived before it was sent`);
        return;
      }
      this.arrivedAt[seq] = at;
      this.nextSeq++;
      if (this.nextSeq > this.expected) {
        this.fail(`more messages than produced: seq ${seq}`);
        return;
      }
    }
  }

  private onControl(data: string): void {
    const control = JSON.parse(data) as { streamNextOffset?: unknown; streamClosed?: unknown };
    if (typeof control.streamNextOffset !== 'string') {
      this.fail(`a control event without streamNextOffset: ${data.slice(0, 200)}`);
      return;
    }
    if (control.streamClosed === true) {
      this.fail(`the stream was closed: ${data.slice(0, 200)}`);
      return;
    }
    const position = decodeOffset(control.streamNextOffset);
    if (position !== this.base + this.nextSeq) {
      this.fail(`control streamNextOffset ${control.streamNextOffset} after ${this.nextSeq} messages; expected ${encodeOffset(this.base + this.nextSeq)}`);
      return;
    }
    this.offset = control.streamNextOffset;
    this.awaitingControl = false;
    this.readyResolve();
    if (this.nextSeq === this.expected) this.doneResolve();
  }
}

interface Result {
  readonly scenario: Scenario;
  /** Every (consumer, record) latency, ms. */
  readonly latencies: number[];
  /** Per record, the slowest consumer's latency. */
  readonly slowest: number[];
  readonly produceMs: number[];
  /** Share of (consumer, record) pairs seen before the producer had its ack. */
  readonly beforeAck: number;
  readonly spacingMs: number;
  readonly reconnects: number;
  readonly elapsedMs: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Creates the log a scenario writes: a 1-partition topic (/v1) or a JSON stream (/ds). */
async function createLog(writerBase: string, protocol: Scenario['protocol']): Promise<{ readonly path: string; readonly base: number }> {
  if (protocol === 'v1') {
    const topic = uniqueName('sse-lat');
    await createTopic(overHttp(writerBase), topic, 1);
    return { path: topic, base: 0 };
  }
  const path = `/bench/${uniqueName('ds-lat')}`;
  const res = await fetch(`${writerBase}/ds${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  const next = res.headers.get('stream-next-offset');
  if (res.status !== 201 || next === null) throw new Error(`PUT /ds${path} answered ${res.status} (Stream-Next-Offset ${next}): ${text.slice(0, 300)}`);
  return { path, base: decodeOffset(next) };
}

/** One produce of `seq`, checked: its record at offset `seq` (/v1), or the stream's position advanced by exactly one message (/ds). `sentAt`/`ackAt[seq]`: just before the POST, and when its answer is read. */
async function produceOne(writerBase: string, protocol: Scenario['protocol'], target: { readonly path: string; readonly base: number }, seq: number, sentAt: number[], ackAt: number[]): Promise<void> {
  if (protocol === 'v1') {
    const body = JSON.stringify({ records: [{ value: { seq }, partition: 0 }] });
    sentAt[seq] = performance.now();
    const res = await fetch(`${writerBase}/v1/topics/${target.path}/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await res.text();
    ackAt[seq] = performance.now();
    if (!res.ok) throw new Error(`produce of seq ${seq} answered ${res.status}: ${text.slice(0, 300)}`);
    const offset = (JSON.parse(text) as { offsets: { partition: number; offset: number }[] }).offsets[0];
    if (offset?.partition !== 0 || offset.offset !== seq) throw new Error(`produce of seq ${seq} acked at ${JSON.stringify(offset)}, expected offset ${seq}`);
    return;
  }
  const body = JSON.stringify({ seq });
  sentAt[seq] = performance.now();
  const res = await fetch(`${writerBase}/ds${target.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  ackAt[seq] = performance.now();
  const next = res.headers.get('stream-next-offset');
  if (res.status !== 204 || next === null) throw new Error(`append of seq ${seq} answered ${res.status} (Stream-Next-Offset ${next}): ${text.slice(0, 300)}`);
  if (decodeOffset(next) !== target.base + seq + 1) throw new Error(`append of seq ${seq} acked with Stream-Next-Offset ${next}, expected ${encodeOffset(target.base + seq + 1)}`);
}

async function runScenario(b: BenchStack, writer: Server, sc: Scenario, records: number, intervalMs: number): Promise<Result> {
  const created = await createLog(writer.base, sc.protocol);
  const reader =
    sc.reader === 'same' ? undefined : await serveApp(createApp({ ...b.deps, tuning: { ...b.deps.tuning, pollIntervalMs: sc.pollMs } }));
  const base = reader?.base ?? writer.base;
  const sentAt: number[] = [];
  const ackAt: number[] = [];
  const abort = new AbortController();
  const consumers: Consumer[] = Array.from({ length: sc.consumers }, (_, i) =>
    sc.protocol === 'v1'
      ? new SseConsumer(`${sc.name} consumer ${i}`, `${base}/v1/topics/${created.path}/partitions/0/records?live=sse`, records, sentAt, abort.signal)
      : new DsSseConsumer(`/ds ${sc.name} consumer ${i}`, `${base}/ds${created.path}`, created.base, records, sentAt, abort.signal),
  );
  const running = consumers.map((c) => c.run());
  const started = performance.now();
  try {
    // Every stream open (its first event: a ping at offset 0, or /ds's first control) before the first produce.
    await Promise.race([Promise.all(consumers.map((c) => c.ready)), sleep(10_000).then(() => Promise.reject(new Error('streams not open after 10 s')))]);
    await Promise.race([
      Promise.all(consumers.map((c) => c.done)),
      (async () => {
        const t0 = performance.now();
        for (let seq = 0; seq < records; seq++) {
          if (abort.signal.aborted) return; // a consumer failed: the scenario is over
          const wait = t0 + seq * intervalMs - performance.now();
          if (wait > 0) await sleep(wait);
          await produceOne(writer.base, sc.protocol, created, seq, sentAt, ackAt);
        }
        // All acked: every consumer must have everything within a few poll intervals.
        const grace = 5000 + 4 * sc.pollMs;
        await sleep(grace);
        if (abort.signal.aborted) return;
        const missing = consumers.map((c) => `${records - c.arrivedAt.filter((x) => x !== undefined).length}`).join(', ');
        throw new Error(`${sc.name}: not every record arrived ${grace} ms after the last ack (missing per consumer: ${missing})`);
      })(),
    ]);
    // A moment longer, so a duplicate delivered after the last record is caught too.
    await sleep(Math.max(300, sc.pollMs * 2));
  } finally {
    abort.abort();
    await Promise.all(running);
    await reader?.close();
  }
  const failures = consumers.flatMap((c) => c.failures);
  if (failures.length > 0) throw new Error(`${sc.name}: ${failures.length} failures; first: ${failures.slice(0, 3).join(' | ')}`);
  const latencies: number[] = [];
  const slowest: number[] = new Array<number>(records).fill(0);
  let beforeAck = 0;
  for (const c of consumers) {
    if (c.arrivedAt.length !== records) throw new Error(`${sc.name}: a consumer saw ${c.arrivedAt.length} of ${records} records`);
    for (let seq = 0; seq < records; seq++) {
      const l = c.arrivedAt[seq]! - sentAt[seq]!;
      latencies.push(l);
      slowest[seq] = Math.max(slowest[seq]!, l);
      if (c.arrivedAt[seq]! < ackAt[seq]!) beforeAck++;
    }
  }
  return {
    scenario: sc,
    latencies,
    slowest,
    produceMs: sentAt.map((s, i) => ackAt[i]! - s),
    beforeAck: beforeAck / latencies.length,
    spacingMs: (sentAt[records - 1]! - sentAt[0]!) / Math.max(1, records - 1),
    reconnects: consumers.reduce((n, c) => n + c.reconnects, 0),
    elapsedMs: performance.now() - started,
  };
}

const pct = (xs: readonly number[], p: number) => percentile([...xs].sort((a, b) => a - b), p);

export async function run(args: string[]): Promise<void> {
  const opts = new BenchOptions(args, ['records', 'interval-ms', 'consumers']);
  const records = opts.number('records', 300);
  const intervalMs = opts.number('interval-ms', 20);
  const many = opts.number('consumers', 10);
  const started = Date.now();
  const where = machine();
  const poll = TUNING_DEFAULTS.pollIntervalMs;
  const scenarios: Scenario[] = [
    { name: 'same instance', protocol: 'v1', reader: 'same', consumers: 1, pollMs: poll },
    { name: 'same instance', protocol: 'v1', reader: 'same', consumers: many, pollMs: poll },
    { name: 'second instance', protocol: 'v1', reader: 'second', consumers: 1, pollMs: poll },
    { name: 'second instance', protocol: 'v1', reader: 'second', consumers: many, pollMs: poll },
    { name: 'second instance', protocol: 'v1', reader: 'second', consumers: 1, pollMs: 50 },
    { name: 'same instance', protocol: 'ds', reader: 'same', consumers: 1, pollMs: poll },
    { name: 'same instance', protocol: 'ds', reader: 'same', consumers: many, pollMs: poll },
    { name: 'second instance', protocol: 'ds', reader: 'second', consumers: 1, pollMs: poll },
  ];
  log('starting DynamoDB Local + s3rver ...');
  const b = await startBenchStack();
  const writer = await serveApp(createApp(b.deps));
  try {
    // JVM warm-up (DynamoDB Local runs interpreted at first) and the code paths of both instances.
    log('warm-up ...');
    await runScenario(b, writer, { name: 'warm-up', protocol: 'v1', reader: 'same', consumers: 2, pollMs: poll }, 100, 10);
    await runScenario(b, writer, { name: 'warm-up', protocol: 'v1', reader: 'second', consumers: 2, pollMs: 50 }, 100, 10);
    await runScenario(b, writer, { name: 'warm-up', protocol: 'ds', reader: 'same', consumers: 2, pollMs: poll }, 100, 10);
    await runScenario(b, writer, { name: 'warm-up', protocol: 'ds', reader: 'second', consumers: 2, pollMs: 50 }, 100, 10);
    const results: Result[] = [];
    for (const sc of scenarios) {
      log(`${sc.protocol === 'ds' ? '/ds ' : ''}${sc.name}, ${sc.consumers} consumer(s), pollIntervalMs ${sc.pollMs} ...`);
      const r = await runScenario(b, writer, sc, records, intervalMs);
      log(`  ${fmtNum(r.elapsedMs / 1000, 1)} s, p50 ${fmtMs(pct(r.latencies, 50))} ms, every record exactly once in order`);
      results.push(r);
    }

    console.log(`Run ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${where}, total ${fmtNum((Date.now() - started) / 1000)} s.`);
    console.log(
      `${records} single-record produces per row (value {"seq": i}), started every ${intervalMs} ms, one at a time; SSE consumers from offset 0 of a fresh 1-partition topic; ` +
        `latency = send of the produce POST → arrival of the records event at the consumer. Every consumer saw every record exactly once, in order.\n`,
    );
    const headers = ['reader', 'wake-up', 'consumers:', 'count:', 'p50 ms:', 'p90 ms:', 'p99 ms:', 'max ms:', 'slowest consumer p50/p99 ms:', 'produce ack p50/p99 ms:', 'seen before ack:'];
    const row = (r: Result) => [
      r.scenario.name,
      r.scenario.reader === 'same' ? 'commit signal' : `poll re-check, ${r.scenario.pollMs} ms`,
      String(r.scenario.consumers),
      fmtNum(r.latencies.length),
      fmtMs(pct(r.latencies, 50)),
      fmtMs(pct(r.latencies, 90)),
      fmtMs(pct(r.latencies, 99)),
      fmtMs(pct(r.latencies, 100)),
      r.scenario.consumers > 1 ? `${fmtMs(pct(r.slowest, 50))} / ${fmtMs(pct(r.slowest, 99))}` : '–',
      `${fmtMs(pct(r.produceMs, 50))} / ${fmtMs(pct(r.produceMs, 99))}`,
      `${fmtNum(r.beforeAck * 100)}%`,
    ];
    console.log(table(headers, results.filter((r) => r.scenario.protocol === 'v1').map(row)));
    console.log(
      `\nDurable Streams (/ds): the same method on a fresh JSON stream, ${records} POSTs of one message each ({"seq": i}); consumers read GET /ds/<path>?offset=-1&live=sse; ` +
        `latency = send of the POST → arrival of the data event at the consumer. Every consumer saw every message exactly once, in order, each control at the right streamNextOffset.\n`,
    );
    console.log(table(headers, results.filter((r) => r.scenario.protocol === 'ds').map(row)));
    const spacing = results.map((r) => r.spacingMs);
    const reconnects = (protocol: Scenario['protocol']) => results.filter((r) => r.scenario.protocol === protocol).reduce((n, r) => n + r.reconnects, 0);
    console.log(`\nMean produce spacing ${fmtMs(Math.min(...spacing))}–${fmtMs(Math.max(...spacing))} ms; ${reconnects('v1')} reconnects after an end event (/v1), ${reconnects('ds')} after an ended response (/ds).`);
  } finally {
    // A closed reader instance's stream handlers may still be in a poll cycle (a DynamoDB read)
    // for a moment after their connections are gone: let that finish before the emulators stop,
    // or it logs a spurious ECONNREFUSED.
    await sleep(1000);
    await writer.close();
    await b.stop();
  }
}
