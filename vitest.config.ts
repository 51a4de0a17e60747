/**
 * Three projects, so a unit run never needs an emulator or a container:
 *  - unit: pure rules and CDK assertions, no emulators.
 *  - integration: `*.int.test.ts` against ONE shared local stack (DynamoDB Local + s3rver)
 *    started by test/support/global-setup.ts. Files run in parallel on that stack, so every
 *    test uses unique topic/group names.
 *  - localstack: the same scenarios against LocalStack in a container; skips itself when no
 *    container runtime is available.
 * The JSON report feeds the closing `N passed, N failed` line printed by .ci/run.
 */
import { defineConfig } from 'vitest/config';

const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'],
          env,
        },
      },
      {
        test: {
          name: 'integration',
          environment: 'node',
          include: ['test/integration/**/*.int.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          env,
        },
      },
      {
        test: {
          name: 'localstack',
          environment: 'node',
          include: ['test/localstack/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          env,
        },
      },
    ],
  },
});
