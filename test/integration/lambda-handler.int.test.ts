/**
 * The Lambda entry point end to end: `functions/api/index.ts` configured ONLY through the
 * environment (as the CDK stack configures it), invoked with API Gateway HTTP API v2 events,
 * against the shared emulator stack (DynamoDB Local + s3rver). This covers what `app.request()`
 * tests cannot: lib/env.ts, the hono/aws-lambda event translation (rawPath, query, base64
 * bodies) and the response shape API Gateway expects.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  apiGatewayV2Event,
  lambdaContext,
  type ApiGatewayV2EventOptions,
} from '../support/apigw-event.ts';
import { captureStdout, type CapturedStdout } from '../support/stdout.ts';
import { stubApiFunctionEnv } from '../support/lambda-env.ts';

interface LambdaResult {
  statusCode: number;
  body: string;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
}

type Handler = (event: unknown, context: unknown) => Promise<LambdaResult>;

let handler: Handler;

async function invoke(opts: ApiGatewayV2EventOptions) {
  const res = await handler(apiGatewayV2Event(opts), lambdaContext());
  const text = res.isBase64Encoded ? Buffer.from(res.body, 'base64').toString('utf8') : res.body;
  return { ...res, json: text === '' ? undefined : (JSON.parse(text) as Record<string, any>) };
}

const json = (body: unknown, extra: Partial<ApiGatewayV2EventOptions> = {}) => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
  ...extra,
});

const uniqueTopic = (label: string) => `lambda-${label}-${randomBytes(4).toString('hex')}`;

describe('API Lambda handler (functions/api) on the emulator stack', () => {
  beforeAll(async () => {
    // Exactly what the CDK stack sets, plus the emulator endpoints; BEFORE the import,
    // because the handler reads its environment once, at cold start.
    stubApiFunctionEnv();
    const mod = (await import('../../functions/api/index.ts')) as unknown as { handler: Handler };
    handler = mod.handler;
  });

  afterAll(() => {
    vi.unstubAllEnvs();
  });

  // Powertools writes a request line and EMF per invocation to stdout: printed only if a test fails.
  let stdout: CapturedStdout;
  beforeEach(() => {
    stdout = captureStdout();
  });
  afterEach(() => stdout.restore());

  it('answers GET /healthz with 200 {"status":"ok"}', async () => {
    const res = await invoke({ method: 'GET', path: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('refuses . and .. path segments as sent (plain or %2e), before URL parsing could resolve them into another route', async () => {
    for (const path of ['/v1/topics/orders/%2e%2e/%2e%2e/tokens', '/v1/topics/orders/%2E%2E/other/records', '/v1/topics/./orders', '/v1/topics/orders/../x']) {
      const res = await invoke({ method: 'GET', path });
      expect(res.statusCode, path).toBe(400);
      expect((res.json as { error: { code: string; message: string } }).error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/\. or \.\. segments/) });
    }
    expect((await invoke({ method: 'GET', path: '/v1/topics/a..b' })).statusCode).toBe(404); // dots inside a name are fine
  });

  it('reports the backend it was configured with', async () => {
    const res = await invoke({ method: 'GET', path: '/v1/cluster' });
    expect(res.statusCode).toBe(200);
    expect(res.json?.backend).toBe('local');
  });

  it('creates a topic (201) and describes it with its 3 partitions', async () => {
    const name = uniqueTopic('create');
    const created = await invoke({
      method: 'POST',
      path: '/v1/topics',
      ...json({ name, partitions: 3 }),
    });
    expect(created.statusCode).toBe(201);
    expect(created.json).toMatchObject({ name, partitions: 3 });
    expect(created.json?.topicId).toEqual(expect.any(String));

    const described = await invoke({
      method: 'GET',
      path: `/v1/topics/${encodeURIComponent(name)}`,
    });
    expect(described.statusCode).toBe(200);
    expect(described.json).toMatchObject({ name, topicId: created.json?.topicId });
    const partitions = described.json?.partitions as { partition: number }[];
    expect(partitions).toHaveLength(3);
    expect(partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const p of partitions) {
      expect(p).toMatchObject({ logStartOffset: 0, highWatermark: 0 });
    }
  });

  it('answers malformed JSON with 400 INVALID_REQUEST', async () => {
    const res = await invoke({
      method: 'POST',
      path: '/v1/topics',
      headers: { 'content-type': 'application/json' },
      body: '{"name": "half',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json?.error).toMatchObject({ code: 'INVALID_REQUEST', retriable: false });
    expect(res.json?.error.message).toEqual(expect.any(String));
  });

  it('answers an unknown topic with 404 UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const res = await invoke({ method: 'GET', path: `/v1/topics/${uniqueTopic('missing')}` });
    expect(res.statusCode).toBe(404);
    expect(res.json?.error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('accepts a base64-encoded request body (isBase64Encoded: true)', async () => {
    const name = uniqueTopic('b64');
    const created = await invoke({
      method: 'POST',
      path: '/v1/topics',
      ...json({ name, partitions: 2 }, { isBase64Encoded: true }),
    });
    expect(created.statusCode).toBe(201);
    expect(created.json).toMatchObject({ name, partitions: 2 });

    const described = await invoke({ method: 'GET', path: `/v1/topics/${name}` });
    expect(described.statusCode).toBe(200);
    expect(described.json?.partitions).toHaveLength(2);
  });

  it('passes the query string through (GET /v1/topics lists the new topic)', async () => {
    const name = uniqueTopic('list');
    await invoke({ method: 'POST', path: '/v1/topics', ...json({ name, partitions: 1 }) });
    const res = await invoke({ method: 'GET', path: '/v1/topics', query: { unused: 'a b' } });
    expect(res.statusCode).toBe(200);
    expect(res.json?.topics).toContainEqual(expect.objectContaining({ name, partitions: 1 }));
  });
});
