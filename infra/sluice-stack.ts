/**
 * The Sluice stack: composition only. Everything lives in the `SluiceLog` construct
 * (constructs/sluice-log.ts, also published as `sluice/cdk`); this stack reads the context
 * flags of `cdk deploy -c ...`, passes them on, and declares the outputs.
 *
 * Environment-agnostic (no account/region lookups), so `cdk synth` runs without credentials.
 */
import { CfnOutput, RemovalPolicy, Stack, type Duration, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  DEFAULT_MAINTENANCE_SCHEDULE,
  MAINTENANCE_SCHEDULE_CONTEXT,
  maintenanceScheduleExpression,
  type MaintenanceTuning,
} from './constructs/maintenance.ts';
import { SluiceLog, type SluiceLogProps } from './constructs/sluice-log.ts';

/** Context key: `true` makes data resources deletable with the stack (dev stacks only). */
export const DESTROY_ON_REMOVAL_CONTEXT = 'destroyOnRemoval';
/** Context key of the auth mode (`-c auth=token`). */
export const AUTH_CONTEXT = 'auth';
/** Context key of the write tier (`-c writeTier=express`). */
export const WRITE_TIER_CONTEXT = 'writeTier';
/** Context key of the express tier's Availability Zone ID (`-c expressAz=use1-az4`). */
export const EXPRESS_AZ_CONTEXT = 'expressAz';

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
  /**
   * Everything else the construct takes (auth, encryption key, custom domain, alarm topic,
   * memory, throttling, write tier, ...). @default SluiceLog's defaults; auth, writeTier and
   * expressAvailabilityZoneId from the `auth`, `writeTier` and `expressAz` context values
   */
  readonly sluice?: Omit<
    SluiceLogProps,
    'removalPolicy' | 'maintenanceSchedule' | 'maintenanceTimeout' | 'maintenanceTuning'
  >;
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
  readonly sluice: SluiceLog;

  constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, props);
    const destroy =
      props.destroyOnRemoval ?? contextFlag(this.node.tryGetContext(DESTROY_ON_REMOVAL_CONTEXT));
    const auth: unknown = props.sluice?.auth ?? this.node.tryGetContext(AUTH_CONTEXT) ?? 'iam';
    if (auth !== 'iam' && auth !== 'token' && auth !== 'both') {
      throw new Error(`context auth must be iam, token or both, got ${JSON.stringify(auth)}`);
    }

    const writeTier: unknown =
      props.sluice?.writeTier ?? this.node.tryGetContext(WRITE_TIER_CONTEXT) ?? 'standard';
    const expressAz: unknown =
      props.sluice?.expressAvailabilityZoneId ?? this.node.tryGetContext(EXPRESS_AZ_CONTEXT);
    if (writeTier !== 'standard' && writeTier !== 'express') {
      throw new Error(
        `context writeTier must be standard or express, got ${JSON.stringify(writeTier)}`,
      );
    }
    if (expressAz !== undefined && typeof expressAz !== 'string') {
      throw new Error(`context expressAz must be an Availability Zone ID such as use1-az4, got ${JSON.stringify(expressAz)}`);
    }

    // Table names carry the stack name as prefix, like `sluice-meta` locally; bucket names
    // are left to CloudFormation (bucket names are global). The id `Default` is left out of
    // logical ids, so the resources keep the ids they had as direct children of this stack:
    // an update of an existing stack changes them in place instead of replacing its tables.
    this.sluice = new SluiceLog(this, 'Default', {
      dashboardName: this.stackName,
      ...props.sluice,
      auth,
      // Only what is set, so a standard-tier stack passes exactly the props it always did.
      ...(writeTier === 'express' ? { writeTier } : {}),
      ...(expressAz !== undefined ? { expressAvailabilityZoneId: expressAz } : {}),
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      // Context values are unchecked JSON (or strings from -c): validated here.
      maintenanceSchedule: maintenanceScheduleExpression(
        props.maintenanceSchedule ??
          this.node.tryGetContext(MAINTENANCE_SCHEDULE_CONTEXT) ??
          DEFAULT_MAINTENANCE_SCHEDULE,
      ),
      ...(props.maintenanceTimeout ? { maintenanceTimeout: props.maintenanceTimeout } : {}),
      ...(props.maintenanceTuning ? { maintenanceTuning: props.maintenanceTuning } : {}),
    });

    const s = this.sluice;
    new CfnOutput(this, 'ApiUrl', {
      value: s.url,
      description:
        auth === 'token'
          ? 'Base URL of the Sluice API (bearer tokens)'
          : 'Base URL of the Sluice API (SigV4-signed requests, service execute-api)',
    });
    new CfnOutput(this, 'StreamUrl', {
      value: s.streamUrl,
      description:
        auth === 'token'
          ? 'Function URL of the streaming reads (live=sse; bearer tokens)'
          : 'Function URL of the streaming reads (live=sse; SigV4-signed requests, service lambda)',
    });
    new CfnOutput(this, 'SegmentBucketName', { value: s.bucket.bucketName });
    new CfnOutput(this, 'MetaTableName', { value: s.tables.meta.tableName });
    new CfnOutput(this, 'LogTableName', { value: s.tables.log.tableName });
    new CfnOutput(this, 'ApiFunctionName', { value: s.apiFunction.functionName });
    new CfnOutput(this, 'FetchFunctionName', { value: s.fetchFunction.functionName });
    new CfnOutput(this, 'MaintenanceFunctionName', {
      value: s.maintenance.function.functionName,
    });
    if (s.expressBucket) {
      new CfnOutput(this, 'ExpressBucketName', {
        value: s.expressBucket.ref,
        description: 'S3 Express One Zone directory bucket produce writes to first (SLUICE_EXPRESS_BUCKET)',
      });
    }
    new CfnOutput(this, 'DashboardName', { value: s.monitoring.dashboard.dashboardName });
    if (s.authSecret) {
      new CfnOutput(this, 'AdminTokenSecretArn', {
        value: s.authSecret.secretArn,
        description: 'Secrets Manager secret whose SecretString is the bootstrap admin token',
      });
    }
  }

  // The parts, as before the construct existed (tests and scripts use these names).
  get bucket() {
    return this.sluice.bucket;
  }
  get tables() {
    return this.sluice.tables;
  }
  get apiFunction() {
    return this.sluice.apiFunction;
  }

  get fetchFunction() {
    return this.sluice.fetchFunction;
  }
  get streamFunction() {
    return this.sluice.streamFunction;
  }
  get httpApi() {
    return this.sluice.httpApi;
  }
  get maintenance() {
    return this.sluice.maintenance;
  }
}
