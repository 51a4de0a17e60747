/**
 * The S3 Express One Zone write tier (`writeTier: 'express'`): the directory bucket and its
 * properties, SLUICE_EXPRESS_BUCKET on both functions, `s3express:CreateSession` scoped to that
 * bucket's ARN for exactly the two functions, the context flags of the stack, the synth-time
 * errors, and the standard tier left exactly as it was (no new resource, same logical ids).
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template, type Template as TemplateType } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EXPRESS_BUCKET_ENV,
  expressAvailabilityZoneId,
} from '../../infra/constructs/express-bucket.ts';
import { SluiceFunction } from '../../infra/constructs/sluice-function.ts';
import type { SluiceLog } from '../../infra/constructs/sluice-log.ts';
import { SluiceStack } from '../../infra/sluice-stack.ts';
import {
  actionsOf,
  grantedOn,
  logicalId,
  resourcesOf,
  roleIdOf,
  roleStatements,
  sorted,
  synthLog,
  testApp,
  type Json,
  type Statement,
} from './synth.ts';

const TIMEOUT = 60_000;
const DIRECTORY_BUCKET = 'AWS::S3Express::DirectoryBucket';

/** Every IAM statement of the template (policies and inline role policies). */
function allStatements(template: TemplateType): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
    Properties: { PolicyDocument: { Statement: Statement[] } };
  }[];
  const roles = Object.values(template.findResources('AWS::IAM::Role')) as {
    Properties: { Policies?: { PolicyDocument: { Statement: Statement[] } }[] };
  }[];
  return [
    ...policies.flatMap((p) => p.Properties.PolicyDocument.Statement),
    ...roles.flatMap((r) => (r.Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement)),
  ];
}

const s3expressStatements = (statements: readonly Statement[]) =>
  statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3express:')));

