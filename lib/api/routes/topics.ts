/** Topic routes (API.md "Topics"): parse, call lib/log, serialise. */
import { Hono } from 'hono';
import { createTopicBody, updateTopicBody } from '../../wire/schemas.ts';
import {
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidTopicError,
} from '../../errors.ts';
import { LIMITS } from '../../limits.ts';
import type { TopicService } from '../../log/topics.ts';
import type { TopicRecord } from '../../model/topic.ts';
import { parseWith, readJsonBody, type ErrorForField } from '../validation.ts';
import { permits } from '../auth.ts';
import { DS_TOPIC_PREFIX, isStreamTopic } from '../../ds/streams.ts';

/** A wrong type in one of these fields gets that field's Kafka error, not INVALID_REQUEST. */
const FIELD_ERRORS: Record<string, ErrorForField> = {
  name: (m) => new InvalidTopicError(`Topic name is invalid: ${m}`),
  partitions: (m) => new InvalidPartitionsError(m),
  config: (m) => new InvalidConfigError(m),
};

function topicSummary(t: TopicRecord) {
  return { name: t.name, topicId: t.topicId, partitions: t.partitions, config: t.config };
}

export function topicRoutes(topics: TopicService): Hono {
  const app = new Hono();

  app.post('/', async (c) => {
    const body = parseWith(createTopicBody, await readJsonBody(c, LIMITS.maxRequestBytes), FIELD_ERRORS);
    if (isStreamTopic(body.name)) throw new InvalidTopicError(`Topic name is invalid: names starting with '${DS_TOPIC_PREFIX}' are reserved for Durable Streams`);
    const topic = await topics.create(body);
    return c.json(topicSummary(topic), 201);
  });

  app.get('/', async (c) => {
    // Only the topics the token may describe (produce or fetch on them) are listed.
    const all = (await topics.list()).filter((t) => permits(c, { kind: 'describe', topic: t.name }));
    return c.json({
      topics: all.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions })),
    });
  });

  app.get('/:topic', async (c) => {
    const { topic, partitions } = await topics.describe(c.req.param('topic'));
    return c.json({
      name: topic.name,
      topicId: topic.topicId,
      config: topic.config,
      partitions,
    });
  });

  app.patch('/:topic', async (c) => {
    const body = parseWith(updateTopicBody, await readJsonBody(c, LIMITS.maxRequestBytes), FIELD_ERRORS);
    const topic = await topics.update(c.req.param('topic'), body);
    return c.json(topicSummary(topic));
  });

  app.delete('/:topic', async (c) => {
    await topics.delete(c.req.param('topic'));
    return c.body(null, 204);
  });

  return app;
}
