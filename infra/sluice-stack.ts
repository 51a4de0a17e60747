/**
 * The Sluice stack: composition only. Each piece lives in `constructs/`; table
 * and bucket shapes come from lib/storage/tables.ts, shared with the local bootstrap.
 *
 * Environment-agnostic (no account/region lookups), so `cdk synth` runs without credentials.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { RESOURCE_ENV, resourceNames } from '../lib/storage/tables.ts';
import { SluiceHttpApi } from './constructs/http-api.ts';
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
      .bindTable(this.tables.meta, 'readWrite', RESOURCE_ENV.metaTable)
      .bindTable(this.tables.log, 'readWrite', RESOURCE_ENV.logTable)
      .bindBucket(this.bucket, RESOURCE_ENV.bucket, 'readWrite');

    this.httpApi = new SluiceHttpApi(this, 'Api', { handler: this.apiFunction });

    new CfnOutput(this, 'SegmentBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'MetaTableName', { value: this.tables.meta.tableName });
    new CfnOutput(this, 'LogTableName', { value: this.tables.log.tableName });
    new CfnOutput(this, 'ApiFunctionName', { value: this.apiFunction.functionName });
  }
}
