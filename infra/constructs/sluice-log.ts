/**
 * `SluiceLog`: one Sluice deployment as a reusable construct (`import { SluiceLog } from
 * 'sluice/cdk'`). It composes the parts in this directory and adds what a deployment needs
 * around them: authentication mode, encryption, a custom domain, monitoring, and grants for
 * callers.
 *
 *   segment bucket (+ access-log bucket)   tables (meta, log)      API function + HTTP API
 *   fetch function (the read routes)        maintenance function + schedule + DLQ
 *   stream function + Function URL (live=sse, RESPONSE_STREAM)
 *   admin-token secret (token/both)         alarms + dashboard
 *
 * Invariants:
 * - Only the maintenance function may delete segment objects and log entries (its role);
 *   the API function gets exactly the DynamoDB and S3 actions it calls (SluiceFunction). The
 *   one exception is the express tier's directory bucket: IAM grants sessions there, not
 *   actions, and the API function's ReadWrite session (it puts) cannot exclude deletes.
 * - The read routes (FETCH_ROUTES: records, offsets, multi-fetch) run in the fetch function:
 *   the same bundle and handler as the API function, with its own memory (`fetchMemorySize`,
 *   FETCH_MEMORY_MB: a long poll waits, and Lambda bills the wait at the memory) and a role
 *   that reads everything and writes only what a reader writes: on the log table, PutItem
 *   (hole fills of abandoned slots) and UpdateItem (the stable-prefix hint); nothing on the
 *   meta table, no PutObject or DeleteObject, a ReadOnly session on the directory bucket.
 * - The stream function (functions/stream: the app through hono's streamHandle) serves
 *   `live=sse` behind a Function URL in RESPONSE_STREAM mode (API Gateway's HTTP API buffers
 *   answers), with the fetch function's grants; its URL is AWS_IAM with `iam`/`both` (SigV4,
 *   `grantStream`), NONE with `token` (the app checks the bearer token). docs/STREAMING.md.
 * - `auth: 'iam' | 'both'`: every route but `GET /healthz` needs SigV4 and `execute-api:Invoke`
 *   on its ARN (`grantProduce`, `grantConsume`, `grantAdmin`). `auth: 'token' | 'both'`: the
 *   app checks bearer tokens; the bootstrap admin token is a generated secret that only the
 *   API, fetch and stream functions may read (`SLUICE_AUTH_SECRET_ARN`, `secretsmanager:GetSecretValue`:
 *   all run the app, and the app compares the bootstrap token itself).
 * - A customer managed key, when given, encrypts the bucket (SSE-KMS), both tables, the
 *   secret and the log groups; each function is granted only the key actions it needs.
 * - `writeTier: 'express'` adds an S3 Express One Zone directory bucket in one Availability
 *   Zone (express-bucket.ts) that produce writes to first; the API and maintenance functions get its name
 *   (SLUICE_EXPRESS_BUCKET) and a ReadWrite session on it (the fetch function a ReadOnly one),
 *   and maintenance moves its objects into the Standard bucket. `'standard'` (the default)
 *   synthesizes none of it.
 *
 * Environment-agnostic: no lookups, so it synthesizes without credentials.
 */
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as s3express from 'aws-cdk-lib/aws-s3express';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { RESOURCE_ENV, resourceNames } from '../../lib/storage/tables.ts';
import {
  SluiceHttpApi,
  type SluiceAuthMode,
  type SluiceCustomDomain,
} from './http-api.ts';
import {
  createExpressBucket,
  EXPRESS_BUCKET_ENV,
  writeTier as checkWriteTier,
  type SluiceWriteTier,
} from './express-bucket.ts';
import { SluiceMaintenance, type MaintenanceTuning } from './maintenance.ts';
import { SluiceMonitoring } from './monitoring.ts';
import { AccessLogBucket, SegmentBucket } from './segment-bucket.ts';
import { FETCH_MEMORY_MB } from './function-memory.ts';
import { SluiceFunction } from './sluice-function.ts';
import { SluiceTables } from './tables.ts';

