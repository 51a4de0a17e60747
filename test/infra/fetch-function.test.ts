/**
 * The fetch function: the read routes (FETCH_ROUTES) go to a second function with the API's
 * code, its own memory and a read-only role (plus the two index repairs a reader writes); every
 * other route stays on the API function. Authorizers, environment, reserved concurrency, log
 * group, alarms and the express tier's ReadOnly session are checked per variant.
 * What a fetch really calls on DynamoDB and S3 is checked against this role in
 * fetch-writes.test.ts.
 */
import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_MEMORY_MB, FETCH_MEMORY_MB } from '../../infra/constructs/function-memory.ts';
import { FETCH_ROUTES } from '../../infra/constructs/http-api.ts';
import { ALARMS } from '../../infra/constructs/monitoring.ts';
import { TABLE_ACTIONS } from '../../infra/constructs/sluice-function.ts';
import type { SluiceLog } from '../../infra/constructs/sluice-log.ts';
import {
  actionsOf,
  grantedOn,
  logicalId,
  roleIdOf,
  roleStatements,
  sorted,
  synthLog,
  type Json,
} from './synth.ts';

const TIMEOUT = 60_000;

type Resource = { Type: string; Properties: Json };

/** Route key → logical id of the function its integration invokes. */
function routeTable(template: Template): Record<string, string> {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const table: Record<string, string> = {};
  for (const route of Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')) {
    const target = route.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
    const integration = resources[target['Fn::Join'][1][1].Ref]!;
    const uri = integration.Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] };
    table[route.Properties.RouteKey as string] = uri['Fn::GetAtt'][0];
  }
  return table;
}

const READ_ROUTE_KEYS = [
  'GET /v1/topics/{topic}/partitions/{partition}/records',
  'GET /v1/topics/{topic}/partitions/{partition}/offsets',
  'POST /v1/fetch',
];

