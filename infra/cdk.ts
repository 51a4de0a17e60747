/**
 * `sluice/cdk`: the constructs another CDK app uses to deploy Sluice inside its own stack.
 *
 *   import { SluiceLog } from 'sluice/cdk';
 *   const log = new SluiceLog(this, 'Log', { auth: 'iam' });
 *   log.grantProduce('orders', producerRole);
 */
export {
  AUTH_SECRET_ENV,
  consumeRoutes,
  EXPRESS_BUCKET_ENV,
  produceRoutes,
  SLUICE_AUTH_MODES,
  SLUICE_WRITE_TIERS,
  SluiceLog,
  type ApiRoute,
  type SluiceAuthMode,
  type SluiceCustomDomain,
  type SluiceLogProps,
  type SluiceWriteTier,
} from './constructs/sluice-log.ts';
export { createExpressBucket, expressAvailabilityZoneId } from './constructs/express-bucket.ts';
export { API_STAGE, DEFAULT_THROTTLE, FETCH_ROUTES, SluiceHttpApi } from './constructs/http-api.ts';
export { API_MEMORY_MB, FETCH_MEMORY_MB } from './constructs/function-memory.ts';
export {
  DEFAULT_MAINTENANCE_SCHEDULE,
  maintenanceScheduleExpression,
  SluiceMaintenance,
  type MaintenanceTuning,
} from './constructs/maintenance.ts';
export { ALARMS, SLUICE_METRICS, SLUICE_NAMESPACE, SluiceMonitoring } from './constructs/monitoring.ts';
export { AccessLogBucket, SegmentBucket } from './constructs/segment-bucket.ts';
export {
  BUCKET_OBJECT_ACTIONS,
  DIRECTORY_BUCKET_ACCESS,
  KMS_ACTIONS,
  SluiceFunction,
  TABLE_ACTIONS,
} from './constructs/sluice-function.ts';
export { SluiceTables } from './constructs/tables.ts';
