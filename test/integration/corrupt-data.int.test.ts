/**
 * Stored bytes that fail their CRC-32C on read: the fetch answers CORRUPT_MESSAGE naming the
 * object (single and multi-partition fetch alike), and nothing else about the partition changes.
 * The corruption is real: the segment object in S3 is overwritten with one byte flipped.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { countCalls } from '../support/faults.ts';
import { memoryLogger } from '../support/logger.ts';
import { call, uniqueName } from '../support/http.ts';
import { stackDeps } from '../support/stack.ts';

describe('corrupt stored data', () => {
  it('answers 500 CORRUPT_MESSAGE with the object key, per partition in a multi-fetch', async () => {
    const deps = stackDeps();
    const puts = countCalls(deps.clients.s3);
    const writer = createApp(deps);
    const topic = uniqueName('corrupt');
    expect((await call(writer, 'POST', '/v1/topics', { name: topic, partitions: 2, config: { 'compression.type': 'none' } })).status).toBe(201);
    expect((await call(writer, 'POST', `/v1/topics/${topic}/records`, { records: [{ partition: 0, value: 'will be corrupted' }] })).status).toBe(200);
    const object = puts.calls('PutObjectCommand')[0]!.input.Key as string;
    expect((await call(writer, 'POST', `/v1/topics/${topic}/records`, { records: [{ partition: 1, value: 'fine' }] })).status).toBe(200);

    const got = await deps.clients.s3.send(new GetObjectCommand({ Bucket: deps.names.bucket, Key: object }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    const at = bytes.indexOf(Buffer.from('will be corrupted'));
    expect(at).toBeGreaterThan(0);
    bytes[at] = bytes[at]! ^ 0xff;
    await deps.clients.s3.send(new PutObjectCommand({ Bucket: deps.names.bucket, Key: object, Body: bytes }));

    // A fresh reader (no cached bytes); its 500 log line is expected, and must name the object.
    const log = memoryLogger();
    const reader = createApp(stackDeps({ logger: log }));
    const single = await call(reader, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=0`);
    expect(single.status).toBe(500);
    expect(single.body.error).toMatchObject({ code: 'CORRUPT_MESSAGE', retriable: false, object, reason: 'crc-mismatch' });
    // The error lines (the request lines of lib/api/request-log.ts are level info).
    const errors = () => log.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.level === 'error');
    const logged = log.lines;
    expect(logged.join('\n')).toContain(object);
    expect(errors()).toEqual([
      expect.objectContaining({ level: 'error', status: 500, code: 'CORRUPT_MESSAGE', details: { object, reason: 'crc-mismatch' } }),
    ]);

    const many = await call(reader, 'POST', '/v1/fetch', { partitions: [{ topic, partition: 0, offset: 0 }, { topic, partition: 1, offset: 0 }] });
    expect(many.status).toBe(200);
    expect(many.body.partitions[0].error).toMatchObject({ code: 'CORRUPT_MESSAGE', retriable: false, object });
    expect(many.body.partitions[1].records.map((r: { value: string }) => r.value)).toEqual(['fine']);
    // The per-partition 500 is logged too, naming the partition and the object.
    expect(errors().slice(1)).toEqual([
      expect.objectContaining({ level: 'error', status: 500, code: 'CORRUPT_MESSAGE', path: '/v1/fetch', topic, partition: 0, details: { object, reason: 'crc-mismatch' } }),
    ]);
    const described = await call(reader, 'GET', `/v1/topics/${topic}`);
    expect(described.body.partitions.map((p: { highWatermark: number }) => p.highWatermark)).toEqual([1, 1]);
  });
});
