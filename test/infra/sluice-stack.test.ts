/**
 * Synth assertions on the Sluice stack. Bundling is skipped (`aws:cdk:bundling-stacks: []`)
 * except in the `bundles` tests, which load the real bundles of both functions; the context is cdk.json's, so these
 * assertions see the same feature flags as `cdk synth`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  LOG_TABLE,
  META_TABLE,
  RESOURCE_ENV,
  SEGMENT_BUCKET,
  TABLES,
  type KeyAttribute,
  type TableDefinition,
} from '../../lib/storage/tables.ts';
import { maintenanceScheduleExpression } from '../../infra/constructs/maintenance.ts';
import { PROJECT_ROOT } from '../../infra/constructs/sluice-function.ts';
import { contextFlag, SluiceStack, type SluiceStackProps } from '../../infra/sluice-stack.ts';

const TIMEOUT = 60_000;

type Json = Record<string, unknown>;

const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
  context: Json;
};

function synth(context: Json = {}, bundle = false, props: SluiceStackProps = {}) {
  const app = new App({
    context: {
      ...cdkJson.context,
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...context,
    },
  });
  const stack = new SluiceStack(app, 'Sluice', props);
  return { app, stack, template: Template.fromStack(stack) };
}

// IAM policy statements, as synthesized (with @aws-cdk/aws-iam:minimizePolicies, one
// statement may carry several resources or the merged actions of several grants).
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
type PolicyResource = { Properties: { PolicyDocument: { Statement: Statement[] }; Roles?: unknown } };

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** Every statement of the policies attached to the role with logical id `roleId`. */
function roleStatements(template: Template, roleId: string): Statement[] {
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
  ) as PolicyResource[];
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The actions `statements` allow on exactly `resource` (a CloudFormation value). */
function grantedOn(statements: readonly Statement[], resource: unknown): string[] {
  return statements
    .filter((s) => s.Effect === 'Allow')
    .filter((s) => resourcesOf(s).some((r) => JSON.stringify(r) === JSON.stringify(resource)))
    .flatMap(actionsOf);
}

const sorted = (values: readonly string[]) => [...new Set(values)].sort();

/** X-Ray's trace upload has no resource-level permissions: the one allowed `*` resource. */
const XRAY_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const isXray = (s: Statement) => actionsOf(s).every((a) => XRAY_ACTIONS.includes(a));
const withoutXray = (statements: readonly Statement[]) => statements.filter((s) => !isXray(s));

/** The literal action lists the roles must hold (not imported from infra, on purpose). */
const LOG_TABLE_API_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];
const TABLE_DELETE_ACTIONS = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'];
const TABLE_FULL_ACTIONS = sorted([...LOG_TABLE_API_ACTIONS, ...TABLE_DELETE_ACTIONS]);

function onlyResource(template: Template, type: string, props: Json = {}): [string, Json] {
  const found = Object.entries(template.findResources(type, props));
  expect(found, `exactly one ${type} matching ${JSON.stringify(props)}`).toHaveLength(1);
  return found[0] as [string, Json];
}

/** The segment bucket (the stack also has a bucket for its server access logs). */
function segmentBucket(template: Template, stack: SluiceStack): [string, Json] {
  const id = stack.getLogicalId(stack.bucket.node.defaultChild as CfnBucket);
  return [id, template.toJSON().Resources[id] as Json];
}

// CloudFormation shape of a shared table definition, built from lib/storage/tables.ts.
const keySchema = (pk: KeyAttribute, sk?: KeyAttribute) => [
  { AttributeName: pk.name, KeyType: 'HASH' },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : []),
];

function expectedTable(def: TableDefinition) {
  const attributes = new Map<string, string>();
  for (const key of [def.partitionKey, def.sortKey, ...def.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    if (key) attributes.set(key.name, key.type);
  }
  return {
    KeySchema: keySchema(def.partitionKey, def.sortKey),
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    GlobalSecondaryIndexes: def.globalIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: index.nonKeyAttributes
        ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.nonKeyAttributes] }
        : { ProjectionType: 'ALL' },
    })),
    TimeToLiveSpecification: def.timeToLiveAttribute
      ? { AttributeName: def.timeToLiveAttribute, Enabled: true }
      : undefined,
  };
}

