/**
 * Produce (docs/ARCHITECTURE.md, "Write path"): validate → choose partitions → encode one
 * RecordBatch per partition → hand the chunks to the group committer (group-commit.ts), which
 * PUTs one segment object while reserving the slots, then publishes (one conditional put, or
 * one transaction for several partitions or with a producer sequence or offset commit) →
 * answer offsets in request order.
 *
 * Failure rules
 *  - Everything that can be refused is checked before anything is written: a 4xx writes nothing
 *    and takes no offsets.
 *  - PUT, reserve or publish fails → every slot reserved for the request is filled with a hole
 *    (best effort; if that fails too, readers fill it after the slot timeout). Nothing of the
 *    request is visible: the request is all or nothing (W2). Its offsets are skipped.
 *  - The object of a failed request stays in S3 unreferenced; GC finds it through the byObject
 *    index (no entry references it) after a grace period (W3).
 */
import { encodeRecordBatch, type RecordInput } from '../codec/record-batch.ts';
import { CompressionCodec, codecAvailable, compressionFromName, type CompressionCodecId } from '../codec/compression.ts';
import { StickyPartitioner, choosePartition } from '../partition/partitioner.ts';
import type { Clock } from '../deps.ts';
import {
  InvalidRecordError,
  InvalidRequestError,
  RecordTooDeepError,
  RecordTooLargeError,
  UnknownTopicOrPartitionError,
} from '../errors.ts';
import { validateId } from '../id-rules.ts';
import { LIMITS } from '../limits.ts';
import type { Reservation } from '../storage/index-store.ts';
import type { GroupOffsetCommit, ProducerAdvance } from '../storage/publish-transaction.ts';
import type { GroupCommitter, PublishConditions } from './group-commit.ts';
import type { RecentRequest } from '../model/producer.ts';
import type { ProducerRef, ProducerService } from './producers.ts';
import type { TopicRecord } from '../model/topic.ts';
import { offsetsInRequestOrder, planChunks, timestampRange, type PlannedRecord, type ProducedOffset } from './produce-plan.ts';

export type { ProducedOffset } from './produce-plan.ts';
import type { ByteHeader, ProducerRecord } from '../model/record.ts';
import { recordBudgetBytes } from './record-size.ts';
import { codecErrorAnswer } from './stored-batches.ts';
import type { TopicCache } from './topic-cache.ts';

/**
 * A field the API could not turn into bytes (a bad encoding, a json value nested too deep),
 * passed on as data: prepare() raises it where the order of a record's refusals puts it, and
 * only after the topic lookup.
 */
export interface FieldFailure {
  readonly failed: InvalidRecordError;
}

export type ProduceField = Uint8Array | null | FieldFailure;

/** A ProducerRecord (lib/model/record.ts) whose fields may carry a FieldFailure instead. */
export interface ProduceRecordInput extends Omit<ProducerRecord, 'key' | 'value' | 'headers'> {
  readonly key: ProduceField;
  readonly value: ProduceField;
  readonly headers: readonly { readonly key: string; readonly value: ProduceField }[];
}

function isFailure(field: ProduceField): field is FieldFailure {
  return field !== null && !(field instanceof Uint8Array);
}

export interface CommitOffsetsInput {
  readonly group: string;
  readonly memberId?: string | null | undefined;
  readonly memberEpoch?: number | undefined;
  readonly offsets: readonly { topic: string; partition: number; offset: number; metadata?: string | undefined }[];
}

export interface ProduceInput {
  readonly records: readonly ProduceRecordInput[];
  /** Idempotent producer: the request is accepted once per sequence. */
  readonly producer?: ProducerRef | undefined;
  /** A group offset commit made in the same atomic step as the records. */
  readonly commitOffsets?: CommitOffsetsInput | undefined;
  /**
   * A state advance the caller computed itself (the Durable Streams writer, lib/ds/): given
   * each partition's first offset, the conditional producer-state update the publish makes.
   * Unlike `producer` nothing is checked here: the caller read `prev` and decided; the
   * transaction's condition (epoch and last sequence unchanged) decides races, and a lost one
   * is a DuplicateSequenceError with nothing of the request visible.
   */
  readonly advance?: ((bases: ReadonlyMap<number, number>) => ProducerAdvance) | undefined;
}

