/**
 * The Powertools adapter (lib/observability/powertools.ts): what it writes to stdout is the
 * contract with CloudWatch (EMF) and the infra dashboard (names, namespace, dimensions).
 * Powertools writes through its own Console on process.stdout, so the test captures
 * process.stdout.write.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaObservability, powertoolsLogger, powertoolsMetrics } from '../../../lib/observability/powertools.ts';
import { lambdaContext } from '../../support/apigw-event.ts';

let lines: string[];

beforeEach(() => {
  lines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const json = () => lines.map((l) => JSON.parse(l) as Record<string, any>);
const emf = () => json().filter((l) => l._aws !== undefined);

describe('powertoolsMetrics', () => {
  it('writes nothing until flushed, then one EMF blob in namespace Sluice with the service dimension', () => {
    const metrics = powertoolsMetrics('api');
    metrics.count('ProduceRecords', 3);
    metrics.bytes('ProduceBytes', 120);
    metrics.ms('ProduceLatency', 42);
    expect(lines).toEqual([]);
    metrics.flush();
    const [blob, ...rest] = emf();
    expect(rest).toEqual([]);
    const directive = blob!._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe('Sluice');
    expect(directive.Dimensions).toEqual([['service']]);
    expect(directive.Metrics).toEqual([
      { Name: 'ProduceRecords', Unit: 'Count' },
      { Name: 'ProduceBytes', Unit: 'Bytes' },
      { Name: 'ProduceLatency', Unit: 'Milliseconds' },
    ]);
    expect(blob).toMatchObject({ service: 'api', ProduceRecords: 3, ProduceBytes: 120, ProduceLatency: 42 });
    expect(typeof blob!._aws.Timestamp).toBe('number');
  });

  it('writes points with extra dimensions in their own blob, one per distinct set', () => {
    const metrics = powertoolsMetrics('api');
    metrics.ms('FetchLatency', 5);
    metrics.count('Errors', 1, { code: 'OFFSET_OUT_OF_RANGE' });
    metrics.count('Errors', 1, { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    metrics.count('Errors', 1, { code: 'OFFSET_OUT_OF_RANGE' });
    metrics.flush();
    const blobs = emf();
    expect(blobs).toHaveLength(3);
    expect(blobs[0]).toMatchObject({ service: 'api', FetchLatency: 5 });
    expect(blobs[0]!.Errors).toBeUndefined();
    const byCode = Object.fromEntries(blobs.slice(1).map((b) => [b.code, b]));
    expect(byCode.OFFSET_OUT_OF_RANGE).toMatchObject({ service: 'api', Errors: [1, 1] });
    expect(byCode.UNKNOWN_TOPIC_OR_PARTITION).toMatchObject({ service: 'api', Errors: 1 });
    expect(blobs[1]!._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'code']]);
  });

  it('forgets what it flushed: a second flush writes nothing', () => {
    const metrics = powertoolsMetrics('maintenance');
    metrics.count('MaintenanceTicks', 2);
    metrics.flush();
    metrics.flush();
    expect(emf()).toHaveLength(1);
    expect(emf()[0]).toMatchObject({ service: 'maintenance', MaintenanceTicks: 2 });
  });
});

describe('powertoolsLogger', () => {
  it('writes JSON lines with the service, the message, the fields and the invocation context', () => {
    const logger = powertoolsLogger('api');
    const context = lambdaContext();
    logger.addContext(context);
    logger.info('request', { method: 'GET', path: '/healthz', status: 200, ms: 3 });
    const [line] = json();
    expect(line).toMatchObject({ level: 'INFO', message: 'request', service: 'api', method: 'GET', path: '/healthz', status: 200, ms: 3 });
    expect(line!.function_request_id).toBe(context.awsRequestId);
    expect(typeof line!.cold_start).toBe('boolean');
  });
});

describe('lambdaObservability().wrap', () => {
  it('flushes the invocation\'s metrics when the handler returns, and when it throws', async () => {
    const { metrics, wrap } = lambdaObservability('api');
    const ok = wrap(async (_e: unknown, _c: unknown) => {
      metrics.count('FetchRecords', 7);
      return 'done';
    });
    await expect(ok({}, lambdaContext())).resolves.toBe('done');
    expect(emf().some((b) => b.FetchRecords === 7)).toBe(true);
    const failing = wrap(async (_e: unknown, _c: unknown) => {
      metrics.count('Errors', 1, { code: 'UNKNOWN_SERVER_ERROR' });
      throw new Error('boom');
    });
    await expect(failing({}, lambdaContext())).rejects.toThrow('boom');
    expect(emf().some((b) => b.code === 'UNKNOWN_SERVER_ERROR' && b.Errors === 1)).toBe(true);
  });
});
