/**
 * Observability through the app (docs/ARCHITECTURE.md, "Observability"): produce, fetch and
 * error answers record the metric names the infra dashboard and alarms are built on, and every
 * request leaves one log line (method, path, status, ms, topic) with no credential in it. The
 * Lambda entry (functions/api) writes those metrics as EMF in namespace Sluice.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { scheduledMaintenanceHandler } from '../../lib/maintenance/scheduled.ts';
import { crash, failCalls, isolatedStack, pauseUntilReleased } from '../support/faults.ts';
import { createApp } from '../../lib/api/app.ts';
import { topicWithRequests } from '../support/maintenance-scenario.ts';
import { ownStacks } from '../support/own-stack.ts';
import { apiGatewayV2Event, lambdaContext } from '../support/apigw-event.ts';
import { call, uniqueName } from '../support/http.ts';
import { memoryLogger } from '../support/logger.ts';
import { recordingMetrics } from '../support/metrics.ts';
import { stackApp } from '../support/stack.ts';
import { captureStdout } from '../support/stdout.ts';
import { stubApiFunctionEnv } from '../support/lambda-env.ts';

async function topicWith(app: ReturnType<typeof stackApp>, partitions = 1): Promise<string> {
  const name = uniqueName('obs');
  const created = await call(app, 'POST', '/v1/topics', { name, partitions });
  expect(created.status).toBe(201);
  return name;
}

describe('metrics recorded by the app', () => {
  it('produce: ProduceRecords, ProduceBytes (keys, values, headers) and one ProduceLatency per request', async () => {
    const metrics = recordingMetrics();
    const app = stackApp({ metrics });
    const topic = await topicWith(app);
    const res = await call(app, 'POST', `/v1/topics/${topic}/records`, {
      encoding: 'string',
      records: [
        { partition: 0, key: 'k1', value: 'hello' },
        { partition: 0, value: 'world!', headers: [{ key: 'h', value: 'vv' }] },
      ],
    });
    expect(res.status).toBe(200);
    expect(metrics.of('ProduceRecords')).toEqual([{ name: 'ProduceRecords', unit: 'Count', value: 2, dims: {} }]);
    expect(metrics.of('ProduceBytes')).toEqual([{ name: 'ProduceBytes', unit: 'Bytes', value: 2 + 5 + 6 + 1 + 2, dims: {} }]);
    const latency = metrics.of('ProduceLatency');
    expect(latency).toHaveLength(1);
    expect(latency[0]).toMatchObject({ unit: 'Milliseconds', dims: {} });
    expect(latency[0]!.value).toBeGreaterThanOrEqual(0);
    expect(metrics.of('FetchLatency')).toEqual([]); // creating the topic is neither
    expect(metrics.of('Errors')).toEqual([]);
  });

  it('fetch (one partition and several): FetchRecords, FetchBytes, FetchLatency', async () => {
    const metrics = recordingMetrics();
    const app = stackApp({ metrics });
    const topic = await topicWith(app);
    await call(app, 'POST', `/v1/topics/${topic}/records`, { encoding: 'string', records: [{ partition: 0, value: 'abc' }, { partition: 0, value: 'defg' }] });

    const one = await call(app, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=0&encoding=string`);
    expect(one.status).toBe(200);
    expect(one.body.records).toHaveLength(2);
    expect(metrics.of('FetchRecords').map((p) => p.value)).toEqual([2]);
    expect(metrics.of('FetchBytes')).toEqual([{ name: 'FetchBytes', unit: 'Bytes', value: 7, dims: {} }]);

    const many = await call(app, 'POST', '/v1/fetch', { partitions: [{ topic, partition: 0, offset: 1 }], encoding: 'string' });
    expect(many.status).toBe(200);
    expect(metrics.of('FetchRecords').map((p) => p.value)).toEqual([2, 1]);
    expect(metrics.of('FetchBytes').map((p) => p.value)).toEqual([7, 4]);
    expect(metrics.of('FetchLatency')).toHaveLength(2);
    expect(metrics.of('FetchLatency').every((p) => p.unit === 'Milliseconds')).toBe(true);
  });

  it('errors: one Errors point per error answer, dimension code = the Kafka error code', async () => {
    const metrics = recordingMetrics();
    const app = stackApp({ metrics });
    const topic = await topicWith(app);

    expect((await call(app, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=5`)).status).toBe(416);
    expect((await call(app, 'POST', `/v1/topics/${uniqueName('missing')}/records`, { records: [{ value: 1 }] })).status).toBe(404);
    expect((await call(app, 'GET', '/v1/no-such-route')).status).toBe(404);
    // A multi-partition fetch answers 200 with a partition's error: that error counts too.
    const many = await call(app, 'POST', '/v1/fetch', { partitions: [{ topic, partition: 7, offset: 0 }] });
    expect(many.status).toBe(200);

    expect(metrics.of('Errors')).toEqual([
      { name: 'Errors', unit: 'Count', value: 1, dims: { code: 'OFFSET_OUT_OF_RANGE' } },
      { name: 'Errors', unit: 'Count', value: 1, dims: { code: 'UNKNOWN_TOPIC_OR_PARTITION' } },
      { name: 'Errors', unit: 'Count', value: 1, dims: { code: 'INVALID_REQUEST' } },
      { name: 'Errors', unit: 'Count', value: 1, dims: { code: 'UNKNOWN_TOPIC_OR_PARTITION' } },
    ]);
    // A refused produce records no ProduceRecords, but its latency like any produce request.
    expect(metrics.of('ProduceRecords')).toEqual([]);
    expect(metrics.of('ProduceLatency')).toHaveLength(1);
  });
});

describe('lost races', () => {
  it('a publish slower than the slot timeout: a reader fills the slot (HolesFilled), the publish loses it (CommitConflicts)', async () => {
    const s = isolatedStack({ slotTimeoutMs: 200 });
    try {
      const metrics = recordingMetrics();
      const app = createApp({ ...s.deps, metrics });
      const topic = await topicWith(app);
      expect((await call(app, 'POST', `/v1/topics/${topic}/records`, { records: [{ partition: 0, value: 'a' }] })).status).toBe(200);

      // The next publish (a PutItem on the log table; reserving is an UpdateItem) is held.
      const gate = pauseUntilReleased(s.deps.clients.dynamo, {
        command: 'PutItemCommand',
        where: (input) => (input as { TableName?: string }).TableName === s.deps.names.tables.log,
      });
      const slow = call(app, 'POST', `/v1/topics/${topic}/records`, { records: [{ partition: 0, value: 'late' }] });
      await gate.reached;
      let hwm = 1;
      for (let i = 0; i < 40 && hwm === 1; i++) {
        await new Promise((r) => setTimeout(r, 50));
        hwm = (await call(app, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=0`)).body.highWatermark;
      }
      expect(hwm).toBe(2); // the abandoned slot was filled with a hole
      expect(metrics.sum('HolesFilled')).toBe(1);
      gate.release();
      const lost = await slow;
      expect(lost.status).toBe(503);
      expect(metrics.sum('CommitConflicts')).toBe(1);
      expect(metrics.of('Errors').map((p) => p.dims.code)).toEqual([lost.body.error.code]);
      gate.remove();
    } finally {
      s.dispose();
    }
  });
});

describe('metrics of the scheduled maintenance function', () => {
  const stack = ownStacks();
  const quiet = () => {};

  it('records a run\'s ticks and work once per run, and on a warm instance the lag since its last tick', async () => {
    const s = await stack();
    await topicWithRequests(s, 4, 2);
    const metrics = recordingMetrics();
    const handler = scheduledMaintenanceHandler({ ...s.deps, metrics }, { SLUICE_MERGE_MIN_AGE_MS: '0' }, quiet);
    const summary = await handler({}, { getRemainingTimeInMillis: () => 300_000 });
    expect(summary.merges).toBe(1);
    expect(metrics.of('MaintenanceTicks')).toEqual([{ name: 'MaintenanceTicks', unit: 'Count', value: summary.ticks, dims: {} }]);
    expect(summary.ticks).toBeGreaterThan(0);
    expect(metrics.sum('EntriesMerged')).toBe(4);
    expect(metrics.of('MergedBytes')).toEqual([{ name: 'MergedBytes', unit: 'Bytes', value: summary.bytesMerged, dims: {} }]);
    expect(summary.bytesMerged).toBeGreaterThan(0);
    expect(metrics.of('ObjectsDeleted')).toHaveLength(1);
    expect(metrics.of('BytesFreed')).toHaveLength(1);
    expect(metrics.of('MaintenanceLagMs')).toEqual([]); // a cold instance has no previous tick
    expect(metrics.of('MaintenanceFailures')).toEqual([]);

    s.clock.advance(60_000);
    await handler({}, { getRemainingTimeInMillis: () => 300_000 });
    const lag = metrics.of('MaintenanceLagMs');
    expect(lag).toHaveLength(1);
    expect(lag[0]!.unit).toBe('Milliseconds');
    expect(lag[0]!.value).toBeGreaterThanOrEqual(60_000);
    expect(metrics.of('MaintenanceTicks')).toHaveLength(2);
  });

  it('counts a failed run in MaintenanceFailures and rethrows', async () => {
    const s = await stack();
    const m = s.maintenance();
    const metrics = recordingMetrics();
    failCalls(m.deps.clients.dynamo, {}, crash);
    const handler = scheduledMaintenanceHandler({ ...m.deps, metrics }, {}, quiet);
    await expect(handler({}, { getRemainingTimeInMillis: () => 300_000 })).rejects.toThrow();
    expect(metrics.of('MaintenanceFailures')).toEqual([{ name: 'MaintenanceFailures', unit: 'Count', value: 1, dims: {} }]);
    expect(metrics.of('MaintenanceTicks')).toEqual([{ name: 'MaintenanceTicks', unit: 'Count', value: 0, dims: {} }]);
    m.dispose();
  });
});

describe('the request log line', () => {
  it('is one line per request with method, path, status, ms, and topic when the route names one', async () => {
    const logger = memoryLogger();
    const app = stackApp({ logger });
    const topic = await topicWith(app);
    await call(app, 'POST', `/v1/topics/${topic}/records`, { records: [{ value: 1 }] });
    await call(app, 'GET', `/v1/topics/${topic}/partitions/0/records?offset=99`);
    await call(app, 'GET', '/healthz');

    const lines = logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).toMatchObject({ level: 'info', msg: 'request' });
      expect(typeof line.ms).toBe('number');
    }
    expect(lines[0]).toMatchObject({ method: 'POST', path: '/v1/topics', status: 201 });
    expect(lines[0]).not.toHaveProperty('topic');
    expect(lines[1]).toMatchObject({ method: 'POST', path: `/v1/topics/${topic}/records`, status: 200, topic });
    expect(lines[2]).toMatchObject({ method: 'GET', path: `/v1/topics/${topic}/partitions/0/records`, status: 416, topic });
    expect(lines[3]).toMatchObject({ method: 'GET', path: '/healthz', status: 200 });
  });

  it('never holds the bearer token or the Authorization header, refused or accepted', async () => {
    const logger = memoryLogger();
    const token = `secret-${uniqueName('tok')}`;
    const app = stackApp({ logger, authToken: token });
    expect((await call(app, 'GET', '/v1/topics', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await call(app, 'GET', '/v1/topics', undefined, { authorization: 'Bearer wrong-token-xyz' })).status).toBe(401);
    expect(logger.lines.length).toBeGreaterThanOrEqual(2);
    const all = logger.lines.join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain('wrong-token-xyz');
    expect(all.toLowerCase()).not.toContain('authorization');
    expect(JSON.parse(logger.lines.at(-1)!)).toMatchObject({ method: 'GET', path: '/v1/topics', status: 401 });
  });
});

describe('the Lambda entry (functions/api) writes EMF', () => {
  type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;
  let handler: Handler;

  beforeAll(async () => {
    stubApiFunctionEnv({ POWERTOOLS_DEV: 'false', POWERTOOLS_METRICS_DISABLED: 'false' });
    handler = ((await import('../../functions/api/index.ts')) as unknown as { handler: Handler }).handler;
  });

  afterAll(() => {
    vi.unstubAllEnvs();
  });

  const invoke = (method: string, path: string, body?: unknown, query?: Record<string, string>) =>
    handler(
      apiGatewayV2Event({
        method,
        path,
        ...(query ? { query } : {}),
        ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      }),
      lambdaContext(),
    );

  it('flushes once per invocation: namespace Sluice, service api, the produce and error metrics, a request line', async () => {
    const out = captureStdout();
    try {
      const topic = uniqueName('obs-lambda');
      expect((await invoke('POST', '/v1/topics', { name: topic, partitions: 1 })).statusCode).toBe(201);
      const before = out.json().length;
      expect((await invoke('POST', `/v1/topics/${topic}/records`, { records: [{ value: 'x' }] })).statusCode).toBe(200);
      const produced = out.json().slice(before);
      const emf = produced.filter((l) => l._aws !== undefined);
      expect(emf).toHaveLength(1);
      const directive = emf[0]!._aws.CloudWatchMetrics[0];
      expect(directive.Namespace).toBe('Sluice');
      expect(directive.Dimensions).toEqual([['service']]);
      expect(directive.Metrics.map((m: { Name: string }) => m.Name).sort()).toEqual(['ProduceBytes', 'ProduceLatency', 'ProduceRecords']);
      expect(emf[0]).toMatchObject({ service: 'api', ProduceRecords: 1, ProduceBytes: 3 });
      const request = produced.find((l) => l.message === 'request');
      expect(request).toMatchObject({ level: 'INFO', service: 'api', method: 'POST', path: `/v1/topics/${topic}/records`, status: 200, topic });
      expect(typeof request!.function_request_id).toBe('string');

      const mark = out.json().length;
      expect((await invoke('GET', `/v1/topics/${topic}/partitions/0/records`, undefined, { offset: '9' })).statusCode).toBe(416);
      const errors = out.json().slice(mark).filter((l) => l._aws !== undefined && l.Errors !== undefined);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ service: 'api', code: 'OFFSET_OUT_OF_RANGE', Errors: 1 });
      expect(errors[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Sluice', Dimensions: [['service', 'code']] });
    } finally {
      out.restore();
    }
  });
});
