/**
 * Tokens and ACLs on the dev server (docs/API.md "Tokens and ACLs"), over real HTTP against
 * the shared stack: every route with a token its ACL allows and one it does not, revocation
 * within the cache TTL, hashes (never tokens) in the meta table, and no token in any log line.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROUTE_ACL } from '../../lib/api/route-acl.ts';
import { hashToken } from '../../lib/auth/tokens.ts';
import { resourceNames } from '../../lib/storage/tables.ts';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { memoryLogger } from '../support/logger.ts';
import { stackApp, stackClients } from '../support/stack.ts';

const run = randomUUID().slice(0, 8);
const ADMIN = `acl-admin-${randomUUID()}`;
const orders = `acl-${run}-orders`;
const secret = `acl-${run}-secret`;
const billing = `acl-${run}-billing-1`;
const billingHb = `acl-${run}-billing-hb`;
const ops = `acl-${run}-ops`;

// The clock runs `skew` ms ahead of real time: a test moves it to expire the token cache.
let skew = 0;
const clock = { now: () => Date.now() + skew };
const logger = memoryLogger();
const app = stackApp({ authToken: ADMIN, clock, logger });
/** A second instance on the same tables: its cache is not the first one's. */
const other = stackApp({ authToken: ADMIN, logger });
let served: ServedApp;
let servedOther: ServedApp;
const issued: string[] = [];

interface Answer {
  readonly status: number;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(base: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}
const api = (token: string | undefined, method: string, path: string, body?: unknown) => call(served.base, token, method, path, body);

async function createToken(name: string, allow: string[], via = served.base): Promise<string> {
  const res = await call(via, ADMIN, 'POST', '/v1/tokens', { name, allow });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.name).toBe(name);
  issued.push(res.body.token);
  return res.body.token as string;
}

let restricted: string;
let fetchOnly: string;

beforeAll(async () => {
  [served, servedOther] = await Promise.all([serveApp(app), serveApp(other)]);
  for (const name of [orders, secret]) expect((await api(ADMIN, 'POST', '/v1/topics', { name, partitions: 1 })).status).toBe(201);
  expect((await api(ADMIN, 'POST', `/v1/topics/${secret}/records`, { records: [{ value: 1 }] })).status).toBe(200);
  expect((await api(ADMIN, 'POST', `/v1/groups/${ops}/offsets`, { offsets: [{ topic: secret, partition: 0, offset: 0 }] })).status).toBe(200);
  restricted = await createToken(`acl-${run}-restricted`, [`produce:acl-${run}-orders*`, `fetch:acl-${run}-orders*`, `group:acl-${run}-billing-*`]);
  fetchOnly = await createToken(`acl-${run}-fetch-only`, [`fetch:${orders}`]);
});

afterAll(async () => {
  await Promise.all([served?.close(), servedOther?.close()]);
});

interface Case {
  /** The ROUTE_ACL row this case exercises. */
  readonly route: string;
  readonly token: () => string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** An HTTP status, or an error code (403s). */
  readonly expect: number | string;
}

const R = () => restricted;
const F = () => fetchOnly;
const A = () => ADMIN;
const BOGUS = () => 'slc_' + 'x'.repeat(43);
const commit = (topic: string) => ({ offsets: [{ topic, partition: 0, offset: 0 }] });

