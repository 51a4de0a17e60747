/**
 * The Durable Streams protocol under `/ds` (docs/STREAMING.md "Durable Streams"): the rest
 * of the path is the stream's path. PUT creates (or forks), POST appends or closes, GET
 * reads (catch-up, `live=long-poll`, `live=sse`), HEAD tells the metadata, DELETE deletes.
 *
 * Answers follow the protocol, not /v1: protocol refusals are plain-text 4xx with the
 * protocol's headers (lib/ds/protocol.ts DsRequestError); anything else goes to the app's
 * error mapping (a storage failure is the usual 5xx JSON body).
 */
import { Hono, type Context } from 'hono';
import { stream as streamBody } from 'hono/streaming';
import type { Clock, Logger } from '../../deps.ts';
import { LIMITS } from '../../limits.ts';
import { responseBody } from '../../ds/body.ts';
import {
  DsRequestError,
  H,
  closedHeader,
  createContentType,
  decodeOffset,
  encodeOffset,
  isJson,
  parseExpiresAt,
  parseOffsetParam,
  parseProducerHeaders,
  parseStreamSeq,
  parseSubOffset,
  parseTtl,
  responseCursor,
  type ProducerHeaders,
  sseBase64,
} from '../../ds/protocol.ts';
import type { AppendResult, DsStreams, ReadResult } from '../../ds/streams.ts';
import type { DsStreamState } from '../../ds/stream-state.ts';
import { logServerError, toHttpError } from '../error-mapping.ts';
import { canStream } from './sse.ts';

export const DS_PREFIX = '/ds';

const ALLOW_HEADERS = [
  'content-type', 'authorization', 'if-none-match', 'last-event-id', 'x-sluice-token',
  H.seq, H.ttl, H.expiresAt, H.closed, H.producerId, H.producerEpoch, H.producerSeq, H.forkedFrom, H.forkOffset, H.forkSubOffset,
].join(', ');
const EXPOSE_HEADERS = [
  H.nextOffset, H.cursor, H.upToDate, H.closed, H.producerEpoch, H.producerSeq, H.expectedSeq, H.receivedSeq, H.ttl, H.expiresAt, H.sseEncoding,
  'etag', 'content-type', 'location',
].join(', ');

/** How long one SSE response lasts before the client reconnects (the protocol asks ~60 s). */
export const DS_SSE_MAX_MS = 60_000;
/** An idle SSE response sends a control event this often. */
export const DS_SSE_KEEPALIVE_MS = 15_000;

export interface DsRouteOptions {
  /** Behind a streaming adapter (routes/sse.ts canStream); else `live=sse` is refused on Lambda. */
  readonly streaming: boolean;
  readonly sseMaxMs: number;
  readonly keepAliveMs: number;
  readonly random: () => number;
}

