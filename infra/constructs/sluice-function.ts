/**
 * Every Sluice Lambda function: one place for runtime defaults and for wiring resources.
 *
 * After the AWS Powertools for Lambda CDK example: `bindTable()` / `bindBucket()` set the
 * environment variable the code reads (lib/env.ts) AND grant exactly the access it needs (an
 * explicit action list per access level, no wildcards), in one call, so a function can never
 * know a name it may not use, or hold a grant it is not told about.
 *
 * Defaults: Node.js 24 (the newest runtime Lambda offers) on arm64 (cheaper per GB-s, our code has no x86-only natives yet),
 * 1024 MB (API_MEMORY_MB: Lambda CPU scales with memory; codecs and compression are CPU-bound), 30 s (the
 * HTTP API integration limit; long polls end well before it), a minified ESM bundle without source maps plus the native codecs (bundling.ts),
 * a log group with a retention instead of Lambda's never-expiring default, X-Ray tracing, and
 * a role of its own whose only log rights are CreateLogStream/PutLogEvents on that log group
 * (instead of AWSLambdaBasicExecutionRole, which may write to every log group).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as s3express from 'aws-cdk-lib/aws-s3express';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { lambdaBundlingOptions } from './bundling.ts';
import { API_MEMORY_MB } from './function-memory.ts';

/** Repository root: bundling reads the entry, tsconfig and lock file from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The lock file NodejsFunction asks for (it picks npm by its name). An installed copy of the
 * package (`sluice/cdk` in another app) has none, since npm never packs it: package.json then
 * stands in, which also means npm.
 */
const DEPS_LOCK_FILE = existsSync(path.join(PROJECT_ROOT, 'package-lock.json'))
  ? path.join(PROJECT_ROOT, 'package-lock.json')
  : path.join(PROJECT_ROOT, 'package.json');

/**
 * What a function may do with a table's items, as explicit IAM actions (never `dynamodb:*`,
 * never CDK's `grantReadWriteData`, which adds Scan, DescribeTable, streams and deletes).
 * Each level includes the one before it.
 *
 * There is no IAM action for TransactWriteItems: each Put, Update, Delete and ConditionCheck
 * inside a transaction is authorised as PutItem, UpdateItem, DeleteItem and
 * ConditionCheckItem on its own table, so a transaction can do no more than these allow.
 * BatchWriteItem counts as a delete: one call may remove up to 25 items.
 */
export const TABLE_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  /**
   * Reads plus the two writes a reader makes to repair the index it reads (the fetch
   * function on the log table, lib/log/partition-index.ts): PutItem fills an abandoned slot
   * with a hole (`attribute_not_exists(sk)`), UpdateItem advances or repairs the partition's
   * stable-prefix hint (forward-only conditions). No ConditionCheckItem: a reader writes no
   * transaction.
   */
  readRepair: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /** Writes that never remove an item: puts, updates, condition checks (in transactions). */
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:ConditionCheckItem',
  ],
  readWriteDelete: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
} as const satisfies Record<string, readonly `dynamodb:${string}`[]>;

/** Secondary indexes can only be queried (GetItem and BatchGetItem do not exist on them). */
const INDEX_ACTIONS = ['dynamodb:Query'] as const;

export type TableAccess = keyof typeof TABLE_ACTIONS;

/** Object actions per level; `s3:DeleteObject` also authorises DeleteObjects (the batch call). */
export const BUCKET_OBJECT_ACTIONS = {
  read: ['s3:GetObject'],
  readWrite: ['s3:GetObject', 's3:PutObject'],
  readWriteDelete: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
} as const satisfies Record<string, readonly `s3:${string}`[]>;

export type BucketAccess = keyof typeof BUCKET_OBJECT_ACTIONS;

