/**
 * Lambda entry point of the maintenance job, invoked by EventBridge Scheduler (infra/constructs/
 * maintenance.ts). Deps are built once per cold start from the environment the CDK stack sets
 * (lib/env.ts), so a missing name fails the cold start. The handler loops maintenance ticks
 * until the invocation nears its timeout (lib/maintenance/scheduled.ts).
 */
import { depsFromEnv } from '../../lib/env.ts';
import { scheduledMaintenanceHandler } from '../../lib/maintenance/scheduled.ts';

export const handler = scheduledMaintenanceHandler(depsFromEnv(process.env), process.env);