export { SLUICE_AUTH_MODES, type SluiceAuthMode, type SluiceCustomDomain } from './http-api.ts';
export { EXPRESS_BUCKET_ENV, SLUICE_WRITE_TIERS, type SluiceWriteTier } from './express-bucket.ts';

/** The variable the API function reads the bootstrap admin token's secret ARN from. */
export const AUTH_SECRET_ENV = 'SLUICE_AUTH_SECRET_ARN';

/**
 * The stream function's timeout (Lambda's maximum, 15 minutes) and the longest one SSE stream
 * may run on it (SLUICE_SSE_MAX_MS): a minute less, so a stream always ends with its own
 * `event: end` (the client reconnects from its offset) before Lambda cuts the invocation off.
 */
export const STREAM_TIMEOUT = Duration.minutes(15);
export const STREAM_SSE_MAX_MS = 14 * 60_000;

export interface SluiceLogProps {
  /**
   * `iam`: SigV4 at API Gateway (callers need execute-api:Invoke). `token`: no gateway
   * authorizer; the app checks bearer tokens, bootstrapped from a generated secret.
   * `both`: both checks.
   * @default 'iam'
   */
  readonly auth?: SluiceAuthMode;
  /** Prefix of the table names (`<prefix>-meta`, `<prefix>-log`). @default the stack name */
  readonly tablePrefix?: string;
  /** RETAIN keeps tables, buckets, secret and log groups when the stack goes. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection. @default true when removalPolicy is RETAIN */
  readonly deletionProtection?: boolean;
  /** Customer managed key for bucket, tables, secret and log groups. @default AWS-managed encryption */
  readonly encryptionKey?: kms.IKey;
  /** Memory of the API and maintenance functions, in MB. @default 1024 (API_MEMORY_MB) */
  readonly memorySize?: number;
  /**
   * Memory of the fetch function (the read routes, FETCH_ROUTES), in MB. Its invocations are
   * mostly long polls, billed by memory x wait (function-memory.ts has the reasoning).
   * @default 512 (FETCH_MEMORY_MB)
   */
  readonly fetchMemorySize?: number;
  /**
   * Reserved concurrency of the API function (caps its cost and its share of the account);
   * the fetch function gets the same unless `fetchReservedConcurrency` says otherwise, so the
   * account reserves twice this. @default none
   */
  readonly reservedConcurrency?: number;
  /**
   * Reserved concurrency of the fetch function. Each tail consumer holds about one execution
   * (its long poll) all the time. @default `reservedConcurrency`
   */
  readonly fetchReservedConcurrency?: number;
  /**
   * Browser origins allowed to read streams from `streamUrl` (CORS on the Function URL: GET
   * and HEAD, the bearer-token and Last-Event-ID headers, the Durable Streams response headers
   * exposed). Useful with `auth: 'token'`, where a page can call the URL. @default none (no CORS)
   */
  readonly streamAllowedOrigins?: readonly string[];
  /** Retention of the function and access log groups. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Recurring Scheduler expression of maintenance. @default 'rate(1 minute)' */
  readonly maintenanceSchedule?: string;
  /** Timeout of one maintenance run. @default 5 minutes */
  readonly maintenanceTimeout?: Duration;
  /** Maintenance tunables, as environment variables. @default the code's defaults */
  readonly maintenanceTuning?: MaintenanceTuning;
  /** Steady-state requests per second of the API stage. @default 1000 */
  readonly throttleRateLimit?: number;
  /** Burst of the API stage. @default 2000 */
  readonly throttleBurstLimit?: number;
  /** A custom domain (name + ACM certificate in this region) for the API. @default none */
  readonly customDomain?: SluiceCustomDomain;
  /** S3 server access logs of the segment bucket, into a bucket of their own. @default true */
  readonly serverAccessLogs?: boolean;
  /** Where alarms send ALARM and OK notifications. @default no actions */
  readonly alarmTopic?: sns.ITopic;
  /** The dashboard's name. @default `<stackName>-<id>` */
  readonly dashboardName?: string;
  /**
   * Where produce writes segment objects. `standard`: the S3 Standard segment bucket.
   * `express`: first an S3 Express One Zone directory bucket in `expressAvailabilityZoneId`
   * (lower produce latency); maintenance copies the objects into the Standard bucket after a
   * few minutes and deletes them there.
   * @default 'standard'
   */
  readonly writeTier?: SluiceWriteTier;
  /**
   * Availability Zone ID (not name) of the directory bucket, e.g. `use1-az4`; required with
   * `writeTier: 'express'`, refused otherwise. It must be in the stack's region.
   * @default none
   */
  readonly expressAvailabilityZoneId?: string;
}