/**
 * What a function may do in an S3 Express One Zone directory bucket. Directory buckets are
 * authorised per bucket, not per object action: `s3express:CreateSession` on the bucket ARN
 * returns session credentials that the SDK uses for every object call (CopyObject and
 * HeadBucket are signed with the role's own credentials but authorised by the same action).
 * The session mode is the only finer grain: a `ReadOnly` session may GetObject, HeadObject,
 * ListObjectsV2, GetObjectAttributes, ListParts and ListMultipartUploads; a `ReadWrite` session
 * may also put and delete. So `read` is CreateSession with `s3express:SessionMode = ReadOnly`,
 * and `readWrite` (put, and necessarily delete) is CreateSession without that condition.
 */
export const DIRECTORY_BUCKET_ACCESS = {
  read: { actions: ['s3express:CreateSession'], sessionMode: 'ReadOnly' },
  readWrite: { actions: ['s3express:CreateSession'], sessionMode: undefined },
} as const satisfies Record<
  string,
  { actions: readonly `s3express:${string}`[]; sessionMode: 'ReadOnly' | undefined }
>;

export type DirectoryBucketAccess = keyof typeof DIRECTORY_BUCKET_ACCESS;

/**
 * What a function needs on a customer managed key that encrypts a table or the bucket
 * (DynamoDB and S3 call KMS with the caller's rights). No `kms:*`, no key administration.
 */
export const KMS_ACTIONS = {
  read: ['kms:Decrypt', 'kms:DescribeKey'],
  readWrite: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
} as const satisfies Record<string, readonly `kms:${string}`[]>;