describe('express write tier', { timeout: TIMEOUT }, () => {
  describe('with SSE-S3 (no key)', () => {
    let template: TemplateType;
    let stack: Stack;
    let log: SluiceLog;
    let bucketId: string;
    let bucketArn: Json;

    beforeAll(() => {
      ({ template, stack, log } = synthLog({ writeTier: 'express', expressAvailabilityZoneId: 'use1-az4' }));
      bucketId = stack.getLogicalId(log.expressBucket!);
      bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
    }, TIMEOUT);

    it('creates one single-AZ directory bucket in that zone, SSE-S3, retained, named by CloudFormation', () => {
      template.resourceCountIs(DIRECTORY_BUCKET, 1);
      const bucket = template.toJSON().Resources[bucketId];
      expect(bucket.Type).toBe(DIRECTORY_BUCKET);
      expect(bucket.Properties).toEqual({
        DataRedundancy: 'SingleAvailabilityZone',
        LocationName: 'use1-az4',
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      });
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.UpdateReplacePolicy).toBe('Retain');
      expect(log.writeTier).toBe('express');
    });

    it('keeps the Standard segment bucket and everything else', () => {
      expect(template.toJSON().Resources[logicalId(stack, log.bucket)].Type).toBe('AWS::S3::Bucket');
      const standard = synthLog().template;
      const ids = (t: TemplateType) => Object.keys(t.toJSON().Resources as Json).sort();
      expect(ids(template)).toEqual([...ids(standard), bucketId].sort());
    });

    it('tells every function the bucket name in SLUICE_EXPRESS_BUCKET, next to SLUICE_BUCKET', () => {
      for (const fn of [log.apiFunction, log.fetchFunction, log.maintenance.function]) {
        const vars = template.toJSON().Resources[logicalId(stack, fn)].Properties.Environment.Variables;
        expect(vars[EXPRESS_BUCKET_ENV]).toEqual({ Ref: bucketId });
        expect(vars.SLUICE_BUCKET).toEqual({ Ref: logicalId(stack, log.bucket) });
      }
      expect(EXPRESS_BUCKET_ENV).toBe('SLUICE_EXPRESS_BUCKET');
    });

    it('grants each function s3express:CreateSession on that bucket ARN only, a ReadWrite session', () => {
      for (const fn of [log.apiFunction, log.maintenance.function]) {
        const statements = roleStatements(template, roleIdOf(stack, fn));
        expect(grantedOn(statements, bucketArn)).toEqual(['s3express:CreateSession']);
        const express = s3expressStatements(statements);
        expect(express).toHaveLength(1);
        expect(resourcesOf(express[0]!)).toEqual([bucketArn]);
        // ReadWrite: the API puts, maintenance deletes; a ReadOnly condition would stop both.
        expect(express[0]!.Condition).toBeUndefined();
      }
    });

    it('grants the fetch function a ReadOnly session on that bucket only (it never puts or deletes)', () => {
      const express = s3expressStatements(roleStatements(template, roleIdOf(stack, log.fetchFunction)));
      expect(express).toEqual([
        {
          Effect: 'Allow',
          Action: 's3express:CreateSession',
          Resource: bucketArn,
          Condition: { StringEquals: { 's3express:SessionMode': 'ReadOnly' } },
        },
      ]);
    });

    it('gives no other role any s3express action, and nobody a wildcard s3express grant', () => {
      const fnRoles = new Set([
        roleIdOf(stack, log.apiFunction),
        roleIdOf(stack, log.fetchFunction),
        roleIdOf(stack, log.streamFunction),
        roleIdOf(stack, log.maintenance.function),
      ]);
      for (const roleId of Object.keys(template.findResources('AWS::IAM::Role'))) {
        if (fnRoles.has(roleId)) continue;
        expect(s3expressStatements(roleStatements(template, roleId)), roleId).toEqual([]);
      }
      const express = s3expressStatements(allStatements(template));
      expect(express).toHaveLength(4);
      for (const s of express) {
        expect(actionsOf(s)).toEqual(['s3express:CreateSession']);
        expect(resourcesOf(s)).toEqual([bucketArn]);
      }
    });

    it('adds no KMS grant without a key, and leaves the Standard bucket grants as they were', () => {
      const standard = synthLog();
      for (const [fn, standardFn] of [
        [log.apiFunction, standard.log.apiFunction],
        [log.fetchFunction, standard.log.fetchFunction],
        [log.maintenance.function, standard.log.maintenance.function],
      ] as const) {
        const actions = roleStatements(template, roleIdOf(stack, fn)).flatMap(actionsOf);
        expect(actions.filter((a) => a.startsWith('kms:'))).toEqual([]);
        const without = actions.filter((a) => !a.startsWith('s3express:'));
        const before = roleStatements(standard.template, roleIdOf(standard.stack, standardFn)).flatMap(actionsOf);
        expect(sorted(without)).toEqual(sorted(before));
      }
    });

    it('creates no bucket policy and no lifecycle rule for the directory bucket', () => {
      template.resourceCountIs('AWS::S3Express::BucketPolicy', 0);
      const props = template.toJSON().Resources[bucketId].Properties;
      expect(props.LifecycleConfiguration).toBeUndefined();
    });
  });

  describe('with a customer managed key and DESTROY', () => {
    let template: TemplateType;
    let stack: Stack;
    let log: SluiceLog;
    let keyArn: Json;

    beforeAll(() => {
      ({ template, stack, log } = synthLog((s) => ({
        writeTier: 'express',
        expressAvailabilityZoneId: 'euw1-az2',
        encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }),
        removalPolicy: RemovalPolicy.DESTROY,
      })));
      keyArn = { 'Fn::GetAtt': [Object.keys(template.findResources('AWS::KMS::Key'))[0], 'Arn'] };
    }, TIMEOUT);

    it('encrypts the directory bucket with SSE-KMS under that key (Bucket Key on) and deletes it with the stack', () => {
      const bucket = template.toJSON().Resources[stack.getLogicalId(log.expressBucket!)];
      expect(bucket.Properties).toEqual({
        DataRedundancy: 'SingleAvailabilityZone',
        LocationName: 'euw1-az2',
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
            },
          ],
        },
      });
      expect(bucket.DeletionPolicy).toBe('Delete');
    });

    it('lets both functions use the key for the directory bucket, and nothing more', () => {
      for (const fn of [log.apiFunction, log.maintenance.function]) {
        const statements = roleStatements(template, roleIdOf(stack, fn));
        expect(sorted(grantedOn(statements, keyArn))).toEqual([
          'kms:Decrypt',
          'kms:DescribeKey',
          'kms:Encrypt',
          'kms:GenerateDataKey',
        ]);
      }
    });
  });

  describe('refuses at synth', () => {
    it('express without an Availability Zone ID', () => {
      expect(() => synthLog({ writeTier: 'express' })).toThrow(
        /writeTier 'express' needs expressAvailabilityZoneId.*use1-az4/,
      );
    });

    it('an Availability Zone name instead of its ID, saying how to find the ID', () => {
      expect(() => synthLog({ writeTier: 'express', expressAvailabilityZoneId: 'us-east-1a' })).toThrow(
        /Availability Zone ID such as 'use1-az4', not the AZ name "us-east-1a".*describe-availability-zones/,
      );
    });

    it('anything else that is not an Availability Zone ID', () => {
      for (const bad of ['', 'use1', 'use1-az', 'USE1-AZ4', 'use1-az4 ', 'use1_az4', 'usw2-lax1-az1', 'az4']) {
        expect(() => expressAvailabilityZoneId(bad), JSON.stringify(bad)).toThrow(
          /must be an Availability Zone ID/,
        );
      }
      for (const good of ['use1-az4', 'usw2-az1', 'euw1-az3', 'apne1-az4', 'usgw1-az1', 'cnn1-az1', 'apse2-az12']) {
        expect(expressAvailabilityZoneId(good)).toBe(good);
      }
    });

    it('an Availability Zone ID with the standard tier (it would be silently ignored)', () => {
      expect(() => synthLog({ expressAvailabilityZoneId: 'use1-az4' })).toThrow(
        /only used with writeTier 'express'/,
      );
    });

    it('an unknown tier', () => {
      expect(() => synthLog({ writeTier: 'glacier' as never })).toThrow(
        /writeTier must be one of standard, express/,
      );
    });
  });

  describe('SluiceStack context', () => {
    it('-c writeTier=express -c expressAz=use1-az4 adds the bucket and prints its name', () => {
      const stack = new SluiceStack(testApp({ writeTier: 'express', expressAz: 'use1-az4' }), 'Sluice');
      const template = Template.fromStack(stack);
      template.hasResourceProperties(DIRECTORY_BUCKET, { LocationName: 'use1-az4' });
      const bucketId = stack.getLogicalId(stack.sluice.expressBucket!);
      // A top-level id once `Default` is dropped, like the other resources of the stack.
      expect(bucketId).toBe('ExpressSegments');
      template.hasOutput('ExpressBucketName', { Value: { Ref: bucketId } });
    });

    it('takes the props before the context', () => {
      const stack = new SluiceStack(testApp({ writeTier: 'express', expressAz: 'use1-az4' }), 'Sluice', {
        sluice: { writeTier: 'express', expressAvailabilityZoneId: 'use1-az6' },
      });
      Template.fromStack(stack).hasResourceProperties(DIRECTORY_BUCKET, { LocationName: 'use1-az6' });
    });

    it('refuses an unknown tier, or express without expressAz', () => {
      expect(() => new SluiceStack(testApp({ writeTier: 'fast' }), 'Sluice')).toThrow(
        /context writeTier must be standard or express/,
      );
      expect(() => new SluiceStack(testApp({ writeTier: 'express' }), 'Sluice')).toThrow(
        /needs expressAvailabilityZoneId/,
      );
    });
  });

  describe('standard tier (the default) synthesizes exactly as before the option existed', () => {
    // Every resource of the default stack, by logical id and type, as before the write tier
    // option was added: an update of an existing stack must create, replace or remove nothing.
    const STANDARD_RESOURCES = {
      AccessLogs8B620ECA: 'AWS::S3::Bucket',
      AccessLogsPolicyABDC4D2D: 'AWS::S3::BucketPolicy',
      ApiAccessLogs50B185DB: 'AWS::Logs::LogGroup',
      ApiFunctionCE271BD4: 'AWS::Lambda::Function',
      ApiFunctionLogs0D7A2434: 'AWS::Logs::LogGroup',
      ApiFunctionRoleDefaultPolicyF7D07E66: 'AWS::IAM::Policy',
      ApiFunctionRoleF04A0202: 'AWS::IAM::Role',
      ApiHttpApi4C294DC0: 'AWS::ApiGatewayV2::Api',
      ApiHttpApiANYproxy3D22424D: 'AWS::ApiGatewayV2::Route',
      ApiHttpApiANYproxyAppIntegration54F47BA2: 'AWS::ApiGatewayV2::Integration',
      ApiHttpApiANYproxyAppIntegrationPermissionAAB5AA42: 'AWS::Lambda::Permission',
      ApiHttpApiDefaultStageE708EF42: 'AWS::ApiGatewayV2::Stage',
      ApiHttpApiGEThealthz9C321B92: 'AWS::ApiGatewayV2::Route',
      ApiHttpApiGEThealthzAppIntegrationPermissionBA75B207: 'AWS::Lambda::Permission',
      MaintenanceDeadLetters0289426A: 'AWS::SQS::Queue',
      MaintenanceDeadLettersPolicyB54CDA41: 'AWS::SQS::QueuePolicy',
      MaintenanceFunction890D8092: 'AWS::Lambda::Function',
      MaintenanceFunctionEventInvokeConfig5E999080: 'AWS::Lambda::EventInvokeConfig',
      MaintenanceFunctionLogs7216DB01: 'AWS::Logs::LogGroup',
      MaintenanceFunctionRole6B0E497D: 'AWS::IAM::Role',
      MaintenanceFunctionRoleDefaultPolicyF01379E2: 'AWS::IAM::Policy',
      MaintenanceSchedule0C826543: 'AWS::Scheduler::Schedule',
      MaintenanceScheduleRole951364F6: 'AWS::IAM::Role',
      MaintenanceScheduleRoleDefaultPolicy4B450E80: 'AWS::IAM::Policy',
      MonitoringDashboard0C3675C6: 'AWS::CloudWatch::Dashboard',
      Monitoringapi5xxrateEF8907F0: 'AWS::CloudWatch::Alarm',
      Monitoringapithrottles3BDE506C: 'AWS::CloudWatch::Alarm',
      MonitoringmaintenanceerrorsD49CA913: 'AWS::CloudWatch::Alarm',
      Monitoringmaintenancestale37A44EAC: 'AWS::CloudWatch::Alarm',
      Monitoringmaintenancethrottles287C5F45: 'AWS::CloudWatch::Alarm',
      Monitoringproducelatencyp998A1C15B8: 'AWS::CloudWatch::Alarm',
      Segments06F6163E: 'AWS::S3::Bucket',
      SegmentsPolicyE12AEF0D: 'AWS::S3::BucketPolicy',
      TablesLog72BABB86: 'AWS::DynamoDB::Table',
      TablesMetaC40B69A7: 'AWS::DynamoDB::Table',
    };
    // Added with the fetch function (the read routes on a function of their own): new
    // resources only, so an update creates these and changes no existing one's identity.
    const FETCH_FUNCTION_RESOURCES = {
      ApiHttpApiGETv1topicstopicpartitionspartitionoffsetsFetchIntegrationPermission1F8512BE: 'AWS::Lambda::Permission',
      ApiHttpApiGETv1topicstopicpartitionspartitionoffsets7A81361B: 'AWS::ApiGatewayV2::Route',
      ApiHttpApiGETv1topicstopicpartitionspartitionrecordsFetchIntegrationB7E2EBE8: 'AWS::ApiGatewayV2::Integration',
      ApiHttpApiGETv1topicstopicpartitionspartitionrecordsFetchIntegrationPermissionA5BE09BC: 'AWS::Lambda::Permission',
      ApiHttpApiGETv1topicstopicpartitionspartitionrecordsED1CBF0A: 'AWS::ApiGatewayV2::Route',
      ApiHttpApiPOSTv1fetchC6420256: 'AWS::ApiGatewayV2::Route',
      ApiHttpApiPOSTv1fetchFetchIntegrationPermission33FB0F1C: 'AWS::Lambda::Permission',
      FetchFunction02CD8A1F: 'AWS::Lambda::Function',
      FetchFunctionLogs3140F377: 'AWS::Logs::LogGroup',
      FetchFunctionRoleAE8EB9DE: 'AWS::IAM::Role',
      FetchFunctionRoleDefaultPolicyCF271796: 'AWS::IAM::Policy',
      MonitoringfetchthrottlesB34F2B55: 'AWS::CloudWatch::Alarm',
    };

    // Added with the stream function (live=sse behind a response-streaming Function URL):
    // new resources only, as above.
    const STREAM_FUNCTION_RESOURCES = {
      StreamFunction17761A08: 'AWS::Lambda::Function',
      StreamFunctionFunctionUrl88EB7F9A: 'AWS::Lambda::Url',
      StreamFunctionLogsBE15C641: 'AWS::Logs::LogGroup',
      StreamFunctionRoleF5DBA88D: 'AWS::IAM::Role',
      StreamFunctionRoleDefaultPolicy1B52B2A7: 'AWS::IAM::Policy',
      // Its throttles alarm: a stream refused at the concurrency cap.
      Monitoringstreamthrottles12EFA0AE: 'AWS::CloudWatch::Alarm',
    };

    // Added with the web console (GET /console and its assets to the API function, no
    // authorizer): new resources only, as above.
    const CONSOLE_RESOURCES = {
      ApiHttpApiGETconsole98ACBE76: 'AWS::ApiGatewayV2::Route',
      ApiHttpApiGETconsoleAppIntegrationPermissionA20A8ECA: 'AWS::Lambda::Permission',
      ApiHttpApiGETconsoleproxy1D07F08B: 'AWS::ApiGatewayV2::Route',
      ApiHttpApiGETconsoleproxyAppIntegrationPermission021D19E2: 'AWS::Lambda::Permission',
    };

    const types = (t: TemplateType) =>
      Object.fromEntries(
        Object.entries(t.toJSON().Resources as Record<string, { Type: string }>).map(([id, r]) => [id, r.Type]),
      );

    it('has the same resources under the same logical ids (plus the fetch function\'s, the console\'s and the stream function\'s), and the same outputs (plus StreamUrl)', () => {
      const template = Template.fromStack(new SluiceStack(testApp(), 'Sluice'));
      expect(types(template)).toEqual({ ...STANDARD_RESOURCES, ...FETCH_FUNCTION_RESOURCES, ...CONSOLE_RESOURCES, ...STREAM_FUNCTION_RESOURCES });
      expect(Object.keys(template.toJSON().Outputs as Json).sort()).toEqual([
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
    });

    it('is the same template whether writeTier is left out, set to standard, or given by -c writeTier=standard', () => {
      const json = (stack: Stack) => JSON.stringify(Template.fromStack(stack).toJSON());
      const implicit = json(new SluiceStack(testApp(), 'Sluice'));
      expect(json(new SluiceStack(testApp(), 'Sluice', { sluice: { writeTier: 'standard' } }))).toBe(implicit);
      expect(json(new SluiceStack(testApp({ writeTier: 'standard' }), 'Sluice'))).toBe(implicit);
      const implicitLog = JSON.stringify(synthLog().template.toJSON());
      expect(JSON.stringify(synthLog({ writeTier: 'standard' }).template.toJSON())).toBe(implicitLog);
    });

    it('mentions neither s3express nor SLUICE_EXPRESS_BUCKET anywhere', () => {
      for (const template of [
        Template.fromStack(new SluiceStack(testApp(), 'Sluice')),
        synthLog((s) => ({ encryptionKey: new kms.Key(s, 'Key'), auth: 'both' })).template,
      ]) {
        const text = JSON.stringify(template.toJSON());
        expect(text).not.toMatch(/s3express/i);
        expect(text).not.toContain(EXPRESS_BUCKET_ENV);
      }
    });
  });
});

