/**
 * ListOffsets (API.md `GET .../offsets?at=`): earliest, latest, or the first offset whose record
 * timestamp is >= T (Kafka's offsetsForTimes).
 *
 *  - By time (the rule: time-index-plan.ts): if the stamped prefix already reaches T, the byTime
 *    index answers "first tsKey >= T" with one Query; otherwise the first unstamped stable
 *    entry holding a record >= T, found by reading entries (the cached window first). Either
 *    way, the answer is the first record of that entry (or a later one) at or after T.
 *  - A lookup writes nothing: maintenance stamps the time index (time-index-stamper.ts), so
 *    the stamped prefix trails the stable one by at most a maintenance tick.
 * Not found → the high watermark with timestamp null (API.md).
 */
import { PAGE_SIZES } from '../config.ts';
import type { IndexEntry, IndexStore } from '../storage/index-store.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import type { PartitionIndex, StableView } from './partition-index.ts';
import { stableEntryPages } from './stable-entries.ts';
import { decodeStored } from './stored-batches.ts';
import { readEntryChunks } from './entry-chunks.ts';
import { firstUnstampedReaching, timeLookupSource } from './time-index-plan.ts';
import type { TopicCache } from './topic-cache.ts';

export type OffsetQuery = 'earliest' | 'latest' | { timestamp: number };

export interface OffsetAnswer {
  readonly offset: number;
  readonly timestamp: number | null;
}

const PAGE = PAGE_SIZES.offsetsWalk;

export class OffsetsService {
  constructor(
    private readonly topics: TopicCache,
    private readonly index: IndexStore,
    private readonly partitions: PartitionIndex,
    private readonly segments: SegmentStore,
  ) {}

  async lookup(topicName: string, partition: number, at: OffsetQuery): Promise<OffsetAnswer> {
    const topic = await this.topics.withPartition(topicName, partition);
    const view = await this.partitions.view({ topicId: topic.topicId, partition });
    if (at === 'latest') return { offset: view.highWatermark, timestamp: null };
    if (at === 'earliest') {
      const first = await this.firstRecordFrom(view, await this.slotAt(view, view.logStartOffset), view.logStartOffset, -Infinity);
      return first?.offset === view.logStartOffset ? first : { offset: view.logStartOffset, timestamp: null };
    }
    const slot = await this.firstSlotReaching(view, at.timestamp);
    const answer = (slot === undefined ? undefined : await this.firstRecordFrom(view, slot, view.logStartOffset, at.timestamp)) ?? {
      offset: view.highWatermark,
      timestamp: null,
    };
    return answer;
  }

  /** The first stable entry holding a record with timestamp >= ts (time-index-plan.ts T3). */
  private async firstSlotReaching(view: StableView, ts: number): Promise<number | undefined> {
    if (timeLookupSource(view.hint, ts) === 'stamped') return this.index.firstSlotWithMaxTsAtLeast(view.tp, ts);
    for await (const page of stableEntryPages(this.index, view, view.hint.stamped, PAGE)) {
      const slot = firstUnstampedReaching(page, ts);
      if (slot !== undefined) return slot;
    }
    return undefined;
  }

  private async slotAt(view: StableView, offset: number): Promise<number> {
    return (await this.index.slotAtOrBefore(view.tp, offset)) ?? 0;
  }

  /** The first record at or after `fromSlot` with offset >= minOffset and timestamp >= ts. */
  private async firstRecordFrom(view: StableView, fromSlot: number, minOffset: number, ts: number): Promise<OffsetAnswer | undefined> {
    for await (const page of stableEntryPages(this.index, view, fromSlot, PAGE)) {
      for (const e of page) {
        const hit = await this.firstInEntry(view, e, minOffset, ts);
        if (hit) return hit;
      }
    }
    return undefined;
  }

  private async firstInEntry(view: StableView, e: IndexEntry, minOffset: number, ts: number): Promise<OffsetAnswer | undefined> {
    if (e.hole || e.end <= minOffset || (e.maxTimestamp ?? -Infinity) < ts) return undefined;
    const read = await readEntryChunks(this.index, this.segments, view.tp, [e]);
    for (const batch of decodeStored(read.entries[0]!, read.chunks.get(e.slot)!)) {
      for (const r of batch.records) {
        const recordTs = batch.timestampType === 'LogAppendTime' ? batch.maxTimestamp : r.timestamp;
        if (r.offset >= minOffset && recordTs >= ts) return { offset: r.offset, timestamp: recordTs };
      }
    }
    return undefined;
  }
}
