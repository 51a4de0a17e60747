/**
 * Token ACLs (docs/API.md "Tokens and ACLs"), pure: no I/O, no storage.
 *
 * A token's `allow` list holds entries of four kinds:
 *   produce:P   produce to topics matching P (and POST /v1/producers); describe them
 *   fetch:P     fetch from topics matching P, look up their offsets; describe them
 *   group:P     heartbeat, commit, fetch offsets of and describe groups matching P
 *   admin       everything: the operations above on every topic and group, plus creating,
 *               altering and deleting topics, delete-records, offset resets, deleting groups,
 *               and managing tokens
 * P is a Kafka-style pattern: a name ending in `*` is a prefix (`orders*` matches `orders` and
 * `orders-eu`; `*` alone matches everything), anything else is an exact name. Only a trailing
 * `*` is special; a `*` elsewhere makes the entry invalid (Kafka's literal/prefixed patterns
 * have no wildcard in the middle either).
 *
 * Invariant: `authorize(acl, r)` is undefined (allowed) iff some entry of the ACL grants `r`;
 * `admin` grants every requirement. Every refusal names the resource and the operation.
 */
import {
  ClusterAuthorizationFailedError,
  GroupAuthorizationFailedError,
  InvalidRequestError,
  TopicAuthorizationFailedError,
  type SluiceError,
} from '../errors.ts';
import { MAX_ID_LENGTH } from '../id-rules.ts';

export const ACL_KINDS = ['produce', 'fetch', 'group'] as const;
export type AclKind = (typeof ACL_KINDS)[number];

/** At most this many entries per token (a bound on the stored item and on every check). */
export const MAX_ALLOW_ENTRIES = 100;

export interface Acl {
  readonly admin: boolean;
  readonly produce: readonly string[];
  readonly fetch: readonly string[];
  readonly group: readonly string[];
}

/** What a request needs (lib/api/route-acl.ts maps each route to one or more of these). */
export type Requirement =
  /** Any valid token (GET /v1/cluster, and listings that are filtered per token). */
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'produce'; readonly topic: string }
  | { readonly kind: 'fetch'; readonly topic: string }
  /** Describe a topic: produce or fetch on it. */
  | { readonly kind: 'describe'; readonly topic: string }
  | { readonly kind: 'group'; readonly group: string }
  /** POST /v1/producers: produce on some topic (Kafka: WRITE on any topic or IDEMPOTENT_WRITE). */
  | { readonly kind: 'any-produce' }
  /**
   * An admin-only operation on a topic, a group or the cluster (tokens): the resource decides
   * the 403 code, as Kafka's (TOPIC_, GROUP_, CLUSTER_AUTHORIZATION_FAILED). `name` is the
   * topic or group when the path names one (not for a create, whose name is in the body).
   */
  | { readonly kind: 'admin'; readonly operation: string; readonly resource: 'topic' | 'group' | 'cluster'; readonly name?: string };

export const ADMIN_ACL: Acl = { admin: true, produce: [], fetch: [], group: [] };

const PATTERN_BODY = /^[^\p{Cc}\p{Cs}*]*$/u;

/** A Kafka-style pattern: an exact name, or a prefix ending in `*`. */
export function isValidPattern(pattern: string): boolean {
  if (pattern.length === 0 || pattern.length > MAX_ID_LENGTH) return false;
  const body = pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  return PATTERN_BODY.test(body);
}

export function matchesPattern(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/**
 * The ACL of a token's `allow` list, or 400 INVALID_REQUEST naming the first bad entry.
 * Duplicates are allowed and harmless.
 */
export function parseAllow(allow: readonly string[]): Acl {
  if (allow.length === 0) throw new InvalidRequestError('allow must list at least one entry');
  if (allow.length > MAX_ALLOW_ENTRIES) throw new InvalidRequestError(`allow may list at most ${MAX_ALLOW_ENTRIES} entries`);
  const acl = { admin: false, produce: [] as string[], fetch: [] as string[], group: [] as string[] };
  for (const entry of allow) {
    if (entry === 'admin') {
      acl.admin = true;
      continue;
    }
    const colon = entry.indexOf(':');
    const kind = entry.slice(0, colon);
    const pattern = entry.slice(colon + 1);
    if (colon < 0 || !(ACL_KINDS as readonly string[]).includes(kind) || !isValidPattern(pattern)) {
      throw new InvalidRequestError(
        `allow entry ${JSON.stringify(entry)} is not one of produce:P, fetch:P, group:P, admin ` +
          `(P a name, or a prefix ending in '*', of 1-${MAX_ID_LENGTH} printable characters)`,
        { entry },
      );
    }
    acl[kind as AclKind].push(pattern);
  }
  return acl;
}

const some = (patterns: readonly string[], name: string) => patterns.some((p) => matchesPattern(p, name));

export function allows(acl: Acl, r: Requirement): boolean {
  if (acl.admin) return true;
  switch (r.kind) {
    case 'authenticated':
      return true;
    case 'produce':
      return some(acl.produce, r.topic);
    case 'fetch':
      return some(acl.fetch, r.topic);
    case 'describe':
      return some(acl.produce, r.topic) || some(acl.fetch, r.topic);
    case 'group':
      return some(acl.group, r.group);
    case 'any-produce':
      return acl.produce.length > 0;
    case 'admin':
      return false;
  }
}

/** Undefined when allowed; else the 403 to answer. */
export function authorize(acl: Acl, r: Requirement): SluiceError | undefined {
  if (allows(acl, r)) return undefined;
  switch (r.kind) {
    case 'produce':
    case 'fetch':
    case 'describe':
      return new TopicAuthorizationFailedError(r.topic, r.kind);
    case 'group':
      return new GroupAuthorizationFailedError(r.group, 'use');
    case 'any-produce':
      return new ClusterAuthorizationFailedError('initialise a producer (needs produce on some topic)');
    case 'admin':
      if (r.resource === 'group') return new GroupAuthorizationFailedError(r.name, r.operation);
      if (r.resource === 'topic') return new TopicAuthorizationFailedError(r.name, r.operation);
      return new ClusterAuthorizationFailedError(r.operation);
    case 'authenticated':
      return undefined;
  }
}

/** Throws the first refusal among `requirements`. */
export function authorizeAll(acl: Acl, requirements: readonly Requirement[]): void {
  for (const r of requirements) {
    const refused = authorize(acl, r);
    if (refused) throw refused;
  }
}
