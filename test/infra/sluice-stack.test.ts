/**
 * Synth assertions on the Sluice stack. Bundling is skipped (`aws:cdk:bundling-stacks: []`)
 * except in the one test that boots the real bundle; the context is cdk.json's, so these
 * assertions see the same feature flags as `cdk synth`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
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
import { PROJECT_ROOT } from '../../infra/constructs/sluice-function.ts';
import { contextFlag, SluiceStack } from '../../infra/sluice-stack.ts';

const TIMEOUT = 60_000;

type Json = Record<string, unknown>;

const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
  context: Json;
};

function synth(context: Json = {}, bundle = false) {
  const app = new App({
    context: {
      ...cdkJson.context,
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...context,
    },
  });
  const stack = new SluiceStack(app, 'Sluice');
  return { app, stack, template: Template.fromStack(stack) };
}

function onlyResource(template: Template, type: string, props: Json = {}): [string, Json] {
  const found = Object.entries(template.findResources(type, props));
  expect(found, `exactly one ${type} matching ${JSON.stringify(props)}`).toHaveLength(1);
  return found[0] as [string, Json];
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

  beforeAll(() => {
    ({ template, stack } = synth());
    tableIds = {
      meta: stack.getLogicalId(stack.tables.meta.node.defaultChild as CfnTable),
      log: stack.getLogicalId(stack.tables.log.node.defaultChild as CfnTable),
    };
    functionId = stack.getLogicalId(stack.apiFunction.node.defaultChild as CfnFunction);
  }, TIMEOUT);

  describe('segment bucket', () => {
    it('blocks public access, enforces SSL and encrypts with S3-managed keys', () => {
      const [bucketId, bucket] = onlyResource(template, 'AWS::S3::Bucket');
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
      const [, bucket] = onlyResource(template, 'AWS::S3::Bucket');
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
      const [, bucket] = onlyResource(template, 'AWS::S3::Bucket');
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
    it('runs Node.js 22 on arm64 with 1024 MB, 30 s and source maps', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 1024,
        Timeout: 30,
        Handler: 'index.handler',
        Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
      const fn = template.toJSON().Resources[functionId];
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
    });

    it('is told the names of both tables and the bucket', () => {
      const [bucketId] = onlyResource(template, 'AWS::S3::Bucket');
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
      const [logGroupId, logGroup] = onlyResource(template, 'AWS::Logs::LogGroup');
      expect((logGroup.Properties as Json).RetentionInDays).toBe(30);
      const fn = template.toJSON().Resources[functionId];
      expect(fn.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
    });

    describe('IAM', () => {
      type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
      let statements: Statement[];

      beforeAll(() => {
        const roleId = stack.getLogicalId(stack.apiFunction.role?.node.defaultChild as CfnRole);
        const policies = Object.values(
          template.findResources('AWS::IAM::Policy', {
            Properties: { Roles: [{ Ref: roleId }] },
          }),
        );
        statements = policies.flatMap(
          (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
            .PolicyDocument.Statement,
        );
      });

      const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
      const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
      const grantedOn = (resource: unknown) =>
        statements
          .filter((s) => s.Effect === 'Allow')
          .filter((s) => resources(s).some((r) => JSON.stringify(r) === JSON.stringify(resource)))
          .flatMap(actions);

      it.each(['meta', 'log'])('grants read/write on the %s table and its indexes', (id) => {
        const arn = { 'Fn::GetAtt': [tableIds[id], 'Arn'] };
        const indexes = { 'Fn::Join': ['', [arn, '/index/*']] };
        const needed = [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
          'dynamodb:ConditionCheckItem',
          'dynamodb:BatchWriteItem',
        ];
        expect(grantedOn(arn)).toEqual(expect.arrayContaining(needed));
        expect(grantedOn(indexes)).toEqual(expect.arrayContaining(['dynamodb:Query']));
      });

      it('grants object Get/Put on the bucket, and nothing broader', () => {
        const [bucketId] = onlyResource(template, 'AWS::S3::Bucket');
        const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] };
        expect(grantedOn(objects).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
        expect(grantedOn({ 'Fn::GetAtt': [bucketId, 'Arn'] })).toEqual(['s3:ListBucket']);
      });

      it('grants no wildcard actions and no deletes of objects', () => {
        const all = statements.flatMap(actions);
        expect(all.filter((a) => a.endsWith('*'))).toEqual([]);
        expect(all).not.toContain('s3:DeleteObject');
        expect(statements.flatMap(resources)).not.toContain('*');
      });
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

    it('leaves only GET /healthz unauthenticated', () => {
      const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
        (r) => (r as { Properties: Json }).Properties,
      );
      const open = routes.filter((r) => r.AuthorizationType !== 'AWS_IAM');
      expect(open.map((r) => [r.RouteKey, r.AuthorizationType])).toEqual([
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
      dev.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    });
  });

  it('bundles an ESM handler that boots on Node and answers /healthz', async () => {
    const { app } = synth({}, true);
    const assembly = app.synth();
    // The API function is the only bundled asset of the stack.
    const assets = readdirSync(assembly.directory).filter((d) =>
      existsSync(path.join(assembly.directory, d, 'index.mjs')),
    );
    expect(assets).toHaveLength(1);
    const dir = path.join(assembly.directory, assets[0] as string);
    expect(readFileSync(path.join(dir, 'index.mjs'), 'utf8')).toMatch(/^import \{ createRequire/);
    const script = `
      const { handler } = await import(${JSON.stringify(path.join(dir, 'index.mjs'))});
      const res = await handler(JSON.parse(process.env.EVENT), {});
      process.stdout.write(JSON.stringify(res));`;
    const { apiGatewayV2Event } = await import('../support/apigw-event.ts');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--enable-source-maps', '--input-type=module', '-e', script],
      {
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'us-east-1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          [RESOURCE_ENV.metaTable]: 'Sluice-meta',
          [RESOURCE_ENV.logTable]: 'Sluice-log',
          [RESOURCE_ENV.bucket]: 'sluice-segments',
          EVENT: JSON.stringify(apiGatewayV2Event({ method: 'GET', path: '/healthz' })),
        },
      },
    );
    const res = JSON.parse(stdout) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });
});
