/**
 * The SluiceLog construct's props and what they synthesize: auth modes, the API stage
 * (throttling, access logs), encryption with a customer managed key, a custom domain,
 * deletion protection, the maintenance DLQ, own log policies, alarms and the dashboard.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LOG_FIELDS } from '../../infra/constructs/http-api.ts';
import { ALARMS } from '../../infra/constructs/monitoring.ts';
import type { SluiceLog } from '../../infra/constructs/sluice-log.ts';
import { SluiceStack } from '../../infra/sluice-stack.ts';
import {
  actionsOf,
  grantedOn,
  logicalId,
  roleIdOf,
  roleStatements,
  sorted,
  synthLog,
  testApp,
  type Json,
} from './synth.ts';
import { Template as T } from 'aws-cdk-lib/assertions';
import type { Stack } from 'aws-cdk-lib';

const TIMEOUT = 60_000;

const resources = (t: Template, type: string) =>
  Object.entries(t.findResources(type)) as [string, { Properties: Json } & Json][];

describe('SluiceLog', { timeout: TIMEOUT }, () => {
  describe('defaults (auth iam)', () => {
    let template: Template;
    let stack: Stack;
    let log: SluiceLog;

    beforeAll(() => {
      ({ template, stack, log } = synthLog());
    }, TIMEOUT);

    it('puts the IAM authorizer on every route but GET /healthz and the console, and creates no secret', () => {
      const routes = resources(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => [
        r.Properties.RouteKey,
        r.Properties.AuthorizationType,
      ]);
      expect(routes.sort()).toEqual([
        ['ANY /{proxy+}', 'AWS_IAM'],
        // The web console's static page and assets (lib/api/console.ts); its /v1 calls carry a token.
        ['GET /console', 'NONE'],
        ['GET /console/{proxy+}', 'NONE'],
        ['GET /healthz', 'NONE'],
        // The read routes, served by the fetch function (fetch-function.test.ts).
        ['GET /v1/topics/{topic}/partitions/{partition}/offsets', 'AWS_IAM'],
        ['GET /v1/topics/{topic}/partitions/{partition}/records', 'AWS_IAM'],
        ['POST /v1/fetch', 'AWS_IAM'],
      ]);
      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      const fn = template.toJSON().Resources[logicalId(stack, log.apiFunction)];
      expect(fn.Properties.Environment.Variables).not.toHaveProperty('SLUICE_AUTH_SECRET_ARN');
    });

    it('throttles the $default stage (1000 rps, burst 2000) and logs each request as JSON', () => {
      const [[, stage]] = resources(template, 'AWS::ApiGatewayV2::Stage') as [[string, { Properties: Json }]];
      expect(stage.Properties).toMatchObject({
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
      });
      const access = stage.Properties.AccessLogSettings as { DestinationArn: Json; Format: string };
      const logGroupId = logicalId(stack, log.httpApi.accessLogs);
      expect(access.DestinationArn).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
      expect(JSON.parse(access.Format)).toEqual(ACCESS_LOG_FIELDS);
      expect(JSON.parse(access.Format).requestId).toBe('$context.requestId');
      expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(30);
    });

    it('runs every function on Node.js 24 with X-Ray tracing', () => {
      for (const fn of [log.apiFunction, log.fetchFunction, log.maintenance.function]) {
        expect(template.toJSON().Resources[logicalId(stack, fn)].Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          TracingConfig: { Mode: 'Active' },
        });
      }
    });

    it('gives each function its own log rights instead of AWSLambdaBasicExecutionRole', () => {
      for (const fn of [log.apiFunction, log.fetchFunction, log.maintenance.function]) {
        const roleId = roleIdOf(stack, fn);
        const role = template.toJSON().Resources[roleId];
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
        const logGroupId = template.toJSON().Resources[logicalId(stack, fn)].Properties.LoggingConfig
          .LogGroup.Ref as string;
        const statements = roleStatements(template, roleId);
        expect(sorted(grantedOn(statements, { 'Fn::GetAtt': [logGroupId, 'Arn'] }))).toEqual([
          'logs:CreateLogStream',
          'logs:PutLogEvents',
        ]);
        // No log rights anywhere else.
        const logActions = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
        expect(logActions.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))).toEqual([
          { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        ]);
      }
    });

    it('gives the API function no Scan, no object deletes and no wildcard actions', () => {
      const actions = roleStatements(template, roleIdOf(stack, log.apiFunction)).flatMap(actionsOf);
      expect(actions).not.toContain('dynamodb:Scan');
      expect(actions).not.toContain('s3:DeleteObject');
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);
      const maintenance = roleStatements(template, roleIdOf(stack, log.maintenance.function)).flatMap(actionsOf);
      expect(maintenance).toContain('s3:DeleteObject');
      expect(maintenance).toContain('dynamodb:DeleteItem');
      expect(maintenance).not.toContain('dynamodb:Scan');
    });

    it('keeps server access logs of the segment bucket in a bucket of their own', () => {
      const segments = template.toJSON().Resources[logicalId(stack, log.bucket)];
      const accessLogsId = logicalId(stack, log.accessLogBucket!);
      expect(segments.Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: accessLogsId },
        LogFilePrefix: 'segments/',
      });
      const accessLogs = template.toJSON().Resources[accessLogsId];
      expect(accessLogs.Properties).toMatchObject({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      });
      expect(accessLogs.Properties.LoggingConfiguration).toBeUndefined();
    });

    it('turns on deletion protection and PITR of retained tables', () => {
      for (const [, table] of resources(template, 'AWS::DynamoDB::Table')) {
        expect(table.Properties).toMatchObject({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        });
        expect(table.Properties.SSESpecification).toBeUndefined();
      }
    });

    it('sends undelivered and failed maintenance runs to a dead-letter queue', () => {
      const dlq = { 'Fn::GetAtt': [logicalId(stack, log.maintenance.deadLetterQueue), 'Arn'] };
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        Target: Match.objectLike({ DeadLetterConfig: { Arn: dlq } }),
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(stack, log.maintenance.function) },
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: dlq } },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        MessageRetentionPeriod: 14 * 24 * 3600,
        SqsManagedSseEnabled: true,
      });
    });

    it('lets only this account\'s Scheduler assume the schedule role', () => {
      const role = template.toJSON().Resources[logicalId(stack, log.maintenance.scheduleRole)];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ]);
    });

    it('has eight alarms without actions', () => {
      const alarms = resources(template, 'AWS::CloudWatch::Alarm');
      expect(alarms).toHaveLength(8);
      expect(sorted(alarms.map(([, a]) => a.Properties.AlarmName as string))).toEqual(
        sorted(Object.values(ALARMS).map((s) => `App-Log-${s}`)),
      );
      for (const [, a] of alarms) expect(a.Properties.AlarmActions).toBeUndefined();
    });

    const alarm = (suffix: string) =>
      resources(template, 'AWS::CloudWatch::Alarm').find(
        ([, a]) => a.Properties.AlarmName === `App-Log-${suffix}`,
      )![1].Properties;

    it('alarms on the 5xx share of API requests (metric math over 5xx and Count)', () => {
      const a = alarm(ALARMS.api5xxRate) as { Metrics: Json[]; Threshold: number };
      expect(a.Threshold).toBe(5);
      const expression = a.Metrics.find((m) => m.Expression);
      expect(expression?.Expression).toBe('IF(requests > 0, 100 * errors / requests, 0)');
      const names = a.Metrics.filter((m) => m.MetricStat).map((m) => {
        const stat = m.MetricStat as { Metric: { Namespace: string; MetricName: string } };
        return `${stat.Metric.Namespace}/${stat.Metric.MetricName}`;
      });
      expect(sorted(names)).toEqual(['AWS/ApiGateway/5xx', 'AWS/ApiGateway/Count']);
    });

    it('alarms on throttles of each function', () => {
      for (const [suffix, fn] of [
        [ALARMS.apiThrottles, log.apiFunction],
        [ALARMS.fetchThrottles, log.fetchFunction],
        [ALARMS.maintenanceThrottles, log.maintenance.function],
      ] as const) {
        expect(alarm(suffix)).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: 'Throttles',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, fn) } }],
          Threshold: 1,
        });
      }
    });

    it('alarms on p99 produce latency (Sluice ProduceLatency, ms, service=api)', () => {
      expect(alarm(ALARMS.produceLatencyP99)).toMatchObject({
        Namespace: 'Sluice',
        MetricName: 'ProduceLatency',
        ExtendedStatistic: 'p99',
        Unit: 'Milliseconds',
        Dimensions: [{ Name: 'service', Value: 'api' }],
        Threshold: 1000,
      });
    });

    it('alarms on failed maintenance runs and on maintenance going silent for 15 minutes', () => {
      expect(alarm(ALARMS.maintenanceErrors)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, log.maintenance.function) } }],
      });
      expect(alarm(ALARMS.maintenanceStale)).toMatchObject({
        Namespace: 'Sluice',
        MetricName: 'MaintenanceTicks',
        Dimensions: [{ Name: 'service', Value: 'maintenance' }],
        Period: 900,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    });

    it('draws a dashboard of every Sluice metric, errors by code from a SEARCH', () => {
      const [[, dashboard]] = resources(template, 'AWS::CloudWatch::Dashboard') as [[string, { Properties: Json }]];
      const body = JSON.stringify(dashboard.Properties.DashboardBody);
      for (const name of [
        'ProduceLatency',
        'FetchLatency',
        'ProduceRecords',
        'ProduceBytes',
        'FetchBytes',
        'CommitConflicts',
        'HolesFilled',
        'HedgedRequests',
        'MaintenanceTicks',
        '5xx',
        'Throttles',
      ]) {
        expect(body, name).toContain(`\\"${name}\\"`);
      }
      expect(body).toContain('SEARCH(');
      expect(body).toContain('MetricName=\\\\\\"Errors\\\\\\"');
      expect(body).toMatch(/p50/);
      expect(body).toMatch(/p99/);
    });
  });

  describe.each(['token', 'both'] as const)('auth %s', (auth) => {
    let template: Template;
    let stack: Stack;
    let log: SluiceLog;

    beforeAll(() => {
      ({ template, stack, log } = synthLog({ auth }));
    }, TIMEOUT);

    it(`${auth === 'token' ? 'leaves' : 'keeps'} the IAM authorizer ${auth === 'token' ? 'off' : 'on'} /{proxy+}`, () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'ANY /{proxy+}',
        AuthorizationType: auth === 'token' ? 'NONE' : 'AWS_IAM',
      });
    });

    it('generates the bootstrap token and tells the API function where it is', () => {
      const [[secretId, secret]] = resources(template, 'AWS::SecretsManager::Secret') as [[string, { Properties: Json }]];
      expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
      const fn = template.toJSON().Resources[logicalId(stack, log.apiFunction)];
      expect(fn.Properties.Environment.Variables.SLUICE_AUTH_SECRET_ARN).toEqual({ Ref: secretId });
      const maintenance = template.toJSON().Resources[logicalId(stack, log.maintenance.function)];
      expect(maintenance.Properties.Environment.Variables).not.toHaveProperty('SLUICE_AUTH_SECRET_ARN');
    });

    it('lets only the API, fetch and stream functions (all run the app) read it, with GetSecretValue only', () => {
      const secretId = resources(template, 'AWS::SecretsManager::Secret')[0]![0];
      const readers = [roleIdOf(stack, log.apiFunction), roleIdOf(stack, log.fetchFunction), roleIdOf(stack, log.streamFunction)];
      for (const roleId of readers) {
        expect(grantedOn(roleStatements(template, roleId), { Ref: secretId })).toEqual(['secretsmanager:GetSecretValue']);
      }
      for (const roleId of Object.keys(template.findResources('AWS::IAM::Role'))) {
        if (readers.includes(roleId)) continue;
        expect(JSON.stringify(roleStatements(template, roleId))).not.toContain('secretsmanager');
      }
    });
  });

  describe('with a customer managed key', () => {
    let template: Template;
    let stack: Stack;
    let log: SluiceLog;
    let keyArn: Json;

    beforeAll(() => {
      ({ template, stack, log } = synthLog((s) => ({
        auth: 'both',
        encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }),
      })));
      keyArn = { 'Fn::GetAtt': [Object.keys(template.findResources('AWS::KMS::Key'))[0], 'Arn'] };
    }, TIMEOUT);

    it('encrypts the segment bucket with SSE-KMS and a Bucket Key', () => {
      const bucket = template.toJSON().Resources[logicalId(stack, log.bucket)];
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
          },
        ],
      });
    });

    it('encrypts both tables, the secret and every log group with it', () => {
      for (const [, table] of resources(template, 'AWS::DynamoDB::Table')) {
        expect(table.Properties.SSESpecification).toEqual({
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: keyArn,
        });
      }
      template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: keyArn });
      const groups = resources(template, 'AWS::Logs::LogGroup');
      expect(groups).toHaveLength(5);
      for (const [, group] of groups) expect(group.Properties.KmsKeyId).toEqual(keyArn);
    });

    it('lets CloudWatch Logs of this account and region use the key', () => {
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'AllowCloudWatchLogs',
              Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            }),
          ]),
        },
      });
    });

    it('grants each function exactly the key actions it needs, on that key', () => {
      const api = roleStatements(template, roleIdOf(stack, log.apiFunction));
      expect(sorted(grantedOn(api, keyArn))).toEqual([
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
      ]);
      const maintenance = roleStatements(template, roleIdOf(stack, log.maintenance.function));
      expect(sorted(grantedOn(maintenance, keyArn))).toEqual([
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
      ]);
    });
  });

  it('passes memory, reserved concurrency, retention, throttling and DESTROY through', () => {
    const { template, stack, log } = synthLog({
      memorySize: 2048,
      reservedConcurrency: 20,
      logRetention: logs.RetentionDays.ONE_WEEK,
      throttleRateLimit: 50,
      throttleBurstLimit: 100,
      removalPolicy: RemovalPolicy.DESTROY,
      maintenanceSchedule: 'rate(5 minutes)',
      maintenanceTimeout: Duration.minutes(2),
    });
    const api = template.toJSON().Resources[logicalId(stack, log.apiFunction)].Properties;
    const maintenance = template.toJSON().Resources[logicalId(stack, log.maintenance.function)].Properties;
    expect(api).toMatchObject({ MemorySize: 2048, ReservedConcurrentExecutions: 20 });
    expect(maintenance).toMatchObject({ MemorySize: 2048, Timeout: 120 });
    expect(maintenance.ReservedConcurrentExecutions).toBeUndefined();
    for (const [, group] of resources(template, 'AWS::Logs::LogGroup')) {
      expect(group.Properties.RetentionInDays).toBe(7);
      expect(group.DeletionPolicy).toBe('Delete');
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(5 minutes)' });
    for (const [, table] of resources(template, 'AWS::DynamoDB::Table')) {
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
      expect(table.DeletionPolicy).toBe('Delete');
    }
  });

  it('keeps deletion protection as its own prop', () => {
    const { template } = synthLog({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: true });
    for (const [, table] of resources(template, 'AWS::DynamoDB::Table')) {
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    }
  });

  it('maps a custom domain to the $default stage and uses it as the URL', () => {
    const { template, log, stack } = synthLog(
      (s) => ({
        customDomain: {
          domainName: 'sluice.example.com',
          certificate: acm.Certificate.fromCertificateArn(
            s,
            'Certificate',
            'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d',
          ),
        },
        alarmTopic: sns.Topic.fromTopicArn(s, 'Alarms', 'arn:aws:sns:eu-west-1:111122223333:alarms'),
      }),
    );
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'sluice.example.com',
      DomainNameConfigurations: [
        Match.objectLike({ CertificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d' }),
      ],
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
      ApiId: { Ref: logicalId(stack, log.httpApi.api) },
      Stage: '$default',
    });
    expect(log.url).toBe('https://sluice.example.com');
    // And the alarm topic gets ALARM and OK notifications.
    for (const [, a] of resources(template, 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:111122223333:alarms']);
      expect(a.Properties.OKActions).toEqual(['arn:aws:sns:eu-west-1:111122223333:alarms']);
    }
  });

  it('refuses an unknown auth mode', () => {
    expect(() => synthLog({ auth: 'open' as never })).toThrow(/auth must be one of iam, token, both/);
  });
});

describe('SluiceStack outputs', { timeout: TIMEOUT }, () => {
  it('prints ApiUrl beside the names, and the admin token secret with token auth', () => {
    const iamStack = T.fromStack(new SluiceStack(testApp(), 'Sluice'));
    const outputs = Object.keys(iamStack.toJSON().Outputs).sort();
    expect(outputs).toEqual([
      'ApiFunctionName',
      'ApiUrl',
      'DashboardName',
      'FetchFunctionName',
      'LogTableName',
      'MaintenanceFunctionName',
      'MetaTableName',
      'SegmentBucketName',
      'StreamUrl',
    ]);
    const tokenStack = T.fromStack(new SluiceStack(testApp({ auth: 'token' }), 'Sluice'));
    tokenStack.hasOutput('AdminTokenSecretArn', { Value: { Ref: Match.stringLikeRegexp('AdminToken') } });
    tokenStack.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'ANY /{proxy+}',
      AuthorizationType: 'NONE',
    });
  });

  it('keeps the logical ids the stack had before SluiceLog, so updates replace no table', () => {
    const stack = new SluiceStack(testApp(), 'Sluice');
    const ids = (type: string) => Object.keys(T.fromStack(stack).findResources(type)).sort();
    expect(ids('AWS::DynamoDB::Table')).toEqual([expect.stringMatching(/^TablesLog[0-9A-F]{8}$/), 'TablesMetaC40B69A7']);
    expect(ids('AWS::S3::Bucket')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Segments[0-9A-F]{8}$/)]),
    );
    expect(ids('AWS::ApiGatewayV2::Stage')).toEqual([expect.stringMatching(/^ApiHttpApiDefaultStage[0-9A-F]{8}$/)]);
    expect(ids('AWS::Lambda::Function')).toEqual([
      expect.stringMatching(/^ApiFunction[0-9A-F]{8}$/),
      expect.stringMatching(/^FetchFunction[0-9A-F]{8}$/),
      expect.stringMatching(/^MaintenanceFunction[0-9A-F]{8}$/),
      expect.stringMatching(/^StreamFunction[0-9A-F]{8}$/),
    ]);
  });

  it('refuses an unknown auth context value', () => {
    expect(() => new SluiceStack(testApp({ auth: 'none' }), 'Sluice')).toThrow(/iam, token or both/);
  });
});
