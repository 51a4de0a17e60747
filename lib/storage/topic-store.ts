/**
 * Topics in the meta table (layout in keys/). Concurrency control is conditional writes only:
 *  - create: attribute_not_exists on the collision-name key, so an exact duplicate and a
 *    '.'/'_' collision are both decided by one write; ALL_OLD tells which it was.
 *  - update: conditional on (topicId, version), so concurrent PATCHes serialise and a PATCH
 *    racing a delete + re-create never touches the new topic.
 *  - delete: one transaction removes the topic and leaves a deleted-topic marker for maintenance.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { TopicConfig, TopicRecord } from '../model/topic.ts';
import { N, S, keyAttributes, num, str, type Item } from './attributes.ts';
import { conditionalWrite } from './conditional-write.ts';
import { queryAll } from './query.ts';
import { InvalidTopicError, TopicAlreadyExistsError, TopicChangedError } from '../errors.ts';
import type { AwsClients } from './clients.ts';
import { ITEM_KIND } from './keys/meta-item.ts';
import { deletedTopicKey, topicKey } from './keys/topic.ts';
import { withRetries } from './retry.ts';
import { META_INDEX } from './tables.ts';


function toItem(t: TopicRecord): Item {
  const key = topicKey(t.name);
  return {
    pk: S(key.pk),
    sk: S(key.sk),
    kind: S(ITEM_KIND.topic),
    name: S(t.name),
    topicId: S(t.topicId),
    partitions: N(t.partitions),
    config: S(JSON.stringify(t.config)),
    createdAt: N(t.createdAt),
    version: N(t.version),
  };
}

function fromItem(item: Item): TopicRecord {
  return {
    name: str(item, 'name'),
    topicId: str(item, 'topicId'),
    partitions: num(item, 'partitions'),
    config: JSON.parse(str(item, 'config')) as TopicConfig,
    createdAt: num(item, 'createdAt'),
    version: num(item, 'version'),
  };
}

/** The `deleted-topic#<topicId>` marker DELETE leaves: what maintenance needs to remove the data. */
export interface DeletedTopicMarker {
  readonly topicId: string;
  /** The name the topic had (a topic of that name may exist again, with another topicId). */
  readonly name: string;
  /** The partition count at deletion: the log table collections `<topicId>#0..partitions-1`. */
  readonly partitions: number;
  readonly deletedAt: number;
}

export class TopicStore {
  private readonly table: string;

  constructor(private readonly clients: AwsClients, tableName: string) {
    this.table = tableName;
  }

