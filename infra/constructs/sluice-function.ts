/**
 * Every Sluice Lambda function: one place for runtime defaults and for wiring resources.
 *
 * After the AWS Powertools for Lambda CDK example: `bindTable()` / `bindBucket()` set the
 * environment variable the code reads (lib/env.ts) AND grant exactly the access it needs, in
 * one call, so a function can never know a name it may not use, or hold a grant it is not told
 * about.
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

export type TableAccess = 'read' | 'readWrite';
export type BucketAccess = 'read' | 'readWrite';

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

  /** Sets `envVar` to the table's name and grants read or read/write on it and its indexes. */
  bindTable(table: dynamodb.ITable, access: TableAccess, envVar: string): this {
    if (access === 'read') table.grantReadData(this);
    else table.grantReadWriteData(this);
    this.addEnvironment(envVar, table.tableName);
    return this;
  }

  /**
   * Sets `envVar` to the bucket's name and grants object reads (and writes) on it.
   *
   * Object-level only: no delete (merge and GC live in the maintenance function), no ACL or
   * bucket configuration. `s3:ListBucket` is included because without it S3 answers a missing
   * key with 403 AccessDenied instead of 404 NoSuchKey, which the storage layer would misread
   * as an authorisation failure. The bucket uses SSE-S3, so no KMS grant is needed.
   */
  bindBucket(bucket: s3.IBucket, envVar: string, access: BucketAccess = 'readWrite'): this {
    const objectActions = access === 'read' ? ['s3:GetObject'] : ['s3:GetObject', 's3:PutObject'];
    iam.Grant.addToPrincipal({
      grantee: this,
      actions: objectActions,
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