/** Validates a group offset commit and returns it as a publish intent (fencing check first). */
export interface OffsetCommitPreparer {
  /** The checks that need no read (ids, topic names, counts); throws the API's error. */
  validateCommitItems(input: CommitOffsetsInput): void;
  commitItems(input: CommitOffsetsInput): Promise<GroupOffsetCommit>;
}

/**
 * Codec for `compression.type: producer` (the REST producer sends no compressed batches, so
 * the service picks): zstd, measured in BENCHMARKS.md (3.8x smaller on JSON-like records, S3
 * bytes and GET bandwidth saved outweigh the CPU). Lambda's Node 22 has zstd in node:zlib;
 * a runtime with no working zstd at all stores batches uncompressed rather than failing.
 */
export function defaultCompression(available: (codec: CompressionCodecId) => boolean = codecAvailable): CompressionCodecId {
  return available(CompressionCodec.zstd) ? CompressionCodec.zstd : CompressionCodec.none;
}

export const DEFAULT_COMPRESSION: CompressionCodecId = defaultCompression();

type PreparedRecord = PlannedRecord<RecordInput>;

export class ProduceService {
  private readonly sticky: StickyPartitioner;

  constructor(
    private readonly topics: TopicCache,
    private readonly writer: Pick<GroupCommitter, 'write'>,
    private readonly clock: Clock,
    private readonly producers?: ProducerService,
    private readonly offsetCommits?: OffsetCommitPreparer,
    stickySeed = 0,
  ) {
    this.sticky = new StickyPartitioner({ seed: stickySeed });
  }

  async produce(topicName: string, input: ProduceInput): Promise<ProducedOffset[]> {
    if (input.records.length === 0) throw new InvalidRequestError('records must hold at least one record');
    // What can be refused without a read is refused first: a malformed id costs no storage call
    // (the topic name is checked the same way by the topic lookup).
    if (input.producer) validateId('producer', input.producer.id);
    if (input.producer && input.advance) throw new Error('produce takes a producer sequence or a state advance, not both');
    if (input.commitOffsets) this.requireOffsetCommits().validateCommitItems(input.commitOffsets);
    const maxExplicit = Math.max(-1, ...input.records.map((r) => r.partition ?? -1));
    const topic = maxExplicit >= 0 ? await this.topics.withPartition(topicName, maxExplicit) : await this.topics.get(topicName);
    const now = this.clock.now();

    // Exactly-once checks come before anything is reserved (ARCHITECTURE "Exactly once"): a duplicate answers
    // the original offsets and writes nothing; a refused request consumes no offsets.
    const sequenceCheck = input.producer && (await this.requireProducers().check(input.producer));
    if (sequenceCheck?.kind === 'duplicate') {
      const replay = this.prepare(topic, input, now, sequenceCheck.original.sticky);
      return offsetsInRequestOrder(replay.records, (p) => sequenceCheck.original.bases[String(p)]!);
    }
    const { records: prepared, sticky } = this.prepare(topic, input, now);
    const commit = input.commitOffsets ? await this.requireOffsetCommits().commitItems(input.commitOffsets) : undefined;

    const planned = planChunks(prepared, LIMITS.maxPartitionsPerRequest);

    const compression = topic.config['compression.type'] === 'producer'
      ? DEFAULT_COMPRESSION
      : compressionFromName(topic.config['compression.type']);
    const logAppendTime = topic.config['message.timestamp.type'] === 'LogAppendTime';
    const partitions = planned.map((c) => c.partition);
    const chunks = planned.map((c) => {
      const { min, max } = timestampRange(c.records);
      let batches: Buffer;
      try {
        batches = encodeRecordBatch({
          compression,
          timestampType: logAppendTime ? 'LogAppendTime' : 'CreateTime',
          records: c.records,
          ...(logAppendTime ? { maxTimestamp: now } : {}),
        });
      } catch (err) {
        throw codecErrorAnswer(err); // a codec package that did not load: 500 naming it
      }
      return { topicId: topic.topicId, partition: c.partition, batches, recordCount: c.records.length, budgetBytes: c.budgetBytes, minTimestamp: min, maxTimestamp: max };
    });

    const advance = input.advance;
    const conditions =
      sequenceCheck?.kind === 'accept' || commit || advance
        ? (reservations: readonly Reservation[]): PublishConditions => {
            if (advance) return { producer: advance(new Map(partitions.map((p, i) => [p, reservations[i]!.base]))), commit };
            if (sequenceCheck?.kind !== 'accept') return { commit };
            const accepted: RecentRequest = {
              sequence: input.producer!.sequence,
              sticky,
              bases: Object.fromEntries(partitions.map((p, i) => [String(p), reservations[i]!.base])),
            };
            return { producer: this.requireProducers().advance(sequenceCheck.prev, accepted), commit };
          }
        : undefined;
    const reservations = await this.writer.write({ chunks, conditions });
    const bases = new Map(partitions.map((p, i) => [p, reservations[i]!.base]));
    return offsetsInRequestOrder(prepared, (p) => bases.get(p)!);
  }

