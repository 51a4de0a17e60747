/**
 * Consumer groups in the meta table (layouts in keys/). The group item holds the whole
 * membership state as JSON with a version; every change is a conditional write on that
 * version, so any function instance can serve any heartbeat and races are decided by
 * DynamoDB. Offset commits are separate items, written in one transaction with a fence on
 * the group version, so a commit is fenced atomically with the membership it was validated
 * against.
 *
 * Version 0 means "no membership was ever written": the group item is absent, or it is the
 * placeholder an offset commit writes (empty state, version 0). The fence of a commit at
 * version 0 IS that placeholder put, so a group that only ever had offsets committed (an
 * admin commit, a produce with commitOffsets) has a group item and is listed by the byKind
 * index like any other, as Kafka lists such a group as Empty. It costs nothing extra: the put
 * takes the place of the ConditionCheck in the same transaction (both are one write), and
 * it rewrites the same placeholder, so concurrent commits at version 0 never conflict with
 * each other; a heartbeat that creates the group (version 1) still fences them.
 */
import {
  BatchWriteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { emptyGroupState, type GroupState } from '../model/group.ts';
import { N, S, keyAttributes, num, optStr, str } from './attributes.ts';
import { queryAll } from './query.ts';
import { GroupChangedError } from '../errors.ts';
import type { AwsClients } from './clients.ts';
import { GROUP_OFFSET_SK_PREFIX, groupKey, groupOffsetKey, parseGroupOffsetSk } from './keys/group.ts';
import { ITEM_KIND } from './keys/meta-item.ts';
import { withRetries } from './retry.ts';
import { META_INDEX } from './tables.ts';
import { isConditionFailure, isTransactionConditionFailure } from './conditional-write.ts';

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

  /** Writes `state` as version+1 if the stored version is still `version` (0 = absent or placeholder). */
  async put(state: GroupState, version: number, memberCount: number): Promise<number> {
    try {
      await withRetries('write group', () =>
        this.clients.dynamo.send(
          new PutItemCommand({
            TableName: this.table,
            Item: this.groupItem(state, version + 1, memberCount),
            ...versionCondition(version),
          }),
        ),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new GroupChangedError(state.group);
      throw err;
    }
    return version + 1;
  }

  /**
   * The item that fences an offset commit on the group version it was validated at: a
   * ConditionCheck, or at version 0 the placeholder put (see the top of this file).
   */
  commitFence(group: string, version: number): TransactWriteItem {
    if (version === 0) {
      return { Put: { TableName: this.table, Item: this.groupItem(emptyGroupState(group), 0, 0), ...versionCondition(0) } };
    }
    return { ConditionCheck: { TableName: this.table, Key: keyAttributes(groupKey(group)), ...versionCondition(version) } };
  }

  private groupItem(state: GroupState, version: number, memberCount: number) {
    return {
      ...keyAttributes(groupKey(state.group)),
      kind: S(ITEM_KIND.group),
      group: S(state.group),
      state: S(JSON.stringify(state)),
      members: N(memberCount),
      version: N(version),
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
            TransactItems: [this.commitFence(group, version), ...offsets.map((o) => this.offsetPut(group, o, now))],
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

  /**
   * Whether the group has any committed offset (one item read). For offsets whose group item
   * is gone: a DELETE interrupted between the group item and its offsets, or offsets
   * committed before commits wrote the placeholder.
   */
  async hasOffsets(group: string): Promise<boolean> {
    const out = await withRetries('read offsets', () =>
      this.clients.dynamo.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': S(groupKey(group).pk), ':p': S(GROUP_OFFSET_SK_PREFIX) },
          ConsistentRead: true,
          Limit: 1,
          ProjectionExpression: 'pk',
        }),
      ),
    );
    return (out.Items?.length ?? 0) > 0;
  }

  /** Every group item (name, state JSON) via the byKind index, placeholders included. */
  async list(): Promise<VersionedGroup[]> {
    const items = await queryAll(this.clients, 'list groups', {
      TableName: this.table,
      IndexName: META_INDEX.byKind,
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

/**
 * The condition of a write at `version`. At 0 the item may be absent or the placeholder
 * (version 0); a real group is at version 1 or more.
 */
function versionCondition(version: number) {
  return version === 0
    ? {
        ConditionExpression: 'attribute_not_exists(pk) OR #v = :v',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':v': N(0) },
      }
    : {
        ConditionExpression: '#v = :v',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':v': N(version) },
      };
}
