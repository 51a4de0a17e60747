/**
 * ListOffsets (API.md `GET .../offsets?at=`): earliest, latest, or the first offset whose record
 * timestamp is >= T (Kafka's offsetsForTimes). No scan:
 *
 *  - Stable data entries get a `tsKey` = (running max timestamp over slots 0..s, s). The running
 *    max is monotone in slot order, so the FIRST entry whose running max is >= T is the first
 *    entry holding a record with timestamp >= T, and every record before it is older than T.
 *    The byTime index answers "first tsKey >= T" with one Query.
 *  - Stamping happens lazily here (and in maintenance): entries after the hint's `stamped`
 *    pointer are stamped in slot order, so the stamped part is always a prefix.
 * Not found → the high watermark with timestamp null (API.md).
 */
import type { IndexEntry, IndexStore } from '../storage/index-store.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import type { PartitionIndex, StableView } from './partition-index.ts';
import { PAGE_SIZES } from '../config.ts';
import { decodeStored } from './stored-batches.ts';
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
    if (slot === undefined) return { offset: view.highWatermark, timestamp: null };
    return (
      (await this.firstRecordFrom(view, slot, view.logStartOffset, at.timestamp)) ?? {
        offset: view.highWatermark,
        timestamp: null,
      }
    );
  }

  /** Stamps the unstamped stable entries, then asks the byTime index. */
  private async firstSlotReaching(view: StableView, ts: number): Promise<number | undefined> {
    let stamped = view.hint.stamped;
    let runMax = view.hint.runningMaxTs;
    let found: number | undefined;
    while (stamped < view.stableSlots) {
      const page = await this.index.entries(view.tp, stamped, Math.min(view.stableSlots, stamped + PAGE), PAGE);
      for (const e of page) {
        if (!e.hole && e.maxTimestamp !== undefined) {
          runMax = Math.max(runMax, e.maxTimestamp);
          await this.index.stamp(view.tp, e.slot, runMax);
          if (found === undefined && runMax >= ts && view.hint.runningMaxTs < ts) found = e.slot;
        }
        stamped = e.slot + 1;
      }
      if (page.length === 0) break;
      await this.index.advanceStamp(view.tp, stamped, runMax);
    }
    if (view.hint.runningMaxTs >= ts) return this.index.firstSlotWithMaxTsAtLeast(view.tp, ts);
    return found;
  }

  private async slotAt(view: StableView, offset: number): Promise<number> {
    return (await this.index.slotAtOrBefore(view.tp, offset)) ?? 0;
  }

  /** The first record at or after `fromSlot` with offset >= minOffset and timestamp >= ts. */
  private async firstRecordFrom(view: StableView, fromSlot: number, minOffset: number, ts: number): Promise<OffsetAnswer | undefined> {
    for (let slot = fromSlot; slot < view.stableSlots; slot += PAGE) {
      const page = await this.index.entries(view.tp, slot, Math.min(view.stableSlots, slot + PAGE), PAGE);
      for (const e of page) {
        const hit = await this.firstInEntry(e, minOffset, ts);
        if (hit) return hit;
      }
    }
    return undefined;
  }

  private async firstInEntry(e: IndexEntry, minOffset: number, ts: number): Promise<OffsetAnswer | undefined> {
    if (e.hole || e.end <= minOffset || (e.maxTimestamp ?? -Infinity) < ts) return undefined;
    const [chunk] = await this.segments.read([{ object: e.object!, position: e.position!, length: e.length! }]);
    for (const batch of decodeStored(e, chunk!)) {
      for (const r of batch.records) {
        const recordTs = batch.timestampType === 'LogAppendTime' ? batch.maxTimestamp : r.timestamp;
        if (r.offset >= minOffset && recordTs >= ts) return { offset: r.offset, timestamp: recordTs };
      }
    }
    return undefined;
  }
}
