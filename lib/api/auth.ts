/**
 * Authentication and authorization of /v1 requests (docs/API.md "Tokens and ACLs"). With an
 * authenticator (a bootstrap admin token is configured), every /v1 request needs a valid
 * bearer token (401 UNAUTHENTICATED), and the route table (route-acl.ts) decides what it may
 * do (403). Without one the API is open: every request acts as an admin.
 *
 * The token is never logged: it is read from the header here, hashed, and dropped; the
 * principal kept for the request holds only the token's name and ACL.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { ADMIN_ACL, authorize, authorizeAll, type Requirement } from '../auth/acl.ts';
import type { Authenticator, Principal } from '../auth/tokens.ts';
import { TopicAuthorizationFailedError } from '../errors.ts';
import type { PartitionFetchRequest, PartitionFetchResult } from '../log/fetch.ts';
import { requirementsFor } from './route-acl.ts';

/** Who an open API's requests are: any operation is allowed. */
export const OPEN_PRINCIPAL: Principal = { name: 'anonymous', acl: ADMIN_ACL };

const principals = new WeakMap<Request, Principal>();

/** The principal of the request (OPEN_PRINCIPAL when auth is off). */
export function principalOf(c: Context): Principal {
  return principals.get(c.req.raw) ?? OPEN_PRINCIPAL;
}

/** Throws the 403 of the first requirement the request's token does not meet. */
export function requireAll(c: Context, requirements: readonly Requirement[]): void {
  authorizeAll(principalOf(c).acl, requirements);
}

/** True when the request's token meets `r` (for filtering listings and per-partition errors). */
export function permits(c: Context, r: Requirement): boolean {
  return authorize(principalOf(c).acl, r) === undefined;
}

/** 401 UNAUTHENTICATED unless the request carries a valid bearer token; keeps its principal. */
/** An offset commit's needs: the group, and fetch on every topic committed (Kafka's OffsetCommit: READ on both). */
export function commitRequirements(group: string, offsets: readonly { topic: string }[]): Requirement[] {
  return [{ kind: 'group', group }, ...[...new Set(offsets.map((o) => o.topic))].map((topic): Requirement => ({ kind: 'fetch', topic }))];
}

/**
 * A multi-partition fetch of only the partitions whose topic the token may fetch; each other
 * partition answers TOPIC_AUTHORIZATION_FAILED in its own `error`, as Kafka answers a Fetch.
 * Results keep the request's order.
 */
export async function fetchPermitted(
  c: Context,
  requests: readonly PartitionFetchRequest[],
  run: (permitted: readonly PartitionFetchRequest[]) => Promise<PartitionFetchResult[]>,
): Promise<PartitionFetchResult[]> {
  const ok = requests.map((r) => permits(c, { kind: 'fetch', topic: r.topic }));
  const fetched = await run(requests.filter((_, i) => ok[i]));
  let next = 0;
  return requests.map((r, i) =>
    ok[i] ? fetched[next++]! : { topic: r.topic, partition: r.partition, error: new TopicAuthorizationFailedError(r.topic, 'fetch') },
  );
}

export function authenticate(authenticator: Authenticator): MiddlewareHandler {
  return async (c, next) => {
    principals.set(c.req.raw, await authenticator.authenticate(requestToken(c.req.header('x-sluice-token'), c.req.header('authorization'))));
    await next();
  };
}

/** 403 unless the request's principal meets its route's row of the table (route-acl.ts). */
export function authorizeRoute(): MiddlewareHandler {
  return async (c, next) => {
    requireAll(c, requirementsFor(c.req.method, new URL(c.req.url).pathname));
    await next();
  };
}

/**
 * The request's token: the `X-Sluice-Token` header when present, else `Authorization: Bearer`.
 * The separate header is for `auth: both` deployments, where `Authorization` carries the
 * request's SigV4 signature (checked by API Gateway) and the token must travel beside it.
 */
export function requestToken(sluiceToken: string | undefined, authorization: string | undefined): string | undefined {
  if (sluiceToken !== undefined) return sluiceToken.trim() === '' ? undefined : sluiceToken.trim();
  return bearerToken(authorization);
}

/**
 * The token of an `Authorization: Bearer <token>` header. The scheme name is
 * case-insensitive (RFC 9110 §11.1: `bearer`, `BEARER` are the same scheme); the token is
 * compared exactly.
 */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^bearer +(\S+) *$/i.exec(header);
  return match ? match[1] : undefined;
}
