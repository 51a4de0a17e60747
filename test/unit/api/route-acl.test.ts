/**
 * The route → permission table covers the app: every /v1 route has exactly one row, every row
 * names a route, and a path that matches no row needs admin (default deny).
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../lib/api/app.ts';
import { ROUTE_ACL, requirementsFor } from '../../../lib/api/route-acl.ts';
import { randomIds, systemClock } from '../../../lib/deps.ts';
import { createAwsClients } from '../../../lib/storage/clients.ts';
import { resourceNames } from '../../../lib/storage/tables.ts';

const app = createApp({
  clients: createAwsClients({ dynamoEndpoint: 'http://127.0.0.1:9', s3Endpoint: 'http://127.0.0.1:9', region: 'us-east-1', dummyCredentials: true }),
  names: resourceNames('unit'),
  clock: systemClock,
  ids: randomIds,
  backend: 'local',
});

const routes = [...new Set(app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1')).map((r) => `${r.method} ${r.path}`))].sort();
const rows = ROUTE_ACL.map((r) => `${r.method} ${r.path}`);

describe('the route ACL table', () => {
  it('has a row for every /v1 route of the app, and no row without a route', () => {
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.filter((r) => !rows.includes(r))).toEqual([]);
    expect(rows.filter((r) => !routes.includes(r))).toEqual([]);
    expect(new Set(rows).size).toBe(rows.length);
  });

  it('maps path parameters, decoded, into the requirements', () => {
    expect(requirementsFor('GET', '/v1/topics/a%2Eb/partitions/0/records')).toEqual([{ kind: 'fetch', topic: 'a.b' }]);
    expect(requirementsFor('POST', '/v1/topics/orders/records')).toEqual([{ kind: 'produce', topic: 'orders' }]);
    expect(requirementsFor('GET', '/v1/groups/g%20x')).toEqual([{ kind: 'group', group: 'g x' }]);
    expect(requirementsFor('DELETE', '/v1/groups/g')).toEqual([{ kind: 'admin', operation: 'delete', resource: 'group', name: 'g' }]);
    expect(requirementsFor('GET', '/v1/cluster')).toEqual([{ kind: 'authenticated' }]);
    expect(requirementsFor('POST', '/v1/topics')).toEqual([{ kind: 'admin', operation: 'create', resource: 'topic' }]);
  });

  it('needs admin for a path no row matches', () => {
    for (const [method, path] of [['GET', '/v1/nothing'], ['PUT', '/v1/topics'], ['GET', '/v1/topics/'], ['GET', '/v1/topics//partitions/0/records']]) {
      expect(requirementsFor(method!, path!), `${method} ${path}`).toEqual([{ kind: 'admin', operation: 'use this route', resource: 'cluster' }]);
    }
  });
});