export interface SluiceFunctionProps
  extends Omit<NodejsFunctionProps, 'entry' | 'projectRoot' | 'depsLockFilePath'> {
  /** Entry file, relative to the repository root, e.g. `functions/api/index.ts`. */
  readonly entry: string;
  /** Retention of the function's log group. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Customer managed key for the log group (its key policy must let CloudWatch Logs use it).
   * @default CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
}

/** The only log rights a function gets: write streams of its own log group. */
export const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

export class SluiceFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    const {
      entry,
      logRetention,
      logRemovalPolicy,
      logEncryptionKey,
      logGroup,
      role,
      bundling,
      environment,
      ...rest
    } = props;
    // Our own log group (a sibling construct: `this` does not exist before super()).
    const functionLogGroup =
      logGroup ??
      new logs.LogGroup(scope, `${id}Logs`, {
        retention: logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: logRemovalPolicy ?? RemovalPolicy.RETAIN,
        ...(logEncryptionKey ? { encryptionKey: logEncryptionKey } : {}),
      });
    // Our own role, so Lambda does not attach AWSLambdaBasicExecutionRole (logs:* on every
    // log group): the function may write streams of its own log group, nothing else.
    const functionRole =
      role ??
      new iam.Role(scope, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of ${id}`,
      });
    iam.Grant.addToPrincipal({
      grantee: functionRole,
      actions: [...LOG_ACTIONS],
      // `arn:...:log-group:<name>:*`: the group's log streams, no other group.
      resourceArns: [functionLogGroup.logGroupRef.logGroupArn],
    });
    super(scope, id, {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: API_MEMORY_MB,
      timeout: Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: functionLogGroup,
      role: functionRole,
      ...rest,
      entry: path.join(PROJECT_ROOT, entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: DEPS_LOCK_FILE,
      environment: {
        // Stack traces point into lib/*.ts instead of the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
      // One description of the bundle (infra/constructs/bundling.ts), shared with the tests
      // that build and run it: minified ESM without source maps, plus snappy, lz4-napi and
      // @node-rs/crc32 with their binaries for the function's architecture in node_modules.
      bundling: {
        ...lambdaBundlingOptions(rest.architecture === lambda.Architecture.X86_64 ? 'x64' : 'arm64'),
        ...bundling,
      },
    });
    // The wildcards left in this role, each the narrowest IAM allows (cdk-nag AwsSolutions-IAM5).
    NagSuppressions.addResourceSuppressions(
      functionRole,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no ' +
            'resource-level permissions, so their resource must be *',
          appliesTo: ['Resource::*'],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'bindTable: dynamodb:Query on the indexes of one table (<table ARN>/index/*); the ' +
            'actions are an explicit list, the wildcard covers only that table\'s index names',
          appliesTo: [{ regex: '/^Resource::<.+\\.Arn>\\/index\\/\\*$/g' }],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'bindBucket: object actions (an explicit list) on the objects of one bucket ' +
            '(<bucket ARN>/*); object keys are chosen at run time',
          appliesTo: [{ regex: '/^Resource::<.+\\.Arn>\\/\\*$/g' }],
        },
      ],
      true,
    );
  }

  /**
   * Sets `envVar` to the table's name and grants `access` (TABLE_ACTIONS) on its items, and
   * Query on its indexes. A table with a customer managed key also needs that key: KMS_ACTIONS
   * (decrypt to read, encrypt and data keys to write) on that key only.
   */
  bindTable(table: dynamodb.ITable, access: TableAccess, envVar: string): this {
    if (table.encryptionKey) {
      table.encryptionKey.grant(this, ...KMS_ACTIONS[access === 'read' ? 'read' : 'readWrite']);
    }
    iam.Grant.addToPrincipal({
      grantee: this,
      actions: [...TABLE_ACTIONS[access]],
      resourceArns: [table.tableArn],
    });
    iam.Grant.addToPrincipal({
      grantee: this,
      actions: [...INDEX_ACTIONS],
      resourceArns: [`${table.tableArn}/index/*`],
    });
    this.addEnvironment(envVar, table.tableName);
    return this;
  }

  /**
   * Sets `envVar` to the bucket's name and grants `access` (BUCKET_OBJECT_ACTIONS) on its
   * objects.
   *
   * Object-level only: no ACL or bucket configuration; deletes only at `readWriteDelete`,
   * which only the maintenance function (merge and GC) gets. `s3:ListBucket` is included
   * because without it S3 answers a missing key with 403 AccessDenied instead of 404
   * NoSuchKey, which the storage layer would misread as an authorisation failure (and GC
   * lists the bucket). With SSE-S3 no KMS grant is needed; a bucket with SSE-KMS also gets
   * KMS_ACTIONS on its key (GetObject decrypts, PutObject asks for a data key).
   */
  bindBucket(bucket: s3.IBucket, envVar: string, access: BucketAccess = 'readWrite'): this {
    if (bucket.encryptionKey) {
      bucket.encryptionKey.grant(this, ...KMS_ACTIONS[access === 'read' ? 'read' : 'readWrite']);
    }
    iam.Grant.addToPrincipal({
      grantee: this,
      actions: [...BUCKET_OBJECT_ACTIONS[access]],
      resourceArns: [bucket.arnForObjects('*')],
    });
    iam.Grant.addToPrincipal({
      grantee: this,
      actions: ['s3:ListBucket'],
      resourceArns: [bucket.bucketArn],
    });
    this.addEnvironment(envVar, bucket.bucketName);
    return this;
  }

  /**
   * Sets `envVar` to a directory bucket's name and grants `s3express:CreateSession` on its ARN
   * (DIRECTORY_BUCKET_ACCESS: `read` adds the ReadOnly session-mode condition). With SSE-KMS
   * (`encryptionKey`, the key of the bucket's encryption configuration) also KMS_ACTIONS on
   * that key: uploading or downloading an SSE-KMS object in a directory bucket needs
   * kms:GenerateDataKey and kms:Decrypt on it, and a copy out of the bucket calls KMS each time.
   */
  bindDirectoryBucket(
    bucket: s3express.CfnDirectoryBucket,
    envVar: string,
    access: DirectoryBucketAccess,
    encryptionKey?: kms.IKey,
  ): this {
    if (encryptionKey) {
      encryptionKey.grant(this, ...KMS_ACTIONS[access === 'read' ? 'read' : 'readWrite']);
    }
    const { actions, sessionMode } = DIRECTORY_BUCKET_ACCESS[access];
    iam.Grant.addToPrincipal({
      grantee: this,
      actions: [...actions],
      resourceArns: [bucket.attrArn],
      ...(sessionMode
        ? { conditions: { StringEquals: { 's3express:SessionMode': sessionMode } } }
        : {}),
    });
    // Ref of AWS::S3Express::DirectoryBucket is the bucket name.
    this.addEnvironment(envVar, bucket.ref);
    return this;
  }
}
