/**
 * Stamps the time index (the rule: time-index-plan.ts). Read requests never write it: an
 * offsets-by-time lookup answers from the stamped prefix and the unstamped entries it reads.
 * Maintenance (lib/maintenance/partition-pass.ts) stamps each partition's new stable entries
 * on its pass, so the stamped prefix trails the stable one by at most a tick.
 *
 *  - A call stamps at most `limit` entries, `inFlight` writes at a time, and moves the pointer
 *    after each page once every stamp of it is written: the pointer never passes an unstamped
 *    entry (T1). Two stampers at once only repeat work: stamps are idempotent and the pointer
 *    only moves forward (a conditional write).
 *  - A failure rejects (the pointer stays at the last page completed); the next pass resumes.
 */
import { PAGE_SIZES, STAMP_DEFAULTS } from '../config.ts';
import type { TopicPartition } from '../model/topic.ts';
import type { IndexStore } from '../storage/index-store.ts';
import type { StableView } from './partition-index.ts';
import { stableEntryPages } from './stable-entries.ts';
import { planStamps, type Stamp, type StampPointer } from './time-index-plan.ts';

export interface StamperOptions {
  readonly entriesPerRun: number;
  readonly inFlight: number;
  readonly pageSize: number;
}

export const DEFAULT_STAMPER_OPTIONS: StamperOptions = {
  ...STAMP_DEFAULTS,
  pageSize: PAGE_SIZES.offsetsWalk,
};

export class TimeIndexStamper {
  constructor(
    private readonly index: Pick<IndexStore, 'entries' | 'stamp' | 'advanceStamp'>,
    private readonly opts: StamperOptions = DEFAULT_STAMPER_OPTIONS,
  ) {}

  /**
   * Stamps up to `limit` stable entries after the view's pointer and advances the pointer;
   * returns where it got to. Rejects on a storage failure (the pointer stays at the last
   * page completed).
   */
  async stamp(view: StableView, limit = this.opts.entriesPerRun): Promise<StampPointer> {
    let pointer: StampPointer = { stamped: view.hint.stamped, runningMaxTs: view.hint.runningMaxTs };
    const end = Math.min(view.stableSlots, pointer.stamped + limit);
    for await (const page of stableEntryPages(this.index, view, pointer.stamped, this.opts.pageSize, end)) {
      const plan = planStamps(page, pointer, end - pointer.stamped);
      if (plan.next.stamped === pointer.stamped) break; // a gap (not in a stable prefix): stop
      await this.writeAll(view.tp, plan.stamps);
      await this.index.advanceStamp(view.tp, plan.next.stamped, plan.next.runningMaxTs);
      pointer = plan.next;
    }
    return pointer;
  }

  private async writeAll(tp: TopicPartition, stamps: readonly Stamp[]): Promise<void> {
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < stamps.length && !failed; i = next++) {
        try {
          await this.index.stamp(tp, stamps[i]!.slot, stamps[i]!.runningMaxTs);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    // Settle every worker before reporting, so no write of this run outlives it.
    const results = await Promise.allSettled(Array.from({ length: Math.min(this.opts.inFlight, stamps.length) }, worker));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }
}