export function dsRoutes(ds: DsStreams, clock: Clock, logger: Logger, opts: DsRouteOptions): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('Cross-Origin-Resource-Policy', 'cross-origin');
    c.res.headers.set('Access-Control-Allow-Origin', '*');
    c.res.headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
  });
  app.onError((err, c) => {
    if (err instanceof DsRequestError) return c.text(err.message, err.status, { ...err.headers });
    // Anything else has the app's one status table (error-mapping.ts), answered as plain text:
    // a throttle or a storage failure is a retriable 503, never a bare 500.
    logServerError(logger, err, { method: c.req.method, path: c.req.path });
    const { status, body } = toHttpError(err);
    return c.text(body.error.message, status, body.error.retriable ? { 'Retry-After': '1' } : {});
  });

  app.options('*', (c) =>
    c.body(null, 204, {
      'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, HEAD, OPTIONS',
      'Access-Control-Allow-Headers': ALLOW_HEADERS,
      'Access-Control-Max-Age': '86400',
    }),
  );

  app.put('*', async (c) => {
    const path = streamPath(c);
    const ttl = parseTtl(c.req.header(H.ttl));
    const expiresAt = parseExpiresAt(c.req.header(H.expiresAt));
    if (ttl !== undefined && expiresAt !== undefined) throw new DsRequestError(400, `${H.ttl} and ${H.expiresAt} exclude each other`);
    const forkedFrom = c.req.header(H.forkedFrom);
    const forkOffset = c.req.header(H.forkOffset);
    const subOffsetRaw = c.req.header(H.forkSubOffset);
    if ((forkOffset !== undefined || subOffsetRaw !== undefined) && forkedFrom === undefined) {
      throw new DsRequestError(400, `${H.forkOffset} and ${H.forkSubOffset} need ${H.forkedFrom}`);
    }
    const fork = forkedFrom === undefined ? undefined : {
      sourcePath: forkPath(forkedFrom),
      offset: forkOffset === undefined ? undefined : decodeOffset(forkOffset, H.forkOffset),
      subOffset: parseSubOffset(subOffsetRaw),
    };
    const body = await readBody(c);
    const { created, state } = await ds.create(path, {
      contentType: createContentType(c.req.header('content-type')),
      ttlSeconds: ttl,
      expiresAt,
      closed: closedHeader(c.req.header(H.closed)),
      body,
      fork,
    });
    const headers: Record<string, string> = { 'Content-Type': state.contentType, [H.nextOffset]: encodeOffset(tailOf(state)) };
    if (state.closed) headers[H.closed] = 'true';
    if (created) headers.Location = new URL(c.req.url).href;
    return c.body(null, created ? 201 : 200, headers);
  });

  app.post('*', async (c) => {
    const path = streamPath(c);
    const producer = parseProducerHeaders(c.req.header(H.producerId), c.req.header(H.producerEpoch), c.req.header(H.producerSeq));
    const close = closedHeader(c.req.header(H.closed));
    const body = await readBody(c);
    if (body.byteLength === 0 && !close) throw new DsRequestError(400, 'an append needs a body (or Stream-Closed: true to close)');
    const contentType = c.req.header('content-type');
    if (body.byteLength > 0 && (contentType === undefined || contentType.trim() === '')) throw new DsRequestError(400, 'Content-Type is required');
    const result = await ds.append(path, { producer, streamSeq: parseStreamSeq(c.req.header(H.seq)), close, hasData: body.byteLength > 0, contentType }, body);
    return appendAnswer(c, result, producer);
  });

  // Hono answers HEAD with the GET route (without the body): the GET route sends it here.
  const head = async (c: Context) => {
    const state = await ds.get(streamPath(c));
    const headers: Record<string, string> = {
      'Content-Type': state.contentType,
      [H.nextOffset]: encodeOffset(tailOf(state)),
      'Cache-Control': 'no-store',
      ETag: etag(state, 'head', encodeOffset(tailOf(state)), state.closed !== undefined),
    };
    if (state.closed) headers[H.closed] = 'true';
    if (state.ttlSeconds !== undefined) headers[H.ttl] = String(state.ttlSeconds);
    if (state.expiresAt !== undefined) headers[H.expiresAt] = state.expiresAt;
    return c.body(null, 200, headers);
  };

  app.delete('*', async (c) => {
    await ds.delete(streamPath(c));
    return c.body(null, 204);
  });

  app.get('*', async (c) => {
    if (c.req.method === 'HEAD') return head(c);
    const path = streamPath(c);
    const url = new URL(c.req.url);
    const offset = parseOffsetParam(url.searchParams.getAll('offset'));
    const live = url.searchParams.get('live');
    if (live !== null && live !== 'long-poll' && live !== 'sse') throw new DsRequestError(400, `live must be long-poll or sse`);
    if (live !== null && !url.searchParams.has('offset')) throw new DsRequestError(400, `live=${live} needs an offset`);
    if (live === 'sse' && !canStream(c, opts.streaming)) throw new DsRequestError(400, 'live=sse needs the streaming endpoint (the StreamUrl output); this one buffers responses');
    const cursor = url.searchParams.get('cursor') ?? undefined;
    const state = await ds.get(path);
    void ds.touch(path, state).catch((err: unknown) => logServerError(logger, err, { method: 'GET', path: c.req.path }));
    const json = isJson(state.contentType);
    const start = state.inherited[0]?.from ?? state.base;
    const tail = tailOf(state);

    if (live === 'sse') {
      const from = offset.kind === 'now' ? tail : offset.kind === 'start' ? start : offset.position;
      return sse(c, ds, state, from, cursor, clock, logger, opts);
    }

    if (offset.kind === 'now' && live === null) {
      const headers: Record<string, string> = {
        'Content-Type': state.contentType,
        [H.nextOffset]: encodeOffset(tail),
        [H.upToDate]: 'true',
        'Cache-Control': 'no-store',
      };
      if (state.closed) headers[H.closed] = 'true';
      return c.body(json ? '[]' : '', 200, headers);
    }

    const from = offset.kind === 'now' ? tail : offset.kind === 'start' ? start : offset.position;
    const longPoll = live === 'long-poll';
    const read = await ds.read(state, from, {
      deadline: longPoll ? clock.now() + ds.opts.longPollMs : 0,
      signal: c.req.raw.signal,
    });
    const headers: Record<string, string> = { 'Content-Type': state.contentType, [H.nextOffset]: encodeOffset(read.next) };
    if (read.upToDate) headers[H.upToDate] = 'true';
    if (read.closed) headers[H.closed] = 'true';
    if (longPoll && !read.closed) headers[H.cursor] = responseCursor(clock.now(), cursor, opts.random);
    if (longPoll && read.values.length === 0) {
      return c.body(null, 204, { ...headers, 'Cache-Control': 'no-store' });
    }
    const tag = etag(state, encodeOffset(from), encodeOffset(read.next), read.closed);
    headers.ETag = tag;
    headers['Cache-Control'] = read.upToDate ? 'private, max-age=0, must-revalidate' : 'private, max-age=60, stale-while-revalidate=300';
    if (c.req.header('if-none-match') === tag) return c.body(null, 304, { ETag: tag });
    return c.body(new Uint8Array(responseBody(read.values, json)), 200, headers);
  });

  return app;
}

