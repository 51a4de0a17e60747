/**
 * CDK app entry (`cdk.json`: `npx tsx infra/app.ts`).
 *
 *   npx cdk synth                              stack "Sluice"
 *   npx cdk deploy -c stackName=SluiceDev -c destroyOnRemoval=true   a throwaway dev stack
 *   npx cdk deploy -c maintenanceSchedule='rate(5 minutes)'          maintenance less often
 *   npx cdk deploy -c auth=token                                      bearer tokens instead of SigV4 (or both)
 *   npx cdk deploy -c writeTier=express -c expressAz=use1-az4         produce to S3 Express One Zone first
 *
 * No `env`: the stack is environment-agnostic and deploys into whatever account/region the
 * CLI's credentials select, and synthesizes offline.
 */
import { App, Tags } from 'aws-cdk-lib';
import { SluiceStack } from './sluice-stack.ts';

const app = new App();
const stackName: unknown = app.node.tryGetContext('stackName') ?? 'Sluice';
if (typeof stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
  throw new Error(`context stackName must be a valid CloudFormation stack name, got ${String(stackName)}`);
}

new SluiceStack(app, stackName, {
  description: 'Sluice: serverless log service with Kafka semantics (S3 segments, DynamoDB index)',
});
Tags.of(app).add('project', 'sluice');
