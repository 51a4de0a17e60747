/**
 * Bearer token items of the meta table (docs/API.md "Tokens and ACLs"):
 *   by hash   pk "token#<sha256 hex>"   sk "token"          name, allow, createdAt
 *   by name   pk "tokens"               sk "name#<name>"    hash, allow, createdAt
 *
 * Checking a presented token is one GetItem of its hash item. The name items share one
 * partition, so listing is one strongly consistent Query with no index (token management is
 * rare and small: one partition is plenty), and revoking by name reads the name item for the
 * hash, then deletes both. Neither item holds the token itself.
 */
import type { MetaKey } from './meta-item.ts';

const HASH_PREFIX = 'token#';
const HASH_SK = 'token';
export const TOKEN_NAMES_PK = 'tokens';
const NAME_PREFIX = 'name#';

export function tokenHashKey(hash: string): MetaKey {
  return { pk: `${HASH_PREFIX}${hash}`, sk: HASH_SK };
}

export function parseTokenHashKey(key: MetaKey): string | undefined {
  return key.sk === HASH_SK && key.pk.startsWith(HASH_PREFIX) ? key.pk.slice(HASH_PREFIX.length) : undefined;
}

export function tokenNameKey(name: string): MetaKey {
  return { pk: TOKEN_NAMES_PK, sk: `${NAME_PREFIX}${name}` };
}

export function parseTokenNameKey(key: MetaKey): string | undefined {
  return key.pk === TOKEN_NAMES_PK && key.sk.startsWith(NAME_PREFIX) ? key.sk.slice(NAME_PREFIX.length) : undefined;
}
