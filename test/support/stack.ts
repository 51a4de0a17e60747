/**
 * Deps and app wired to the shared integration stack started by global-setup.ts. Real AWS SDK
 * clients against DynamoDB Local and s3rver, system clock, random ids.
 *
 *   const app = stackApp();
 *   const res = await app.request('/v1/topics', { method: 'POST', ... });
 */
import type { Hono } from 'hono';
import { inject } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import type { SluiceDeps } from '../../lib/deps.ts';
import { depsFor } from '../../lib/env.ts';
import { createAwsClients, type AwsClients } from '../../lib/storage/clients.ts';
import { resourceNames } from '../../lib/storage/tables.ts';
import { quietLogger } from './logger.ts';

/**
 * A NEW client pair for the shared stack on every call: fault-injection tests add middleware
 * to `deps.clients`, and that must never leak into another test. Clients are cheap to make.
 */
export function stackClients(): AwsClients {
  const stack = inject('sluiceStack');
  return createAwsClients({
    dynamoEndpoint: stack.dynamoEndpoint,
    s3Endpoint: stack.s3Endpoint,
    region: 'us-east-1',
    dummyCredentials: true,
  });
}

/**
 * Deps as the app builds them (lib/env.ts depsFor), for the local backend, with this stack's
 * clients and names. The environment is empty on purpose: SLUICE_AUTH_TOKEN or a tuning
 * variable in the shell running the tests must not change what they test.
 */
export function stackDeps(overrides: Partial<SluiceDeps> = {}): SluiceDeps {
  const stack = inject('sluiceStack');
  const deps = depsFor('local', {}, {
    clients: overrides.clients ?? stackClients(),
    names: overrides.names ?? resourceNames(stack.prefix, stack.bucket),
  });
  return { ...deps, logger: quietLogger, ...overrides }; // a 5xx line prints only if its test fails
}

export function stackApp(overrides: Partial<SluiceDeps> = {}): Hono {
  return createApp(stackDeps(overrides));
}
