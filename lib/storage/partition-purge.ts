/**
 * Removing a whole partition collection of the log table (every item of one
 * `<topicId>#<partition>`), page by page, for the maintenance job that finishes a topic
 * deletion (lib/maintenance/topic-deletion.ts). Deciding WHICH partitions may go is the
 * caller's; this only does the I/O, bounded:
 *  - one `purge` deletes at most `limit` items and says whether the collection may hold more;
 *  - entries (sk >= 0) go first, the head (sk -1) and hint (sk -2) only once no entry is left,
 *    so an interrupted purge leaves a head over missing entries, never entries without a head;
 *  - keys are read with a strongly consistent Query (keys only) and deleted with
 *    BatchWriteItem, 25 per request; unprocessed items are resent with jittered backoff and a
 *    retriable UnavailableError is thrown if some are still left (`deleteKeysInBatches`, which
 *    GroupStore's offset deletions share).
 * Deleting an absent item is not an error, so concurrent purges of one partition only repeat
 * work. Segment objects are not touched: garbage collection deletes an object once no entry
 * references it (byObject index), after its grace period.
 */
import { BatchWriteItemCommand, QueryCommand, type QueryCommandOutput, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../errors.ts';
import type { TopicPartition } from '../model/topic.ts';
import { N, S, num, type Item } from './attributes.ts';
import type { AwsClients } from './clients.ts';
import { HEAD_SLOT, HINT_SLOT, pkOf } from './keys/partition.ts';
import { withRetries } from './retry.ts';

/** What a bounded deletion did (or, on a dry run, would do). */
export interface PurgeResult {
  /** Items deleted (dry run: found, that a real run would delete). */
  readonly deleted: number;
  /** The limit was reached: more items may be left. False: nothing was left when it looked. */
  readonly more: boolean;
}

export interface PurgeOptions {
  /** Count what would be deleted (same bound), write nothing. */
  readonly dryRun?: boolean;
}

/** DynamoDB's BatchWriteItem limit. */
export const BATCH_WRITE_ITEMS = 25;

/** Resends of a BatchWriteItem's unprocessed items: attempts, and the full-jitter backoff between them. */
const UNPROCESSED_ATTEMPTS = 5;
const UNPROCESSED_BASE_DELAY_MS = 25;
const UNPROCESSED_MAX_DELAY_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deletes items by key, 25 per BatchWriteItem, one request after another. Unprocessed items
 * (DynamoDB's answer under throttling) are resent with jittered exponential backoff; if some
 * are still left after the last attempt this throws a retriable UnavailableError (`what`
 * names the work in its message) rather than let a caller report a deletion that left items
 * behind. Keys must be distinct (BatchWriteItem refuses duplicates in one request).
 */
export async function deleteKeysInBatches(clients: AwsClients, table: string, keys: readonly Item[], what: string): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH_WRITE_ITEMS) {
    let pending: WriteRequest[] = keys.slice(i, i + BATCH_WRITE_ITEMS).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; pending.length > 0 && attempt < UNPROCESSED_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(Math.floor(Math.random() * Math.min(UNPROCESSED_MAX_DELAY_MS, UNPROCESSED_BASE_DELAY_MS * 2 ** attempt)));
      const requestItems = pending;
      const out = await withRetries(what, () =>
        clients.dynamo.send(new BatchWriteItemCommand({ RequestItems: { [table]: requestItems } })),
      );
      pending = out.UnprocessedItems?.[table] ?? [];
    }
    if (pending.length > 0) {
      throw new UnavailableError(`${what}: ${pending.length} still unprocessed after ${UNPROCESSED_ATTEMPTS} attempts; retry the request`);
    }
  }
}

export class PartitionPurge {
  constructor(private readonly clients: AwsClients, private readonly table: string) {}

  /**
   * Deletes up to `limit` items of the partition's collection: entries in slot order, then,
   * once no entry is left, the head and the hint (both in one request when the bound allows).
   */
  async purge(tp: TopicPartition, limit: number, opts: PurgeOptions = {}): Promise<PurgeResult> {
    if (limit <= 0) return { deleted: 0, more: true };
    const pk = pkOf(tp);
    // One Query usually sees everything: the hint and head sort first (-2, -1), then entries.
    // Asking for limit + 2 keys leaves room for both besides a full page of entries.
    const { keys, complete } = await this.keys(pk, limit + 2);
    const entries = keys.filter((k) => k.sk >= 0).slice(0, limit);
    const entriesLeft = !complete || keys.filter((k) => k.sk >= 0).length > limit;
    const summary = entriesLeft ? [] : keys.filter((k) => k.sk === HEAD_SLOT || k.sk === HINT_SLOT).slice(0, limit - entries.length);
    const remove = [...entries, ...summary];
    if (!opts.dryRun && remove.length > 0) {
      // Entries first, in their own requests, so the head and hint go only after every entry.
      await deleteKeysInBatches(this.clients, this.table, entries.map(logKey), `deleting the entries of partition ${pk}`);
      await deleteKeysInBatches(this.clients, this.table, summary.map(logKey), `deleting the head and hint of partition ${pk}`);
    }
    const summaryLeft = keys.filter((k) => k.sk < 0).length > summary.length;
    return { deleted: remove.length, more: entriesLeft || summaryLeft };
  }

  /** Up to `max` keys of the collection in sk order; `complete`: the collection has no more. */
  private async keys(pk: string, max: number): Promise<{ keys: { pk: string; sk: number }[]; complete: boolean }> {
    const keys: { pk: string; sk: number }[] = [];
    let startKey: Item | undefined;
    do {
      const page: QueryCommandOutput = await withRetries('list partition items', () =>
        this.clients.dynamo.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': S(pk) },
            ProjectionExpression: 'pk, sk',
            ConsistentRead: true,
            Limit: Math.min(max - keys.length, 1000),
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) keys.push({ pk, sk: num(item, 'sk') });
      startKey = page.LastEvaluatedKey;
    } while (startKey && keys.length < max);
    return { keys, complete: startKey === undefined };
  }
}

function logKey(k: { pk: string; sk: number }): Item {
  return { pk: S(k.pk), sk: N(k.sk) };
}