/** Topic and group names and patterns: what API paths may contain, plus `*`. */
const PATTERN = /^[A-Za-z0-9._*-]+$/;

function checkPattern(kind: string, pattern: string): string {
  if (!PATTERN.test(pattern)) {
    throw new Error(
      `${kind} pattern must be a name with optional * wildcards (letters, digits, . _ -), got ${JSON.stringify(pattern)}`,
    );
  }
  return pattern;
}

/** One API route as IAM sees it: method and path (the path may contain `*`). */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | '*';
  readonly path: string;
}

/**
 * Routes a producer of `topic` calls: cluster limits, the topic's metadata, produce, and
 * producer ids (not per topic: an id is used across topics). No topic create/alter/delete.
 */
export function produceRoutes(topic: string): ApiRoute[] {
  const t = checkPattern('topic', topic);
  return [
    { method: 'GET', path: '/v1/cluster' },
    { method: 'GET', path: `/v1/topics/${t}` },
    { method: 'POST', path: `/v1/topics/${t}/records` },
    { method: 'POST', path: '/v1/producers' },
  ];
}

/**
 * Routes a consumer of `topic` calls; with `group`, also that group's heartbeat and offsets.
 * `POST /v1/fetch` names its topics in the body, which IAM cannot see: it is granted as a
 * whole (per-topic limits there need tokens and ACLs).
 */
export function consumeRoutes(topic: string, group?: string): ApiRoute[] {
  const t = checkPattern('topic', topic);
  const routes: ApiRoute[] = [
    { method: 'GET', path: '/v1/cluster' },
    { method: 'GET', path: `/v1/topics/${t}` },
    { method: 'GET', path: `/v1/topics/${t}/partitions/*/records` },
    { method: 'GET', path: `/v1/topics/${t}/partitions/*/offsets` },
    { method: 'POST', path: '/v1/fetch' },
  ];
  if (group !== undefined) {
    const g = checkPattern('group', group);
    routes.push(
      { method: 'GET', path: `/v1/groups/${g}` },
      { method: 'POST', path: `/v1/groups/${g}/heartbeat` },
      { method: 'GET', path: `/v1/groups/${g}/offsets` },
      { method: 'POST', path: `/v1/groups/${g}/offsets` },
    );
  }
  return routes;
}

