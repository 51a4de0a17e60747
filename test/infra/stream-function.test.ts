/**
 * The stream function (docs/STREAMING.md "On AWS"): functions/stream (the app through hono's
 * streamHandle) behind a Function URL in RESPONSE_STREAM mode. Its URL's auth follows the
 * construct's mode (AWS_IAM with iam/both, NONE with token: the app checks bearer tokens),
 * its timeout and SLUICE_SSE_MAX_MS leave a stream time to end by itself, its role allows
 * nothing the fetch function's does not (apart from its own log group), and SluiceStack
 * prints its URL as StreamUrl.
 */
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { STREAM_SSE_MAX_MS, STREAM_TIMEOUT, type SluiceLog, type SluiceLogProps } from '../../infra/constructs/sluice-log.ts';
import { SluiceStack } from '../../infra/sluice-stack.ts';
import { FETCH_MEMORY_MB } from '../../infra/constructs/function-memory.ts';
import { actionsOf, logicalId, resourcesOf, roleIdOf, roleStatements, synthLog, testApp, type Json, type Statement } from './synth.ts';

const TIMEOUT = 60_000;

type Resource = { Type: string; Properties: Json };

const resourcesOfType = (template: Template, type: string) =>
  Object.entries(template.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);

/** Each (action, resource) pair a role's statements allow, minus its own log group's streams. */
function grants(template: Template, stack: Stack, fn: SluiceLog['fetchFunction'], logGroupId: string): string[] {
  const own = JSON.stringify({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
  return roleStatements(template, roleIdOf(stack, fn))
    .filter((s: Statement) => s.Effect === 'Allow')
    .flatMap((s) =>
      actionsOf(s).flatMap((a) =>
        resourcesOf(s)
          .filter((r) => JSON.stringify(r) !== own)
          .map((r) => `${a} ${JSON.stringify(r)} ${JSON.stringify(s.Condition ?? null)}`),
      ),
    )
    .sort();
}

function logGroupOf(template: Template, fnId: string): string {
  const fn = (template.toJSON().Resources as Record<string, Resource>)[fnId]!;
  const config = fn.Properties.LoggingConfig as { LogGroup: { Ref: string } };
  return config.LogGroup.Ref;
}

describe('stream function', { timeout: TIMEOUT }, () => {
  const variants: [string, SluiceLogProps | ((s: Stack) => SluiceLogProps), 'AWS_IAM' | 'NONE'][] = [
    ['iam', {}, 'AWS_IAM'],
    ['token', { auth: 'token' }, 'NONE'],
    ['both', { auth: 'both' }, 'AWS_IAM'],
    ['express tier with a key', (s) => ({ writeTier: 'express', expressAvailabilityZoneId: 'use1-az4', encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }) }), 'AWS_IAM'],
  ];

  it.each(variants)('%s: a RESPONSE_STREAM Function URL with the auth of the mode', (_name, props, authType) => {
    const { template, stack, log } = synthLog(props);
    const urls = resourcesOfType(template, 'AWS::Lambda::Url');
    expect(urls).toHaveLength(1);
    const [, url] = urls[0]!;
    expect(url.Properties).toEqual({
      AuthType: authType,
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [logicalId(stack, log.streamFunction), 'Arn'] },
    });
    expect(stack.resolve(log.streamUrl)).toEqual({ 'Fn::GetAtt': [urls[0]![0], 'FunctionUrl'] });
    // NONE: anyone may invoke the URL (the app refuses requests without a valid token).
    const publicInvoke = resourcesOfType(template, 'AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties.Action === 'lambda:InvokeFunctionUrl',
    );
    expect(publicInvoke.length).toBe(authType === 'NONE' ? 1 : 0);
  });

  it.each(variants)('%s: its role allows nothing the fetch function\'s does not', (_name, props) => {
    const { template, stack, log } = synthLog(props);
    const fetchId = logicalId(stack, log.fetchFunction);
    const streamId = logicalId(stack, log.streamFunction);
    const fetchGrants = grants(template, stack, log.fetchFunction, logGroupOf(template, fetchId));
    const streamGrants = grants(template, stack, log.streamFunction, logGroupOf(template, streamId));
    expect(streamGrants).toEqual(fetchGrants);
    const actions = roleStatements(template, roleIdOf(stack, log.streamFunction)).flatMap(actionsOf);
    for (const write of ['s3:PutObject', 's3:DeleteObject', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem']) {
      expect(actions).not.toContain(write);
    }
  });

  it('runs functions/stream with a 15-minute timeout, SLUICE_SSE_MAX_MS a minute less, and the fetch memory', () => {
    const { template, stack, log } = synthLog({ auth: 'token' });
    const fn = (template.toJSON().Resources as Record<string, Resource>)[logicalId(stack, log.streamFunction)]!;
    expect(fn.Properties.Timeout).toBe(900);
    expect(STREAM_TIMEOUT.toSeconds()).toBe(900);
    expect(STREAM_SSE_MAX_MS).toBe(14 * 60_000);
    expect(fn.Properties.MemorySize).toBe(FETCH_MEMORY_MB);
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars.SLUICE_SSE_MAX_MS).toBe(String(STREAM_SSE_MAX_MS));
    expect(STREAM_SSE_MAX_MS).toBeLessThan(STREAM_TIMEOUT.toMilliseconds());
    // The same names as the fetch function, and (token mode) the bootstrap secret.
    expect(Object.keys(vars)).toEqual(expect.arrayContaining(['SLUICE_META_TABLE', 'SLUICE_LOG_TABLE', 'SLUICE_BUCKET', 'SLUICE_AUTH_SECRET_ARN']));
    expect(log.streamFunction.node.id).toBe('StreamFunction');
  });

  it('is printed by SluiceStack as StreamUrl', () => {
    for (const auth of ['iam', 'token'] as const) {
      const template = Template.fromStack(new SluiceStack(testApp({ auth }), 'Sluice'));
      const url = resourcesOfType(template, 'AWS::Lambda::Url')[0]![0];
      template.hasOutput('StreamUrl', { Value: { 'Fn::GetAtt': [url, 'FunctionUrl'] } });
    }
  });

  it('grantStream gives lambda:InvokeFunctionUrl on the stream function only, and needs IAM auth', () => {
    const { template, stack, log } = synthLog({}, {
      after: (l, s) => {
        l.grantStream(new iam.Role(s, 'Reader', { assumedBy: new iam.AccountRootPrincipal() }));
      },
    });
    const reader = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('Reader'))!;
    const statements = roleStatements(template, reader);
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunctionUrl',
        Resource: { 'Fn::GetAtt': [logicalId(stack, log.streamFunction), 'Arn'] },
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      }),
      // What a Function URL call is also authorised as: InvokeFunction, only via the URL.
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [logicalId(stack, log.streamFunction), 'Arn'] },
        Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } },
      }),
    ]);
    expect(() => synthLog({ auth: 'token' }, { after: (l, s) => l.grantStream(new iam.Role(s, 'R', { assumedBy: new iam.AccountRootPrincipal() })) })).toThrow(/iam" or "both"/);
  });

  it('has no CORS by default; streamAllowedOrigins opens GET/HEAD to those origins and exposes the stream headers', () => {
    const none = resourcesOfType(synthLog({ auth: 'token' }).template, 'AWS::Lambda::Url')[0]![1];
    expect(none.Properties.Cors).toBeUndefined();
    const { template } = synthLog({ auth: 'token', streamAllowedOrigins: ['https://app.example.com'] });
    const cors = resourcesOfType(template, 'AWS::Lambda::Url')[0]![1].Properties.Cors as Json;
    expect(cors).toMatchObject({ AllowOrigins: ['https://app.example.com'], AllowMethods: ['GET', 'HEAD'], MaxAge: 86400 });
    expect(cors.AllowHeaders).toEqual(expect.arrayContaining(['authorization', 'last-event-id']));
    expect(cors.ExposeHeaders).toEqual(expect.arrayContaining(['stream-next-offset', 'stream-closed', 'stream-sse-data-encoding']));
  });

  it('has a throttles alarm: a stream refused at the concurrency cap', () => {
    const { template, stack, log } = synthLog({});
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const alarm = alarms.find((a) => String(a.AlarmName).endsWith('stream-throttles'));
    expect(alarm).toMatchObject({ MetricName: 'Throttles', Namespace: 'AWS/Lambda', Threshold: 1 });
    expect(alarm!.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: logicalId(stack, log.streamFunction) } }]);
  });
});
