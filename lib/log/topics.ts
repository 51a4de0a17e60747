/**
 * Topic administration: the rules of topic-rules.ts on top of the topic store.
 * Time and ids are injected; storage races (TopicChangedError) are retried by re-reading
 * (retryOnConflict).
 */
import { CONFLICT_RETRY_DEFAULTS } from '../config.ts';
import type { Clock, IdGenerator } from '../deps.ts';
import { UnknownTopicOrPartitionError } from '../errors.ts';
import type { TopicRecord } from '../model/topic.ts';
import type { TopicStore } from '../storage/topic-store.ts';
import { DEFAULT_CONFLICT_POLICY, retryOnConflict, type ConflictPolicy } from '../retry-on-conflict.ts';
import {
  applyConfigChanges,
  effectiveConfig,
  requireExistingTopicName,
  validatePartitionCount,
  validatePartitionGrowth,
  validateTopicName,
} from './topic-rules.ts';

export interface PartitionBounds {
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  /** Stored bytes of the partition's records (lib/log/partition-size.ts). */
  readonly sizeBytes: number;
  /** Distinct segment objects its entries reference. */
  readonly segments: number;
}

/** Where describe gets each partition's log start offset and high watermark. */
export interface PartitionBoundsReader {
  bounds(topic: TopicRecord): Promise<PartitionBounds[]>;
}

/** Before anything is produced every partition is empty: 0/0. */
export const emptyBounds: PartitionBoundsReader = {
  async bounds(topic) {
    return Array.from({ length: topic.partitions }, (_, partition) => ({
      partition,
      logStartOffset: 0,
      highWatermark: 0,
      sizeBytes: 0,
      segments: 0,
    }));
  },
};

export interface CreateTopicInput {
  readonly name: unknown;
  readonly partitions?: unknown;
  readonly config?: Readonly<Record<string, unknown>>;
}

export interface UpdateTopicInput {
  readonly partitions?: unknown;
  readonly config?: Readonly<Record<string, unknown>>;
}

export interface TopicDescription {
  readonly topic: TopicRecord;
  readonly partitions: PartitionBounds[];
}


export class TopicService {
  constructor(
    private readonly store: TopicStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly boundsReader: PartitionBoundsReader = emptyBounds,
    /** Invalidated on every change made through this process. */
    private readonly cache?: { invalidate(name: string): void },
    private readonly conflicts: ConflictPolicy = { ...DEFAULT_CONFLICT_POLICY, attempts: CONFLICT_RETRY_DEFAULTS.attempts.topic },
  ) {}

  /** Validates everything before the one conditional write: a 4xx never writes. */
  async create(input: CreateTopicInput): Promise<TopicRecord> {
    const name = validateTopicName(input.name);
    // Kafka's num.partitions default is 1.
    const partitions = validatePartitionCount(input.partitions ?? 1);
    const config = effectiveConfig(input.config);
    const topic: TopicRecord = {
      name,
      topicId: this.ids.newId(),
      partitions,
      config,
      createdAt: this.clock.now(),
      version: 0,
    };
    await this.store.create(topic);
    this.cache?.invalidate(name);
    return topic;
  }

  async list(): Promise<TopicRecord[]> {
    return this.store.list();
  }

  async get(name: string): Promise<TopicRecord> {
    const topic = await this.store.get(requireExistingTopicName(name));
    if (!topic) throw UnknownTopicOrPartitionError.topic(name);
    return topic;
  }

  async describe(name: string): Promise<TopicDescription> {
    const topic = await this.get(name);
    return { topic, partitions: await this.boundsReader.bounds(topic) };
  }

  async update(name: string, input: UpdateTopicInput): Promise<TopicRecord> {
    return this.retryRaces(name, async () => {
      const current = await this.get(name);
      const partitions =
        input.partitions === undefined
          ? current.partitions
          : validatePartitionGrowth(current.partitions, input.partitions);
      const config = applyConfigChanges(current.config, input.config);
      const updated = await this.store.update(current, { partitions, config });
      this.cache?.invalidate(name);
      return updated;
    });
  }

  async delete(name: string): Promise<void> {
    await this.retryRaces(name, async () => {
      const current = await this.get(name);
      await this.store.delete(current, this.clock.now());
      this.cache?.invalidate(name);
    });
  }

  private retryRaces<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return retryOnConflict(`topic '${name}'`, fn, this.conflicts);
  }
}
