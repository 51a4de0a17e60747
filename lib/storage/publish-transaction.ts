/**
 * The publish step of a produce (docs/ARCHITECTURE.md, "Write path" step 3), built here from domain intents: the index
 * entries of the request, optionally an idempotent producer's state advance, optionally a
 * group's offset commit at the group version it was validated at. Nothing above storage sees
 * a DynamoDB item.
 *
 *  - One entry and nothing else: one conditional PutItem (the common, cheapest case).
 *  - Otherwise ONE TransactWriteItems, all or nothing: entry puts (attribute_not_exists), the
 *    producer update (conditional on epoch and last sequence), the group version check and the
 *    offset puts. At most 98 items (LIMITS.maxPartitionsPerRequest + 1 + 64 + 1).
 *
 * A failed condition becomes a typed error, decided by which item failed (each part's position
 * in the transaction is known) and by the item DynamoDB returns (ALL_OLD):
 *   entry taken by a hole filler         SlotTakenError (retriable)
 *   entry already ours (a lost answer)   success
 *   producer at another epoch            ProducerFencedError
 *   producer already past our sequence   DuplicateSequenceError (a copy of this request won)
 *   group version moved                  GroupChangedError
 * A retried transaction carries `token` (the segment's UUID), so DynamoDB runs it once.
 */
import { PutItemCommand, TransactWriteItemsCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { DuplicateSequenceError, GroupChangedError, ProducerFencedError, SlotTakenError } from '../errors.ts';
import type { ProducerState } from '../model/producer.ts';
import type { TopicPartition } from '../model/topic.ts';
import { optNum, optStr, type Item } from './attributes.ts';
import type { AwsClients } from './clients.ts';
import type { CommittedOffset, GroupStore } from './group-store.ts';
import { entryItem, type PublishItem } from './index-store.ts';
import { ENTRY_ATTR } from './keys/partition.ts';
import type { ProducerStore } from './producer-store.ts';
import { conditionalWrite } from './conditional-write.ts';

/** An accepted idempotent request: the producer moves from `prev` to `next`. */
export interface ProducerAdvance {
  readonly prev: ProducerState;
  readonly next: ProducerState;
  readonly ttlSeconds: number;
}

/** Offsets committed with the records, valid only while the group is at `groupVersion`. */
export interface GroupOffsetCommit {
  readonly group: string;
  readonly groupVersion: number;
  readonly offsets: readonly Omit<CommittedOffset, 'committedAt'>[];
}

export interface PublishIntent {
  readonly entries: readonly PublishItem[];
  readonly producer?: ProducerAdvance | undefined;
  readonly commit?: GroupOffsetCommit | undefined;
  /** <= 36 characters; makes a retried transaction idempotent for 10 minutes. */
  readonly token?: string | undefined;
}

type Reason = { readonly Code?: string; readonly Item?: Item } | undefined;

export class PublishTransaction {
  constructor(
    private readonly clients: AwsClients,
    private readonly logTable: string,
    private readonly producers: ProducerStore,
    private readonly groups: GroupStore,
  ) {}

  async publish(intent: PublishIntent, now: number): Promise<void> {
    if (intent.entries.length === 1 && !intent.producer && !intent.commit) return this.putOne(intent.entries[0]!, now);
    const entryItems: TransactWriteItem[] = intent.entries.map((item) => ({
      Put: {
        TableName: this.logTable,
        Item: entryItem(item, now),
        ConditionExpression: 'attribute_not_exists(sk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    }));
    const producerItems = intent.producer ? [this.producers.acceptUpdate(intent.producer.prev, intent.producer.next, intent.producer.ttlSeconds)] : [];
    const commitItems = intent.commit
      ? [
          this.groups.commitFence(intent.commit.group, intent.commit.groupVersion),
          ...intent.commit.offsets.map((o) => this.groups.offsetPut(intent.commit!.group, o, now)),
        ]
      : [];
    const outcome = await conditionalWrite('publish entries', () =>
      this.clients.dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [...entryItems, ...producerItems, ...commitItems],
          ClientRequestToken: intent.token,
        }),
      ),
    );
    if (outcome.won) return;
    const verdict = this.explain(intent, outcome.reasons ?? []);
    if (verdict !== 'committed') throw verdict;
  }

  private async putOne(item: PublishItem, now: number): Promise<void> {
    const outcome = await conditionalWrite('publish entry', () =>
      this.clients.dynamo.send(
        new PutItemCommand({
          TableName: this.logTable,
          Item: entryItem(item, now),
          ConditionExpression: 'attribute_not_exists(sk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (outcome.won) return;
    if (outcome.existing && optStr(outcome.existing, ENTRY_ATTR.object) === item.object) return; // our own earlier attempt
    throw slotTaken(item.reservation.tp, item.reservation.slot);
  }

  /**
   * The typed error for the first failed condition, by the part of the intent it belongs to;
   * 'committed' when the only failures are entries already holding our own object (an earlier
   * attempt of this very transaction committed, and its answer was lost).
   */
  private explain(intent: PublishIntent, reasons: readonly Reason[]): Error | 'committed' {
    const failed = (r: Reason) => r?.Code === 'ConditionalCheckFailed';
    for (let i = 0; i < intent.entries.length; i++) {
      const reason = reasons[i];
      if (!failed(reason)) continue;
      const entry = intent.entries[i]!;
      if (reason?.Item && optStr(reason.Item, ENTRY_ATTR.object) === entry.object) continue;
      return slotTaken(entry.reservation.tp, entry.reservation.slot);
    }
    let at = intent.entries.length;
    if (intent.producer) {
      const reason = reasons[at++];
      if (failed(reason)) {
        const { prev, next } = intent.producer;
        const epoch = reason?.Item ? optNum(reason.Item, 'epoch') : undefined;
        if (epoch !== undefined && epoch !== prev.epoch) {
          return new ProducerFencedError(
            `producer '${prev.producerId}' epoch ${prev.epoch} was fenced during the request: the current epoch is ${epoch}`,
            { currentEpoch: epoch },
          );
        }
        return new DuplicateSequenceError(prev.producerId, next.lastSequence);
      }
    }
    if (intent.commit && reasons.slice(at).some(failed)) return new GroupChangedError(intent.commit.group);
    return 'committed';
  }
}

function slotTaken(tp: TopicPartition, slot: number): SlotTakenError {
  return new SlotTakenError(`partition ${tp.partition} of topic ${tp.topicId}`, slot);
}