/** The stream's path: the request path after the prefix, as sent (still percent-encoded). */
function streamPath(c: Context): string {
  const raw = new URL(c.req.url).pathname;
  const path = raw.startsWith(DS_PREFIX) ? raw.slice(DS_PREFIX.length) : raw;
  if (path === '' || path === '/') throw new DsRequestError(400, 'a stream path is needed');
  return path;
}

/** Stream-Forked-From names a path on this server: the prefix is optional. */
function forkPath(header: string): string {
  const path = header.startsWith(`${DS_PREFIX}/`) ? header.slice(DS_PREFIX.length) : header;
  return path.startsWith('/') ? path : `/${path}`;
}

function tailOf(state: DsStreamState): number {
  return state.closed?.at ?? state.tail;
}

function etag(state: DsStreamState, from: string, to: string, closed: boolean): string {
  return `"${state.topicId}:${from}:${to}${closed ? ':c' : ''}"`;
}

async function readBody(c: Context): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > LIMITS.maxRequestBytes) throw new DsRequestError(413, `the body is larger than ${LIMITS.maxRequestBytes} bytes`);
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.byteLength > LIMITS.maxRequestBytes) throw new DsRequestError(413, `the body is larger than ${LIMITS.maxRequestBytes} bytes`);
  return body;
}

