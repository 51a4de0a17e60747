/**
 * The environment the CDK stack gives the API function, pointed at the shared emulator stack,
 * for tests that import functions/api/index.ts. Call it BEFORE the import: the handler reads
 * its environment once, at cold start. Undo with vi.unstubAllEnvs().
 */
import { inject, vi } from 'vitest';
import { RESOURCE_ENV, resourceNames } from '../../lib/storage/tables.ts';

export function stubApiFunctionEnv(extra: Readonly<Record<string, string>> = {}): void {
  const stack = inject('sluiceStack');
  const names = resourceNames(stack.prefix, stack.bucket);
  vi.stubEnv(RESOURCE_ENV.metaTable, names.tables.meta);
  vi.stubEnv(RESOURCE_ENV.logTable, names.tables.log);
  vi.stubEnv(RESOURCE_ENV.bucket, names.bucket);
  vi.stubEnv('SLUICE_DYNAMODB_ENDPOINT', stack.dynamoEndpoint);
  vi.stubEnv('SLUICE_S3_ENDPOINT', stack.s3Endpoint);
  vi.stubEnv('SLUICE_BACKEND', 'local');
  vi.stubEnv('SLUICE_AUTH_TOKEN', '');
  vi.stubEnv('AWS_ACCESS_KEY_ID', '');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  for (const [k, v] of Object.entries(extra)) vi.stubEnv(k, v);
}
