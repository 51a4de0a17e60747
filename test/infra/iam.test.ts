/**
 * Who may call what: grantProduce / grantConsume / grantAdmin write execute-api:Invoke on
 * exact route ARNs (`<apiId>/$default/<METHOD>/<path>`), and the example policies in
 * docs/DEPLOY.md are exactly what they generate.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { consumeRoutes, produceRoutes, type SluiceLog } from '../../infra/constructs/sluice-log.ts';
import { PROJECT_ROOT } from '../../infra/constructs/sluice-function.ts';
import type { Template } from 'aws-cdk-lib/assertions';
import type { Stack } from 'aws-cdk-lib';
import { logicalId, render, roleStatements, synthLog, type Statement } from './synth.ts';

const TIMEOUT = 60_000;

/** The policy document a role got, rendered with `<region>`, `<account>`, `<apiId>`. */
function renderedPolicy(template: Template, stack: Stack, log: SluiceLog, role: iam.Role) {
  const apiId = logicalId(stack, log.httpApi.api);
  const statements = roleStatements(template, logicalId(stack, role));
  return {
    Version: '2012-10-17',
    Statement: statements.map((s: Statement) => ({
      Effect: s.Effect,
      Action: s.Action,
      Resource: (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((r) =>
        render(r, { [apiId]: '<apiId>' }),
      ),
    })),
  };
}

describe('execute-api grants', { timeout: TIMEOUT }, () => {
  let policies: Record<'producer' | 'consumer' | 'admin', ReturnType<typeof renderedPolicy>>;

  beforeAll(() => {
    const roles: Partial<Record<'producer' | 'consumer' | 'admin', iam.Role>> = {};
    const { template: t, stack, log } = synthLog(
      (s) => {
        for (const name of ['producer', 'consumer', 'admin'] as const) {
          roles[name] = new iam.Role(s, name, { assumedBy: new iam.AccountRootPrincipal() });
        }
        return {};
      },
      {
        after: (l) => {
          l.grantProduce('orders', roles.producer!);
          l.grantConsume('orders', roles.consumer!, 'billing');
          l.grantAdmin(roles.admin!);
        },
      },
    );
    policies = {
      producer: renderedPolicy(t, stack, log, roles.producer!),
      consumer: renderedPolicy(t, stack, log, roles.consumer!),
      admin: renderedPolicy(t, stack, log, roles.admin!),
    };
  }, TIMEOUT);

  const arn = (route: string) => `arn:aws:execute-api:<region>:<account>:<apiId>/$default/${route}`;

  // Resources in ARN order (CDK's policy minimization sorts them).
  it('lets a producer call cluster, topic metadata, produce and producer ids, one statement', () => {
    expect(policies.producer.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'execute-api:Invoke',
        Resource: [
          arn('GET/v1/cluster'),
          arn('GET/v1/topics/orders'),
          arn('POST/v1/topics/orders/records'),
          arn('POST/v1/producers'),
        ].sort(),
      },
    ]);
  });

  it('never lets a producer create, alter or delete topics', () => {
    const resources = policies.producer.Statement.flatMap((s) => s.Resource);
    for (const r of resources) {
      expect(r).not.toMatch(/\/(DELETE|PATCH|PUT|\*)\//);
      expect(r).not.toBe(arn('POST/v1/topics'));
    }
  });

  it('lets a consumer fetch and look up offsets of its topic, and use its group', () => {
    expect(policies.consumer.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'execute-api:Invoke',
        Resource: [
          arn('GET/v1/cluster'),
          arn('GET/v1/topics/orders'),
          arn('GET/v1/topics/orders/partitions/*/records'),
          arn('GET/v1/topics/orders/partitions/*/offsets'),
          arn('POST/v1/fetch'),
          arn('GET/v1/groups/billing'),
          arn('POST/v1/groups/billing/heartbeat'),
          arn('GET/v1/groups/billing/offsets'),
          arn('POST/v1/groups/billing/offsets'),
        ].sort(),
      },
    ]);
  });

  it('gives an admin every method on every path', () => {
    expect(policies.admin.Statement).toEqual([
      { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: [arn('*/*')] },
    ]);
  });

  it('are the example policies of docs/DEPLOY.md, verbatim', () => {
    const deploy = readFileSync(path.join(PROJECT_ROOT, 'docs/DEPLOY.md'), 'utf8');
    for (const [name, policy] of Object.entries(policies)) {
      expect(deploy, `${name} policy`).toContain(JSON.stringify(policy, null, 2));
    }
  });

  it('gives consumers no group routes unless a group pattern is given', () => {
    expect(consumeRoutes('orders').some((r) => r.path.includes('/groups/'))).toBe(false);
    expect(consumeRoutes('orders', 'billing-*').map((r) => r.path)).toContain(
      '/v1/groups/billing-*/offsets',
    );
  });

  it('accepts names with * wildcards and refuses anything that could widen a path', () => {
    expect(produceRoutes('orders.*').map((r) => r.path)).toContain('/v1/topics/orders.*/records');
    for (const bad of ['orders/records', '', 'a b', '../x', 'orders?x']) {
      expect(() => produceRoutes(bad), bad).toThrow(/topic pattern/);
      expect(() => consumeRoutes('t', bad), bad).toThrow(/group pattern/);
    }
  });
});

describe('execute-api grants with token auth', () => {
  it('are refused: without the IAM authorizer they would grant nothing', () => {
    expect(() =>
      synthLog(
        { auth: 'token' },
        {
          after: (log, stack) =>
            log.grantProduce('orders', new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() })),
        },
      ),
    ).toThrow(/auth "iam" or "both"/);
  }, TIMEOUT);
});
