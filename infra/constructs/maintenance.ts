/**
 * The maintenance job: a function (functions/maintenance) that EventBridge Scheduler invokes
 * on a recurring schedule, and that runs maintenance ticks (merge, GC of unreferenced
 * segment objects, topic deletion) until the work is done or it nears its timeout.
 *
 * - Its own role, the only one that may delete log entries and segment objects:
 *   `readWriteDelete` on both tables and on the bucket's objects (SluiceFunction
 *   TABLE_ACTIONS / BUCKET_OBJECT_ACTIONS). The API function may delete meta items only.
 * - With the express write tier, also a ReadWrite session on the directory bucket (it copies
 *   segment objects from there into the Standard bucket, lists and deletes them there).
 * - Scheduler invokes Lambda asynchronously. A tick that failed or came late is made up by
 *   the next one, so neither side retries for long: Lambda does not retry a failed run (it
 *   would overlap the next tick), and Scheduler gives up delivering a tick after a minute
 *   instead of its default of 185 attempts over 24 hours, which after an outage would start
 *   a pile of runs at once.
 * - A dead-letter queue gets what never ran: an invocation Scheduler could not deliver
 *   (target DLQ) and a run that failed (the function's on-failure destination; Lambda does
 *   not retry it). Kept 14 days for a look; nothing consumes it.
 * - No reserved concurrency: runs may overlap (the default schedule is shorter than the
 *   default timeout), so the job must tolerate a concurrent run of itself, as the API does,
 *   with conditional writes.
 */
import { Aws, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as s3express from 'aws-cdk-lib/aws-s3express';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { MAINTENANCE_DEFAULTS } from '../../lib/config.ts';
import { MAINTENANCE_ENV, maintenanceFromEnv } from '../../lib/env.ts';
import { RESOURCE_ENV } from '../../lib/storage/tables.ts';
import { EXPRESS_BUCKET_ENV } from './express-bucket.ts';
import { SluiceFunction } from './sluice-function.ts';
import type { SluiceTables } from './tables.ts';

/** Context key and default of the schedule (`-c maintenanceSchedule='rate(5 minutes)'`). */
export const MAINTENANCE_SCHEDULE_CONTEXT = 'maintenanceSchedule';
export const DEFAULT_MAINTENANCE_SCHEDULE = 'rate(1 minute)';
export const DEFAULT_MAINTENANCE_TIMEOUT = Duration.minutes(5);

/**
 * The tunables the stack may set on the function; their variable names are lib/env.ts
 * MAINTENANCE_ENV's (the rest of it, the dev server's timer, means nothing in Lambda).
 */
const TUNING_KEYS = ['mergeMinAgeMs', 'segmentTargetBytes', 'gcGraceMs'] as const;

/** Each one unset means the code's default (lib/config.ts); only set ones reach the function. */
export type MaintenanceTuning = { readonly [K in (typeof TUNING_KEYS)[number]]?: number };

const RATE = /^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(\S+( \S+){5}\)$/;

/**
 * A recurring EventBridge Scheduler expression: `rate(<n> minute[s]|hour[s]|day[s])` or a
 * six-field `cron(...)`. A one-time `at(...)` is refused: maintenance has to keep running.
 * Checked at synth, so a typo fails `cdk synth` instead of the deployment.
 */
export function maintenanceScheduleExpression(value: unknown): string {
  if (typeof value === 'string') {
    const expression = value.trim();
    if (RATE.test(expression) || CRON.test(expression)) return expression;
  }
  throw new Error(
    `maintenance schedule must be a recurring Scheduler expression such as 'rate(1 minute)', ` +
      `'rate(5 minutes)' or 'cron(0/10 * * * ? *)', got ${JSON.stringify(value)}`,
  );
}

/** Refuses at synth what lib/env.ts would refuse at the cold start (non-negative integers, the grace's floor). */
function tuningEnvironment(tuning: MaintenanceTuning): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const key of TUNING_KEYS) {
    const value = tuning[key];
    if (value === undefined) continue;
    const name = MAINTENANCE_ENV[key];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new Error(
        `maintenance tuning ${key} (${name}) must be a non-negative integer, got ${value}`,
      );
    }
    environment[name] = String(value);
  }
  // lib/env.ts refuses a grace below the floor at the cold start: refuse it here, at synth.
  maintenanceFromEnv(environment);
  return environment;
}

