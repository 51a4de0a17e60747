/** Paged DynamoDB Query: every page (or up to `max` items), each page retried like any call. */
import { QueryCommand, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import type { Item } from './attributes.ts';
import type { AwsClients } from './clients.ts';
import { withRetries } from './retry.ts';

export async function queryAll(clients: AwsClients, what: string, input: QueryCommandInput, max = Infinity): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page: QueryCommandOutput = await withRetries(what, () =>
      clients.dynamo.send(
        new QueryCommand({
          ...input,
          ExclusiveStartKey: startKey,
          ...(Number.isFinite(max) ? { Limit: Math.min(max - items.length, 1000) } : {}),
        }),
      ),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < max);
  return items;
}
