/**
 * Backend-independent integration scenarios. Each `register*` call defines vitest suites that
 * exercise the real app against whatever stack `getDeps()` points at: the emulator stack
 * (test/integration) or LocalStack (test/localstack). Same scenarios, same assertions.
 */
import { describe } from 'vitest';
import { createApp } from '../../../lib/api/app.ts';
import type { SluiceDeps } from '../../../lib/deps.ts';
import type { RequestTarget } from '../lambda-app.ts';
import { registerDeleteRecordsScenarios } from './delete-records.ts';
import { registerExactlyOnceScenarios } from './exactly-once.ts';
import { registerGroupScenarios } from './groups.ts';
import { registerLogScenarios } from './log.ts';
import { registerTopicScenarios } from './topics.ts';

export type DepsProvider = () => SluiceDeps;
/** How the scenarios reach the app: in process (`createApp`) or through the Lambda adapter. */
export type AppFactory = (deps: SluiceDeps) => RequestTarget;

export function registerAllScenarios(getDeps: DepsProvider, makeApp: AppFactory = createApp): void {
  describe('topics', () => registerTopicScenarios(getDeps, makeApp));
  describe('log', () => registerLogScenarios(getDeps, makeApp));
  describe('groups', () => registerGroupScenarios(getDeps, makeApp));
  describe('exactly-once', () => registerExactlyOnceScenarios(getDeps, makeApp));
  describe('delete-records', () => registerDeleteRecordsScenarios(getDeps, makeApp));
}
