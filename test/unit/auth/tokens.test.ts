import { describe, expect, it } from 'vitest';
import { Authenticator, TokenService, formatToken, hashToken, isTokenFormat } from '../../../lib/auth/tokens.ts';
import { SluiceError, TokenAlreadyExistsError, TokenNotFoundError } from '../../../lib/errors.ts';
import type { StoredToken } from '../../../lib/model/token.ts';

/** An in-memory repository (the real one is tested against DynamoDB Local in test/integration/acl.int.test.ts). */
function memoryTokens() {
  const byName = new Map<string, StoredToken>();
  let lookups = 0;
  return {
    get lookups() {
      return lookups;
    },
    async byHash(hash: string) {
      lookups++;
      return [...byName.values()].find((t) => t.hash === hash);
    },
    async create(t: StoredToken) {
      if (byName.has(t.name)) throw new TokenAlreadyExistsError(t.name);
      byName.set(t.name, t);
    },
    async list() {
      return [...byName.values()];
    },
    async delete(name: string) {
      const t = byName.get(name);
      if (!t) throw new TokenNotFoundError(name);
      byName.delete(name);
      return t.hash;
    },
  };
}

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as SluiceError).code;
  }
};

function setup() {
  let now = 1_000_000;
  const clock = { now: () => now };
  const repo = memoryTokens();
  const auth = new Authenticator(repo, async () => 'the-admin-token', clock);
  let n = 0;
  const service = new TokenService(repo, clock, auth, () => new Uint8Array(32).fill(++n));
  return { repo, auth, service, advance: (ms: number) => (now += ms) };
}

describe('token format', () => {
  it('is slc_ and 43 base64url characters (256 bits)', () => {
    const token = formatToken(new Uint8Array(32).fill(255));
    expect(token).toMatch(/^slc_[A-Za-z0-9_-]{43}$/);
    expect(isTokenFormat(token)).toBe(true);
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('Authenticator', () => {
  it('knows the bootstrap token as an admin without a lookup', async () => {
    const { repo, auth } = setup();
    expect((await auth.authenticate('the-admin-token')).acl.admin).toBe(true);
    expect(repo.lookups).toBe(0);
  });

  it('answers 401 for a missing token and for one of another format, without a lookup', async () => {
    const { repo, auth } = setup();
    expect(await code(auth.authenticate(undefined))).toBe('UNAUTHENTICATED');
    expect(await code(auth.authenticate('guess'))).toBe('UNAUTHENTICATED');
    expect(repo.lookups).toBe(0);
  });

  it('caches an answer for 5 s: a revoked token stops working within that', async () => {
    const { repo, auth, service, advance } = setup();
    const { token } = await service.create('ci', ['fetch:*']);
    expect((await auth.authenticate(token)).name).toBe('ci');
    await repo.delete('ci'); // revoked through another instance: this one's cache still holds it
    advance(4_999);
    expect((await auth.authenticate(token)).name).toBe('ci');
    advance(2);
    expect(await code(auth.authenticate(token))).toBe('UNAUTHENTICATED');
  });

  it('forgets a token revoked through this instance at once', async () => {
    const { auth, service } = setup();
    const { token } = await service.create('ci', ['fetch:*']);
    await auth.authenticate(token);
    await service.revoke('ci');
    expect(await code(auth.authenticate(token))).toBe('UNAUTHENTICATED');
  });

  it('caches an unknown token for 1 s only', async () => {
    const { repo, auth, advance } = setup();
    const unknown = formatToken(new Uint8Array(32).fill(7));
    expect(await code(auth.authenticate(unknown))).toBe('UNAUTHENTICATED');
    expect(await code(auth.authenticate(unknown))).toBe('UNAUTHENTICATED');
    expect(repo.lookups).toBe(1);
    advance(1_001);
    await code(auth.authenticate(unknown));
    expect(repo.lookups).toBe(2);
  });

  it('retries a bootstrap source that failed instead of remembering the failure', async () => {
    let calls = 0;
    const auth = new Authenticator(memoryTokens(), async () => {
      if (++calls === 1) throw new Error('secret briefly unavailable');
      return 'admin';
    }, { now: () => 0 });
    await expect(auth.authenticate('admin')).rejects.toThrow('briefly unavailable');
    expect((await auth.authenticate('admin')).acl.admin).toBe(true);
  });
});

describe('TokenService', () => {
  it('shows the token once, stores its hash, and lists name, allow and createdAt only', async () => {
    const { service, repo } = setup();
    const { name, token } = await service.create('ci', ['produce:orders*']);
    expect(name).toBe('ci');
    const stored = await repo.list();
    expect(stored[0]!.hash).toBe(hashToken(token));
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(await service.list()).toEqual([{ name: 'ci', allow: ['produce:orders*'], createdAt: 1_000_000 }]);
  });

  it('refuses bad names and entries with INVALID_REQUEST, the bootstrap name too', async () => {
    const { service } = setup();
    expect(await code(service.create('', ['admin']))).toBe('INVALID_REQUEST');
    expect(await code(service.create('x'.repeat(256), ['admin']))).toBe('INVALID_REQUEST');
    expect(await code(service.create('a\u0001', ['admin']))).toBe('INVALID_REQUEST');
    expect(await code(service.create('bootstrap', ['admin']))).toBe('INVALID_REQUEST');
    expect(await code(service.create('ok', ['write:x']))).toBe('INVALID_REQUEST');
  });
});