  async create(topic: TopicRecord): Promise<void> {
    const outcome = await conditionalWrite('create topic', () =>
      this.clients.dynamo.send(
        new PutItemCommand({
          TableName: this.table,
          Item: toItem(topic),
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (!outcome.won) {
      const existing = outcome.existing;
      const existingName = existing ? str(existing, 'name') : undefined;
      if (existingName === undefined || existingName === topic.name) {
        throw new TopicAlreadyExistsError(topic.name);
      }
      throw new InvalidTopicError(
        `Topic '${topic.name}' collides with existing topic: ${existingName}`,
      );
    }
  }

  /** Strongly consistent: a topic is visible to the request right after its create answered. */
  async get(name: string): Promise<TopicRecord | undefined> {
    const out = await withRetries('read topic', () =>
      this.clients.dynamo.send(
        new GetItemCommand({ TableName: this.table, Key: keyOf(name), ConsistentRead: true }),
      ),
    );
    if (!out.Item) return undefined;
    const topic = fromItem(out.Item);
    // The key is the collision name: "a.b" finds "a_b"'s item, which is not topic "a.b".
    return topic.name === name ? topic : undefined;
  }

  /** Every topic, by name. Reads the byKind index (eventually consistent on AWS). */
  async list(): Promise<TopicRecord[]> {
    const items = await queryAll(this.clients, 'list topics', {
      TableName: this.table,
      IndexName: META_INDEX.byKind,
      KeyConditionExpression: 'kind = :kind',
      ExpressionAttributeValues: { ':kind': S(ITEM_KIND.topic) },
    });
    return items.map(fromItem).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Writes `next` if the stored topic is still `prev` (same topicId and version). */
  async update(prev: TopicRecord, next: Pick<TopicRecord, 'partitions' | 'config'>): Promise<TopicRecord> {
    const updated: TopicRecord = { ...prev, ...next, version: prev.version + 1 };
    const outcome = await conditionalWrite('update topic', () =>
      this.clients.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyOf(prev.name),
          // Names aliased: `partitions` is a DynamoDB reserved word.
          UpdateExpression: 'SET #partitions = :p, #config = :c, #version = :next',
          ConditionExpression: '#topicId = :id AND #version = :v',
          ExpressionAttributeNames: {
            '#partitions': 'partitions',
            '#config': 'config',
            '#version': 'version',
            '#topicId': 'topicId',
          },
          ExpressionAttributeValues: {
            ':p': N(updated.partitions),
            ':c': S(JSON.stringify(updated.config)),
            ':next': N(updated.version),
            ':id': S(prev.topicId),
            ':v': N(prev.version),
          },
        }),
      ),
    );
    if (!outcome.won) throw new TopicChangedError(prev.name);
    return updated;
  }

  /**
   * Removes the topic and records `deleted-topic#<topicId>` so maintenance can remove its index
   * entries and segment objects. Conditional on the topicId and version: never deletes a re-created or concurrently changed topic.
   */
  async delete(topic: TopicRecord, deletedAt: number): Promise<void> {
    const marker = deletedTopicKey(topic.topicId);
    const outcome = await conditionalWrite('delete topic', () =>
      this.clients.dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: keyOf(topic.name),
                // The version too: a PATCH that added partitions in between must not leave a
                // marker naming fewer partitions than the topic had (maintenance would miss some).
                ConditionExpression: 'topicId = :id AND #version = :v',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':id': S(topic.topicId), ':v': N(topic.version) },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: S(marker.pk),
                  sk: S(marker.sk),
                  kind: S(ITEM_KIND.deletedTopic),
                  name: S(topic.name),
                  topicId: S(topic.topicId),
                  partitions: N(topic.partitions),
                  deletedAt: N(deletedAt),
                },
              },
            },
          ],
        }),
      ),
    );
    if (!outcome.won) throw new TopicChangedError(topic.name);
  }

  /** Maintenance: the markers DELETE left behind. */
  async deletedTopicIds(): Promise<string[]> {
    return (await this.deletedTopics()).map((m) => m.topicId);
  }

  /**
   * Maintenance: every deleted-topic marker, oldest deletion first (ties by topicId). Reads
   * the byKind index (eventually consistent on AWS: a marker a moment old may be missing).
   */
  async deletedTopics(): Promise<DeletedTopicMarker[]> {
    const items = await queryAll(this.clients, 'list deleted topics', {
      TableName: this.table,
      IndexName: META_INDEX.byKind,
      KeyConditionExpression: 'kind = :kind',
      ExpressionAttributeValues: { ':kind': S(ITEM_KIND.deletedTopic) },
    });
    return items
      .map(markerFromItem)
      .sort((a, b) => a.deletedAt - b.deletedAt || (a.topicId < b.topicId ? -1 : a.topicId > b.topicId ? 1 : 0));
  }

  /** Maintenance: one marker, strongly consistent; undefined if there is none (or it was forgotten). */
  async deletedTopic(topicId: string): Promise<DeletedTopicMarker | undefined> {
    const out = await withRetries('read deleted topic', () =>
      this.clients.dynamo.send(
        new GetItemCommand({ TableName: this.table, Key: keyAttributes(deletedTopicKey(topicId)), ConsistentRead: true }),
      ),
    );
    return out.Item ? markerFromItem(out.Item) : undefined;
  }

  /** Maintenance: forget a marker once the topic's data is gone. */
  async forgetDeletedTopic(topicId: string): Promise<void> {
    const key = deletedTopicKey(topicId);
    await withRetries('forget deleted topic', () =>
      this.clients.dynamo.send(
        new DeleteItemCommand({ TableName: this.table, Key: { pk: S(key.pk), sk: S(key.sk) } }),
      ),
    );
  }
}

function markerFromItem(item: Item): DeletedTopicMarker {
  return {
    topicId: str(item, 'topicId'),
    name: str(item, 'name'),
    partitions: num(item, 'partitions'),
    deletedAt: num(item, 'deletedAt'),
  };
}

function keyOf(name: string): Item {
  return keyAttributes(topicKey(name));
}