export interface SluiceMaintenanceProps {
  readonly tables: SluiceTables;
  readonly bucket: s3.IBucket;
  /**
   * The directory bucket of the express write tier, and the key of its SSE-KMS encryption.
   * @default none (Standard tier)
   */
  readonly expressBucket?: {
    readonly bucket: s3express.CfnDirectoryBucket;
    readonly encryptionKey?: kms.IKey;
  };
  /** Recurring Scheduler expression (maintenanceScheduleExpression). @default 'rate(1 minute)' */
  readonly schedule?: string;
  /** How long one run may loop ticks. @default 5 minutes */
  readonly timeout?: Duration;
  /** Passed to the function as environment variables, only those set. @default none */
  readonly tuning?: MaintenanceTuning;
  /** Removal policy of the function's log group. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Retention of the function's log group. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Customer managed key of the function's log group. @default CloudWatch Logs' own */
  readonly logEncryptionKey?: kms.IKey;
  /** Memory of the function, in MB. @default 1024 */
  readonly memorySize?: number;
}

export class SluiceMaintenance extends Construct {
  readonly function: SluiceFunction;
  readonly schedule: scheduler.Schedule;
  /** Undelivered and failed runs (Scheduler's target DLQ, the function's on-failure destination). */
  readonly deadLetterQueue: sqs.Queue;
  /** The role Scheduler assumes: invoke this function, send to its DLQ. */
  readonly scheduleRole: iam.Role;

  constructor(scope: Construct, id: string, props: SluiceMaintenanceProps) {
    super(scope, id);
    const expression = maintenanceScheduleExpression(
      props.schedule ?? DEFAULT_MAINTENANCE_SCHEDULE,
    );
    const timeout = props.timeout ?? DEFAULT_MAINTENANCE_TIMEOUT;
    // The handler starts no tick within lambdaSafetyMs of its timeout: a shorter timeout
    // would deploy a function that never does any work.
    if (timeout.toMilliseconds() <= MAINTENANCE_DEFAULTS.lambdaSafetyMs) {
      throw new Error(
        `maintenance timeout ${timeout.toHumanString()} leaves no time for a tick: it must be ` +
          `longer than ${MAINTENANCE_DEFAULTS.lambdaSafetyMs} ms (lib/config.ts lambdaSafetyMs)`,
      );
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.function = new SluiceFunction(this, 'Function', {
      entry: 'functions/maintenance/index.ts',
      description: 'Sluice maintenance (merge, GC, topic deletion), run on a schedule',
      timeout,
      retryAttempts: 0,
      onFailure: new lambdaDestinations.SqsDestination(this.deadLetterQueue),
      environment: tuningEnvironment(props.tuning ?? {}),
      ...(props.memorySize ? { memorySize: props.memorySize } : {}),
      ...(props.logRemovalPolicy ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.logEncryptionKey ? { logEncryptionKey: props.logEncryptionKey } : {}),
    })
      .bindTable(props.tables.meta, 'readWriteDelete', RESOURCE_ENV.metaTable)
      .bindTable(props.tables.log, 'readWriteDelete', RESOURCE_ENV.logTable)
      .bindBucket(props.bucket, RESOURCE_ENV.bucket, 'readWriteDelete');
    if (props.expressBucket) {
      // Read (copy out), list (GC) and delete: deletes need a ReadWrite session.
      this.function.bindDirectoryBucket(
        props.expressBucket.bucket,
        EXPRESS_BUCKET_ENV,
        'readWrite',
        props.expressBucket.encryptionKey,
      );
    }

    // Our own role (not the stack-wide one the target would create), so it serves this
    // schedule only, and only this account's Scheduler may assume it (confused deputy).
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      }),
      description: 'Lets EventBridge Scheduler invoke the Sluice maintenance function',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Runs the Sluice maintenance function',
      schedule: scheduler.ScheduleExpression.expression(expression),
      target: new targets.LambdaInvoke(this.function, {
        maxEventAge: Duration.minutes(1),
        retryAttempts: 3,
        deadLetterQueue: this.deadLetterQueue,
        role: this.scheduleRole,
      }),
    });

    NagSuppressions.addResourceSuppressions(
      this.scheduleRole,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "Scheduler's Lambda target grants lambda:InvokeFunction on the function and its " +
            'versions (<function ARN>:*), of this one function only',
          appliesTo: [{ regex: '/^Resource::<.+\\.Arn>:\\*$/g' }],
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(this.deadLetterQueue, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is the dead-letter queue (Scheduler target DLQ and the on-failure ' +
          'destination of the function); a DLQ of a DLQ would add nothing',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'This queue is the dead-letter queue itself; nothing consumes it, so there is ' +
          'nothing to redrive',
      },
    ]);
    NagSuppressions.addResourceSuppressions(this.function, [
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'Failed asynchronous runs go to the on-failure destination (the same queue), which ' +
          'records the error with the event; a DeadLetterConfig as well would only duplicate it',
      },
    ]);
  }
}