export class SluiceLog extends Construct {
  readonly auth: SluiceAuthMode;
  readonly bucket: SegmentBucket;
  readonly accessLogBucket?: AccessLogBucket;
  readonly writeTier: SluiceWriteTier;
  /** The S3 Express One Zone directory bucket produce writes to first (writeTier `express`). */
  readonly expressBucket?: s3express.CfnDirectoryBucket;
  readonly tables: SluiceTables;
  readonly apiFunction: SluiceFunction;
  /** Serves the read routes (FETCH_ROUTES) with the API's code, less memory and a read-only role. */
  readonly fetchFunction: SluiceFunction;
  readonly httpApi: SluiceHttpApi;
  /**
   * Serves `live=sse` streaming reads (docs/STREAMING.md "On AWS"): the app through hono's
   * streamHandle (functions/stream), behind a Function URL in RESPONSE_STREAM mode, with the
   * fetch function's read-only role grants.
   */
  readonly streamFunction: SluiceFunction;
  /** The stream function's URL: AWS_IAM auth with auth `iam`/`both`, NONE with `token`. */
  readonly streamFunctionUrl: lambda.FunctionUrl;
  /** The streaming endpoint's Function URL (`https://<id>.lambda-url.<region>.on.aws/`, with a trailing slash). */
  readonly streamUrl: string;
  readonly maintenance: SluiceMaintenance;
  readonly monitoring: SluiceMonitoring;
  /** The bootstrap admin token (auth `token` or `both`). */
  readonly authSecret?: secretsmanager.Secret;
  /** Base URL of the API, no trailing slash (the custom domain when given). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: SluiceLogProps = {}) {
    super(scope, id);
    // S3 server access logs are delivered under a bucket policy, not the legacy ACL, whatever
    // the app's feature flags (an app without this flag would get an ACL-based log bucket).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const stack = Stack.of(this);
    this.auth = props.auth ?? 'iam';
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const key = props.encryptionKey;
    if (key) allowCloudWatchLogs(key);
    const logSettings = {
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      logRemovalPolicy: removalPolicy,
      ...(key ? { logEncryptionKey: key } : {}),
    };

    if (props.serverAccessLogs ?? true) {
      this.accessLogBucket = new AccessLogBucket(this, 'AccessLogs', { removalPolicy });
    }
    this.bucket = new SegmentBucket(this, 'Segments', {
      removalPolicy,
      ...(key ? { encryptionKey: key } : {}),
      ...(this.accessLogBucket ? { serverAccessLogsBucket: this.accessLogBucket } : {}),
    });
    if (!this.accessLogBucket) {
      NagSuppressions.addResourceSuppressions(this.bucket, [
        {
          id: 'AwsSolutions-S1',
          reason:
            'Server access logs were turned off by the serverAccessLogs prop (e.g. CloudTrail ' +
            'data events cover the bucket instead)',
        },
      ]);
    }
    this.writeTier = checkWriteTier(props.writeTier ?? 'standard');
    if (this.writeTier === 'express') {
      if (props.expressAvailabilityZoneId === undefined) {
        throw new Error(
          "SluiceLog: writeTier 'express' needs expressAvailabilityZoneId, the Availability Zone " +
            "ID of the directory bucket (e.g. 'use1-az4'; aws ec2 describe-availability-zones " +
            '--query "AvailabilityZones[].[ZoneName,ZoneId]" lists them)',
        );
      }
      this.expressBucket = createExpressBucket(this, 'ExpressSegments', {
        availabilityZoneId: props.expressAvailabilityZoneId,
        removalPolicy,
        ...(key ? { encryptionKey: key } : {}),
      });
    } else if (props.expressAvailabilityZoneId !== undefined) {
      throw new Error(
        "SluiceLog: expressAvailabilityZoneId is only used with writeTier 'express' " +
          `(writeTier is '${this.writeTier}')`,
      );
    }
    const names = resourceNames(props.tablePrefix ?? stack.stackName);
    this.tables = new SluiceTables(this, 'Tables', {
      names: names.tables,
      removalPolicy,
      ...(props.deletionProtection !== undefined
        ? { deletionProtection: props.deletionProtection }
        : {}),
      ...(key ? { encryptionKey: key } : {}),
    });

    this.apiFunction = new SluiceFunction(this, 'ApiFunction', {
      entry: 'functions/api/index.ts',
      description: 'Sluice REST API (Hono app behind the HTTP API)',
      ...(props.memorySize ? { memorySize: props.memorySize } : {}),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      ...logSettings,
    })
      // The API deletes meta items (topics, groups, offsets) but never log entries or
      // segment objects: those go only through maintenance (its own role, below).
      .bindTable(this.tables.meta, 'readWriteDelete', RESOURCE_ENV.metaTable)
      .bindTable(this.tables.log, 'readWrite', RESOURCE_ENV.logTable)
      .bindBucket(this.bucket, RESOURCE_ENV.bucket, 'readWrite');
    if (this.expressBucket) {
      // Produce puts, fetch gets: a ReadWrite session (IAM has nothing between ReadOnly and
      // ReadWrite on a directory bucket, so unlike in Standard this cannot exclude deletes).
      this.apiFunction.bindDirectoryBucket(this.expressBucket, EXPRESS_BUCKET_ENV, 'readWrite', key);
    }

    // The read routes: the same entry, so the same bundle and handler (CDK stages one asset
    // for both), with less memory and a role that cannot produce, delete or administer.
    const fetchReserved = props.fetchReservedConcurrency ?? props.reservedConcurrency;
    this.fetchFunction = new SluiceFunction(this, 'FetchFunction', {
      entry: 'functions/api/index.ts',
      description: 'Sluice read routes (fetch, multi-fetch, offsets): the API app, read-only role',
      memorySize: props.fetchMemorySize ?? FETCH_MEMORY_MB,
      ...(fetchReserved !== undefined ? { reservedConcurrentExecutions: fetchReserved } : {}),
      ...logSettings,
    })
      // Topics (and, with tokens, token hashes) are only read.
      .bindTable(this.tables.meta, 'read', RESOURCE_ENV.metaTable)
      // A reader repairs the index it reads (lib/log/partition-index.ts): it fills a slot that
      // a crashed producer reserved but never published with a hole (PutItem, only if the slot
      // is still empty) and moves the stable-prefix hint forward or repairs a wrong one
      // (UpdateItem of the hint item). Without them a tail reader would stall behind an
      // abandoned slot until maintenance fills it. Nothing else: no ConditionCheckItem, no
      // deletes.
      .bindTable(this.tables.log, 'readRepair', RESOURCE_ENV.logTable)
      .bindBucket(this.bucket, RESOURCE_ENV.bucket, 'read');
    if (this.expressBucket) {
      // Fetch reads the recent tail from the directory bucket: a ReadOnly session.
      this.fetchFunction.bindDirectoryBucket(this.expressBucket, EXPRESS_BUCKET_ENV, 'read', key);
    }

    // Streaming reads: API Gateway's HTTP API buffers answers, a Function URL in
    // RESPONSE_STREAM mode does not. Its own entry (the app through streamHandle), the fetch
    // function's grants (reads plus the reader's index repairs, nothing more).
    this.streamFunction = new SluiceFunction(this, 'StreamFunction', {
      entry: 'functions/stream/index.ts',
      description: 'Sluice streaming reads (live=sse) behind a response-streaming Function URL: read-only role',
      memorySize: props.fetchMemorySize ?? FETCH_MEMORY_MB,
      timeout: STREAM_TIMEOUT,
      ...(fetchReserved !== undefined ? { reservedConcurrentExecutions: fetchReserved } : {}),
      environment: { SLUICE_SSE_MAX_MS: String(STREAM_SSE_MAX_MS) },
      ...logSettings,
    })
      .bindTable(this.tables.meta, 'read', RESOURCE_ENV.metaTable)
      .bindTable(this.tables.log, 'readRepair', RESOURCE_ENV.logTable)
      .bindBucket(this.bucket, RESOURCE_ENV.bucket, 'read');
    if (this.expressBucket) {
      this.streamFunction.bindDirectoryBucket(this.expressBucket, EXPRESS_BUCKET_ENV, 'read', key);
    }
    this.streamFunctionUrl = this.streamFunction.addFunctionUrl({
      // iam/both: SigV4 at the URL (lambda:InvokeFunctionUrl); token: the app checks bearer tokens.
      authType: this.auth === 'token' ? lambda.FunctionUrlAuthType.NONE : lambda.FunctionUrlAuthType.AWS_IAM,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      ...(props.streamAllowedOrigins?.length ? { cors: streamCors(props.streamAllowedOrigins) } : {}),
    });
    this.streamUrl = this.streamFunctionUrl.url;

    if (this.auth !== 'iam') {
      this.authSecret = new secretsmanager.Secret(this, 'AdminToken', {
        description: 'Sluice bootstrap admin token (SecretString); the API accepts it as a bearer token',
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy,
        ...(key ? { encryptionKey: key } : {}),
      });
      // GetSecretValue only (grantRead would add DescribeSecret), for the three functions that
      // run the app (all authenticate bearer tokens), not maintenance.
      for (const fn of [this.apiFunction, this.fetchFunction, this.streamFunction]) {
        iam.Grant.addToPrincipal({
          grantee: fn,
          actions: ['secretsmanager:GetSecretValue'],
          resourceArns: [this.authSecret.secretArn],
        });
        if (key) key.grant(fn, 'kms:Decrypt');
        fn.addEnvironment(AUTH_SECRET_ENV, this.authSecret.secretArn);
      }
      NagSuppressions.addResourceSuppressions(this.authSecret, [
        {
          id: 'AwsSolutions-SMG4',
          reason:
            'The bootstrap admin token is used to create scoped tokens and is rotated by hand ' +
            '(put-secret-value, then a new API function version); an automatic rotation ' +
            'function could not hand the new token to its holders',
        },
      ]);
    }

    for (const fn of [this.apiFunction, this.fetchFunction]) {
      NagSuppressions.addResourceSuppressions(fn, [
        {
          id: 'Serverless-LambdaDLQ',
          reason:
            'Invoked only synchronously by API Gateway: the caller gets the error, and there is ' +
            'no asynchronous event to keep',
        },
      ]);
    }
    NagSuppressions.addResourceSuppressions(this.streamFunction, [
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked only synchronously through its Function URL (a streamed HTTP answer): the ' +
          'caller gets the error, and there is no asynchronous event to keep',
      },
    ]);

    this.httpApi = new SluiceHttpApi(this, 'Api', {
      handler: this.apiFunction,
      fetchHandler: this.fetchFunction,
      auth: this.auth,
      ...(props.throttleRateLimit !== undefined ? { throttleRateLimit: props.throttleRateLimit } : {}),
      ...(props.throttleBurstLimit !== undefined ? { throttleBurstLimit: props.throttleBurstLimit } : {}),
      ...(props.logRetention ? { accessLogRetention: props.logRetention } : {}),
      logRemovalPolicy: removalPolicy,
      ...(key ? { logEncryptionKey: key } : {}),
      ...(props.customDomain ? { customDomain: props.customDomain } : {}),
    });
    this.url = this.httpApi.url;

    this.maintenance = new SluiceMaintenance(this, 'Maintenance', {
      tables: this.tables,
      bucket: this.bucket,
      ...(this.expressBucket
        ? { expressBucket: { bucket: this.expressBucket, ...(key ? { encryptionKey: key } : {}) } }
        : {}),
      ...(props.maintenanceSchedule ? { schedule: props.maintenanceSchedule } : {}),
      ...(props.maintenanceTimeout ? { timeout: props.maintenanceTimeout } : {}),
      ...(props.maintenanceTuning ? { tuning: props.maintenanceTuning } : {}),
      ...(props.memorySize ? { memorySize: props.memorySize } : {}),
      ...logSettings,
    });

    this.monitoring = new SluiceMonitoring(this, 'Monitoring', {
      api: this.httpApi.api,
      apiFunction: this.apiFunction,
      fetchFunction: this.fetchFunction,
      streamFunction: this.streamFunction,
      maintenanceFunction: this.maintenance.function,
      dashboardName: props.dashboardName ?? `${stack.stackName}-${id}`,
      ...(props.alarmTopic ? { alarmAction: new cwActions.SnsAction(props.alarmTopic) } : {}),
    });
  }

  get metaTable(): dynamodb.Table {
    return this.tables.meta;
  }

  get logTable(): dynamodb.Table {
    return this.tables.log;
  }

  /**
   * Lets `principal` produce to topics matching `topicPattern` (`*` wildcards): SigV4 calls
   * of the routes in produceRoutes(), nothing that creates, alters or deletes topics.
   */
  grantProduce(topicPattern: string, principal: iam.IGrantable): iam.Grant {
    return this.grantRoutes(principal, produceRoutes(topicPattern));
  }

