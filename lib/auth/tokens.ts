/**
 * Bearer tokens (docs/API.md "Tokens and ACLs"): their format, their hash, who a presented
 * token is (with a short in-memory cache), and managing them. Storage is injected
 * (lib/storage/token-store.ts, as a type only).
 *
 *   token   `slc_` + 43 base64url characters: 32 random bytes (256 bits), shown once
 *   stored  only SHA-256(token), hex: tokens are high-entropy, so a plain hash is enough
 *           (no salt or slow hash needed: nothing to brute-force)
 *
 * The bootstrap admin token (SLUICE_AUTH_TOKEN, or the SecretString of SLUICE_AUTH_SECRET_ARN)
 * is never stored: it is compared (as a hash, in constant time) before any lookup. A presented
 * token that is neither the bootstrap token nor of the `slc_` format answers 401 without a
 * storage read.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../deps.ts';
import { InvalidRequestError, UnauthenticatedError } from '../errors.ts';
import { validateId } from '../id-rules.ts';
import type { StoredToken } from '../model/token.ts';
import { ADMIN_ACL, parseAllow, type Acl } from './acl.ts';

export const TOKEN_PREFIX = 'slc_';
const TOKEN_FORMAT = /^slc_[A-Za-z0-9_-]{43}$/;

/** How long a lookup's answer is reused: a revoked token stops working within this. */
export const TOKEN_CACHE_TTL_MS = 5_000;
/** Unknown tokens are remembered more briefly: a token just created works almost at once. */
export const TOKEN_NEGATIVE_TTL_MS = 1_000;
/** Entries kept at most (the oldest goes first): a flood of random tokens cannot grow memory. */
export const TOKEN_CACHE_ENTRIES = 10_000;

/** The principal of the bootstrap token (its name is not a stored token's). */
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap';

export interface Principal {
  readonly name: string;
  readonly acl: Acl;
}


/** What the rules need of storage (lib/storage/token-store.ts). */
export interface TokenRepository {
  byHash(hash: string): Promise<StoredToken | undefined>;
  create(token: StoredToken): Promise<void>;
  list(): Promise<StoredToken[]>;
  /** Deletes the token called `name` and answers its hash; DELEGATION_TOKEN_NOT_FOUND if none. */
  delete(name: string): Promise<string>;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isTokenFormat(token: string): boolean {
  return TOKEN_FORMAT.test(token);
}

/** A fresh token from 32 bytes of randomness. */
export function formatToken(secret: Uint8Array): string {
  if (secret.length !== 32) throw new Error('a token needs exactly 32 random bytes');
  return TOKEN_PREFIX + Buffer.from(secret).toString('base64url');
}

export const randomSecret = (): Uint8Array => randomBytes(32);

interface CacheEntry {
  readonly principal: Principal | undefined;
  readonly until: number;
}

export interface AuthenticatorOptions {
  readonly ttlMs?: number;
  readonly negativeTtlMs?: number;
  readonly maxEntries?: number;
}

/**
 * Who a bearer token is. `bootstrap` is the admin token's source, read once (a failed read,
 * e.g. Secrets Manager briefly unavailable, is retried by the next request rather than
 * remembered: the API stays closed meanwhile).
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private bootstrapHash: Promise<Buffer> | undefined;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly tokens: Pick<TokenRepository, 'byHash'>,
    private readonly bootstrap: () => Promise<string>,
    private readonly clock: Clock,
    opts: AuthenticatorOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? TOKEN_CACHE_TTL_MS;
    this.negativeTtlMs = opts.negativeTtlMs ?? TOKEN_NEGATIVE_TTL_MS;
    this.maxEntries = opts.maxEntries ?? TOKEN_CACHE_ENTRIES;
  }

  /** The principal of `token`, or 401 UNAUTHENTICATED. */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (token === undefined) throw new UnauthenticatedError();
    const hash = hashToken(token);
    if (timingSafeEqual(Buffer.from(hash, 'hex'), await this.bootstrapDigest())) {
      return { name: BOOTSTRAP_TOKEN_NAME, acl: ADMIN_ACL };
    }
    if (!isTokenFormat(token)) throw new UnauthenticatedError();
    const principal = await this.lookup(hash);
    if (principal === undefined) throw new UnauthenticatedError();
    return principal;
  }

  /** Forgets a token at once on this instance (after a revoke through it). */
  forget(hash: string): void {
    this.cache.delete(hash);
  }

  private async lookup(hash: string): Promise<Principal | undefined> {
    const now = this.clock.now();
    const hit = this.cache.get(hash);
    if (hit !== undefined && hit.until > now) return hit.principal;
    const stored = await this.tokens.byHash(hash);
    const principal = stored === undefined ? undefined : { name: stored.name, acl: parseAllow(stored.allow) };
    this.cache.delete(hash);
    this.cache.set(hash, { principal, until: now + (principal ? this.ttlMs : this.negativeTtlMs) });
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    return principal;
  }

  private bootstrapDigest(): Promise<Buffer> {
    if (this.bootstrapHash === undefined) {
      const pending = this.bootstrap().then((token) => {
        if (token === '') throw new Error('the bootstrap admin token is empty');
        return Buffer.from(hashToken(token), 'hex');
      });
      this.bootstrapHash = pending;
      pending.catch(() => {
        if (this.bootstrapHash === pending) this.bootstrapHash = undefined;
      });
    }
    return this.bootstrapHash;
  }
}

export interface TokenListing {
  readonly name: string;
  readonly allow: readonly string[];
  readonly createdAt: number;
}

/** Creating, listing and revoking tokens (admin only: checked by the route table). */
export class TokenService {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly clock: Clock,
    /** Undefined when auth is off (no token is checked, so none is cached). */
    private readonly authenticator: Authenticator | undefined,
    private readonly secret: () => Uint8Array = randomSecret,
  ) {}

  /** The new token, returned this once; only its hash is stored. */
  async create(name: string, allow: readonly string[]): Promise<{ name: string; token: string }> {
    validateId('token', name);
    if (name === BOOTSTRAP_TOKEN_NAME) throw new InvalidRequestError(`'${BOOTSTRAP_TOKEN_NAME}' names the bootstrap token; choose another name`);
    parseAllow(allow);
    const token = formatToken(this.secret());
    await this.tokens.create({ name, hash: hashToken(token), allow: [...allow], createdAt: this.clock.now() });
    return { name, token };
  }

  async list(): Promise<TokenListing[]> {
    const all = await this.tokens.list();
    return all.map(({ name, allow, createdAt }) => ({ name, allow, createdAt })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async revoke(name: string): Promise<void> {
    validateId('token', name);
    // Other instances stop accepting it within TOKEN_CACHE_TTL_MS; this one at once.
    this.authenticator?.forget(await this.tokens.delete(name));
  }
}
