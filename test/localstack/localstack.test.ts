/**
 * The shared integration scenarios (test/support/scenarios) against LocalStack in a container,
 * started through testcontainers. Without a container runtime (Docker) the suite is skipped,
 * and says so: detection takes about a millisecond when no runtime is present.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { hasContainerRuntime, startLocalstackStack, type LocalstackStack } from '../../lib/local/local-stack.ts';
import type { SluiceDeps } from '../../lib/deps.ts';
import { depsFor } from '../../lib/env.ts';
import { registerAllScenarios } from '../support/scenarios/index.ts';

const SKIP_REASON = 'no container runtime (Docker) found — LocalStack suite skipped';
// Load testcontainers first (a few hundred ms of module loading) so the probe itself is timed.
await import('testcontainers');
const detectStart = performance.now();
const runtime = await hasContainerRuntime();
const detectMs = performance.now() - detectStart;

if (!runtime) {
  console.log(`${SKIP_REASON} (detected in ${detectMs.toFixed(1)} ms)`);
  describe('LocalStack', () => {
    it.skip(SKIP_REASON, () => undefined);
  });
} else {
  describe('LocalStack', () => {
    let container: LocalstackStack | undefined;
    let deps: SluiceDeps | undefined;

    beforeAll(async () => {
      container = await startLocalstackStack({ prefix: 'sluice-localstack', timeoutMs: 120_000 });
      deps = depsFor('localstack', {}, { clients: container.clients, names: container.names });
    });

    afterAll(async () => {
      deps?.clients.dynamo.destroy();
      deps?.clients.s3.destroy();
      await container?.stop();
    });

    registerAllScenarios(() => {
      if (deps === undefined) throw new Error('LocalStack did not start (see beforeAll)');
      return deps;
    });
  });
}