// In order: later cases rely on earlier ones (records produced, offsets committed).
const CASES: readonly Case[] = [
  { route: 'GET /v1/cluster', token: F, method: 'GET', path: '/v1/cluster', expect: 200 },
  { route: 'GET /v1/cluster', token: BOGUS, method: 'GET', path: '/v1/cluster', expect: 'UNAUTHENTICATED' },
  { route: 'GET /v1/topics', token: BOGUS, method: 'GET', path: '/v1/topics', expect: 'UNAUTHENTICATED' },
  { route: 'GET /v1/groups', token: () => 'not-a-token', method: 'GET', path: '/v1/groups', expect: 'UNAUTHENTICATED' },

  { route: 'POST /v1/topics', token: R, method: 'POST', path: '/v1/topics', body: { name: `acl-${run}-orders-new` }, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/topics', token: A, method: 'POST', path: '/v1/topics', body: { name: `acl-${run}-orders-new` }, expect: 201 },
  { route: 'GET /v1/topics', token: R, method: 'GET', path: '/v1/topics', expect: 200 },
  { route: 'GET /v1/topics/:topic', token: F, method: 'GET', path: `/v1/topics/${orders}`, expect: 200 },
  { route: 'GET /v1/topics/:topic', token: R, method: 'GET', path: `/v1/topics/${secret}`, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'PATCH /v1/topics/:topic', token: R, method: 'PATCH', path: `/v1/topics/${orders}`, body: { config: { 'retention.ms': 1000000 } }, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'PATCH /v1/topics/:topic', token: A, method: 'PATCH', path: `/v1/topics/${orders}`, body: { config: { 'retention.ms': 1000000 } }, expect: 200 },

  { route: 'POST /v1/topics/:topic/records', token: R, method: 'POST', path: `/v1/topics/${orders}/records`, body: { records: [{ value: 'a' }, { value: 'b' }] }, expect: 200 },
  { route: 'POST /v1/topics/:topic/records', token: F, method: 'POST', path: `/v1/topics/${orders}/records`, body: { records: [{ value: 'a' }] }, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/topics/:topic/records', token: R, method: 'POST', path: `/v1/topics/${secret}/records`, body: { records: [{ value: 'a' }] }, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  // produce with commitOffsets needs the group and fetch on the committed topics too
  { route: 'POST /v1/topics/:topic/records', token: R, method: 'POST', path: `/v1/topics/${orders}/records`, body: { records: [{ value: 'c' }], commitOffsets: { group: billing, ...commit(orders) } }, expect: 200 },
  { route: 'POST /v1/topics/:topic/records', token: R, method: 'POST', path: `/v1/topics/${orders}/records`, body: { records: [{ value: 'c' }], commitOffsets: { group: ops, ...commit(orders) } }, expect: 'GROUP_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/topics/:topic/records', token: R, method: 'POST', path: `/v1/topics/${orders}/records`, body: { records: [{ value: 'c' }], commitOffsets: { group: billing, ...commit(secret) } }, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/producers', token: R, method: 'POST', path: '/v1/producers', expect: 200 },
  { route: 'POST /v1/producers', token: F, method: 'POST', path: '/v1/producers', expect: 'CLUSTER_AUTHORIZATION_FAILED' },

  { route: 'GET /v1/topics/:topic/partitions/:partition/records', token: F, method: 'GET', path: `/v1/topics/${orders}/partitions/0/records`, expect: 200 },
  { route: 'GET /v1/topics/:topic/partitions/:partition/records', token: R, method: 'GET', path: `/v1/topics/${secret}/partitions/0/records`, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'GET /v1/topics/:topic/partitions/:partition/offsets', token: F, method: 'GET', path: `/v1/topics/${orders}/partitions/0/offsets?at=earliest`, expect: 200 },
  { route: 'GET /v1/topics/:topic/partitions/:partition/offsets', token: R, method: 'GET', path: `/v1/topics/${secret}/partitions/0/offsets`, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/fetch', token: F, method: 'POST', path: '/v1/fetch', body: { partitions: [{ topic: orders, partition: 0, offset: 0 }] }, expect: 200 },
  // A topic not allowed is that partition's error (checked in detail below); with no token, 401.
  { route: 'POST /v1/fetch', token: BOGUS, method: 'POST', path: '/v1/fetch', body: { partitions: [{ topic: orders, partition: 0, offset: 0 }] }, expect: 'UNAUTHENTICATED' },
  { route: 'POST /v1/topics/:topic/partitions/:partition/delete-records', token: R, method: 'POST', path: `/v1/topics/${orders}/partitions/0/delete-records`, body: { beforeOffset: 1 }, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/topics/:topic/partitions/:partition/delete-records', token: A, method: 'POST', path: `/v1/topics/${orders}/partitions/0/delete-records`, body: { beforeOffset: 1 }, expect: 200 },

  { route: 'POST /v1/groups/:group/heartbeat', token: R, method: 'POST', path: `/v1/groups/${billingHb}/heartbeat`, body: { memberEpoch: 0, topics: [orders] }, expect: 200 },
  { route: 'POST /v1/groups/:group/heartbeat', token: R, method: 'POST', path: `/v1/groups/${ops}/heartbeat`, body: { memberEpoch: 0, topics: [orders] }, expect: 'GROUP_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/groups/:group/offsets', token: R, method: 'POST', path: `/v1/groups/${billing}/offsets`, body: commit(orders), expect: 200 },
  { route: 'POST /v1/groups/:group/offsets', token: R, method: 'POST', path: `/v1/groups/${billing}/offsets`, body: commit(secret), expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/groups/:group/offsets', token: R, method: 'POST', path: `/v1/groups/${ops}/offsets`, body: commit(orders), expect: 'GROUP_AUTHORIZATION_FAILED' },
  { route: 'GET /v1/groups/:group/offsets', token: R, method: 'GET', path: `/v1/groups/${billing}/offsets`, expect: 200 },
  { route: 'GET /v1/groups/:group/offsets', token: R, method: 'GET', path: `/v1/groups/${ops}/offsets`, expect: 'GROUP_AUTHORIZATION_FAILED' },
  { route: 'GET /v1/groups', token: R, method: 'GET', path: '/v1/groups', expect: 200 },
  { route: 'GET /v1/groups/:group', token: R, method: 'GET', path: `/v1/groups/${billing}`, expect: 200 },
  { route: 'GET /v1/groups/:group', token: F, method: 'GET', path: `/v1/groups/${billing}`, expect: 'GROUP_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/groups/:group/offsets/reset', token: R, method: 'POST', path: `/v1/groups/${billing}/offsets/reset`, body: { topic: orders, to: 'earliest' }, expect: 'GROUP_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/groups/:group/offsets/reset', token: A, method: 'POST', path: `/v1/groups/${billing}/offsets/reset`, body: { topic: orders, to: 'earliest' }, expect: 200 },
  { route: 'DELETE /v1/groups/:group', token: R, method: 'DELETE', path: `/v1/groups/${billing}`, expect: 'GROUP_AUTHORIZATION_FAILED' },
  { route: 'DELETE /v1/groups/:group', token: A, method: 'DELETE', path: `/v1/groups/${billing}`, expect: 204 },

  { route: 'POST /v1/tokens', token: R, method: 'POST', path: '/v1/tokens', body: { name: `acl-${run}-x`, allow: ['admin'] }, expect: 'CLUSTER_AUTHORIZATION_FAILED' },
  { route: 'POST /v1/tokens', token: A, method: 'POST', path: '/v1/tokens', body: { name: `acl-${run}-case`, allow: ['group:*'] }, expect: 201 },
  { route: 'DELETE /v1/tokens/:name', token: A, method: 'DELETE', path: `/v1/tokens/acl-${run}-case`, expect: 204 },
  { route: 'GET /v1/tokens', token: R, method: 'GET', path: '/v1/tokens', expect: 'CLUSTER_AUTHORIZATION_FAILED' },
  { route: 'GET /v1/tokens', token: A, method: 'GET', path: '/v1/tokens', expect: 200 },
  { route: 'DELETE /v1/tokens/:name', token: R, method: 'DELETE', path: `/v1/tokens/acl-${run}-fetch-only`, expect: 'CLUSTER_AUTHORIZATION_FAILED' },
  { route: 'DELETE /v1/tokens/:name', token: A, method: 'DELETE', path: `/v1/tokens/acl-${run}-nobody`, expect: 'DELEGATION_TOKEN_NOT_FOUND' },

  { route: 'DELETE /v1/topics/:topic', token: R, method: 'DELETE', path: `/v1/topics/acl-${run}-orders-new`, expect: 'TOPIC_AUTHORIZATION_FAILED' },
  { route: 'DELETE /v1/topics/:topic', token: A, method: 'DELETE', path: `/v1/topics/acl-${run}-orders-new`, expect: 204 },
];

const allowed = (c: Case) => typeof c.expect === 'number';

describe('every route with a token its ACL allows and one it does not', () => {
  it('covers every row of the route table both ways', () => {
    for (const row of ROUTE_ACL) {
      const key = `${row.method} ${row.path}`;
      const cases = CASES.filter((c) => c.route === key);
      expect(cases.some(allowed), `${key}: an allowed case`).toBe(true);
      expect(cases.some((c) => !allowed(c)), `${key}: a refused case`).toBe(true);
    }
  });

  it('answers each case as the ACL says', async () => {
    for (const c of CASES) {
      const res = await api(c.token(), c.method, c.path, c.body);
      const what = `${c.method} ${c.path} → ${res.status} ${JSON.stringify(res.body)}`;
      if (typeof c.expect === 'number') {
        expect(res.status, what).toBe(c.expect);
      } else {
        expect(res.body?.error?.code, what).toBe(c.expect);
        expect(res.status, what).toBe(c.expect === 'UNAUTHENTICATED' ? 401 : c.expect === 'DELEGATION_TOKEN_NOT_FOUND' ? 404 : 403);
      }
    }
  });

  it('answers 401 on every route without a token, and keeps /healthz open', async () => {
    for (const row of ROUTE_ACL) {
      const path = row.path.replace(':topic', orders).replace(':partition', '0').replace(':group', billing).replace(':name', 'x');
      const res = await api(undefined, row.method, path, row.method === 'GET' || row.method === 'DELETE' ? undefined : {});
      expect(res.status, `${row.method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
    expect((await api(undefined, 'GET', '/healthz')).status).toBe(200);
  });

  it('lists only the topics and groups a token may describe', async () => {
    const topics = (await api(restricted, 'GET', '/v1/topics')).body.topics.map((t: { name: string }) => t.name);
    expect(topics).toContain(orders);
    expect(topics).not.toContain(secret);
    expect(topics.every((t: string) => t.startsWith(`acl-${run}-orders`))).toBe(true);
    const groups = (await api(restricted, 'GET', '/v1/groups')).body.groups.map((g: { group: string }) => g.group);
    expect(groups).not.toContain(ops);
    expect(groups.every((g: string) => g.startsWith(`acl-${run}-billing-`))).toBe(true);
    expect((await api(ADMIN, 'GET', '/v1/groups')).body.groups.map((g: { group: string }) => g.group)).toContain(ops);
  });

  it('answers a multi-partition fetch per partition: a topic not allowed is that partition\'s 403', async () => {
    const res = await api(restricted, 'POST', '/v1/fetch', {
      partitions: [
        { topic: secret, partition: 0, offset: 0 },
        { topic: orders, partition: 0, offset: 'earliest' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.partitions[0]).toMatchObject({ topic: secret, partition: 0, error: { code: 'TOPIC_AUTHORIZATION_FAILED', topic: secret } });
    expect(res.body.partitions[1].error).toBeUndefined();
    expect(res.body.partitions[1].records.length).toBeGreaterThan(0);
  });
});

describe("the token beside a SigV4 signature (auth 'both')", () => {
  it('takes the token from X-Sluice-Token, whatever Authorization carries', async () => {
    const withHeaders = async (headers: Record<string, string>) => (await fetch(`${served.base}/v1/topics/${orders}`, { headers })).status;
    const sigv4 = 'AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date;x-sluice-token, Signature=00';
    expect(await withHeaders({ authorization: sigv4, 'x-sluice-token': fetchOnly })).toBe(200);
    expect(await withHeaders({ authorization: sigv4, 'x-sluice-token': 'slc_not-a-real-token' })).toBe(401);
    expect(await withHeaders({ authorization: sigv4 })).toBe(401); // a signature alone is no token
    // The ACL is the token's: fetch on one topic does not describe another.
    expect((await fetch(`${served.base}/v1/topics/${secret}`, { headers: { authorization: sigv4, 'x-sluice-token': fetchOnly } })).status).toBe(403);
  });
});

describe('managing tokens', () => {
  it('refuses bad names and entries (400), a duplicate name (409), and never lists a token or hash', async () => {
    expect((await api(ADMIN, 'POST', '/v1/tokens', { name: `acl-${run}-bad`, allow: ['write:x'] })).body.error.code).toBe('INVALID_REQUEST');
    expect((await api(ADMIN, 'POST', '/v1/tokens', { name: `acl-${run}-bad`, allow: ['fetch:a*b'] })).status).toBe(400);
    expect((await api(ADMIN, 'POST', '/v1/tokens', { name: '', allow: ['admin'] })).status).toBe(400);
    expect((await api(ADMIN, 'POST', '/v1/tokens', { name: `acl-${run}-bad` })).status).toBe(400);
    const dup = await api(ADMIN, 'POST', '/v1/tokens', { name: `acl-${run}-restricted`, allow: ['admin'] });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('DUPLICATE_RESOURCE');

    const listed = (await api(ADMIN, 'GET', '/v1/tokens')).body.tokens;
    const mine = listed.find((t: { name: string }) => t.name === `acl-${run}-restricted`);
    expect(Object.keys(mine).sort()).toEqual(['allow', 'createdAt', 'name']);
    expect(mine.allow).toEqual([`produce:acl-${run}-orders*`, `fetch:acl-${run}-orders*`, `group:acl-${run}-billing-*`]);
    const text = JSON.stringify(listed);
    for (const token of issued) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(hashToken(token));
    }
  });

  it('a token created with admin can manage tokens', async () => {
    const admin2 = await createToken(`acl-${run}-admin2`, ['admin']);
    expect((await api(admin2, 'GET', '/v1/tokens')).status).toBe(200);
    expect((await api(admin2, 'DELETE', `/v1/tokens/acl-${run}-admin2`)).status).toBe(204);
    expect((await api(admin2, 'GET', '/v1/tokens')).status).toBe(401);
  });

  it('a revoked token stops working within the cache TTL on another instance, at once on its own', async () => {
    const token = await createToken(`acl-${run}-revoked`, [`fetch:${orders}`]);
    expect((await api(token, 'GET', `/v1/topics/${orders}`)).status).toBe(200);
    // Revoked through the other instance: this one still has it cached, for at most 5 s.
    expect((await call(servedOther.base, ADMIN, 'DELETE', `/v1/tokens/acl-${run}-revoked`)).status).toBe(204);
    expect((await call(servedOther.base, token, 'GET', `/v1/topics/${orders}`)).status).toBe(401);
    skew += 5_001;
    expect((await api(token, 'GET', `/v1/topics/${orders}`)).status).toBe(401);

    const other2 = await createToken(`acl-${run}-revoked2`, [`fetch:${orders}`]);
    expect((await api(other2, 'GET', `/v1/topics/${orders}`)).status).toBe(200);
    expect((await api(ADMIN, 'DELETE', `/v1/tokens/acl-${run}-revoked2`)).status).toBe(204);
    expect((await api(other2, 'GET', `/v1/topics/${orders}`)).status).toBe(401);
    expect((await api(ADMIN, 'DELETE', `/v1/tokens/acl-${run}-revoked2`)).body.error.code).toBe('DELEGATION_TOKEN_NOT_FOUND');
  });
});

describe('secrets stay secret', () => {
  it('stores hashes only: no item of the meta table holds a token', async () => {
    const stack = inject('sluiceStack');
    const table = resourceNames(stack.prefix, stack.bucket).tables.meta;
    const dynamo = stackClients().dynamo;
    const items: unknown[] = [];
    let start: Record<string, never> | undefined;
    do {
      const page = await dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey as typeof start;
    } while (start);
    const text = JSON.stringify(items);
    expect(issued.length).toBeGreaterThan(2);
    expect(text).toContain(hashToken(restricted)); // the hash is there...
    for (const token of [...issued, ADMIN]) expect(text).not.toContain(token); // ...the token never
  });

  it('logs no token: not the bootstrap token, not an issued one', () => {
    expect(logger.lines.length).toBeGreaterThan(20); // every request above left a line
    for (const line of logger.lines) {
      for (const token of [...issued, ADMIN]) expect(line).not.toContain(token);
      expect(line.toLowerCase()).not.toContain('bearer');
    }
  });
});
