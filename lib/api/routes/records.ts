/**
 * Produce, fetch, offsets and delete-records routes (API.md "Produce", "Fetch", "Topics"): the
 * routes under a partition live here. Parse, call lib/log, serialise.
 * Query numbers are parsed strictly (query-params.ts).
 */
import { Hono } from 'hono';
import { FETCH_DEFAULTS } from '../../config.ts';
import type { Logger } from '../../deps.ts';
import type { Metrics } from '../../metrics.ts';
import { countErrorAnswer, payloadBytes } from '../request-log.ts';
import { LIMITS } from '../../limits.ts';
import { toHttpError, logServerError } from '../error-mapping.ts';
import { commitRequirements, fetchPermitted, requireAll } from '../auth.ts';
import { produceRecordsFromWire, toWireBatch } from '../record-wire.ts';
import type { FetchService } from '../../log/fetch.ts';
import type { DeleteRecordsService } from '../../log/delete-records.ts';
import type { OffsetQuery, OffsetsService } from '../../log/offsets.ts';
import type { ProduceService } from '../../log/produce.ts';
import type { ProducerService } from '../../log/producers.ts';
import { validateTopicName } from '../../log/topic-rules.ts';
import { deleteRecordsBody, initProducerBody, multiFetchBodyFor, produceBody } from '../../wire/schemas.ts';
import { intParam, parseFetchQuery } from '../query-params.ts';
import { parseWith, readJsonBody, readOptionalJsonBody } from '../validation.ts';

const multiFetchBody = multiFetchBodyFor(LIMITS);

export function recordRoutes(
  produce: ProduceService,
  fetch: FetchService,
  offsets: OffsetsService,
  producers: ProducerService,
  deleteRecords: DeleteRecordsService,
  logger: Logger,
  metrics: Metrics,
): Hono {
  const app = new Hono();

  app.post('/topics/:topic/records', async (c) => {
    const body = parseWith(produceBody, await readJsonBody(c, LIMITS.maxRequestBytes));
    const { encoding: bodyEncoding, records, ...rest } = body;
    // produce on the topic is the route table's; commitOffsets also reads (Kafka: READ on the group and its topics).
    if (body.commitOffsets) requireAll(c, commitRequirements(body.commitOffsets.group, body.commitOffsets.offsets));
    // Encoding failures travel as data: produce raises them in its order of refusals.
    const input = produceRecordsFromWire(records, bodyEncoding ?? 'json');
    const result = await produce.produce(c.req.param('topic'), {
      ...rest,
      records: input,
      commitOffsets: body.commitOffsets && {
        ...body.commitOffsets,
        offsets: body.commitOffsets.offsets.map((o) => ({ ...o, metadata: o.metadata ?? undefined })),
      },
    });
    metrics.count('ProduceRecords', result.length);
    metrics.bytes('ProduceBytes', payloadBytes(input));
    return c.json({ offsets: result });
  });

  app.post('/producers', async (c) => {
    const body = parseWith(initProducerBody, (await readOptionalJsonBody(c, LIMITS.maxRequestBytes)) ?? {});
    return c.json(await producers.init(body.transactionalId));
  });

  app.get('/topics/:topic/partitions/:partition/records', async (c) => {
    const { partition, encoding: readEncoding, ...opts } = parseFetchQuery(c.req.query(), c.req.param('partition'));
    const result = await fetch.fetch(c.req.param('topic'), partition, opts);
    metrics.count('FetchRecords', result.records.length);
    metrics.bytes('FetchBytes', payloadBytes(result.records));
    return c.json(toWireBatch(result, readEncoding));
  });

  app.get('/topics/:topic/partitions/:partition/offsets', async (c) => {
    const raw = c.req.query('at') ?? 'latest';
    let at: OffsetQuery;
    if (raw === 'earliest' || raw === 'latest') at = raw;
    else at = { timestamp: intParam('at', raw) };
    const answer = await offsets.lookup(c.req.param('topic'), intParam('partition', c.req.param('partition')), at);
    return c.json(answer);
  });

  app.post('/topics/:topic/partitions/:partition/delete-records', async (c) => {
    const partition = intParam('partition', c.req.param('partition'));
    const body = parseWith(deleteRecordsBody, await readJsonBody(c, LIMITS.maxRequestBytes));
    return c.json(await deleteRecords.deleteRecords(c.req.param('topic'), partition, body.beforeOffset));
  });

  app.post('/fetch', async (c) => {
    const body = parseWith(multiFetchBody, await readJsonBody(c, LIMITS.maxRequestBytes));
    // An unknown topic is that partition's error; a name no topic can have is a bad request.
    for (const p of body.partitions) validateTopicName(p.topic);
    // A partition of a topic the token may not fetch answers TOPIC_AUTHORIZATION_FAILED in its `error`.
    const results = await fetchPermitted(c, body.partitions, (permitted) =>
      fetch.fetchMany(permitted, {
        maxRecords: body.maxRecords ?? FETCH_DEFAULTS.maxRecords,
        maxBytes: body.maxBytes ?? FETCH_DEFAULTS.maxBytes,
        waitMs: body.waitMs ?? FETCH_DEFAULTS.waitMs,
      }),
    );
    const readEncoding = body.encoding ?? 'json';
    // Kafka answers fetch errors per partition, each with the body of the one error table.
    const partitions = results.map(({ error, ...rest }) => {
      if (!error) return toWireBatch(rest, readEncoding);
      logServerError(logger, error, { method: c.req.method, path: c.req.path }, { topic: rest.topic, partition: rest.partition });
      const answer = toHttpError(error).body.error;
      countErrorAnswer(metrics, answer.code);
      return { ...rest, error: answer };
    });
    const fetched = results.flatMap((r) => r.records ?? []);
    metrics.count('FetchRecords', fetched.length);
    metrics.bytes('FetchBytes', payloadBytes(fetched));
    return c.json({ partitions });
  });

  return app;
}
