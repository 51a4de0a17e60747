/**
 * The one route → permission table (docs/API.md "Tokens and ACLs"). Every /v1 route has a row;
 * a test (test/unit/api/route-acl.test.ts) fails when a route of the app has none, or a row
 * names no route. A request that matches no row needs an `admin` token (default deny: a route
 * added without a row is closed, not open).
 *
 * What depends on the body is checked by the route itself, with the same rules (lib/auth/acl.ts):
 *   POST /v1/fetch                     per partition: a topic without fetch gets that
 *                                      partition's TOPIC_AUTHORIZATION_FAILED error
 *   POST /v1/topics/{t}/records        commitOffsets: group on its group, fetch on its topics
 *   POST /v1/groups/{g}/offsets        fetch on every committed topic
 *   GET  /v1/topics, GET /v1/groups,   only what the token may describe is listed
 *   GET  /v1/groups/{g}/offsets
 */
import type { Requirement } from '../auth/acl.ts';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteAcl {
  readonly method: Method;
  /** Hono's path pattern, as `app.routes` lists it. */
  readonly path: string;
  readonly require: (params: Readonly<Record<string, string>>) => readonly Requirement[];
}

const authenticated = (): readonly Requirement[] => [{ kind: 'authenticated' }];
const admin =
  (operation: string, resource: 'topic' | 'group' | 'cluster') =>
  (p: Readonly<Record<string, string>>): readonly Requirement[] => {
    const name = resource === 'topic' ? p.topic : resource === 'group' ? p.group : undefined;
    return [{ kind: 'admin', operation, resource, ...(name === undefined ? {} : { name }) }];
  };
const onTopic = (kind: 'produce' | 'fetch' | 'describe') => (p: Readonly<Record<string, string>>): readonly Requirement[] => [{ kind, topic: p.topic! }];
const onGroup = (p: Readonly<Record<string, string>>): readonly Requirement[] => [{ kind: 'group', group: p.group! }];

export const ROUTE_ACL: readonly RouteAcl[] = [
  { method: 'GET', path: '/v1/cluster', require: authenticated },

  { method: 'POST', path: '/v1/topics', require: admin('create', 'topic') },
  { method: 'GET', path: '/v1/topics', require: authenticated },
  { method: 'GET', path: '/v1/topics/:topic', require: onTopic('describe') },
  { method: 'PATCH', path: '/v1/topics/:topic', require: admin('alter', 'topic') },
  { method: 'DELETE', path: '/v1/topics/:topic', require: admin('delete', 'topic') },
  { method: 'POST', path: '/v1/topics/:topic/partitions/:partition/delete-records', require: admin('delete records of', 'topic') },

  { method: 'POST', path: '/v1/topics/:topic/records', require: onTopic('produce') },
  { method: 'POST', path: '/v1/producers', require: () => [{ kind: 'any-produce' }] },
  { method: 'GET', path: '/v1/topics/:topic/partitions/:partition/records', require: onTopic('fetch') },
  { method: 'GET', path: '/v1/topics/:topic/partitions/:partition/offsets', require: onTopic('fetch') },
  { method: 'POST', path: '/v1/fetch', require: authenticated },

  { method: 'GET', path: '/v1/groups', require: authenticated },
  { method: 'GET', path: '/v1/groups/:group', require: onGroup },
  { method: 'DELETE', path: '/v1/groups/:group', require: admin('delete', 'group') },
  { method: 'POST', path: '/v1/groups/:group/heartbeat', require: onGroup },
  { method: 'POST', path: '/v1/groups/:group/offsets', require: onGroup },
  { method: 'GET', path: '/v1/groups/:group/offsets', require: onGroup },
  { method: 'POST', path: '/v1/groups/:group/offsets/reset', require: admin('reset offsets of', 'group') },

  { method: 'POST', path: '/v1/tokens', require: admin('create tokens', 'cluster') },
  { method: 'GET', path: '/v1/tokens', require: admin('list tokens', 'cluster') },
  { method: 'DELETE', path: '/v1/tokens/:name', require: admin('revoke tokens', 'cluster') },
];

const DEFAULT_DENY: readonly Requirement[] = [{ kind: 'admin', operation: 'use this route', resource: 'cluster' }];

interface Compiled {
  readonly method: string;
  readonly segments: readonly string[];
  readonly row: RouteAcl;
}

const COMPILED: readonly Compiled[] = ROUTE_ACL.map((row) => ({ method: row.method, segments: row.path.split('/'), row }));

/**
 * The requirements of a request, from its method and raw (still percent-encoded) path. Each
 * `:param` matches one segment, decoded as Hono decodes route params. HEAD is checked as GET.
 */
export function requirementsFor(method: string, rawPath: string): readonly Requirement[] {
  const m = method === 'HEAD' ? 'GET' : method;
  const segments = rawPath.split('/');
  for (const { method: rowMethod, segments: pattern, row } of COMPILED) {
    if (rowMethod !== m || pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const want = pattern[i]!;
      const got = segments[i]!;
      if (want.startsWith(':')) {
        if (got === '') ok = false;
        else params[want.slice(1)] = safeDecode(got);
      } else ok = want === got;
    }
    if (ok) return row.require(params);
  }
  return DEFAULT_DENY;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // assertPathDecodes answers 400 for it first
  }
}
