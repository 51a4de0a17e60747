import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allows, authorize, isValidPattern, matchesPattern, parseAllow, type Requirement } from '../../../lib/auth/acl.ts';
import { SluiceError } from '../../../lib/errors.ts';

const name = fc.stringMatching(/^[a-zA-Z0-9._-]{1,40}$/);

describe('patterns', () => {
  it('matches a prefix pattern by prefix and an exact pattern exactly', () => {
    expect(matchesPattern('orders*', 'orders')).toBe(true);
    expect(matchesPattern('orders*', 'orders-eu')).toBe(true);
    expect(matchesPattern('orders*', 'order')).toBe(false);
    expect(matchesPattern('orders', 'orders-eu')).toBe(false);
    expect(matchesPattern('orders', 'orders')).toBe(true);
    expect(matchesPattern('*', 'anything')).toBe(true);
  });

  it('a prefix pattern matches exactly the names that start with its prefix (property)', () => {
    fc.assert(fc.property(name, name, (prefix, rest) => {
      expect(matchesPattern(`${prefix}*`, prefix + rest)).toBe(true);
      expect(matchesPattern(`${prefix}*`, rest)).toBe(rest.startsWith(prefix));
      expect(matchesPattern(prefix, rest)).toBe(prefix === rest);
    }));
  });

  it('refuses a star anywhere but at the end, control characters, empty and overlong patterns', () => {
    for (const bad of ['', 'a*b', '**', '*a', 'a\u0000', 'x'.repeat(256)]) expect(isValidPattern(bad), JSON.stringify(bad)).toBe(false);
    for (const good of ['*', 'a', 'a*', 'billing-*', 'é', 'x'.repeat(255)]) expect(isValidPattern(good), good).toBe(true);
  });
});

describe('parseAllow', () => {
  it('reads the four kinds of entries', () => {
    expect(parseAllow(['produce:orders*', 'fetch:*', 'group:billing-*', 'admin'])).toEqual({
      admin: true,
      produce: ['orders*'],
      fetch: ['*'],
      group: ['billing-*'],
    });
  });

  it('refuses a bad entry with INVALID_REQUEST naming it', () => {
    for (const bad of [[], ['read:x'], ['produce'], ['produce:'], ['fetch:a*b'], ['Admin'], ['admin:x'], ['group:\u0007']]) {
      let caught: unknown;
      try {
        parseAllow(bad);
      } catch (e) {
        caught = e;
      }
      expect(caught, JSON.stringify(bad)).toBeInstanceOf(SluiceError);
      expect((caught as SluiceError).code).toBe('INVALID_REQUEST');
    }
  });
});

describe('authorize', () => {
  const acl = parseAllow(['produce:orders*', 'fetch:events', 'group:billing-*']);
  const code = (r: Requirement) => authorize(acl, r)?.code;

  it('allows what an entry grants and names the refused resource otherwise', () => {
    expect(code({ kind: 'produce', topic: 'orders-eu' })).toBeUndefined();
    expect(code({ kind: 'produce', topic: 'events' })).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(code({ kind: 'fetch', topic: 'events' })).toBeUndefined();
    expect(code({ kind: 'fetch', topic: 'orders' })).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(code({ kind: 'describe', topic: 'orders' })).toBeUndefined();
    expect(code({ kind: 'describe', topic: 'events' })).toBeUndefined();
    expect(code({ kind: 'describe', topic: 'other' })).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(code({ kind: 'group', group: 'billing-1' })).toBeUndefined();
    expect(code({ kind: 'group', group: 'ops' })).toBe('GROUP_AUTHORIZATION_FAILED');
    expect(code({ kind: 'any-produce' })).toBeUndefined();
    expect(code({ kind: 'authenticated' })).toBeUndefined();
  });

  it('refuses admin operations with the code of the resource they name', () => {
    expect(code({ kind: 'admin', operation: 'delete', resource: 'topic', name: 'orders' })).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(code({ kind: 'admin', operation: 'create', resource: 'topic' })).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(code({ kind: 'admin', operation: 'delete', resource: 'group', name: 'billing-1' })).toBe('GROUP_AUTHORIZATION_FAILED');
    expect(code({ kind: 'admin', operation: 'create tokens', resource: 'cluster' })).toBe('CLUSTER_AUTHORIZATION_FAILED');
    expect(authorize(parseAllow(['fetch:*']), { kind: 'any-produce' })?.code).toBe('CLUSTER_AUTHORIZATION_FAILED');
  });

  it('admin allows every requirement (property)', () => {
    const admin = parseAllow(['admin']);
    const req = fc.oneof(
      name.map((topic): Requirement => ({ kind: 'produce', topic })),
      name.map((topic): Requirement => ({ kind: 'fetch', topic })),
      name.map((topic): Requirement => ({ kind: 'describe', topic })),
      name.map((group): Requirement => ({ kind: 'group', group })),
      name.map((topic): Requirement => ({ kind: 'admin', operation: 'x', resource: 'topic', name: topic })),
      fc.constant<Requirement>({ kind: 'any-produce' }),
    );
    fc.assert(fc.property(req, (r) => {
      expect(allows(admin, r)).toBe(true);
    }));
  });

  it('a topic requirement is allowed iff some entry of its kind matches (property)', () => {
    fc.assert(fc.property(fc.array(name, { maxLength: 4 }), fc.array(fc.boolean(), { maxLength: 4 }), name, (patterns, prefixed, topic) => {
      const entries = patterns.map((p, i) => `fetch:${p}${prefixed[i] ? '*' : ''}`);
      const expected = entries.some((e) => matchesPattern(e.slice('fetch:'.length), topic));
      const acl = parseAllow([...entries, 'group:x']);
      expect(allows(acl, { kind: 'fetch', topic })).toBe(expected);
      expect(allows(acl, { kind: 'produce', topic })).toBe(false);
    }));
  });
});