  /**
   * Lets `principal` consume topics matching `topicPattern`; with `groupPattern`, as a member
   * of matching consumer groups (heartbeat, committed offsets).
   */
  grantConsume(topicPattern: string, principal: iam.IGrantable, groupPattern?: string): iam.Grant {
    return this.grantRoutes(principal, consumeRoutes(topicPattern, groupPattern));
  }

  /**
   * Lets `principal` call the streaming endpoint (StreamUrl) with SigV4: `lambda:InvokeFunctionUrl`
   * on the stream function. A Function URL authorises the function as a whole, not per path:
   * this allows streaming reads of every topic (per-topic limits there need tokens and ACLs,
   * `both`). Needs auth `iam` or `both` (with `token` the URL has no IAM auth).
   */
  grantStream(principal: iam.IGrantable): iam.Grant {
    if (this.auth === 'token') {
      throw new Error('SluiceLog: IAM grants need auth "iam" or "both"; with auth "token" use tokens and ACLs');
    }
    return this.streamFunctionUrl.grantInvokeUrl(principal);
  }

  /** Every route, every method (topic and group administration included). */
  grantAdmin(principal: iam.IGrantable): iam.Grant {
    return this.grantRoutes(principal, [{ method: '*', path: '/*' }]);
  }

  /** execute-api:Invoke on exactly these routes of this API's `$default` stage. */
  grantRoutes(principal: iam.IGrantable, routes: readonly ApiRoute[]): iam.Grant {
    if (this.auth === 'token') {
      throw new Error(
        'SluiceLog: IAM grants need auth "iam" or "both"; with auth "token" use tokens and ACLs',
      );
    }
    return iam.Grant.addToPrincipal({
      grantee: principal,
      actions: ['execute-api:Invoke'],
      resourceArns: [...new Set(routes.map((r) => this.httpApi.arnForRoute(r.method, r.path)))],
    });
  }
}

/**
 * CloudWatch Logs encrypts a log group with a customer managed key only if the key policy
 * lets the regional Logs service use it for this account's log groups. Added to a key of
 * this app; an imported key needs the same statement in its own policy (this is a no-op).
 */
function allowCloudWatchLogs(key: kms.IKey): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogs',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: [
        'kms:Encrypt',
        'kms:Decrypt',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        'kms:DescribeKey',
      ],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
        },
      },
    }),
  );
}

/** CORS of the stream URL: reads only (the stream function's role cannot write). */
function streamCors(origins: readonly string[]): lambda.FunctionUrlCorsOptions {
  return {
    allowedOrigins: [...origins],
    allowedMethods: [lambda.HttpMethod.GET, lambda.HttpMethod.HEAD],
    allowedHeaders: ['authorization', 'last-event-id', 'x-sluice-token', 'if-none-match', 'content-type'],
    exposedHeaders: [
      'stream-next-offset', 'stream-cursor', 'stream-up-to-date', 'stream-closed', 'stream-sse-data-encoding', 'etag', 'content-type',
    ],
    maxAge: Duration.days(1),
  };
}
