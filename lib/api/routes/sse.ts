/**
 * Streaming reads (docs/API.md "Streaming reads (SSE)"): `GET …/partitions/{p}/records?live=sse`
 * follows the partition as Server-Sent Events over the read session that serves every fetch
 * (lib/log/read-session.ts via FetchService.session). Without `live` the request falls through
 * to the unary fetch route (records.ts).
 *
 * Before the stream starts, everything a fetch checks is checked in the same order, and the
 * first batch is read: a bad parameter, an unknown topic or partition, or an offset out of
 * range answers the usual JSON error with its status. After that the answer is 200
 * `text/event-stream`, and a failure is an `event: error` that ends the stream.
 *
 * The stream runs sessions back to back from the offset it has reached. Each one waits at the
 * high watermark as a long poll does (woken by this process's commits, re-reading every
 * pollIntervalMs) until the next ping, topic check or the end of the stream is due. A client
 * that goes away aborts the waiting session and no further read starts.
 */
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Clock, Logger } from '../../deps.ts';
import { InvalidRequestError, UnknownTopicOrPartitionError } from '../../errors.ts';
import type { FetchService } from '../../log/fetch.ts';
import { resolveOffset, type ReadBatch } from '../../log/read-session.ts';
import type { TopicPartition } from '../../model/topic.ts';
import type { Metrics } from '../../metrics.ts';
import { logServerError, toHttpError } from '../error-mapping.ts';
import { toWireBatch } from '../record-wire.ts';
import { countErrorAnswer, payloadBytes } from '../request-log.ts';
import { parseFetchQuery } from '../query-params.ts';
import { endEvent, errorEvent, lastEventIdOffset, pingEvent, recordsEvent, type SseOptions } from '../sse-events.ts';

/** A batch that hands something out: records, or a nextOffset past holes. */
const progressed = (batch: ReadBatch, from: number) => batch.records.length > 0 || batch.nextOffset > from;

export function sseRoutes(fetch: FetchService, clock: Clock, opts: SseOptions, logger: Logger, metrics: Metrics, streaming = false): Hono {
  const app = new Hono();

  app.get('/topics/:topic/partitions/:partition/records', async (c, next) => {
    const live = c.req.query('live');
    if (live === undefined) return next();
    if (live !== 'sse') throw new InvalidRequestError(`live must be "sse", got ${JSON.stringify(live)}`);
    if (!canStream(c, streaming)) {
      throw new InvalidRequestError('live=sse needs a streaming endpoint; API Gateway HTTP API buffers responses; use the StreamUrl (docs/STREAMING.md "On AWS")');
    }

    // Validation as the fetch route does it, in its order (one parser: query-params.ts);
    // waitMs is accepted as fetch accepts it, and a stream has no use for it.
    const { partition, offset: queried, maxRecords, maxBytes, encoding } = parseFetchQuery(c.req.query(), c.req.param('partition'));
    const topic = c.req.param('topic');
    // What EventSource sends on reconnect: the id of the last event, the next offset to read.
    const from = lastEventIdOffset(c.req.header('last-event-id')) ?? queried;

    const tp = await fetch.topicPartition(topic, partition);
    const budget = { maxRecords, maxBytes };
    // The first read, before any byte of the stream: OFFSET_OUT_OF_RANGE is still a 416 here.
    const first = await firstBatch(fetch.session(tp, from, { ...budget, deadline: 0 }));

    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      const stop = () => abort.abort();
      stream.onAbort(stop);
      c.req.raw.signal?.addEventListener('abort', stop, { once: true });
      const aborted = () => abort.signal.aborted || stream.aborted || c.req.raw.signal?.aborted === true;

      const endAt = clock.now() + opts.maxDurationMs;
      let lastEventAt = clock.now();
      let nextCheckAt = clock.now() + opts.topicCheckMs;
      // The first batch resolved earliest/latest (on its view): from here on a number.
      const start = resolveOffset(from, first);
      let offset = start;
      let bounds = { highWatermark: first.highWatermark };

      const sendRecords = async (batch: ReadBatch) => {
        metrics.count('FetchRecords', batch.records.length);
        metrics.bytes('FetchBytes', payloadBytes(batch.records));
        await stream.writeSSE(recordsEvent(toWireBatch(batch, encoding)));
        offset = batch.nextOffset;
        bounds = { highWatermark: batch.highWatermark };
        lastEventAt = clock.now();
      };

      try {
        // Every stream starts with an event carrying its offset: records, or a ping at the high watermark.
        if (progressed(first, start)) await sendRecords(first);
        else await stream.writeSSE(pingEvent(offset, first.highWatermark));
        while (!aborted()) {
          if (clock.now() >= endAt) {
            await stream.writeSSE(endEvent(offset, opts.retryMs));
            return;
          }
          if (clock.now() >= nextCheckAt) {
            await assertSameTopic(fetch, topic, tp);
            nextCheckAt = clock.now() + opts.topicCheckMs;
          }
          const deadline = Math.min(lastEventAt + opts.pingIntervalMs, nextCheckAt, endAt);
          let idle = false;
          for await (const batch of fetch.session(tp, offset, { ...budget, deadline, signal: abort.signal })) {
            if (aborted()) break;
            if (!progressed(batch, offset)) {
              idle = true; // the session's last batch: its wait is over
              bounds = { highWatermark: batch.highWatermark };
              break;
            }
            await sendRecords(batch);
            // Catching up: stop between batches when something else is due.
            if (clock.now() >= Math.min(nextCheckAt, endAt)) break;
          }
          if (aborted()) return;
          if (idle && clock.now() - lastEventAt >= opts.pingIntervalMs && clock.now() < endAt) {
            await stream.writeSSE(pingEvent(offset, bounds.highWatermark));
            lastEventAt = clock.now();
          }
        }
      } catch (err) {
        if (aborted()) return;
        logServerError(logger, err, { method: c.req.method, path: c.req.path }, { topic, partition });
        const answer = toHttpError(err);
        countErrorAnswer(metrics, answer.body.error.code);
        await stream.writeSSE(errorEvent(answer));
      } finally {
        c.req.raw.signal?.removeEventListener('abort', stop);
      }
    });
  });

  return app;
}

async function firstBatch(session: AsyncGenerator<ReadBatch, void, undefined>): Promise<ReadBatch> {
  const { value } = await session.next();
  await session.return(undefined);
  if (value === undefined) throw new Error('a read session ended without a batch');
  return value;
}

/**
 * Whether this request may be answered as a stream. On Lambda (hono/aws-lambda passes the
 * event in env) only the streaming entry (functions/stream, `streaming: true`) may stream;
 * `handle()` buffers the whole answer (API Gateway's HTTP API cannot stream) and passes
 * `lambdaContext`. Off Lambda (the dev server) every request may.
 */
export function canStream(c: Context, streaming: boolean): boolean {
  const env = c.env as { event?: unknown; lambdaContext?: unknown } | undefined;
  const onLambda = env?.event !== undefined || env?.lambdaContext !== undefined;
  return !onLambda || (streaming && env?.lambdaContext === undefined);
}

/** A deleted topic, or one deleted and re-created (a new topicId), ends the stream. */
async function assertSameTopic(fetch: FetchService, topic: string, tp: TopicPartition): Promise<void> {
  const now = await fetch.topicPartition(topic, tp.partition);
  if (now.topicId !== tp.topicId) throw UnknownTopicOrPartitionError.topic(topic);
}
