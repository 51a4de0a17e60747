/**
 * cdk-nag's AwsSolutions and Serverless packs on the synthesized stack, per auth mode, and on
 * a SluiceLog with every option (key, custom domain, alarm topic, DESTROY), and with the express
 * write tier (an S3 Express One Zone directory bucket): no unsuppressed error or warning. Suppressions live in infra/constructs, each with its reason.
 */
import { Aspects, CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { SluiceLog } from '../../infra/constructs/sluice-log.ts';
import { SluiceStack } from '../../infra/sluice-stack.ts';
import { testApp } from './synth.ts';

const TIMEOUT = 60_000;
const NAG = Match.stringLikeRegexp('^(AwsSolutions|Serverless)-');

/** Unsuppressed findings of both packs, as `rule: path` lines (empty when clean). */
function findings(stack: Stack): string[] {
  Aspects.of(stack).add(new AwsSolutionsChecks());
  Aspects.of(stack).add(new ServerlessChecks());
  let annotations: Annotations;
  try {
    annotations = Annotations.fromStack(stack);
  } catch (e) {
    // An error annotation fails the synth (validation report): its message lists them.
    return String((e as Error).message)
      .split('\n')
      .filter((line) => /(AwsSolutions|Serverless)-/.test(line));
  }
  return [...annotations.findError('*', NAG), ...annotations.findWarning('*', NAG)].map(
    (m) => `${String(m.entry.data).split(':')[0]}: ${m.id}`,
  );
}

/** Every cdk-nag suppression in the tree, with its rule and reason. */
function suppressions(root: IConstruct): { id: string; reason: string; path: string }[] {
  return root.node.findAll().flatMap((c) => {
    if (!(c instanceof CfnResource)) return [];
    const nag = c.getMetadata('cdk_nag') as
      | { rules_to_suppress?: { id: string; reason: string }[] }
      | undefined;
    return (nag?.rules_to_suppress ?? []).map((r) => ({ ...r, path: c.node.path }));
  });
}

describe('cdk-nag', { timeout: TIMEOUT }, () => {
  it('reports what it finds (the check itself works)', () => {
    const stack = new Stack(testApp(), 'Bare');
    new sqs.Queue(stack, 'Queue');
    expect(findings(stack).join('\n')).toMatch(/AwsSolutions-SQS3/);
  });

  it.each(['iam', 'token', 'both'] as const)(
    'finds nothing unsuppressed in the stack with auth %s',
    (auth) => {
      const stack = new SluiceStack(testApp(), 'Sluice', { sluice: { auth } });
      expect(findings(stack)).toEqual([]);
    },
  );

  it('finds nothing unsuppressed with a key, a custom domain, an alarm topic and DESTROY', () => {
    const stack = new Stack(testApp(), 'Custom');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new SluiceLog(stack, 'Log', {
      auth: 'both',
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
      alarmTopic: sns.Topic.fromTopicArn(stack, 'Alarms', 'arn:aws:sns:eu-west-1:111122223333:alarms'),
      customDomain: {
        domainName: 'sluice.example.com',
        certificate: acm.Certificate.fromCertificateArn(
          stack,
          'Certificate',
          'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d',
        ),
      },
      reservedConcurrency: 10,
    });
    expect(findings(stack)).toEqual([]);
  });

  it('finds nothing unsuppressed with the express write tier (-c writeTier=express -c expressAz=...)', () => {
    const stack = new SluiceStack(testApp({ writeTier: 'express', expressAz: 'use1-az4' }), 'Sluice');
    expect(findings(stack)).toEqual([]);
  });

  it('finds nothing unsuppressed with the express write tier, a key and DESTROY', () => {
    const stack = new Stack(testApp(), 'Express');
    new SluiceLog(stack, 'Log', {
      auth: 'both',
      writeTier: 'express',
      expressAvailabilityZoneId: 'euw1-az1',
      encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    expect(findings(stack)).toEqual([]);
  });

  it('needs no suppression for the express write tier that the standard tier does not have', () => {
    const rules = (stack: Stack) =>
      suppressions(stack)
        .map((s) => `${s.path.replace(/^[^/]+\//, '')} ${s.id}`)
        .sort();
    const standard = new SluiceStack(testApp(), 'Sluice', { sluice: { auth: 'both' } });
    const express = new SluiceStack(testApp({ writeTier: 'express', expressAz: 'use1-az4' }), 'Sluice', {
      sluice: { auth: 'both' },
    });
    expect(rules(express)).toEqual(rules(standard));
  });

  it('gives every suppression a reason of its own', () => {
    const stack = new SluiceStack(testApp(), 'Sluice', { sluice: { auth: 'both' } });
    const all = suppressions(stack);
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) expect(s.reason.length, `${s.id} at ${s.path}`).toBeGreaterThan(40);
    // Only these rules are suppressed anywhere; anything new needs a look (and a reason).
    expect([...new Set(all.map((s) => s.id))].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-IAM5',
      'AwsSolutions-SMG4',
      'AwsSolutions-SQS3',
      'Serverless-LambdaDLQ',
      'Serverless-SQSRedrivePolicy',
    ]);
  });
});
