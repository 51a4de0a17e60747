import { describe, expect, it, vi } from 'vitest';
import { depsFromEnv } from '../../lib/env.ts';
import { RESOURCE_ENV } from '../../lib/storage/tables.ts';

const NAMES = {
  [RESOURCE_ENV.metaTable]: 'sluice-test-meta',
  [RESOURCE_ENV.logTable]: 'sluice-test-log',
  [RESOURCE_ENV.bucket]: 'sluice-test-segments',
};

describe('depsFromEnv', () => {
  it('reads the physical names from the RESOURCE_ENV variables', () => {
    const deps = depsFromEnv({ ...NAMES, AWS_REGION: 'eu-west-1' });
    expect(deps.names).toEqual({
      tables: { meta: 'sluice-test-meta', log: 'sluice-test-log' },
      bucket: 'sluice-test-segments',
    });
  });

  it('uses the variable names the CDK stack sets', () => {
    // Spot-check the literals: the stack and this reader must agree on them.
    expect(RESOURCE_ENV).toEqual({
      metaTable: 'SLUICE_META_TABLE',
      logTable: 'SLUICE_LOG_TABLE',
      bucket: 'SLUICE_BUCKET',
    });
  });

  it.each(Object.values(RESOURCE_ENV))('names the missing variable %s', (name) => {
    const env: Record<string, string> = { ...NAMES };
    delete env[name];
    expect(() => depsFromEnv(env)).toThrow(name);
  });

  it('treats an empty variable as missing and names every missing one', () => {
    const fn = () => depsFromEnv({ [RESOURCE_ENV.metaTable]: '' });
    expect(fn).toThrow(/SLUICE_META_TABLE, SLUICE_LOG_TABLE, SLUICE_BUCKET/);
  });

  it('defaults the backend to aws and has no auth token', () => {
    const deps = depsFromEnv({ ...NAMES, AWS_REGION: 'eu-west-1' });
    expect(deps.backend).toBe('aws');
    expect(deps.authToken).toBeUndefined();
  });

  it('accepts local and localstack backends and rejects others', () => {
    expect(depsFromEnv({ ...NAMES, SLUICE_BACKEND: 'local' }).backend).toBe('local');
    expect(depsFromEnv({ ...NAMES, SLUICE_BACKEND: 'localstack' }).backend).toBe('localstack');
    expect(() => depsFromEnv({ ...NAMES, SLUICE_BACKEND: 'gcp' })).toThrow(/SLUICE_BACKEND='gcp'/);
  });

  it('passes the auth token through', () => {
    expect(depsFromEnv({ ...NAMES, SLUICE_AUTH_TOKEN: 's3cret' }).authToken).toBe('s3cret');
  });

  it('passes the auth secret ARN through (the bootstrap admin token on AWS)', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sluice-auth-AbCdEf';
    expect(depsFromEnv({ ...NAMES, SLUICE_AUTH_SECRET_ARN: arn }).authSecretArn).toBe(arn);
    expect(depsFromEnv({ ...NAMES, SLUICE_AUTH_SECRET_ARN: ' ' }).authSecretArn).toBeUndefined();
  });

  it('talks to the real services with the default credential chain when no endpoint is set', async () => {
    const deps = depsFromEnv({ ...NAMES, AWS_REGION: 'eu-west-1' });
    expect(deps.clients.dynamo.config.endpoint).toBeUndefined();
    expect(deps.clients.s3.config.forcePathStyle).toBe(false);
    expect(await deps.clients.dynamo.config.region()).toBe('eu-west-1');
    expect(await deps.clients.s3.config.region()).toBe('eu-west-1');
  });

  it('points at emulators with path-style S3 and dummy credentials when endpoints are set', async () => {
    const deps = depsFromEnv({
      ...NAMES,
      SLUICE_BACKEND: 'local',
      SLUICE_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      SLUICE_S3_ENDPOINT: 'http://127.0.0.1:4569',
    });
    const dynamoEndpoint = await deps.clients.dynamo.config.endpoint?.();
    expect(dynamoEndpoint).toMatchObject({ hostname: '127.0.0.1', port: 8000, protocol: 'http:' });
    const s3Endpoint = await deps.clients.s3.config.endpoint?.();
    expect(s3Endpoint).toMatchObject({ hostname: '127.0.0.1', port: 4569, protocol: 'http:' });
    expect(deps.clients.s3.config.forcePathStyle).toBe(true);
    expect(await deps.clients.dynamo.config.region()).toBe('us-east-1');
    const credentials = await deps.clients.dynamo.config.credentials();
    expect(credentials.accessKeyId).toBe('S3RVER');
  });

  it('keeps real credentials in emulator mode when AWS_ACCESS_KEY_ID is set', async () => {
    // The SDK's default chain reads process.env, so stub it there (restored after the test).
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');
    try {
      const deps = depsFromEnv({
        ...NAMES,
        SLUICE_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      });
      const credentials = await deps.clients.s3.config.credentials();
      expect(credentials.accessKeyId).toBe('AKIDEXAMPLE');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('uses the system clock and fresh random ids', () => {
    const deps = depsFromEnv(NAMES);
    const before = Date.now();
    const now = deps.clock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
    const ids = new Set(Array.from({ length: 100 }, () => deps.ids.newId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('tuningFromEnv', () => {
  it('reads the log tunables and leaves unset ones to the defaults', async () => {
    const { tuningFromEnv } = await import('../../lib/env.ts');
    expect(tuningFromEnv({ SLUICE_SLOT_TIMEOUT_MS: '1500', SLUICE_POLL_INTERVAL_MS: '100' })).toEqual({ slotTimeoutMs: 1500, pollIntervalMs: 100 });
    expect(tuningFromEnv({})).toEqual({});
  });

  it('refuses a non-integer value, naming the variable', async () => {
    const { tuningFromEnv } = await import('../../lib/env.ts');
    expect(() => tuningFromEnv({ SLUICE_SEGMENT_CACHE_BYTES: '64MB' })).toThrow(/SLUICE_SEGMENT_CACHE_BYTES/);
  });
});

describe('depsFor', () => {
  it('builds deps for the given backend, auth token and tunables from the environment', async () => {
    const { depsFor } = await import('../../lib/env.ts');
    const deps = depsFor('localstack', { ...NAMES, SLUICE_AUTH_TOKEN: 's3cret', SLUICE_POLL_INTERVAL_MS: '100' });
    expect(deps.backend).toBe('localstack');
    expect(deps.authToken).toBe('s3cret');
    expect(deps.tuning).toEqual({ pollIntervalMs: 100 });
    expect(deps.names.tables.meta).toBe('sluice-test-meta');
  });

  it('uses the clients and names it is given instead of the environment', async () => {
    const { depsFor } = await import('../../lib/env.ts');
    const given = depsFromEnv({ ...NAMES, SLUICE_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' });
    const names = { tables: { meta: 'm', log: 'l' }, bucket: 'b' };
    // No RESOURCE_ENV variables at all: the names given are used, nothing is missing.
    const deps = depsFor('local', {}, { clients: given.clients, names });
    expect(deps.clients).toBe(given.clients);
    expect(deps.names).toBe(names);
    expect(deps.authToken).toBeUndefined();
    expect(deps.tuning).toEqual({});
  });

  it('hedges S3 requests on AWS only, unless the environment says otherwise; reads the hot tier bucket', async () => {
    const { depsFor } = await import('../../lib/env.ts');
    const aws = depsFor('aws', { ...NAMES, SLUICE_EXPRESS_BUCKET: 'hot--use1-az4--x-s3' });
    expect(aws.tuning).toEqual({ s3HedgeAfterMs: 100, expressHedgeAfterMs: 20 });
    expect(aws.names.expressBucket).toBe('hot--use1-az4--x-s3');
    expect(depsFor('aws', { ...NAMES, SLUICE_S3_HEDGE_AFTER_MS: '0' }).tuning).toMatchObject({ s3HedgeAfterMs: 0 });
    expect(depsFor('aws', NAMES).names.expressBucket).toBeUndefined();
    expect(depsFor('local', NAMES).tuning).toEqual({});
  });

  it('still needs the names from the environment when none are given', async () => {
    const { depsFor } = await import('../../lib/env.ts');
    expect(() => depsFor('aws', {})).toThrow(/SLUICE_META_TABLE/);
  });
});

describe('maintenanceFromEnv', () => {
  it('reads the maintenance settings, and refuses a GC grace below its floor', async () => {
    const { maintenanceFromEnv } = await import('../../lib/env.ts');
    expect(maintenanceFromEnv({})).toEqual({});
    expect(
      maintenanceFromEnv({ SLUICE_MERGE_MIN_AGE_MS: '0', SLUICE_SEGMENT_TARGET_BYTES: '1048576', SLUICE_GC_GRACE_MS: '300000', SLUICE_MAINTENANCE_INTERVAL_MS: '0' }),
    ).toEqual({ mergeMinAgeMs: 0, segmentTargetBytes: 1048576, gcGraceMs: 300000, intervalMs: 0 });
    expect(() => maintenanceFromEnv({ SLUICE_GC_GRACE_MS: '1000' })).toThrow(/must be at least 300000/);
    expect(() => maintenanceFromEnv({ SLUICE_MERGE_MIN_AGE_MS: '-5' })).toThrow(/non-negative integer/);
  });
});
