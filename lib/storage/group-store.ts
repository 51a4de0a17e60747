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
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type QueryCommandOutput,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { emptyGroupState, type GroupState } from '../model/group.ts';
import { N, S, keyAttributes, num, optStr, str, type Item } from './attributes.ts';
import { queryAll } from './query.ts';
import { GroupChangedError } from '../errors.ts';
import type { AwsClients } from './clients.ts';
import {
  GROUP_OFFSET_SK_PREFIX,
  groupKey,
  groupOffsetKey,
  groupOffsetTopicPrefix,
  parseGroupOffsetSk,
  parseGroupPk,
} from './keys/group.ts';
import { ITEM_KIND } from './keys/meta-item.ts';
import { withRetries } from './retry.ts';
import { META_INDEX } from './tables.ts';
import { conditionalWrite } from './conditional-write.ts';
import { deleteKeysInBatches, type PurgeOptions, type PurgeResult } from './partition-purge.ts';

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
    const outcome = await conditionalWrite('write group', () =>
      this.clients.dynamo.send(
        new PutItemCommand({
          TableName: this.table,
          Item: this.groupItem(state, version + 1, memberCount),
          ...versionCondition(version),
        }),
      ),
    );
    if (!outcome.won) throw new GroupChangedError(state.group);
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
    const outcome = await conditionalWrite('commit offsets', () =>
      this.clients.dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [this.commitFence(group, version), ...offsets.map((o) => this.offsetPut(group, o, now))],
        }),
      ),
    );
    if (!outcome.won) throw new GroupChangedError(group);
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
    const outcome = await conditionalWrite('delete group', () =>
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
    if (!outcome.won) throw new GroupChangedError(group);
    await this.deleteOffsetsOnly(group);
  }

  /**
   * Removes a group's committed offsets (batches of 25). Unprocessed items (DynamoDB's answer
   * under throttling) are resent with jittered exponential backoff; if some are still left
   * after the last attempt this throws a retriable UnavailableError rather than report a
   * deletion that left offsets behind (a retried DELETE finds them as offsets with no group).
   */
  async deleteOffsetsOnly(group: string): Promise<void> {
    const offsets = await this.offsets(group);
    await deleteKeysInBatches(
      this.clients,
      this.table,
      offsets.map((o) => keyAttributes(groupOffsetKey(group, o.topicId, o.partition))),
      `deleting the offsets of group ${group}`,
    );
  }

  /**
   * Maintenance (a deleted topic): removes the offsets every group committed for topic
   * incarnation `topicId`, at most `limit` of them, group by group as GroupStore.list() finds
   * groups (the byKind index: every group with offsets has a group item, placeholders
   * included). Offsets of other topics, including a re-created topic of the same name (a new
   * topicId), are never touched. Batches and unprocessed items as deleteOffsetsOnly. `more`:
   * the limit was reached, so offsets may be left. Dry run: counts, writes nothing.
   */
  async deleteTopicOffsets(topicId: string, limit: number, opts: PurgeOptions = {}): Promise<PurgeResult> {
    if (limit <= 0) return { deleted: 0, more: true };
    let deleted = 0;
    for (const group of await this.groupIds()) {
      if (deleted >= limit) return { deleted, more: true };
      const { keys, complete } = await this.topicOffsetKeys(group, topicId, limit - deleted);
      if (!opts.dryRun) {
        await deleteKeysInBatches(this.clients, this.table, keys, `deleting the offsets of topic ${topicId} in group ${group}`);
      }
      deleted += keys.length;
      if (!complete) return { deleted, more: true };
    }
    return { deleted, more: false };
  }

  /** The ids of every group item (byKind index), keys only. */
  private async groupIds(): Promise<string[]> {
    const items = await queryAll(this.clients, 'list groups', {
      TableName: this.table,
      IndexName: META_INDEX.byKind,
      KeyConditionExpression: 'kind = :k',
      ExpressionAttributeValues: { ':k': S(ITEM_KIND.group) },
      ProjectionExpression: 'pk',
    });
    return items.flatMap((item) => {
      const group = parseGroupPk(str(item, 'pk'));
      return group === undefined ? [] : [group];
    });
  }

  /**
   * Keys of up to `max` of the group's offsets for `topicId` (strongly consistent).
   * `complete`: none left beyond them. begins_with may also match a longer topicId that
   * contains '#'; those items are skipped (parsed, compared) and never returned.
   */
  private async topicOffsetKeys(group: string, topicId: string, max: number): Promise<{ keys: Item[]; complete: boolean }> {
    const keys: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page: QueryCommandOutput = await withRetries('read offsets', () =>
        this.clients.dynamo.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
            ExpressionAttributeValues: { ':pk': S(groupKey(group).pk), ':p': S(groupOffsetTopicPrefix(topicId)) },
            ProjectionExpression: 'pk, sk',
            ConsistentRead: true,
            Limit: Math.min(max - keys.length, 1000),
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const parsed = parseGroupOffsetSk(str(item, 'sk'));
        if (parsed?.topicId !== topicId) continue;
        keys.push(keyAttributes(groupOffsetKey(group, topicId, parsed.partition)));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && keys.length < max);
    return { keys, complete: startKey === undefined };
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
