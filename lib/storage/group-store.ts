/**
 * Consumer groups in the meta table (layouts in keys.ts). The group item holds the whole
 * membership state as JSON with a version; every change is a conditional write on that
 * version, so any function instance can serve any heartbeat and races are decided by
 * DynamoDB. Offset commits are separate items, written in one transaction with a
 * ConditionCheck on the group version, so a commit is fenced atomically with the membership
 * it was validated against.
 */
import {
  BatchWriteItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import type { GroupState } from '../model/group.ts';
import { N, S, isConditionFailure, keyAttributes, num, optStr, str } from './attributes.ts';
import { queryAll } from './query.ts';
import { GroupChangedError } from '../errors.ts';
import type { AwsClients } from './clients.ts';
import { GROUP_OFFSET_SK_PREFIX, ITEM_KIND, groupKey, groupOffsetKey, parseGroupOffsetSk } from './keys.ts';
import { withRetries } from './retry.ts';
import { META_TABLE } from './tables.ts';
import { isTransactionConditionFailure } from './topic-store.ts';

export interface VersionedGroup {
  readonly state: GroupState;
  /** 0 = the group item does not exist yet. */
  readonly version: number;
}

export interface CommittedOffset {
  readonly topicId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
  readonly committedAt: number;
}

export class GroupStore {
  constructor(private readonly clients: AwsClients, private readonly table: string) {}

  async get(group: string): Promise<VersionedGroup | undefined> {
    const out = await withRetries('read group', () =>
      this.clients.dynamo.send(new GetItemCommand({ TableName: this.table, Key: keyAttributes(groupKey(group)), ConsistentRead: true })),
    );
    if (!out.Item) return undefined;
    return { state: JSON.parse(str(out.Item, 'state')) as GroupState, version: num(out.Item, 'version') };
  }

  /** Writes `state` as version+1 if the stored version is still `version` (0 = absent). */
  async put(state: GroupState, version: number, memberCount: number): Promise<number> {
    const key = groupKey(state.group);
    try {
      await withRetries('write group', () =>
        this.clients.dynamo.send(
          new PutItemCommand({
            TableName: this.table,
            Item: {
              ...keyAttributes(key),
              kind: S(ITEM_KIND.group),
              group: S(state.group),
              state: S(JSON.stringify(state)),
              members: N(memberCount),
              version: N(version + 1),
            },
            ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : '#v = :v',
            ...(version === 0
              ? {}
              : { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': N(version) } }),
          }),
        ),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new GroupChangedError(state.group);
      throw err;
    }
    return version + 1;
  }

  /** The ConditionCheck that fences an offset commit on the group version it was validated at. */
  versionCheck(group: string, version: number): TransactWriteItem {
    return {
      ConditionCheck: {
        TableName: this.table,
        Key: keyAttributes(groupKey(group)),
        ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : '#v = :v',
        ...(version === 0
          ? {}
          : { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': N(version) } }),
      },
    };
  }

  offsetPut(group: string, o: Omit<CommittedOffset, 'committedAt'>, now: number): TransactWriteItem {
    return {
      Put: {
        TableName: this.table,
        Item: {
          ...keyAttributes(groupOffsetKey(group, o.topicId, o.partition)),
          topic: S(o.topic),
          topicId: S(o.topicId),
          partition: N(o.partition),
          offset: N(o.offset),
          metadata: S(o.metadata),
          committedAt: N(now),
        },
      },
    };
  }

  /** Commits offsets atomically with a check that the group is still at `version`. */
  async commitOffsets(group: string, version: number, offsets: readonly Omit<CommittedOffset, 'committedAt'>[], now: number): Promise<void> {
    try {
      await withRetries('commit offsets', () =>
        this.clients.dynamo.send(
          new TransactWriteItemsCommand({
            TransactItems: [this.versionCheck(group, version), ...offsets.map((o) => this.offsetPut(group, o, now))],
          }),
        ),
      );
    } catch (err) {
      if (isTransactionConditionFailure(err)) throw new GroupChangedError(group);
      throw err;
    }
  }

  async offsets(group: string): Promise<CommittedOffset[]> {
    const items = await queryAll(this.clients, 'read offsets', {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': S(groupKey(group).pk), ':p': S(GROUP_OFFSET_SK_PREFIX) },
      ConsistentRead: true,
    });
    return items.flatMap((item) => {
      const parsed = parseGroupOffsetSk(str(item, 'sk'));
      if (!parsed) return [];
      return [{
        topicId: parsed.topicId,
        partition: parsed.partition,
        topic: str(item, 'topic'),
        offset: num(item, 'offset'),
        metadata: optStr(item, 'metadata') ?? '',
        committedAt: num(item, 'committedAt'),
      }];
    });
  }

  /** Every group item (name, state JSON) via the byKind index. */
  async list(): Promise<VersionedGroup[]> {
    const items = await queryAll(this.clients, 'list groups', {
      TableName: this.table,
      IndexName: META_TABLE.globalIndexes[0].indexName,
      KeyConditionExpression: 'kind = :k',
      ExpressionAttributeValues: { ':k': S(ITEM_KIND.group) },
    });
    return items.map((item) => ({ state: JSON.parse(str(item, 'state')) as GroupState, version: num(item, 'version') }));
  }

  /**
   * Deletes the group item (conditional on its version) and then its offsets. The offsets are
   * removed after the fence; a crash between the two leaves offsets with no group, which a
   * re-created group of that name would see — the same as Kafka keeping offsets of an empty
   * group until they expire.
   */
  async delete(group: string, version: number): Promise<void> {
    const key = groupKey(group);
    try {
      await withRetries('delete group', () =>
        this.clients.dynamo.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: this.table,
                  Key: keyAttributes(key),
                  ConditionExpression: '#v = :v',
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: { ':v': N(version) },
                },
              },
            ],
          }),
        ),
      );
    } catch (err) {
      if (isTransactionConditionFailure(err)) throw new GroupChangedError(group);
      throw err;
    }
    await this.deleteOffsetsOnly(group);
  }

  /** Removes a group's committed offsets (batched; retried on unprocessed items). */
  async deleteOffsetsOnly(group: string): Promise<void> {
    const offsets = await this.offsets(group);
    for (let i = 0; i < offsets.length; i += 25) {
      const batch = offsets.slice(i, i + 25).map((o) => ({
        DeleteRequest: { Key: keyAttributes(groupOffsetKey(group, o.topicId, o.partition)) },
      }));
      let pending: typeof batch | undefined = batch;
      for (let attempt = 0; pending && pending.length > 0 && attempt < 5; attempt++) {
        const out = await withRetries('delete offsets', () =>
          this.clients.dynamo.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending! } })),
        );
        pending = out.UnprocessedItems?.[this.table] as typeof batch | undefined;
      }
    }
  }
}
