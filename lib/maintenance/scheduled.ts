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
import { noopMetrics } from '../metrics.ts';
import { createMaintenance } from '../services.ts';
import type { TickReport } from './maintenance.ts';
import { recordRunMetrics, summarise, type RunSummary } from './summary.ts';

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
  const metrics = deps.metrics ?? noopMetrics;
  // MaintenanceLagMs: how long this instance went without a tick (the oldest due work is not
  // known cheaply). A cold instance has no previous tick and records none.
  let lastTickAt: number | undefined;
  return async (_event, context) => {
    if (lastTickAt !== undefined) metrics.ms('MaintenanceLagMs', deps.clock.now() - lastTickAt);
    const reports: TickReport[] = [];
    try {
      // One pass over everything (the next invocation comes in a minute): a busy deployment
      // never keeps a run going until its timeout while the next ones pile up beside it.
      await maintenance.runUntilIdle({}, {
        maxPasses: 1,
        until: () => context.getRemainingTimeInMillis() < safetyMs,
        onTick: (r) => {
          reports.push(r);
          lastTickAt = deps.clock.now();
        },
      });
    } catch (err) {
      metrics.count('MaintenanceFailures');
      throw err;
    } finally {
      recordRunMetrics(metrics, summarise(reports)); // a failed run's finished ticks count too
    }
    const summary = summarise(reports);
    log(JSON.stringify({ level: 'info', msg: 'maintenance run', ...summary }));
    return summary;
  };
}