describe('fetch function', { timeout: TIMEOUT }, () => {
  describe('defaults (auth iam, standard tier)', () => {
    let template: Template;
    let stack: Stack;
    let log: SluiceLog;
    let fetchId: string;
    let apiId: string;
    let props: (fnId: string) => Json;

    beforeAll(() => {
      ({ template, stack, log } = synthLog());
      fetchId = logicalId(stack, log.fetchFunction);
      apiId = logicalId(stack, log.apiFunction);
      props = (fnId) => (template.toJSON().Resources as Record<string, Resource>)[fnId]!.Properties;
    }, TIMEOUT);

    it('serves records, offsets and multi-fetch; every other route stays on the API function', () => {
      expect(FETCH_ROUTES.map((r) => `${r.method} ${r.path}`)).toEqual(READ_ROUTE_KEYS);
      expect(routeTable(template)).toEqual({
        'ANY /{proxy+}': apiId,
        'GET /healthz': apiId,
        'GET /console': apiId,
        'GET /console/{proxy+}': apiId,
        ...Object.fromEntries(READ_ROUTE_KEYS.map((k) => [k, fetchId])),
      });
    });

    it('keeps the IAM authorizer on the read routes, as on /{proxy+}', () => {
      for (const route of log.httpApi.fetchRoutes) {
        const cfn = (template.toJSON().Resources as Record<string, Resource>)[logicalId(stack, route)]!;
        expect(cfn.Properties.AuthorizationType).toBe('AWS_IAM');
      }
      expect(log.httpApi.fetchRoutes).toHaveLength(3);
    });

    it('runs the same bundle and handler as the API function, with 512 MB', () => {
      const api = props(apiId);
      const fetch = props(fetchId);
      expect(fetch.Code).toEqual(api.Code);
      for (const key of ['Handler', 'Runtime', 'Architectures', 'Timeout', 'TracingConfig', 'Environment']) {
        expect(fetch[key], key).toEqual(api[key]);
      }
      expect(fetch.MemorySize).toBe(FETCH_MEMORY_MB);
      expect(FETCH_MEMORY_MB).toBe(512);
      expect(api.MemorySize).toBe(API_MEMORY_MB);
      expect(fetch.ReservedConcurrentExecutions).toBeUndefined();
    });

    it('has a log group of its own with the same retention, and its own role', () => {
      const groupId = (props(fetchId).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const apiGroupId = (props(apiId).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(groupId).not.toBe(apiGroupId);
      const groups = template.toJSON().Resources as Record<string, Resource & { DeletionPolicy?: string }>;
      expect(groups[groupId]!.Properties.RetentionInDays).toBe(groups[apiGroupId]!.Properties.RetentionInDays);
      expect(groups[groupId]!.DeletionPolicy).toBe(groups[apiGroupId]!.DeletionPolicy);
      expect(roleIdOf(stack, log.fetchFunction)).not.toBe(roleIdOf(stack, log.apiFunction));
      const statements = roleStatements(template, roleIdOf(stack, log.fetchFunction));
      expect(sorted(grantedOn(statements, { 'Fn::GetAtt': [groupId, 'Arn'] }))).toEqual([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]);
    });

    it('reads the meta table, reads and repairs the log index, reads the bucket: nothing else', () => {
      const statements = roleStatements(template, roleIdOf(stack, log.fetchFunction));
      const arn = (c: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(stack, c), 'Arn'] });
      expect(sorted(grantedOn(statements, arn(log.tables.meta)))).toEqual(sorted(TABLE_ACTIONS.read));
      // Hole fills (PutItem) and the stable-prefix hint (UpdateItem): see fetch-writes.test.ts.
      expect(sorted(grantedOn(statements, arn(log.tables.log)))).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      const objects = { 'Fn::Join': ['', [arn(log.bucket), '/*']] };
      expect(grantedOn(statements, objects)).toEqual(['s3:GetObject']);
      expect(grantedOn(statements, arn(log.bucket))).toEqual(['s3:ListBucket']);
      const actions = statements.flatMap(actionsOf);
      for (const never of [
        's3:PutObject',
        's3:DeleteObject',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:Scan',
        'secretsmanager:GetSecretValue',
        's3express:CreateSession',
      ]) {
        expect(actions, never).not.toContain(never);
      }
      expect(sorted(actions.filter((a) => !a.startsWith('xray:')))).toEqual(
        sorted([
          ...TABLE_ACTIONS.readRepair,
          's3:GetObject',
          's3:ListBucket',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
        ]),
      );
    });

    it('alarms on its throttles and draws its errors, duration and throttles', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
      const throttles = alarms.find((a) => a.Properties.AlarmName === `App-Log-${ALARMS.fetchThrottles}`);
      expect(throttles?.Properties).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fetchId } }],
        Threshold: 1,
      });
      const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
      const body = JSON.stringify(dashboard!.Properties.DashboardBody);
      // A line of the fetch function per metric: [..."AWS/Lambda","<metric>","FunctionName",<its ref>.
      for (const metric of ['Errors', 'Duration', 'Throttles']) {
        expect(body, metric).toContain(`[\\"AWS/Lambda\\",\\"${metric}\\",\\"FunctionName\\",\\"",{"Ref":"${fetchId}"}`);
      }
    });

    it('is exposed on the stack with its name as an output', async () => {
      const { SluiceStack } = await import('../../infra/sluice-stack.ts');
      const { testApp } = await import('./synth.ts');
      const { Template: T } = await import('aws-cdk-lib/assertions');
      const s = new SluiceStack(testApp(), 'Sluice');
      T.fromStack(s).hasOutput('FetchFunctionName', {
        Value: { Ref: s.getLogicalId(s.fetchFunction.node.defaultChild as never) },
      });
    });
  });

  describe.each(['token', 'both'] as const)('auth %s', (auth) => {
    let template: Template;
    let stack: Stack;
    let log: SluiceLog;

    beforeAll(() => {
      ({ template, stack, log } = synthLog({ auth }));
    }, TIMEOUT);

    it('gives the read routes the same authorizer as /{proxy+}', () => {
      const resources = template.toJSON().Resources as Record<string, Resource>;
      const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
      const proxy = routes.find((r) => r.Properties.RouteKey === 'ANY /{proxy+}')!;
      expect(proxy.Properties.AuthorizationType).toBe(auth === 'token' ? 'NONE' : 'AWS_IAM');
      for (const key of READ_ROUTE_KEYS) {
        const route = routes.find((r) => r.Properties.RouteKey === key)!;
        expect(route.Properties.AuthorizationType, key).toBe(proxy.Properties.AuthorizationType);
      }
    });

    it('lets it read the bootstrap token (the app checks bearer tokens in both functions)', () => {
      const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
      const fn = (template.toJSON().Resources as Record<string, Resource>)[logicalId(stack, log.fetchFunction)]!;
      const api = (template.toJSON().Resources as Record<string, Resource>)[logicalId(stack, log.apiFunction)]!;
      expect(fn.Properties.Environment).toEqual(api.Properties.Environment);
      expect((fn.Properties.Environment as { Variables: Json }).Variables.SLUICE_AUTH_SECRET_ARN).toEqual({ Ref: secretId });
      const statements = roleStatements(template, roleIdOf(stack, log.fetchFunction));
      expect(grantedOn(statements, { Ref: secretId })).toEqual(['secretsmanager:GetSecretValue']);
    });
  });

  it('takes fetchMemorySize and fetchReservedConcurrency; memorySize and reservedConcurrency by default', () => {
    const fnProps = (log: SluiceLog, stack: Stack, template: Template) =>
      (template.toJSON().Resources as Record<string, Resource>)[logicalId(stack, log.fetchFunction)]!.Properties;
    const shared = synthLog({ memorySize: 2048, reservedConcurrency: 20 });
    expect(fnProps(shared.log, shared.stack, shared.template)).toMatchObject({
      MemorySize: 512,
      ReservedConcurrentExecutions: 20,
    });
    const own = synthLog({ memorySize: 2048, fetchMemorySize: 768, reservedConcurrency: 20, fetchReservedConcurrency: 50 });
    expect(fnProps(own.log, own.stack, own.template)).toMatchObject({
      MemorySize: 768,
      ReservedConcurrentExecutions: 50,
    });
    const api = (own.template.toJSON().Resources as Record<string, Resource>)[logicalId(own.stack, own.log.apiFunction)]!;
    expect(api.Properties).toMatchObject({ MemorySize: 2048, ReservedConcurrentExecutions: 20 });
  });

  describe('express write tier', () => {
    it('gets a ReadOnly session on the directory bucket and its name', () => {
      const { template, stack, log } = synthLog({ writeTier: 'express', expressAvailabilityZoneId: 'use1-az4' });
      const bucketId = stack.getLogicalId(log.expressBucket!);
      const statements = roleStatements(template, roleIdOf(stack, log.fetchFunction));
      const express = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3express:')));
      expect(express).toEqual([
        {
          Effect: 'Allow',
          Action: 's3express:CreateSession',
          Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
          Condition: { StringEquals: { 's3express:SessionMode': 'ReadOnly' } },
        },
      ]);
      const fn = (template.toJSON().Resources as Record<string, Resource>)[logicalId(stack, log.fetchFunction)]!;
      expect((fn.Properties.Environment as { Variables: Json }).Variables.SLUICE_EXPRESS_BUCKET).toEqual({ Ref: bucketId });
      const actions = statements.flatMap(actionsOf);
      expect(actions).not.toContain('s3:PutObject');
      expect(actions).not.toContain('s3:DeleteObject');
    });

    it('with a key: decrypts what it reads, encrypts only what it writes (the log index)', () => {
      const { template, stack, log } = synthLog((s) => ({
        auth: 'both',
        writeTier: 'express',
        expressAvailabilityZoneId: 'use1-az4',
        encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }),
      }));
      const keyArn = { 'Fn::GetAtt': [Object.keys(template.findResources('AWS::KMS::Key'))[0], 'Arn'] };
      const statements = roleStatements(template, roleIdOf(stack, log.fetchFunction));
      // Encrypt and GenerateDataKey come from the log table's hole fills and hint updates.
      expect(sorted(grantedOn(statements, keyArn))).toEqual([
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
      ]);
    });
  });
});
