/**
 * Backend-independent integration scenarios. Each `register*` call defines vitest suites that
 * exercise the real app against whatever stack `getDeps()` points at: the emulator stack
 * (test/integration) or LocalStack (test/localstack). Same scenarios, same assertions.
 */
import { describe } from 'vitest';
import type { SluiceDeps } from '../../../lib/deps.ts';
import { registerTopicScenarios } from './topics.ts';

export type DepsProvider = () => SluiceDeps;

export function registerAllScenarios(getDeps: DepsProvider): void {
  describe('topics', () => registerTopicScenarios(getDeps));
}
