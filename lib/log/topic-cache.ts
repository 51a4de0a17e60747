/**
 * Topic metadata cached in the function's memory for a few seconds, so a
 * warm produce costs no metadata read. Writes through this process invalidate at once; other
 * instances see a change within `ttlMs` (documented in docs/API.md).
 */
import { TUNING_DEFAULTS } from '../config.ts';
import type { Clock } from '../deps.ts';
import { UnknownTopicOrPartitionError } from '../errors.ts';
import type { TopicRecord } from '../model/topic.ts';
import type { TopicStore } from '../storage/topic-store.ts';
import { requireExistingTopicName } from './topic-rules.ts';

export class TopicCache {
  private readonly entries = new Map<string, { topic: TopicRecord; fetchedAt: number }>();

  constructor(
    private readonly store: TopicStore,
    private readonly clock: Clock,
    private readonly ttlMs = TUNING_DEFAULTS.topicCacheTtlMs,
  ) {}

  async get(name: string, opts: { fresh?: boolean } = {}): Promise<TopicRecord> {
    requireExistingTopicName(name);
    const hit = this.entries.get(name);
    if (!opts.fresh && hit && this.clock.now() - hit.fetchedAt < this.ttlMs) return hit.topic;
    const topic = await this.store.get(name);
    if (!topic) {
      this.entries.delete(name);
      throw UnknownTopicOrPartitionError.topic(name);
    }
    this.entries.set(name, { topic, fetchedAt: this.clock.now() });
    return topic;
  }

  /** The topic, re-read once if `partition` is beyond the cached count (it may have grown). */
  async withPartition(name: string, partition: number): Promise<TopicRecord> {
    let topic = await this.get(name);
    if (partition >= topic.partitions) topic = await this.get(name, { fresh: true });
    if (partition >= topic.partitions) throw UnknownTopicOrPartitionError.partition(name, partition, topic.partitions);
    return topic;
  }

  invalidate(name: string): void {
    this.entries.delete(name);
  }
}
