/**
 * Stamps the time index in the background (the rule: time-index-plan.ts). An offsets-by-time
 * lookup never writes: it answers from the stamped prefix and the unstamped entries it reads,
 * then calls `trigger`, which starts a bounded run for that partition without being awaited.
 * So stamping catches up lookup by lookup, and the first lookup on a long unstamped log costs
 * reads only. Maintenance may call `stamp` directly.
 *
 *  - One run per partition at a time in this process; a trigger while one runs is dropped (the
 *    next lookup triggers again). Runs of other processes may overlap: stamps are idempotent
 *    and the pointer only moves forward (a conditional write), so they only repeat work.
 *  - A run stamps at most `entriesPerRun` entries, `inFlight` writes at a time, and moves the
 *    pointer after each page once every stamp of it is written: the pointer never passes an
 *    unstamped entry (T1).
 *  - A failed run is logged (deps.logger) and never rejects into the request or the process.
 *    `idle()` resolves when no run is in flight (tests, shutdown).
 *
 * In Lambda a run that outlives its request is frozen with the instance and resumes on its
 * next invocation; it may then fail (reported) and the next lookup starts over.
 */
import { PAGE_SIZES, STAMP_DEFAULTS } from '../config.ts';
import { consoleLogger, type Logger } from '../deps.ts';
import { tpId, type TopicPartition } from '../model/topic.ts';
import type { IndexStore } from '../storage/index-store.ts';
import type { StableView } from './partition-index.ts';
import { stableEntryPages } from './stable-entries.ts';
import { planStamps, type Stamp, type StampPointer } from './time-index-plan.ts';

export interface StamperOptions {
  readonly entriesPerRun: number;
  readonly inFlight: number;
  readonly pageSize: number;
  /** Where a failed run is reported (deps.logger). */
  readonly logger: Logger;
}

export const DEFAULT_STAMPER_OPTIONS: StamperOptions = {
  ...STAMP_DEFAULTS,
  pageSize: PAGE_SIZES.offsetsWalk,
  logger: consoleLogger,
};

export class TimeIndexStamper {
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly index: Pick<IndexStore, 'entries' | 'stamp' | 'advanceStamp'>,
    private readonly opts: StamperOptions = DEFAULT_STAMPER_OPTIONS,
  ) {}

  /** Starts a bounded run for the view's partition if it has unstamped stable entries. Never throws. */
  trigger(view: StableView): void {
    if (view.hint.stamped >= view.stableSlots) return;
    const id = tpId(view.tp);
    if (this.running.has(id)) return;
    const run = this.stamp(view)
      .then(
        () => undefined,
        (err: unknown) => this.report(err, view.tp),
      )
      .finally(() => this.running.delete(id));
    this.running.set(id, run);
  }

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

  /** Resolves once no run is in flight. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
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

  private report(err: unknown, tp: TopicPartition): void {
    try {
      this.opts.logger.error('time-index stamping failed', { topicId: tp.topicId, partition: tp.partition, err: String(err) });
    } catch {
      // A failing logger must not turn into an unhandled rejection either.
    }
  }
}
