/**
 * The answer schemas of lib/wire (what clients may check they receive) against the server's
 * real answers: every answer kind parses, and a schema is not vacuous (a wrong answer fails).
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import {
  deleteRecordsAnswer,
  errorAnswer,
  fetchAnswer,
  heartbeatAnswer,
  multiFetchAnswer,
  produceAnswer,
  producerAnswer,
  topicDescription,
} from '../../lib/wire/schemas.ts';
import { call, uniqueName } from '../support/http.ts';
import { stackDeps } from '../support/stack.ts';

describe('wire answer schemas', () => {
  it('parse what the server answers, and refuse what it does not', async () => {
    const app = createApp(stackDeps());
    const topic = uniqueName('wire');
    expect((await call(app, 'POST', '/v1/topics', { name: topic, partitions: 2 })).status).toBe(201);

    const described = await call(app, 'GET', `/v1/topics/${topic}`);
    expect(topicDescription.safeParse(described.body).success).toBe(true);

    const produced = await call(app, 'POST', `/v1/topics/${topic}/records`, {
      records: [{ partition: 0, key: 'k', value: { n: 1 }, headers: [{ key: 'h', value: 'v' }] }, { partition: 1, value: null }],
    });
    expect(produceAnswer.parse(produced.body).offsets).toHaveLength(2);

    const fetched = await call(app, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=0`);
    expect(fetchAnswer.parse(fetched.body).records[0]).toMatchObject({ key: 'k', value: { n: 1 } });
    const binary = await call(app, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=0&encoding=base64`);
    expect(fetchAnswer.safeParse(binary.body).success).toBe(true);

    const many = await call(app, 'POST', '/v1/fetch', {
      partitions: [{ topic, partition: 1, offset: 0 }, { topic, partition: 0, offset: 99 }],
    });
    const parsed = multiFetchAnswer.parse(many.body);
    expect(parsed.partitions).toHaveLength(2);
    expect(many.body.partitions[1].error.code).toBe('OFFSET_OUT_OF_RANGE');

    expect(producerAnswer.safeParse((await call(app, 'POST', '/v1/producers', {})).body).success).toBe(true);
    const beat = await call(app, 'POST', `/v1/groups/${uniqueName('g')}/heartbeat`, { memberId: null, memberEpoch: 0, topics: [topic] });
    expect(heartbeatAnswer.safeParse(beat.body).success).toBe(true);

    const missing = await call(app, 'GET', `/v1/topics/${uniqueName('none')}`);
    expect(missing.status).toBe(404);
    expect(errorAnswer.parse(missing.body).error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');

    // Not vacuous: answers of one kind do not pass for another.
    expect(fetchAnswer.safeParse(produced.body).success).toBe(false);
    expect(produceAnswer.safeParse(fetched.body).success).toBe(false);
    expect(errorAnswer.safeParse(described.body).success).toBe(false);

    // Last: it moves partition 1's start, which the answers above do not expect.
    const deleted = await call(app, 'POST', `/v1/topics/${topic}/partitions/1/delete-records`, { beforeOffset: -1 });
    expect(deleteRecordsAnswer.parse(deleted.body)).toEqual({ logStartOffset: 1 });
    expect(deleteRecordsAnswer.safeParse({ logStartOffset: -1 }).success).toBe(false);
  });
});
