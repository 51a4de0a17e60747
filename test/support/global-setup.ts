/**
 * Integration global setup: ONE local stack (in-memory DynamoDB Local + s3rver on a temp dir,
 * random ports) shared by every integration test file. Files run in parallel against it, so
 * tests must use unique names. The stack is torn down at the end; the DynamoDB Local JVM is
 * also killed if this process exits or dies early (lib/local/child-reaper.ts).
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { startLocalStack } from '../../lib/local/local-stack.ts';

/** What test files get from `inject('sluiceStack')`. */
export interface SluiceStackContext {
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  /** Physical name prefix of this run's tables (`<prefix>-meta`, `<prefix>-log`). */
  readonly prefix: string;
  readonly bucket: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    sluiceStack: SluiceStackContext;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const prefix = `sluice-test-${randomBytes(3).toString('hex')}`;
  const stack = await startLocalStack({ prefix });
  project.provide('sluiceStack', {
    dynamoEndpoint: stack.dynamoEndpoint,
    s3Endpoint: stack.s3Endpoint,
    prefix,
    bucket: stack.names.bucket,
  });
  return () => stack.stop();
}
