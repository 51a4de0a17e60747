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
import { randomIds, systemClock, type SluiceDeps } from '../../lib/deps.ts';
import { createAwsClients, type AwsClients } from '../../lib/storage/clients.ts';
import { resourceNames } from '../../lib/storage/tables.ts';

let sharedClients: AwsClients | undefined;

/**
 * Clients for the shared stack, one pair per test worker (sockets are reused across tests).
 * Do not `destroy()` them; pass your own `clients` override if a test needs to.
 */
export function stackClients(): AwsClients {
  const stack = inject('sluiceStack');
  sharedClients ??= createAwsClients({
    dynamoEndpoint: stack.dynamoEndpoint,
    s3Endpoint: stack.s3Endpoint,
    region: 'us-east-1',
    dummyCredentials: true,
  });
  return sharedClients;
}

export function stackDeps(overrides: Partial<SluiceDeps> = {}): SluiceDeps {
  const stack = inject('sluiceStack');
  return {
    clients: stackClients(),
    names: resourceNames(stack.prefix, stack.bucket),
    clock: systemClock,
    ids: randomIds,
    backend: 'local',
    ...overrides,
  };
}

export function stackApp(overrides: Partial<SluiceDeps> = {}): Hono {
  return createApp(stackDeps(overrides));
}