describe('SluiceFunction.bindDirectoryBucket', { timeout: TIMEOUT }, () => {
  it('adds the ReadOnly session-mode condition for read access, none for readWrite', () => {
    const { template, stack } = synthLog(
      { writeTier: 'express', expressAvailabilityZoneId: 'use1-az4' },
      {
        after: (log, s) => {
          // A bare function, bundling skipped (testApp), that may only read the bucket.
          new SluiceFunction(s, 'Reader', { entry: 'functions/api/index.ts' }).bindDirectoryBucket(
            log.expressBucket!,
            'READER_BUCKET',
            'read',
          );
        },
      },
    );
    const reader = stack.node.findChild('Reader') as SluiceFunction;
    const log = stack.node.findChild('Log') as SluiceLog;
    const bucketArn = { 'Fn::GetAtt': [stack.getLogicalId(log.expressBucket!), 'Arn'] };
    const express = s3expressStatements(roleStatements(template, roleIdOf(stack, reader)));
    expect(express).toEqual([
      {
        Action: 's3express:CreateSession',
        Effect: 'Allow',
        Resource: bucketArn,
        Condition: { StringEquals: { 's3express:SessionMode': 'ReadOnly' } },
      },
    ]);
    const vars = template.toJSON().Resources[logicalId(stack, reader)].Properties.Environment.Variables;
    expect(vars.READER_BUCKET).toEqual({ Ref: stack.getLogicalId(log.expressBucket!) });
  });
});
