/**
 * The scheduled maintenance function (functions/maintenance): EventBridge Scheduler invokes it
 * every minute by default; it ticks through one pass over every partition (and every page of a
 * sweep due), stopping early near its timeout, then returns a summary (also logged as one JSON line, for CloudWatch Logs Insights).
 *
 * Built once per cold start; a warm instance keeps its partition cursor between invocations,
 * so a pass over many partitions continues where the last invocation stopped. Overlapping
 * invocations (a slow one and the next minute's) are safe, see maintenance.ts.
 */
import { MAINTENANCE_DEFAULTS } from '../config.ts';
import type { SluiceDeps } from '../deps.ts';
import { maintenanceFromEnv, type Env } from '../env.ts';
import { createMaintenance } from '../services.ts';
import { summarise, type RunSummary } from './summary.ts';

export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

/** `log` receives the run's one line (CloudWatch Logs on Lambda: stdout). */
export function scheduledMaintenanceHandler(
  deps: SluiceDeps,
  env: Env,
  log: (line: string) => void = (line) => console.log(line),
): (event: unknown, context: LambdaContextLike) => Promise<RunSummary> {
  const maintenance = createMaintenance(deps, maintenanceFromEnv(env));
  const safetyMs = MAINTENANCE_DEFAULTS.lambdaSafetyMs;
  return async (_event, context) => {
    // One pass over everything (the next invocation comes in a minute): a busy deployment
    // never keeps a run going until its timeout while the next ones pile up beside it.
    const reports = await maintenance.runUntilIdle({}, { maxPasses: 1, until: () => context.getRemainingTimeInMillis() < safetyMs });
    const summary = summarise(reports);
    log(JSON.stringify({ level: 'info', msg: 'maintenance run', ...summary }));
    return summary;
  };
}