  private requireProducers(): ProducerService {
    if (!this.producers) throw new Error('ProduceService was built without a ProducerService');
    return this.producers;
  }

  private requireOffsetCommits(): OffsetCommitPreparer {
    if (!this.offsetCommits) throw new Error('ProduceService was built without an offset committer');
    return this.offsetCommits;
  }

  /**
   * Checks every record (raising, in order, the fields the API could not encode); throws
   * before anything is written. `stickyOverride` replays a duplicate's original placement of
   * null-keyed records.
   */
  private prepare(
    topic: TopicRecord,
    input: ProduceInput,
    now: number,
    stickyOverride?: number,
  ): { records: PreparedRecord[]; sticky: number } {
    const maxRecordBytes = topic.config['max.message.bytes'];
    const compacted = topic.config['cleanup.policy'].includes('compact');
    const logAppendTime = topic.config['message.timestamp.type'] === 'LogAppendTime';
    const sticky =
      stickyOverride ??
      (input.records.some((r) => r.partition === undefined && r.key === null)
        ? this.sticky.partitionForRequest(topic.topicId, topic.partitions)
        : 0);
    const records = input.records.map((r, i) => {
      if (isFailure(r.key)) throw r.key.failed;
      const key = r.key;
      // A value too deep to store is refused last: the record's other refusals outrank it.
      let tooDeep: RecordTooDeepError | undefined;
      let value: Uint8Array | null = null;
      if (isFailure(r.value)) {
        if (!(r.value.failed instanceof RecordTooDeepError)) throw r.value.failed;
        tooDeep = r.value.failed;
      } else {
        value = r.value;
      }
      const headers = r.headers.map((h): ByteHeader => {
        if (isFailure(h.value)) throw h.value.failed;
        return { key: h.key, value: h.value };
      });
      if (compacted && key === null) {
        throw new InvalidRecordError(
          `records[${i}]: compacted topic '${topic.name}' cannot accept a record without a key`,
        );
      }
      const size =
        (key?.byteLength ?? 0) +
        (tooDeep?.byteLength ?? value?.byteLength ?? 0) +
        headers.reduce((n, h) => n + Buffer.byteLength(h.key) + (h.value?.byteLength ?? 0), 0);
      if (size > maxRecordBytes) {
        throw new RecordTooLargeError(
          `records[${i}] is ${size} bytes, more than max.message.bytes = ${maxRecordBytes}`,
          { index: i, maxMessageBytes: maxRecordBytes },
        );
      }
      if (r.partition !== undefined && r.partition >= topic.partitions) {
        throw UnknownTopicOrPartitionError.partition(topic.name, r.partition, topic.partitions);
      }
      if (tooDeep) throw tooDeep;
      const partition = choosePartition({ partition: r.partition, key }, topic.partitions, sticky);
      const timestamp = logAppendTime ? now : (r.timestamp ?? now);
      return { partition, record: { timestamp, key, value, headers }, budgetBytes: recordBudgetBytes(size) };
    });
    return { records, sticky };
  }
}