const byName = <T extends { AttributeName: string }>(items: readonly T[]) =>
  [...items].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));

describe('SluiceStack', { timeout: TIMEOUT }, () => {
  let template: Template;
  let stack: SluiceStack;
  let tableIds: Record<string, string>;
  let functionId: string;
  let maintenanceId: string;
  let bucketId: string;
  let arns: {
    table: (id: 'meta' | 'log') => Json;
    indexes: (id: 'meta' | 'log') => Json;
    bucket: () => Json;
    objects: () => Json;
  };

  beforeAll(() => {
    ({ template, stack } = synth());
    tableIds = {
      meta: stack.getLogicalId(stack.tables.meta.node.defaultChild as CfnTable),
      log: stack.getLogicalId(stack.tables.log.node.defaultChild as CfnTable),
    };
    functionId = stack.getLogicalId(stack.apiFunction.node.defaultChild as CfnFunction);
    maintenanceId = stack.getLogicalId(
      stack.maintenance.function.node.defaultChild as CfnFunction,
    );
    [bucketId] = segmentBucket(template, stack);
    const table = (id: 'meta' | 'log') => ({ 'Fn::GetAtt': [tableIds[id], 'Arn'] });
    const bucket = () => ({ 'Fn::GetAtt': [bucketId, 'Arn'] });
    arns = {
      table,
      indexes: (id) => ({ 'Fn::Join': ['', [table(id), '/index/*']] }),
      bucket,
      objects: () => ({ 'Fn::Join': ['', [bucket(), '/*']] }),
    };
  }, TIMEOUT);

  const roleIdOf = (fn: SluiceStack['apiFunction']) =>
    stack.getLogicalId(fn.role?.node.defaultChild as CfnRole);

  describe('segment bucket', () => {
    it('blocks public access, enforces SSL and encrypts with S3-managed keys', () => {
      const [bucketId, bucket] = segmentBucket(template, stack);
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('keeps versioning off and aborts incomplete multipart uploads', () => {
      const [, bucket] = segmentBucket(template, stack);
      const props = bucket.Properties as Json;
      expect(props.VersioningConfiguration).toBeUndefined();
      expect(props.LifecycleConfiguration).toEqual({
        Rules: [
          {
            Id: 'abort-incomplete-multipart-uploads',
            Status: 'Enabled',
            AbortIncompleteMultipartUpload: {
              DaysAfterInitiation: SEGMENT_BUCKET.abortIncompleteMultipartUploadDays,
            },
          },
        ],
      });
      expect(SEGMENT_BUCKET.abortIncompleteMultipartUploadDays).toBe(1);
    });

    it('is retained when the stack is deleted', () => {
      const [, bucket] = segmentBucket(template, stack);
      expect(bucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    });
  });

  describe('tables', () => {
    it('creates exactly the shared tables', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', TABLES.length);
    });

    it.each(TABLES.map((def) => [def.id, def] as const))(
      '%s has the key schema, GSIs and TTL of its shared definition',
      (id, def) => {
        const table = template.toJSON().Resources[tableIds[id] as string] as Json;
        const props = table.Properties as Json & {
          AttributeDefinitions: { AttributeName: string }[];
        };
        const expected = expectedTable(def);
        expect(props.TableName).toBe(`Sluice-${id}`);
        expect(props.KeySchema).toEqual(expected.KeySchema);
        expect(byName(props.AttributeDefinitions)).toEqual(byName(expected.AttributeDefinitions));
        expect(props.GlobalSecondaryIndexes).toEqual(expected.GlobalSecondaryIndexes);
        expect(props.TimeToLiveSpecification).toEqual(expected.TimeToLiveSpecification);
        expect(props.BillingMode).toBe('PAY_PER_REQUEST');
        expect(props.PointInTimeRecoverySpecification).toEqual({
          PointInTimeRecoveryEnabled: true,
        });
        expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      },
    );

    // Literal spot checks: if someone edits the shared definitions AND the derivation
    // drifts the same way, the tests above would still pass; these would not.
    it('meta: pk/sk strings, byKind (kind, pk) projecting ALL, TTL on expiresAt', () => {
      expect(META_TABLE.id).toBe('meta');
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: 'Sluice-meta',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'kind', AttributeType: 'S' },
        ]),
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byKind',
            KeySchema: [
              { AttributeName: 'kind', KeyType: 'HASH' },
              { AttributeName: 'pk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
    });

    // The log table's secondary indexes are still evolving: spot-check only the
    // parts that other code already depends on; the derived test above covers the rest.
    it('log: numeric slot sort key, byOffset on (pk, numeric base) with INCLUDE, no TTL', () => {
      expect(LOG_TABLE.id).toBe('log');
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: 'Sluice-log',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' },
          { AttributeName: 'base', AttributeType: 'N' },
        ]),
        GlobalSecondaryIndexes: Match.arrayWith([
          Match.objectLike({
            IndexName: 'byOffset',
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'base', KeyType: 'RANGE' },
            ],
            Projection: Match.objectLike({ ProjectionType: 'INCLUDE' }),
          }),
        ]),
        TimeToLiveSpecification: Match.absent(),
      });
    });
  });

  describe('API function', () => {
    it('runs Node.js 24 on arm64 with 1024 MB, 30 s and source maps', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 1024,
        Timeout: 30,
        Handler: 'index.handler',
        Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
      const fn = template.toJSON().Resources[functionId];
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
    });

    it('is told the names of both tables and the bucket', () => {
      const [bucketId] = segmentBucket(template, stack);
      const fn = template.toJSON().Resources[functionId];
      expect(fn.Properties.Environment.Variables).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        [RESOURCE_ENV.metaTable]: { Ref: tableIds.meta },
        [RESOURCE_ENV.logTable]: { Ref: tableIds.log },
        [RESOURCE_ENV.bucket]: { Ref: bucketId },
      });
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining(['SLUICE_META_TABLE', 'SLUICE_LOG_TABLE', 'SLUICE_BUCKET']),
      );
    });

    it('logs to its own log group with a retention', () => {
      const fn = template.toJSON().Resources[functionId];
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      const logGroup = template.toJSON().Resources[logGroupId];
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties.RetentionInDays).toBe(30);
    });

    describe('IAM', () => {
      let statements: Statement[];

      beforeAll(() => {
        statements = roleStatements(template, roleIdOf(stack.apiFunction));
      });

      it('grants read/write/delete on the meta table, which holds topics, groups and offsets', () => {
        expect(sorted(grantedOn(statements, arns.table('meta')))).toEqual(TABLE_FULL_ACTIONS);
      });

      it('grants on the log table only what produce and fetch call, and no deletes', () => {
        // index-store, publish-transaction: Put, Update, Query, BatchGetItem, and
        // TransactWriteItems of Puts (authorised per item as PutItem).
        const onLog = grantedOn(statements, arns.table('log'));
        expect(sorted(onLog)).toEqual(LOG_TABLE_API_ACTIONS);
        for (const action of TABLE_DELETE_ACTIONS) expect(onLog).not.toContain(action);
      });

      it.each(['meta', 'log'] as const)('grants only Query on the %s table indexes', (id) => {
        expect(sorted(grantedOn(statements, arns.indexes(id)))).toEqual(['dynamodb:Query']);
      });

      it('grants object Get/Put on the bucket, and nothing broader', () => {
        expect(sorted(grantedOn(statements, arns.objects()))).toEqual([
          's3:GetObject',
          's3:PutObject',
        ]);
        expect(grantedOn(statements, arns.bucket())).toEqual(['s3:ListBucket']);
      });

      it('grants no wildcard actions and no deletes of objects', () => {
        const all = statements.flatMap(actionsOf);
        expect(all.filter((a) => a.includes('*'))).toEqual([]);
        expect(all).not.toContain('s3:DeleteObject');
        expect(withoutXray(statements).flatMap(resourcesOf)).not.toContain('*');
        expect(sorted(statements.filter(isXray).flatMap(actionsOf))).toEqual(XRAY_ACTIONS);
      });
    });
  });

  describe('maintenance function', () => {
    it('runs Node.js 24 on arm64 with 1024 MB and a 5 minute timeout', () => {
      const fn = template.toJSON().Resources[maintenanceId];
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 1024,
        Timeout: 300,
        Handler: 'index.handler',
      });
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    });

    it('is a separate function with its own role', () => {
      expect(maintenanceId).not.toBe(functionId);
      expect(roleIdOf(stack.maintenance.function)).not.toBe(roleIdOf(stack.apiFunction));
      expect(stack.maintenance.function.role).not.toBe(stack.apiFunction.role);
    });

    it('is told the names of both tables and the bucket, and no tuning unless set', () => {
      const fn = template.toJSON().Resources[maintenanceId];
      expect(fn.Properties.Environment.Variables).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        [RESOURCE_ENV.metaTable]: { Ref: tableIds.meta },
        [RESOURCE_ENV.logTable]: { Ref: tableIds.log },
        [RESOURCE_ENV.bucket]: { Ref: bucketId },
      });
    });

    /** The maintenance function's properties in a stack synthesized with `props`. */
    const maintenanceWith = (props: SluiceStackProps) => {
      const { stack: s, template: t } = synth({}, false, props);
      const id = s.getLogicalId(s.maintenance.function.node.defaultChild as CfnFunction);
      return t.toJSON().Resources[id].Properties as {
        Environment: { Variables: Record<string, unknown> };
        Timeout: number;
      };
    };

    it('passes the tuning props that are set, and only those', () => {
      const one = maintenanceWith({ maintenanceTuning: { segmentTargetBytes: 8_388_608 } });
      expect(one.Environment.Variables.SLUICE_SEGMENT_TARGET_BYTES).toBe('8388608');
      expect(one.Environment.Variables).not.toHaveProperty('SLUICE_MERGE_MIN_AGE_MS');
      expect(one.Environment.Variables).not.toHaveProperty('SLUICE_GC_GRACE_MS');

      const all = maintenanceWith({
        maintenanceTuning: { mergeMinAgeMs: 600_000, segmentTargetBytes: 1_000, gcGraceMs: 1_200_000 },
      });
      expect(all.Environment.Variables).toMatchObject({
        SLUICE_MERGE_MIN_AGE_MS: '600000',
        SLUICE_SEGMENT_TARGET_BYTES: '1000',
        SLUICE_GC_GRACE_MS: '1200000',
      });
      // The dev server's timer is no stack setting.
      expect(all.Environment.Variables).not.toHaveProperty('SLUICE_MAINTENANCE_INTERVAL_MS');
    });

    it('refuses tuning values that are not non-negative integers, as the function would', () => {
      expect(() => maintenanceWith({ maintenanceTuning: { gcGraceMs: -1 } })).toThrow(
        /gcGraceMs \(SLUICE_GC_GRACE_MS\) must be a non-negative integer/,
      );
      expect(() => maintenanceWith({ maintenanceTuning: { mergeMinAgeMs: 1.5 } })).toThrow(
        /non-negative integer/,
      );
      // A grace below the floor would let one runner collect what another is about to reference.
      expect(() => maintenanceWith({ maintenanceTuning: { gcGraceMs: 60_000 } })).toThrow(/SLUICE_GC_GRACE_MS='60000' must be at least 300000/);
      const zero = maintenanceWith({ maintenanceTuning: { mergeMinAgeMs: 0 } });
      expect(zero.Environment.Variables.SLUICE_MERGE_MIN_AGE_MS).toBe('0');
    });

    it('takes its timeout from the stack props, and refuses one too short for a tick', () => {
      expect(maintenanceWith({ maintenanceTimeout: Duration.minutes(10) }).Timeout).toBe(600);
      expect(() => maintenanceWith({ maintenanceTimeout: Duration.seconds(30) })).toThrow(
        /leaves no time for a tick/,
      );
    });

    it('is not retried by Lambda after a failed run (the next tick is the retry)', () => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: maintenanceId },
        MaximumRetryAttempts: 0,
      });
    });

    it('logs to its own log group with a retention', () => {
      const fn = template.toJSON().Resources[maintenanceId];
      const api = template.toJSON().Resources[functionId];
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(logGroupId).not.toBe(api.Properties.LoggingConfig.LogGroup.Ref);
      expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(30);
    });

    it('has its name in a stack output', () => {
      template.hasOutput('MaintenanceFunctionName', { Value: { Ref: maintenanceId } });
    });

    describe('IAM', () => {
      let statements: Statement[];

      beforeAll(() => {
        statements = roleStatements(template, roleIdOf(stack.maintenance.function));
      });

      it.each(['meta', 'log'] as const)(
        'may read, write and delete items of the %s table (DeleteItem, BatchWriteItem)',
        (id) => {
          const granted = grantedOn(statements, arns.table(id));
          expect(sorted(granted)).toEqual(TABLE_FULL_ACTIONS);
          expect(granted).toEqual(expect.arrayContaining(TABLE_DELETE_ACTIONS));
        },
      );

      it.each(['meta', 'log'] as const)('may only Query the %s table indexes', (id) => {
        expect(sorted(grantedOn(statements, arns.indexes(id)))).toEqual(['dynamodb:Query']);
      });

      it('may get, put and delete segment objects and list the bucket', () => {
        expect(sorted(grantedOn(statements, arns.objects()))).toEqual([
          's3:DeleteObject',
          's3:GetObject',
          's3:PutObject',
        ]);
        expect(grantedOn(statements, arns.bucket())).toEqual(['s3:ListBucket']);
      });

      it('grants no wildcard actions, on nothing but the tables, the bucket, its logs and its DLQ', () => {
        expect(statements.flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
        const fn = template.toJSON().Resources[maintenanceId];
        const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
        const [dlqId] = onlyResource(template, 'AWS::SQS::Queue');
        expect(sorted(grantedOn(statements, { 'Fn::GetAtt': [logGroupId, 'Arn'] }))).toEqual([
          'logs:CreateLogStream',
          'logs:PutLogEvents',
        ]);
        // Lambda's on-failure destination (CDK's grantSendMessages): send, and find the queue.
        expect(sorted(grantedOn(statements, { 'Fn::GetAtt': [dlqId, 'Arn'] }))).toEqual([
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:SendMessage',
        ]);
        const allowed = [
          { 'Fn::GetAtt': [logGroupId, 'Arn'] },
          { 'Fn::GetAtt': [dlqId, 'Arn'] },
          arns.table('meta'),
          arns.table('log'),
          arns.indexes('meta'),
          arns.indexes('log'),
          arns.bucket(),
          arns.objects(),
        ].map((r) => JSON.stringify(r));
        for (const resource of withoutXray(statements).flatMap(resourcesOf)) {
          expect(allowed).toContain(JSON.stringify(resource));
        }
      });
    });
  });

  describe('maintenance schedule', () => {
    const scheduleOf = (t: Template) =>
      (onlyResource(t, 'AWS::Scheduler::Schedule')[1] as { Properties: Json }).Properties;

    it('runs every minute by default, enabled, without a flexible window', () => {
      expect(scheduleOf(template)).toMatchObject({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
      });
    });

    it('targets the maintenance function, and gives up on a tick after a minute', () => {
      const target = scheduleOf(template).Target as Json;
      expect(target.Arn).toEqual({ 'Fn::GetAtt': [maintenanceId, 'Arn'] });
      expect(target.RetryPolicy).toEqual({
        MaximumEventAgeInSeconds: 60,
        MaximumRetryAttempts: 3,
      });
    });

    it('uses a role that Scheduler assumes and that may only invoke the maintenance function and fill its DLQ', () => {
      const target = scheduleOf(template).Target as { RoleArn: { 'Fn::GetAtt': [string, string] } };
      const roleId = target.RoleArn['Fn::GetAtt'][0];
      const role = template.toJSON().Resources[roleId];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
        }),
      ]);
      const statements = roleStatements(template, roleId);
      expect(sorted(statements.flatMap(actionsOf))).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
      const [dlqId] = onlyResource(template, 'AWS::SQS::Queue');
      expect(grantedOn(statements, { 'Fn::GetAtt': [dlqId, 'Arn'] })).toEqual(['sqs:SendMessage']);
      const fnArn = { 'Fn::GetAtt': [maintenanceId, 'Arn'] };
      expect(statements.flatMap(resourcesOf)).toEqual(
        expect.arrayContaining([fnArn]),
      );
      expect(JSON.stringify(statements)).not.toContain(functionId);
    });

    it('takes the expression from the stack props, before the context', () => {
      const { template: t } = synth({ maintenanceSchedule: 'rate(1 hour)' }, false, {
        maintenanceSchedule: 'rate(5 minutes)',
      });
      expect(scheduleOf(t).ScheduleExpression).toBe('rate(5 minutes)');
    });

    it('takes the expression from the maintenanceSchedule context value (-c)', () => {
      const { template: t } = synth({ maintenanceSchedule: 'cron(0/10 * * * ? *)' });
      expect(scheduleOf(t).ScheduleExpression).toBe('cron(0/10 * * * ? *)');
    });

    it('accepts recurring rate and cron expressions only', () => {
      const refused = /recurring Scheduler expression/;
      const good = ['rate(1 minute)', 'rate(5 minutes)', 'rate(2 hours)', 'rate(1 day)', 'cron(0 3 * * ? *)'];
      for (const ok of good) expect(maintenanceScheduleExpression(ok)).toBe(ok);
      const bad = [
        'rate(0 minutes)',
        'rate(5 seconds)',
        'every minute',
        'at(2030-01-01T00:00:00)',
        'cron(* * * *)',
        5,
        null,
      ];
      for (const b of bad) expect(() => maintenanceScheduleExpression(b), String(b)).toThrow(refused);
      expect(() => synth({ maintenanceSchedule: 'rate(5 mins)' })).toThrow(refused);
    });
  });

  describe('least privilege across the stack', () => {
    let byRole: Map<string, Statement[]>;

    beforeAll(() => {
      byRole = new Map(
        Object.keys(template.findResources('AWS::IAM::Role')).map((id) => [
          id,
          roleStatements(template, id),
        ]),
      );
    });

    it('has five roles: API, fetch, stream, maintenance, and the scheduler', () => {
      expect(byRole.size).toBe(5);
      expect(byRole.has(roleIdOf(stack.apiFunction))).toBe(true);
      expect(byRole.has(roleIdOf(stack.fetchFunction))).toBe(true);
      expect(byRole.has(roleIdOf(stack.streamFunction))).toBe(true);
      expect(byRole.has(roleIdOf(stack.maintenance.function))).toBe(true);
    });

    it('grants no wildcard actions (no dynamodb:*, s3:*) in any policy or role', () => {
      const inline = Object.values(template.findResources('AWS::IAM::Role')).flatMap(
        (r) =>
          ((r as { Properties: { Policies?: { PolicyDocument: { Statement: Statement[] } }[] } })
            .Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement),
      );
      const attached = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (p) => (p as PolicyResource).Properties.PolicyDocument.Statement,
      );
      const all = [...inline, ...attached];
      expect(all.length).toBeGreaterThan(0);
      expect(all.flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
      expect(withoutXray(all).flatMap(resourcesOf)).not.toContain('*');
    });

    it('lets only the maintenance role delete segment objects or log entries', () => {
      const maintenanceRole = roleIdOf(stack.maintenance.function);
      for (const [roleId, statements] of byRole) {
        const onObjects = grantedOn(statements, arns.objects());
        const onLog = grantedOn(statements, arns.table('log'));
        const deletes = sorted([
          ...onObjects.filter((a) => a === 's3:DeleteObject'),
          ...onLog.filter((a) => TABLE_DELETE_ACTIONS.includes(a)),
        ]);
        const expected = roleId === maintenanceRole ? ['s3:DeleteObject', ...TABLE_DELETE_ACTIONS] : [];
        expect(deletes, roleId).toEqual(sorted(expected));
      }
    });
  });

  describe('HTTP API', () => {
    it('is an HTTP API with an auto-deployed $default stage and a URL output', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
      });
      template.hasOutput('ApiUrl', {
        Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('HttpApi'), 'ApiEndpoint'] },
      });
    });

    it('sends every path to the function with IAM (SigV4) authorization', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'ANY /{proxy+}',
        AuthorizationType: 'AWS_IAM',
      });
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [functionId, 'Arn'] },
      });
    });

    it('leaves only GET /healthz and the console\'s static assets unauthenticated', () => {
      const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
        (r) => (r as { Properties: Json }).Properties,
      );
      const open = routes.filter((r) => r.AuthorizationType !== 'AWS_IAM');
      expect(open.map((r) => [r.RouteKey, r.AuthorizationType]).sort()).toEqual([
        ['GET /console', 'NONE'],
        ['GET /console/{proxy+}', 'NONE'],
        ['GET /healthz', 'NONE'],
      ]);
    });

    it('lets API Gateway invoke the function', () => {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      });
    });
  });

  describe('destroyOnRemoval context flag', () => {
    it('parses booleans and the strings -c passes', () => {
      expect(contextFlag(undefined)).toBe(false);
      expect(contextFlag(true)).toBe(true);
      expect(contextFlag('true')).toBe(true);
      expect(contextFlag('false')).toBe(false);
      expect(() => contextFlag('yes')).toThrow(/true or false/);
    });

    it('makes tables, bucket and logs deletable and empties the bucket first', () => {
      const dev = synth({ destroyOnRemoval: 'true' }).template;
      for (const type of ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup']) {
        for (const resource of Object.values(dev.findResources(type))) {
          expect(resource, type).toMatchObject({ DeletionPolicy: 'Delete' });
        }
      }
      // The segment bucket and its access-log bucket.
      dev.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    });
  });

  describe('bundles', () => {
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      [RESOURCE_ENV.metaTable]: 'Sluice-meta',
      [RESOURCE_ENV.logTable]: 'Sluice-log',
      [RESOURCE_ENV.bucket]: 'sluice-segments',
    };
    let bundles: Record<'api' | 'maintenance' | 'stream', string>;
    let bundleDirs: string[];
    let fetchBundle: string;

    beforeAll(() => {
      const { app, stack: bundled, template: t } = synth({}, true);
      const assembly = app.synth();
      // A function's asset directory is named after the hash in its Code.S3Key.
      const bundleOf = (fn: SluiceStack['apiFunction']) => {
        const id = bundled.getLogicalId(fn.node.defaultChild as CfnFunction);
        const key = t.toJSON().Resources[id].Properties.Code.S3Key as string;
        return path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs');
      };
      fetchBundle = bundleOf(bundled.fetchFunction);
      bundles = {
        api: bundleOf(bundled.apiFunction),
        maintenance: bundleOf(bundled.maintenance.function),
        stream: bundleOf(bundled.streamFunction),
      };
      bundleDirs = readdirSync(assembly.directory).filter((d) =>
        existsSync(path.join(assembly.directory, d, 'index.mjs')),
      );
    }, TIMEOUT);

    it('bundles exactly the three entries, separately (the fetch function runs the API bundle)', () => {
      expect(bundleDirs).toHaveLength(3);
      expect(fetchBundle).toBe(bundles.api);
      expect(bundles.api).not.toBe(bundles.maintenance);
      expect(bundles.stream).not.toBe(bundles.api);
      expect(bundles.stream).not.toBe(bundles.maintenance);
      for (const file of Object.values(bundles)) expect(existsSync(file), file).toBe(true);
    });

    it('bundles an ESM API handler that boots on Node and answers /healthz', async () => {
      const file = bundles.api;
      expect(readFileSync(file, 'utf8')).toMatch(/^import \{ createRequire/);
      const script = `
        const { handler } = await import(${JSON.stringify(file)});
        const res = await handler(JSON.parse(process.env.EVENT), {});
        process.stdout.write(String.fromCharCode(10) + JSON.stringify(res));`;
      const { apiGatewayV2Event } = await import('../support/apigw-event.ts');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--enable-source-maps', '--input-type=module', '-e', script],
        {
          env: {
            ...env,
            EVENT: JSON.stringify(apiGatewayV2Event({ method: 'GET', path: '/healthz' })),
          },
        },
      );
      // The last line: the function's own log and metric lines (EMF) come before it.
      const res = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { statusCode: number; body: string };
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    });

    it('bundles an ESM maintenance handler that loads on Node and exports a function', async () => {
      const file = bundles.maintenance;
      expect(readFileSync(file, 'utf8')).toMatch(/^import \{ createRequire/);
      // Loaded only, not invoked: a run would call AWS.
      const script = `
        const { handler } = await import(${JSON.stringify(file)});
        process.stdout.write(typeof handler);`;
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--enable-source-maps', '--input-type=module', '-e', script],
        { env },
      );
      expect(stdout).toBe('function');
    });
  });
});
