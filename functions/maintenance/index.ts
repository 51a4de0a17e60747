/**
 * Lambda entry point of the maintenance job, invoked by EventBridge Scheduler (infra/constructs/
 * maintenance.ts). Deps are built once per cold start from the environment the CDK stack sets
 * (lib/env.ts), so a missing name fails the cold start. The handler loops maintenance ticks
 * until the invocation nears its timeout (lib/maintenance/scheduled.ts). Metrics (EMF, service
 * maintenance) are flushed once per invocation (lib/observability).
 */
import { depsFromEnv } from '../../lib/env.ts';
import { scheduledMaintenanceHandler } from '../../lib/maintenance/scheduled.ts';
import { lambdaObservability } from '../../lib/observability/powertools.ts';

const { metrics, logger, wrap } = lambdaObservability('maintenance');
export const handler = wrap(scheduledMaintenanceHandler({ ...depsFromEnv(process.env), metrics, logger }, process.env));