function appendAnswer(c: Context, result: AppendResult, producer: ProducerHeaders | undefined): Response {
  const epoch = producer?.epoch;
  const state = result.state;
  const tail = encodeOffset(tailOf(state));
  const closed: Record<string, string> = state.closed ? { [H.closed]: 'true' } : {};
  if (result.kind === 'appended') {
    const headers: Record<string, string> = { [H.nextOffset]: tail, ...closed };
    if (producer) {
      headers[H.producerEpoch] = String(producer.epoch);
      headers[H.producerSeq] = String(producer.seq);
    }
    // 200 tells a producer its data was appended (204 is its duplicate); a close-only is 204.
    return c.body(null, producer && result.dataAppended ? 200 : 204, headers);
  }
  if (result.kind === 'already-closed') return c.body(null, 204, { [H.nextOffset]: tail, ...closed });
  const d = result.decision;
  switch (d.kind) {
    case 'duplicate':
      return c.body(null, 204, { [H.nextOffset]: tail, [H.producerEpoch]: String(epoch), [H.producerSeq]: String(d.lastSeq), ...closed });
    case 'closed':
      return c.text('the stream is closed', 409, { [H.nextOffset]: tail, [H.closed]: 'true' });
    case 'stale-epoch':
      return c.text('stale producer epoch', 403, { [H.producerEpoch]: String(d.currentEpoch) });
    case 'epoch-needs-seq-0':
      return c.text('a new producer epoch starts at sequence 0', 400);
    case 'gap':
      return c.text('producer sequence gap', 409, { [H.expectedSeq]: String(d.expected), [H.receivedSeq]: String(d.received) });
    case 'content-type':
      return c.text(`the stream's content type is ${state.contentType}`, 409);
    case 'seq-regression':
      return c.text(`${H.seq} must grow: the last was '${d.last}'`, 409);
  }
}

/** SSE: `data` events (the read's body; base64 for binary streams) each followed by a `control` event. */
function sse(c: Context, ds: DsStreams, initial: DsStreamState, from: number, cursor: string | undefined, clock: Clock, logger: Logger, opts: DsRouteOptions): Response {
  const base64 = sseBase64(initial.contentType);
  const json = isJson(initial.contentType);
  c.header('Content-Type', 'text/event-stream');
  c.header('Cache-Control', 'no-cache');
  if (base64) c.header(H.sseEncoding, 'base64');
  return streamBody(c, async (out) => {
    const abort = new AbortController();
    out.onAbort(() => abort.abort());
    c.req.raw.signal?.addEventListener('abort', () => abort.abort(), { once: true });
    const endAt = clock.now() + opts.sseMaxMs;
    let position = from;
    let state = initial;
    let first = true;
    const control = (read: Pick<ReadResult, 'next' | 'upToDate' | 'closed'>) => {
      const body: Record<string, unknown> = { streamNextOffset: encodeOffset(read.next) };
      if (read.closed) body.streamClosed = true;
      else {
        body.streamCursor = responseCursor(clock.now(), cursor, opts.random);
        if (read.upToDate) body.upToDate = true;
      }
      return event('control', JSON.stringify(body));
    };
    try {
      await follow();
    } catch (err) {
      // Mid-stream the status is sent: a deleted stream (or a failure) ends the response.
      if (!(err instanceof DsRequestError)) logServerError(logger, err, { method: 'GET', path: c.req.path });
    }
    async function follow(): Promise<void> {
    while (!abort.signal.aborted) {
      const now = clock.now();
      if (now >= endAt) return;
      const read = await ds.read(state, position, {
        // A short sliding TTL needs its resets more often than the keep-alive.
        deadline: first ? 0 : Math.min(endAt, now + Math.min(opts.keepAliveMs, state.ttlSeconds === undefined ? Infinity : state.ttlSeconds * 250)),
        signal: abort.signal,
      });
      first = false;
      if (abort.signal.aborted) return;
      if (read.values.length > 0) {
        const payload = responseBody(read.values, json);
        await out.write(event('data', base64 ? payload.toString('base64') : payload.toString('utf8')) + control(read));
      } else {
        await out.write(control(read));
      }
      position = read.next;
      if (read.closed) return;
      if (read.values.length === 0 && !read.upToDate) continue;
      // A closure with no marker seen yet (an older stream state): re-read the state now and then.
      // Idle: a connected reader keeps a sliding TTL alive (the protocol's live readers do),
      // and a deleted or closed-elsewhere stream is noticed.
      if (read.values.length === 0) {
        await ds.touch(state.path, state);
        state = await ds.get(state.path);
        // The path now holds another stream (deleted and created again): this one has ended.
        if (state.topicId !== initial.topicId) return;
      }
    }
    }
  });
}

/** One SSE event; every line of the payload is its own `data:` line (CR, LF and CRLF all split). */
function event(name: string, payload: string): string {
  return `event: ${name}\n${payload.split(/\r\n|\r|\n/).map((line) => `data:${line}`).join('\n')}\n\n`;
}
