/**
 * Bearer tokens in the meta table (layouts in keys/token.ts): a hash item for the check (one
 * GetItem per lookup) and a name item for listing and revoking by name. Only SHA-256 hashes
 * of tokens are stored, never a token.
 *
 * Both items are written in one transaction, each conditional on its absence, so a name is
 * unique (a lost condition on the name item is DUPLICATE_RESOURCE) and the two items never
 * exist one without the other; revoking deletes both in one transaction, conditional on the
 * name item still pointing at the hash it read.
 */
import { GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { TokenAlreadyExistsError, TokenNotFoundError, UnavailableError } from '../errors.ts';
import type { StoredToken } from '../model/token.ts';
import { N, S, keyAttributes, num, str, type Item } from './attributes.ts';
import type { AwsClients } from './clients.ts';
import { conditionalWrite } from './conditional-write.ts';
import { TOKEN_NAMES_PK, parseTokenNameKey, tokenHashKey, tokenNameKey } from './keys/token.ts';
import { queryAll } from './query.ts';
import { withRetries } from './retry.ts';

export class TokenStore {
  constructor(private readonly clients: AwsClients, private readonly table: string) {}

  async byHash(hash: string): Promise<StoredToken | undefined> {
    const out = await withRetries('read token', () =>
      this.clients.dynamo.send(new GetItemCommand({ TableName: this.table, Key: keyAttributes(tokenHashKey(hash)), ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    return { name: str(out.Item, 'name'), hash, allow: allowOf(out.Item), createdAt: num(out.Item, 'createdAt') };
  }

  async create(token: StoredToken): Promise<void> {
    const fields = { allow: S(JSON.stringify(token.allow)), createdAt: N(token.createdAt) };
    const outcome = await conditionalWrite('create token', () =>
      this.clients.dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { ...keyAttributes(tokenNameKey(token.name)), hash: S(token.hash), ...fields },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: { ...keyAttributes(tokenHashKey(token.hash)), name: S(token.name), ...fields },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      ),
    );
    if (outcome.won) return;
    if (outcome.reasons?.[0]?.Code === 'ConditionalCheckFailed') throw new TokenAlreadyExistsError(token.name);
    // The hash item exists: 256 random bits collided, i.e. never; refuse rather than overwrite.
    throw new UnavailableError('token hash collision; retry');
  }

  async list(): Promise<StoredToken[]> {
    const items = await queryAll(this.clients, 'list tokens', {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': S(TOKEN_NAMES_PK) },
      ConsistentRead: true,
    });
    return items.flatMap((item) => {
      const name = parseTokenNameKey({ pk: str(item, 'pk'), sk: str(item, 'sk') });
      return name === undefined ? [] : [{ name, hash: str(item, 'hash'), allow: allowOf(item), createdAt: num(item, 'createdAt') }];
    });
  }

  /** Deletes both items of `name`; answers the hash (so the caller can drop it from its cache). */
  async delete(name: string): Promise<string> {
    const out = await withRetries('read token name', () =>
      this.clients.dynamo.send(new GetItemCommand({ TableName: this.table, Key: keyAttributes(tokenNameKey(name)), ConsistentRead: true })),
    );
    if (!out.Item) throw new TokenNotFoundError(name);
    const hash = str(out.Item, 'hash');
    const outcome = await conditionalWrite('revoke token', () =>
      this.clients.dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: keyAttributes(tokenNameKey(name)),
                ConditionExpression: '#hash = :hash',
                ExpressionAttributeNames: { '#hash': 'hash' },
                ExpressionAttributeValues: { ':hash': S(hash) },
              },
            },
            { Delete: { TableName: this.table, Key: keyAttributes(tokenHashKey(hash)) } },
          ],
        }),
      ),
    );
    // A concurrent revoke won (or the name was revoked and re-created in between).
    if (!outcome.won) throw new TokenNotFoundError(name);
    return hash;
  }
}

function allowOf(item: Item): string[] {
  return JSON.parse(str(item, 'allow')) as string[];
}
