/**
 * What a fetch really calls, against the fetch function's role. The read routes
 * (FETCH_ROUTES) run against DynamoDB Local + s3rver with every AWS SDK command recorded, in a
 * reader that has never seen the partition (a cold fetch function) and finds an abandoned
 * slot (a producer reserved it and never published): the worst case for what a reader writes.
 * Every command maps to the IAM action that authorises it on its table or bucket, and each
 * must be granted to the fetch role as synthesized. The writes are listed exactly: PutItem
 * (the hole fill) and UpdateItem (the stable-prefix hint) on the log table, nothing on the meta
 * table or the bucket, and the role grants no other write.
 *
 * Starts its own emulators (a JVM for DynamoDB Local, about two seconds); skipped where no
 * `java` is on the PATH (the integration suite needs it too).
 */
import { spawnSync } from 'node:child_process';
import type { Template } from 'aws-cdk-lib/assertions';
import type { Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { depsFor } from '../../lib/env.ts';
import { startLocalStack, type LocalStack } from '../../lib/local/local-stack.ts';
import { createServices } from '../../lib/services.ts';
import { createAwsClients, type AwsClients } from '../../lib/storage/clients.ts';
import { HINT_SLOT } from '../../lib/storage/keys/partition.ts';
import { TABLE_ACTIONS } from '../../infra/constructs/sluice-function.ts';
import type { SluiceLog } from '../../infra/constructs/sluice-log.ts';
import { call } from '../support/http.ts';
import { quietLogger } from '../support/logger.ts';
import { grantedOn, logicalId, roleIdOf, roleStatements, sorted, synthLog } from '../infra/synth.ts';

const TIMEOUT = 120_000;
const HAS_JAVA = spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;

interface Call {
  readonly service: 'dynamodb' | 's3';
  readonly command: string;
  readonly input: Record<string, unknown>;
}

function recording(stack: LocalStack, calls: Call[]): AwsClients {
  const clients = createAwsClients({
    dynamoEndpoint: stack.dynamoEndpoint,
    s3Endpoint: stack.s3Endpoint,
    region: 'us-east-1',
    dummyCredentials: true,
  });
  const record =
    (service: Call['service']) =>
    <A extends { input: object }, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
    async (args: A): Promise<R> => {
      calls.push({ service, command: String(context.commandName), input: args.input as Record<string, unknown> });
      return next(args);
    };
  clients.dynamo.middlewareStack.add(record('dynamodb'), { step: 'initialize', name: 'recordCommands' });
  clients.s3.middlewareStack.add(record('s3'), { step: 'initialize', name: 'recordCommands' });
  return clients;
}

/**
 * The IAM actions one SDK command needs, each on a resource: `table:<name>`, `objects:<bucket>`
 * or `bucket:<bucket>`. A transaction is authorised item by item (sluice-function.ts).
 */
function iamActions(c: Call): { action: string; resource: string }[] {
  const name = c.command.replace(/Command$/, '');
  if (c.service === 's3') {
    const bucket = String(c.input.Bucket);
    if (name === 'GetObject' || name === 'HeadObject') return [{ action: 's3:GetObject', resource: `objects:${bucket}` }];
    if (name === 'ListObjectsV2') return [{ action: 's3:ListBucket', resource: `bucket:${bucket}` }];
    return [{ action: `s3:${name}`, resource: `objects:${bucket}` }];
  }
  if (name === 'TransactWriteItems' || name === 'TransactGetItems') {
    const kinds = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
    return (c.input.TransactItems as Record<string, { TableName: string }>[]).flatMap((item) =>
      Object.entries(item).map(([kind, op]) => ({
        action: `dynamodb:${kinds[kind as keyof typeof kinds]}`,
        resource: `table:${op.TableName}`,
      })),
    );
  }
  if (name === 'BatchGetItem' || name === 'BatchWriteItem') {
    return Object.keys(c.input.RequestItems as object).map((table) => ({ action: `dynamodb:${name}`, resource: `table:${table}` }));
  }
  return [{ action: `dynamodb:${name}`, resource: `table:${String(c.input.TableName)}` }];
}

const WRITES = new Set(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem', 's3:PutObject', 's3:DeleteObject']);

describe.skipIf(!HAS_JAVA)('what a fetch calls, against the fetch role', { timeout: TIMEOUT }, () => {
  let local: LocalStack;
  const calls: Call[] = [];
  let used: Map<string, Set<string>>;
  let answers: { path: string; status: number; body: any }[];
  // The fetch role as synthesized, by the same resource keys.
  let granted: Map<string, Set<string>>;

  beforeAll(async () => {
    local = await startLocalStack({ prefix: 'fetchrole' });
    const names = local.names;
    const writerDeps = { ...depsFor('local', {}, { clients: local.clients, names }), logger: quietLogger };
    const writer = createApp(writerDeps);
    const topic = 'orders';
    const created = await call(writer, 'POST', '/v1/topics', { name: topic, partitions: 1 });
    expect(created.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const res = await call(writer, 'POST', `/v1/topics/${topic}/records`, { records: [{ value: i, timestamp: 1_000 + i }] });
      expect(res.status).toBe(200);
    }
    // A producer that reserved a slot (offsets 3..4) and crashed before publishing it.
    const tp = { topicId: created.body.topicId as string, partition: 0 };
    await createServices(writerDeps).index.reserve(tp, 2, Date.now());
    await call(writer, 'POST', `/v1/topics/${topic}/records`, { records: [{ value: 'after', timestamp: 2_000 }] });

    // A cold reader (a fresh fetch function), a minute later: the slot has timed out.
    const readerDeps = {
      ...depsFor('local', {}, {
        clients: recording(local, calls),
        names,
        clock: { now: () => Date.now() + 60_000 },
      }),
      logger: quietLogger,
    };
    const reader = createApp(readerDeps);
    const base = `/v1/topics/${topic}/partitions/0`;
    answers = [];
    for (const [method, path, body] of [
      ['GET', `${base}/records?offset=0&maxRecords=100`],
      ['GET', `${base}/records?offset=latest&waitMs=300`],
      ['GET', `${base}/offsets?at=earliest`],
      ['GET', `${base}/offsets?at=latest`],
      ['GET', `${base}/offsets?at=1001`],
      ['POST', '/v1/fetch', { partitions: [{ topic, partition: 0, offset: 1 }], maxRecords: 100 }],
      ['POST', '/v1/fetch', { partitions: [{ topic, partition: 0, offset: 'latest' }], waitMs: 300 }],
    ] as const) {
      answers.push({ path: `${method} ${path}`, ...(await call(reader, method, path, body)) });
    }

    used = new Map();
    for (const c of calls) {
      for (const { action, resource } of iamActions(c)) {
        if (!used.has(resource)) used.set(resource, new Set());
        used.get(resource)!.add(action);
      }
    }

    const { template, stack, log } = synthLog();
    granted = grantsByResource(template, stack, log, names);
  }, TIMEOUT);

  afterAll(async () => {
    await local?.stop();
  });

  it('answers every read route (records past the abandoned slot, offsets by time, long polls)', () => {
    for (const a of answers) expect(a.status, a.path).toBe(200);
    const records = answers[0]!.body.records as { offset: number }[];
    // Offsets 3 and 4 were never published: the reader filled them with a hole and went on.
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 5]);
    expect(answers[4]!.body).toMatchObject({ offset: 1 });
  });

  it('calls nothing the fetch role does not grant', () => {
    expect(calls.length).toBeGreaterThan(0);
    for (const [resource, actions] of used) {
      const allowed = granted.get(resource) ?? new Set();
      for (const action of actions) expect(allowed.has(action), `${action} on ${resource}`).toBe(true);
    }
  });

  it('writes exactly what the role lets it write: PutItem and UpdateItem on the log table', () => {
    const writes = (m: Map<string, Set<string>>) =>
      Object.fromEntries(
        [...m].map(([r, a]) => [r, sorted([...a].filter((x) => WRITES.has(x)))] as const).filter(([, a]) => a.length > 0),
      );
    const log = `table:${local.names.tables.log}`;
    expect(writes(used)).toEqual({ [log]: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] });
    expect(writes(granted)).toEqual(writes(used));
    // The two writes, by what they write: a hole into the abandoned slot, the hint item.
    const puts = calls.filter((c) => c.command === 'PutItemCommand');
    expect(puts.length).toBeGreaterThan(0);
    for (const p of puts) expect(p.input.ConditionExpression).toBe('attribute_not_exists(sk)');
    const updates = calls.filter((c) => c.command === 'UpdateItemCommand');
    expect(updates.length).toBeGreaterThan(0);
    for (const u of updates) expect((u.input.Key as { sk: { N: string } }).sk.N).toBe(String(HINT_SLOT));
    expect(TABLE_ACTIONS.readRepair.filter((a) => WRITES.has(a))).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
  });
});

/** The fetch role's actions per resource key (`table:<name>`, `objects:<bucket>`, `bucket:<bucket>`). */
function grantsByResource(
  template: Template,
  stack: Stack,
  log: SluiceLog,
  names: LocalStack['names'],
): Map<string, Set<string>> {
  const statements = roleStatements(template, roleIdOf(stack, log.fetchFunction));
  const arn = (c: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(stack, c), 'Arn'] });
  return new Map([
    [`table:${names.tables.meta}`, new Set(grantedOn(statements, arn(log.tables.meta)))],
    [`table:${names.tables.log}`, new Set(grantedOn(statements, arn(log.tables.log)))],
    [`objects:${names.bucket}`, new Set(grantedOn(statements, { 'Fn::Join': ['', [arn(log.bucket), '/*']] }))],
    [`bucket:${names.bucket}`, new Set(grantedOn(statements, arn(log.bucket)))],
  ]);
}
