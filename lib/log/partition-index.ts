/**
 * A partition's stable prefix: the published, gap-free run of slots from the start, whose end
 * is the high watermark (DESIGN.md §3.4). Computed from the head (reserved slots) and the
 * entries; cached per process because published entries are immutable.
 *
 * Abandoned slots: a slot missing from the prefix was reserved no later than
 *   bound = min(head.reservedAt, publishedAt of any later published slot)
 * (slots are handed out in time order by one atomic ADD). Once now - bound exceeds the slot
 * timeout, the run of missing slots is filled with holes (conditional puts: a late writer and
 * the filler race on attribute_not_exists, one wins). Offsets a hole covers are skipped, never
 * reused. No extra write happens on the healthy path to make this possible.
 */
import type { Clock } from '../deps.ts';
import type { HeadState, HintState, IndexEntry, IndexStore } from '../storage/index-store.ts';

export interface PartitionIndexOptions {
  /** How long a reserved slot may stay unpublished before readers fill it with a hole. */
  readonly slotTimeoutMs: number;
  /** Minimum time between hint writes from one process for one partition. */
  readonly hintIntervalMs: number;
  /** Entries kept per partition in the process cache. */
  readonly cachedEntries: number;
  /** Entries read per Query while walking (DynamoDB pages at 1 MB anyway). */
  readonly pageSize: number;
  /** Pages one view may walk; past that the view reports the prefix found so far (stale, safe). */
  readonly maxPagesPerView: number;
}

export const DEFAULT_PARTITION_INDEX_OPTIONS: PartitionIndexOptions = {
  slotTimeoutMs: 10_000,
  hintIntervalMs: 1_000,
  cachedEntries: 4_096,
  pageSize: 1_000,
  maxPagesPerView: 32,
};

/** What a reader may see of one partition right now. */
export interface StableView {
  readonly pk: string;
  readonly head: HeadState;
  readonly hint: HintState;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  /** Slots [0, stableSlots) are published. */
  readonly stableSlots: number;
  /** The cached tail of the prefix: contiguous entries for slots [windowFirstSlot, stableSlots). */
  readonly window: readonly IndexEntry[];
  readonly windowFirstSlot: number;
  /** Base offset of windowFirstSlot (= the high watermark when the window is empty). */
  readonly windowStartOffset: number;
}

interface CachedPrefix {
  firstSlot: number;
  startOffset: number;
  entries: IndexEntry[];
  hintWrittenAt: number;
  hintStable: number;
}

export class PartitionIndex {
  private readonly cache = new Map<string, CachedPrefix>();

  constructor(
    private readonly index: IndexStore,
    private readonly clock: Clock,
    private readonly opts: PartitionIndexOptions = DEFAULT_PARTITION_INDEX_OPTIONS,
  ) {}

  async view(pk: string): Promise<StableView> {
    const { head, hint } = await this.index.readState(pk);
    let prefix = this.cache.get(pk);
    const cachedEnd = prefix ? prefix.firstSlot + prefix.entries.length : -1;
    if (!prefix || hint.stable > cachedEnd) {
      // Someone else advanced further than we know: start from their hint.
      prefix = {
        firstSlot: hint.stable,
        startOffset: hint.highWatermark,
        entries: [],
        hintWrittenAt: 0,
        hintStable: hint.stable,
      };
      this.cache.set(pk, prefix);
    }
    await this.extend(pk, prefix, head);
    await this.maybeAdvanceHint(pk, prefix, hint);
    const stableSlots = prefix.firstSlot + prefix.entries.length;
    const last = prefix.entries[prefix.entries.length - 1];
    return {
      pk,
      head,
      hint,
      logStartOffset: hint.logStartOffset,
      highWatermark: last ? last.end : prefix.startOffset,
      stableSlots,
      window: prefix.entries,
      windowFirstSlot: prefix.firstSlot,
      windowStartOffset: prefix.startOffset,
    };
  }

  /** Drops what this process knows of a partition (a topic was deleted). */
  forget(pk: string): void {
    this.cache.delete(pk);
  }

  private async extend(pk: string, prefix: CachedPrefix, head: HeadState): Promise<void> {
    for (let round = 0; round < this.opts.maxPagesPerView; round++) {
      const from = prefix.firstSlot + prefix.entries.length;
      if (from >= head.slots) return;
      const found = await this.index.entries(pk, from, head.slots, this.opts.pageSize);
      let expected = from;
      let i = 0;
      for (; i < found.length && found[i]!.slot === expected; i++, expected++) {
        prefix.entries.push(found[i]!);
      }
      this.trim(prefix);
      if (expected >= head.slots) return;
      // A full page read without a gap only means "more to read", not a missing slot.
      if (i === found.length && found.length === this.opts.pageSize) continue;
      // Slot `expected` is reserved but not published. Abandoned long enough to fill?
      const later = found.slice(i);
      const bound = Math.min(head.reservedAt, ...later.map((e) => e.publishedAt));
      if (this.clock.now() - bound <= this.opts.slotTimeoutMs) return;
      const nextPresent = later[0];
      const runEnd = nextPresent ? nextPresent.slot : head.slots;
      const offsetsEnd = nextPresent ? nextPresent.base : head.next;
      const hwm = this.endOf(prefix);
      const now = this.clock.now();
      // The whole run's offsets go to its first slot; the rest are empty holes. Which slot
      // "owned" which offsets does not matter once they are skipped.
      for (let slot = expected; slot < runEnd; slot++) {
        await this.index.fillHole(pk, slot, slot === expected ? hwm : offsetsEnd, offsetsEnd, now);
      }
      // Re-read: a late writer may have won some of those slots, which is just as good.
    }
  }

  private endOf(prefix: CachedPrefix): number {
    const last = prefix.entries[prefix.entries.length - 1];
    return last ? last.end : prefix.startOffset;
  }

  private trim(prefix: CachedPrefix): void {
    const excess = prefix.entries.length - this.opts.cachedEntries;
    if (excess <= 0) return;
    const dropped = prefix.entries.splice(0, excess);
    prefix.firstSlot += excess;
    prefix.startOffset = dropped[dropped.length - 1]!.end;
  }

  private async maybeAdvanceHint(pk: string, prefix: CachedPrefix, hint: HintState): Promise<void> {
    const stable = prefix.firstSlot + prefix.entries.length;
    if (stable <= Math.max(hint.stable, prefix.hintStable)) return;
    const now = this.clock.now();
    if (now - prefix.hintWrittenAt < this.opts.hintIntervalMs) return;
    prefix.hintWrittenAt = now;
    prefix.hintStable = stable;
    await this.index.advanceHint(pk, stable, this.endOf(prefix));
  }
}
