/**
 * Shared synth helpers of the infra tests: a CDK app with cdk.json's context (the same feature
 * flags as `cdk synth`) and bundling skipped, and readers for IAM statements.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SluiceLog, type SluiceLogProps } from '../../infra/constructs/sluice-log.ts';
import { PROJECT_ROOT } from '../../infra/constructs/sluice-function.ts';

export type Json = Record<string, unknown>;

const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
  context: Json;
};

/** An app with cdk.json's context, bundling skipped. */
export function testApp(context: Json = {}): App {
  return new App({
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
}

/**
 * A stack holding one SluiceLog, as another CDK app would use it. `props` as a function adds
 * resources (keys, roles, topics) before the construct; `after` uses it before the synth.
 */
export function synthLog(
  props: SluiceLogProps | ((stack: Stack) => SluiceLogProps) = {},
  options: { readonly after?: (log: SluiceLog, stack: Stack) => void; readonly stackProps?: StackProps } = {},
) {
  const app = testApp();
  const stack = new Stack(app, 'App', options.stackProps ?? {});
  const log = new SluiceLog(stack, 'Log', typeof props === 'function' ? props(stack) : props);
  options.after?.(log, stack);
  return { app, stack, log, template: Template.fromStack(stack) };
}

export type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
};
type PolicyResource = { Properties: { PolicyDocument: { Statement: Statement[] } } };

export const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
export const sorted = (values: readonly string[]) => [...new Set(values)].sort();

/** Every statement of the policies attached to the role with logical id `roleId`. */
export function roleStatements(template: Template, roleId: string): Statement[] {
  return (
    Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
    ) as PolicyResource[]
  ).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The actions `statements` allow on exactly `resource` (a CloudFormation value). */
export function grantedOn(statements: readonly Statement[], resource: unknown): string[] {
  const wanted = JSON.stringify(resource);
  return statements
    .filter((s) => s.Effect === 'Allow')
    .filter((s) => resourcesOf(s).some((r) => JSON.stringify(r) === wanted))
    .flatMap(actionsOf);
}

export function roleIdOf(stack: Stack, fn: IFunction): string {
  return stack.getLogicalId(fn.role?.node.defaultChild as CfnRole);
}

export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnRole);
}

/**
 * Renders a synthesized value (an ARN built with Fn::Join) as text: pseudo parameters and
 * references become `<region>`, `<account>`, `<apiId>` ...
 */
export function render(value: unknown, refs: Record<string, string> = {}): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => render(p, refs)).join(sep);
  }
  if (typeof v.Ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': '<region>',
      'AWS::AccountId': '<account>',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[v.Ref] ?? refs[v.Ref] ?? `<${v.Ref}>`;
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}
