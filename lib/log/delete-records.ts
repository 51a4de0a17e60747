/**
 * DeleteRecords (API.md "Topics", `POST .../partitions/{p}/delete-records`): moves a
 * partition's log start offset forward, so records below it are no longer readable. As
 * Kafka's `Partition.deleteRecordsOnLeader` / `UnifiedLog.maybeIncrementLogStartOffset`:
 *
 *  - a topic whose cleanup.policy does not include `delete` (exactly `compact`) refuses it
 *    with POLICY_VIOLATION; `delete` and `compact,delete` allow it;
 *  - `-1` (DeleteRecordsRequest.HIGH_WATERMARK) means the high watermark;
 *  - a target above the high watermark is OFFSET_OUT_OF_RANGE, with both bounds;
 *  - a target at or below the current start changes nothing and answers the current start;
 *  - otherwise the start moves to the target and the answer is the start now stored (Kafka's
 *    low watermark).
 *
 * The only write is `IndexStore.advanceLogStart`, conditional and forward-only on the hint
 * item, so concurrent requests never move the start back: the largest target wins, and a
 * request that lost to a larger one answers that one. Every reader (fetch, `earliest`,
 * describe, ListOffsets, group resets) reads the start from the stable view, which reads the
 * hint strongly consistently on each refresh, so the move is visible to them at once. The
 * bytes below the start stay in storage until maintenance removes them; nothing serves them.
 *
 * The bounds come from this process's stable view. The high watermark never decreases, so a
 * target checked against it stays at or below every later high watermark.
 */
import type { Clock } from '../deps.ts';
import type { TopicRecord } from '../model/topic.ts';
import { InvalidRequestError, OffsetOutOfRangeError, PolicyViolationError, UnknownTopicOrPartitionError } from '../errors.ts';
import type { IndexStore } from '../storage/index-store.ts';
import type { PartitionIndex } from './partition-index.ts';
import type { TopicCache } from './topic-cache.ts';

/** Kafka's DeleteRecordsRequest.HIGH_WATERMARK: "delete everything up to the high watermark". */
export const HIGH_WATERMARK = -1;

export interface DeleteRecordsAnswer {
  /** The partition's log start offset after the request (Kafka's low watermark). */
  readonly logStartOffset: number;
}

/** Kafka's `LogConfig.delete`: the policy includes `delete`. */
export function allowsDeleteRecords(topic: Pick<TopicRecord, 'config'>): boolean {
  return topic.config['cleanup.policy'].split(',').includes('delete');
}

export class DeleteRecordsService {
  constructor(
    private readonly topics: Pick<TopicCache, 'get'>,
    private readonly partitions: Pick<PartitionIndex, 'view'>,
    private readonly index: Pick<IndexStore, 'advanceLogStart'>,
    private readonly clock: Clock,
  ) {}

  async deleteRecords(topicName: string, partition: number, beforeOffset: number): Promise<DeleteRecordsAnswer> {
    if (!Number.isSafeInteger(beforeOffset) || beforeOffset < HIGH_WATERMARK) {
      throw new InvalidRequestError(`beforeOffset must be an integer >= -1, got ${beforeOffset}`, { field: 'beforeOffset' });
    }
    // Read fresh, not from the topic cache: a policy changed to `compact` on another instance
    // a moment ago must refuse this (it cannot be undone), and the request is rare.
    const topic = await this.topics.get(topicName, { fresh: true });
    if (partition >= topic.partitions) throw UnknownTopicOrPartitionError.partition(topicName, partition, topic.partitions);
    if (!allowsDeleteRecords(topic)) {
      throw new PolicyViolationError(
        `Records of partition ${topicName}-${partition} can not be deleted due to the configured policy (cleanup.policy=${topic.config['cleanup.policy']})`,
        { topic: topicName, partition, cleanupPolicy: topic.config['cleanup.policy'] },
      );
    }
    const tp = { topicId: topic.topicId, partition };
    const view = await this.partitions.view(tp);
    const target = beforeOffset === HIGH_WATERMARK ? view.highWatermark : beforeOffset;
    if (target > view.highWatermark) throw new OffsetOutOfRangeError(target, view.logStartOffset, view.highWatermark);
    if (target <= view.logStartOffset) return { logStartOffset: view.logStartOffset };
    // Maintenance is asked to look at once: it empties the entries now below the start, so
    // their objects can be collected (and describe's size drops) even on a quiet partition.
    return { logStartOffset: await this.index.advanceLogStart(tp, target, this.clock.now()) };
  }
}
