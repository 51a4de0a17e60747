/**
 * Every Sluice Lambda function: one place for runtime defaults and for wiring resources.
 *
 * After the AWS Powertools for Lambda CDK example: `bindTable()` / `bindBucket()` set the
 * environment variable the code reads (lib/env.ts) AND grant exactly the access it needs (an
 * explicit action list per access level, no wildcards), in one call, so a function can never
 * know a name it may not use, or hold a grant it is not told about.
 *
 * Defaults: Node.js 22 on arm64 (cheaper per GB-s, our code has no x86-only natives yet),
 * 1024 MB (Lambda CPU scales with memory; codecs and compression are CPU-bound), 30 s (the
 * HTTP API integration limit; long polls end well before it), ESM bundle with source maps,
 * and a log group with a retention instead of Lambda's never-expiring default.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  NodejsFunction,
  OutputFormat,
  type NodejsFunctionProps,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** Repository root: bundling reads the entry, tsconfig and lock file from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * An ESM bundle may still contain CommonJS dependencies that `require()` Node built-ins;
 * esbuild keeps those calls behind a `__require` shim that throws "Dynamic require of ... is
 * not supported" unless a `require` exists in module scope. ESM has none, so create one.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __sluiceCreateRequire } from 'node:module';" +
  'const require = __sluiceCreateRequire(import.meta.url);';

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

export interface SluiceFunctionProps
  extends Omit<NodejsFunctionProps, 'entry' | 'projectRoot' | 'depsLockFilePath'> {
  /** Entry file, relative to the repository root, e.g. `functions/api/index.ts`. */
  readonly entry: string;
  /** Retention of the function's log group. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class SluiceFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    const { entry, logRetention, logRemovalPolicy, logGroup, bundling, environment, ...rest } =
      props;
    super(scope, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      timeout: Duration.seconds(30),
      // Our own log group (a sibling construct: `this` does not exist before super()).
      logGroup:
        logGroup ??
        new logs.LogGroup(scope, `${id}Logs`, {
          retention: logRetention ?? logs.RetentionDays.ONE_MONTH,
          removalPolicy: logRemovalPolicy ?? RemovalPolicy.RETAIN,
        }),
      ...rest,
      entry: path.join(PROJECT_ROOT, entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        // Stack traces point into lib/*.ts instead of the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        // Prefer the ESM build of dependencies that ship both.
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        target: 'node22',
        // Ship the SDK version we pin and test against instead of whatever the runtime
        // carries (our S3 client settings need a recent one); costs ~1 MB of bundle.
        bundleAwsSDK: true,
        ...bundling,
      },
    });
  }

  /**
   * Sets `envVar` to the table's name and grants `access` (TABLE_ACTIONS) on its items, and
   * Query on its indexes. The tables use DynamoDB's AWS-owned key, so no KMS grant; a table
   * with a customer managed key is refused rather than half-granted.
   */
  bindTable(table: dynamodb.ITable, access: TableAccess, envVar: string): this {
    if (table.encryptionKey) {
      throw new Error(
        `bindTable: ${table.node.path} uses a customer managed KMS key, which bindTable does not grant`,
      );
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
   * lists the bucket). The bucket uses SSE-S3, so no KMS grant is needed.
   */
  bindBucket(bucket: s3.IBucket, envVar: string, access: BucketAccess = 'readWrite'): this {
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
}
