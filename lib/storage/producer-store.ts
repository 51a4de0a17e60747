/**
 * Idempotent producer state in the meta table (layouts in keys/):
 *   producer#<id> / producer     epoch, lastSeq, recent (JSON: the last RECENT_REQUESTS
 *                                requests' sequence, sticky partition and per-partition bases),
 *                                lastActiveAt, expiresAt (TTL; code checks expiry itself because
 *                                DynamoDB deletes expired items only eventually, and DynamoDB
 *                                Local never does)
 *   txn#<transactionalId> / txn  producerId: the stable id a transactionalId maps to
 *
 * The state update that accepts sequence s is a conditional Update (epoch = e AND lastSeq = s-1)
 * inside the produce's publish transaction, so "records committed" and "sequence consumed"
 * happen together or not at all (docs/ARCHITECTURE.md, "Exactly once").
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  UpdateItemCommand,
  TransactWriteItemsCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { N, S, keyAttributes, num, optStr, str, type Item } from './attributes.ts';
import { ProducerRaceError } from '../errors.ts';
import type { ProducerState, RecentRequest } from '../model/producer.ts';
import type { AwsClients } from './clients.ts';
import { parseProducerKey, producerKey, transactionalIdKey } from './keys/producer.ts';
import type { ITEM_KIND } from './keys/meta-item.ts';
import { queryAll } from './query.ts';
import { META_INDEX } from './tables.ts';

type MetaItemKind = (typeof ITEM_KIND)[keyof typeof ITEM_KIND];
import { withRetries } from './retry.ts';
import { conditionalWrite } from './conditional-write.ts';

export class ProducerStore {
  constructor(private readonly clients: AwsClients, private readonly table: string) {}

  async get(producerId: string): Promise<ProducerState | undefined> {
    const out = await withRetries('read producer', () =>
      this.clients.dynamo.send(
        new GetItemCommand({ TableName: this.table, Key: keyAttributes(producerKey(producerId)), ConsistentRead: true }),
      ),
    );
    if (!out.Item) return undefined;
    return fromItem(producerId, out.Item);
  }

  async producerIdFor(transactionalId: string): Promise<string | undefined> {
    const out = await withRetries('read transactional id', () =>
      this.clients.dynamo.send(
        new GetItemCommand({ TableName: this.table, Key: keyAttributes(transactionalIdKey(transactionalId)), ConsistentRead: true }),
      ),
    );
    return out.Item ? str(out.Item, 'producerId') : undefined;
  }

  /**
   * Writes a fresh state for (producerId, epoch), conditional on the previous epoch (or on
   * absence), and maps the transactionalId to the producer id. Bumping the epoch fences every
   * request carrying an older one.
   */
  async initialise(state: ProducerState, previousEpoch: number | undefined, ttlSeconds: number, kind?: MetaItemKind): Promise<void> {
    const items: TransactWriteItem[] = [
      {
        Put: {
          TableName: this.table,
          // A kind lists the item in the byKind index (Durable Streams' states are swept so).
          Item: { ...toItem(state, ttlSeconds), ...(kind === undefined ? {} : { kind: S(kind) }) },
          ConditionExpression: previousEpoch === undefined ? 'attribute_not_exists(pk)' : 'epoch = :prev',
          ...(previousEpoch === undefined ? {} : { ExpressionAttributeValues: { ':prev': N(previousEpoch) } }),
        },
      },
    ];
    if (state.transactionalId !== undefined) {
      items.push({
        Put: {
          TableName: this.table,
          Item: {
            ...keyAttributes(transactionalIdKey(state.transactionalId)),
            producerId: S(state.producerId),
            expiresAt: N(ttlSeconds),
          },
        },
      });
    }
    const outcome = await conditionalWrite('initialise producer', () =>
      this.clients.dynamo.send(new TransactWriteItemsCommand({ TransactItems: items })),
    );
    if (!outcome.won) throw new ProducerRaceError(state.producerId);
  }

  /** The conditional update accepting `next`, for the publish transaction. */
  acceptUpdate(prev: ProducerState, next: ProducerState, ttlSeconds: number): TransactWriteItem {
    return {
      Update: {
        TableName: this.table,
        Key: keyAttributes(producerKey(prev.producerId)),
        UpdateExpression: `SET lastSeq = :seq, recent = :recent, lastActiveAt = :at, expiresAt = :ttl${next.attachment !== undefined ? ', attachment = :att' : ''}`,
        ConditionExpression: 'epoch = :epoch AND lastSeq = :prevSeq',
        // The publish transaction tells a fenced producer from a concurrent duplicate by it.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ExpressionAttributeValues: {
          ':seq': N(next.lastSequence),
          ':recent': S(JSON.stringify(next.recent)),
          ':at': N(next.lastActiveAt),
          ':ttl': N(ttlSeconds),
          ':epoch': N(prev.epoch),
          ':prevSeq': N(prev.lastSequence),
          ...(next.attachment !== undefined ? { ':att': S(next.attachment) } : {}),
        },
      },
    };
  }

  /**
   * The accepting update of acceptUpdate on its own, outside a publish (a state change that
   * writes no records: a Durable Streams stream's TTL touch, fork count, soft delete). False
   * when `prev` is no longer the stored state.
   */
  async advance(prev: ProducerState, next: ProducerState, ttlSeconds: number): Promise<boolean> {
    const update = this.acceptUpdate(prev, next, ttlSeconds).Update!;
    const outcome = await conditionalWrite('advance producer', () =>
      this.clients.dynamo.send(new UpdateItemCommand({ ...update, ReturnValuesOnConditionCheckFailure: undefined })),
    );
    return outcome.won;
  }

  /** Every producer item of `kind` (byKind index: eventually consistent on AWS). */
  async listKind(kind: MetaItemKind): Promise<ProducerState[]> {
    const items = await queryAll(this.clients, `list ${kind} items`, {
      TableName: this.table,
      IndexName: META_INDEX.byKind,
      KeyConditionExpression: 'kind = :k',
      ExpressionAttributeValues: { ':k': S(kind) },
    });
    return items.flatMap((item) => {
      const id = parseProducerKey({ pk: str(item, 'pk'), sk: str(item, 'sk') });
      return id === undefined ? [] : [fromItem(id, item)];
    });
  }

  /** Deletes the state if it is still `prev`; false when it changed (or is gone). */
  async remove(prev: ProducerState): Promise<boolean> {
    const outcome = await conditionalWrite('remove producer', () =>
      this.clients.dynamo.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: keyAttributes(producerKey(prev.producerId)),
          ConditionExpression: 'epoch = :epoch AND lastSeq = :seq',
          ExpressionAttributeValues: { ':epoch': N(prev.epoch), ':seq': N(prev.lastSequence) },
        }),
      ),
    );
    return outcome.won;
  }
}

function toItem(s: ProducerState, ttlSeconds: number): Item {
  return {
    ...keyAttributes(producerKey(s.producerId)),
    epoch: N(s.epoch),
    lastSeq: N(s.lastSequence),
    recent: S(JSON.stringify(s.recent)),
    lastActiveAt: N(s.lastActiveAt),
    expiresAt: N(ttlSeconds),
    ...(s.transactionalId !== undefined ? { transactionalId: S(s.transactionalId) } : {}),
    ...(s.attachment !== undefined ? { attachment: S(s.attachment) } : {}),
  };
}

function fromItem(producerId: string, item: Item): ProducerState {
  const transactionalId = optStr(item, 'transactionalId');
  const attachment = optStr(item, 'attachment');
  return {
    producerId,
    epoch: num(item, 'epoch'),
    lastSequence: num(item, 'lastSeq'),
    recent: JSON.parse(str(item, 'recent')) as RecentRequest[],
    lastActiveAt: num(item, 'lastActiveAt'),
    ...(transactionalId !== undefined ? { transactionalId } : {}),
    ...(attachment !== undefined ? { attachment } : {}),
  };
}
