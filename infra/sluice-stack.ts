/**
 * The Sluice stack: composition only. Each piece lives in `constructs/`; table
 * and bucket shapes come from lib/storage/tables.ts, shared with the local bootstrap.
 *
 * Environment-agnostic (no account/region lookups), so `cdk synth` runs without credentials.
 */
import { CfnOutput, RemovalPolicy, Stack, type Duration, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { RESOURCE_ENV, resourceNames } from '../lib/storage/tables.ts';
import { SluiceHttpApi } from './constructs/http-api.ts';
import {
  DEFAULT_MAINTENANCE_SCHEDULE,
  MAINTENANCE_SCHEDULE_CONTEXT,
  maintenanceScheduleExpression,
  SluiceMaintenance,
  type MaintenanceTuning,
} from './constructs/maintenance.ts';
import { SegmentBucket } from './constructs/segment-bucket.ts';
import { SluiceFunction } from './constructs/sluice-function.ts';
import { SluiceTables } from './constructs/tables.ts';

/** Context key: `true` makes data resources deletable with the stack (dev stacks only). */
export const DESTROY_ON_REMOVAL_CONTEXT = 'destroyOnRemoval';

export interface SluiceStackProps extends StackProps {
  /**
   * Delete tables, bucket (emptied first) and log groups with the stack.
   * @default the `destroyOnRemoval` context value, else false (RETAIN: data outlives the stack)
   */
  readonly destroyOnRemoval?: boolean;
  /**
   * When the maintenance function runs: a recurring EventBridge Scheduler expression,
   * e.g. `rate(5 minutes)` or `cron(0/10 * * * ? *)` (UTC).
   * @default the `maintenanceSchedule` context value, else `rate(1 minute)`
   */
  readonly maintenanceSchedule?: string;
  /** Timeout of one maintenance run, which loops ticks until near it. @default 5 minutes */
  readonly maintenanceTimeout?: Duration;
  /**
   * SLUICE_MERGE_MIN_AGE_MS, SLUICE_SEGMENT_TARGET_BYTES, SLUICE_GC_GRACE_MS for the
   * maintenance function; each one only when set. @default the code's defaults
   */
  readonly maintenanceTuning?: MaintenanceTuning;
}

/** Context values from `-c key=value` arrive as strings; from cdk.json as JSON values. */
export function contextFlag(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`context flag must be true or false, got ${JSON.stringify(value)}`);
}

export class SluiceStack extends Stack {
  readonly bucket: SegmentBucket;
  readonly tables: SluiceTables;
  readonly apiFunction: SluiceFunction;
  readonly httpApi: SluiceHttpApi;
  readonly maintenance: SluiceMaintenance;

  constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, props);
    const destroy =
      props.destroyOnRemoval ?? contextFlag(this.node.tryGetContext(DESTROY_ON_REMOVAL_CONTEXT));
    const removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    // Table names carry the stack name as prefix, like `sluice-meta` locally; the bucket
    // name is left to CloudFormation (bucket names are global).
    const names = resourceNames(this.stackName);
    this.bucket = new SegmentBucket(this, 'Segments', { removalPolicy });
    this.tables = new SluiceTables(this, 'Tables', { names: names.tables, removalPolicy });

    this.apiFunction = new SluiceFunction(this, 'ApiFunction', {
      entry: 'functions/api/index.ts',
      description: 'Sluice REST API (Hono app behind the HTTP API)',
      logRemovalPolicy: removalPolicy,
    })
      // The API deletes meta items (topics, groups, offsets) but never log entries or
      // segment objects: those go only through maintenance (its own role, below).
      .bindTable(this.tables.meta, 'readWriteDelete', RESOURCE_ENV.metaTable)
      .bindTable(this.tables.log, 'readWrite', RESOURCE_ENV.logTable)
      .bindBucket(this.bucket, RESOURCE_ENV.bucket, 'readWrite');

    this.httpApi = new SluiceHttpApi(this, 'Api', { handler: this.apiFunction });

    this.maintenance = new SluiceMaintenance(this, 'Maintenance', {
      tables: this.tables,
      bucket: this.bucket,
      // Context values are unchecked JSON (or strings from -c): validated here.
      schedule: maintenanceScheduleExpression(
        props.maintenanceSchedule ??
          this.node.tryGetContext(MAINTENANCE_SCHEDULE_CONTEXT) ??
          DEFAULT_MAINTENANCE_SCHEDULE,
      ),
      ...(props.maintenanceTimeout ? { timeout: props.maintenanceTimeout } : {}),
      ...(props.maintenanceTuning ? { tuning: props.maintenanceTuning } : {}),
      logRemovalPolicy: removalPolicy,
    });

    new CfnOutput(this, 'SegmentBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'MetaTableName', { value: this.tables.meta.tableName });
    new CfnOutput(this, 'LogTableName', { value: this.tables.log.tableName });
    new CfnOutput(this, 'ApiFunctionName', { value: this.apiFunction.functionName });
    new CfnOutput(this, 'MaintenanceFunctionName', {
      value: this.maintenance.function.functionName,
    });
  }
}
