/**
 * Retention on one partition's pass (the rule: retention-plan.ts R1-R5), and the emptying of
 * entries wholly below the log start offset, whether retention or DeleteRecords moved it.
 *
 *  1. Entries wholly below the current start are emptied first (DeleteRecords moves the start
 *     at once and leaves this to maintenance), so the size retention judges counts only data
 *     a reader can still see.
 *  2. With `cleanup.policy` containing `delete`, the plan moves the start forward over expired
 *     or excess entries: one conditional, forward-only write of the hint's `lso`. From then on
 *     fetches below it answer 416, `earliest` means it, describe shows it.
 *  3. The entries now wholly below it are emptied: each becomes a hole over the same offsets
 *     (slots, offsets and the stable prefix are untouched, so no reader and no writer can be
 *     confused), its object reference goes (garbage collection takes the object once no entry
 *     references it, after the grace), and in the same transaction its bytes and object leave
 *     maintenance's summary. Garbage collection hears of it before (dirty mark).
 * Order makes crashes harmless: the start moves before anything is emptied (a crash in between
 * leaves data nobody can read, emptied by the next pass); each emptying chunk is one
 * transaction with its summary change.
 * Index items stay (a hole is ~60 bytes); deleting them needs a floor under the prefix walk,
 * left for later.
 */
import { PAGE_SIZES } from '../config.ts';
import type { Clock } from '../deps.ts';
import type { TopicConfig, TopicPartition } from '../model/topic.ts';
import type { ClearedEntry, IndexEntry, IndexStore, MaintenanceSummary, SummaryDelta } from '../storage/index-store.ts';
import { planRetention, type RetentionPlan } from './retention-plan.ts';

export interface RetentionDeps {
  readonly index: Pick<IndexStore, 'entries' | 'advanceLogStart' | 'clearEntries'>;
  readonly clock: Clock;
  /** Before entries are emptied: their objects may become garbage (gc.ts). */
  readonly beforeClear: () => Promise<void>;
}

export interface RetentionReport {
  readonly logStartOffset: number;
  readonly plan: RetentionPlan | undefined;
  /** Entries emptied this pass. */
  readonly cleared: number;
  /** When the oldest kept entry expires by time (ms; undefined: not by time, or none). */
  readonly nextExpiry?: number;
  /** Work is left (more pages to plan or to empty than one pass reads): the next tick goes on. */
  readonly unfinished: boolean;
}

/** Pages one pass reads at most while planning (more is left for the next pass). */
const MAX_PAGES = 10;
/** Entries past the summary the size rule reads at most (more: the summary catches up first). */
const MAX_UNSEEN = 20_000;
const CHUNK = 99;

export async function applyRetention(
  deps: RetentionDeps,
  tp: TopicPartition,
  view: { readonly logStartOffset: number; readonly stableSlots: number },
  config: Pick<TopicConfig, 'cleanup.policy' | 'retention.ms' | 'retention.bytes'>,
  summary: MaintenanceSummary,
  dryRun: boolean,
): Promise<{ summary: MaintenanceSummary; report: RetentionReport }> {
  let current = summary;
  let cleared = 0;
  let unfinished = false;
  if (!dryRun) {
    const first = await emptyBelow(deps, tp, view.logStartOffset, view.stableSlots, current);
    current = first.summary;
    cleared += first.cleared;
    // Not all emptied yet (a long DeleteRecords, a chunk lost to a merge): plan nothing on a
    // size that still counts them; the next tick goes on.
    if (!first.done) return { summary: current, report: { logStartOffset: view.logStartOffset, plan: undefined, cleared, unfinished: true } };
  }
  const bySize = config['retention.bytes'] >= 0;
  const byPolicy = config['cleanup.policy'].includes('delete') && (config['retention.ms'] >= 0 || bySize);
  if (!byPolicy) return { summary: current, report: { logStartOffset: view.logStartOffset, plan: undefined, cleared, unfinished: false } };

  // The size (for retention.bytes only): the summary, emptied entries already off it, plus the
  // entries it has not seen yet, if they are few (else the summary catches up first).
  let kept = 0;
  let sizeRules = bySize;
  if (bySize) {
    const behind = view.stableSlots - current.through;
    if (behind > MAX_UNSEEN) sizeRules = false;
    else {
      const unseen = await deps.index.entries(tp, current.through, view.stableSlots, Math.max(0, behind));
      kept = current.settledBytes + current.tailBytes + unseen.reduce((n, e) => n + (e.hole ? 0 : (e.length ?? 0)), 0);
    }
  }
  const rules = { now: deps.clock.now(), retentionMs: config['retention.ms'], retentionBytes: sizeRules ? config['retention.bytes'] : -1 };
  let start = view.logStartOffset;
  let size = kept;
  let plan: RetentionPlan | undefined;
  let from = current.cleared;
  let page: number = PAGE_SIZES.prefixWalk;
  let nextExpiry: number | undefined;
  let n = 0;
  for (; n < MAX_PAGES && from < view.stableSlots; n++) {
    const to = Math.min(view.stableSlots, from + page);
    const entries = await deps.index.entries(tp, from, to, to - from);
    plan = planRetention(entries, start, size, rules, to >= view.stableSlots);
    start = plan.logStartOffset;
    size -= plan.bytes;
    if (!plan.more) {
      // The entry that stopped it: by time, it goes once its newest record is old enough.
      const stopper = entries[plan.consumed];
      if (rules.retentionMs >= 0 && stopper?.maxTimestamp !== undefined) nextExpiry = stopper.maxTimestamp + rules.retentionMs + 1;
      break;
    }
    // Nothing decidable in this page (its one data entry may be the newest): read a longer one.
    if (plan.consumed === 0) page *= 2;
    else from = entries[plan.consumed]?.slot ?? to;
  }
  const expiry = nextExpiry === undefined ? {} : { nextExpiry };
  // Out of pages while still deleting, or the size rule skipped while the summary catches up.
  unfinished = (n >= MAX_PAGES && plan?.more === true) || (bySize && !sizeRules);
  if (dryRun || start <= view.logStartOffset) return { summary: current, report: { logStartOffset: view.logStartOffset, plan, cleared, unfinished, ...expiry } };
  const stored = await deps.index.advanceLogStart(tp, start);
  const after = await emptyBelow(deps, tp, stored, view.stableSlots, current);
  return { summary: after.summary, report: { logStartOffset: stored, plan, cleared: cleared + after.cleared, unfinished: unfinished || !after.done, ...expiry } };
}

/** Empties the data entries wholly below `logStartOffset` from `summary.cleared` on (step 1, 3). */
async function emptyBelow(
  deps: RetentionDeps,
  tp: TopicPartition,
  logStartOffset: number,
  stableSlots: number,
  summary: MaintenanceSummary,
): Promise<{ summary: MaintenanceSummary; cleared: number; done: boolean }> {
  let current = summary;
  let cleared = 0;
  for (let page = 0; page < MAX_PAGES && current.cleared < stableSlots; page++) {
    const to = Math.min(stableSlots, current.cleared + PAGE_SIZES.prefixWalk);
    const entries = await deps.index.entries(tp, current.cleared, to, to - current.cleared);
    const below = entries.filter((e) => e.end <= logStartOffset);
    // Only a prefix of whole entries: stop at the first one the start does not pass.
    const cut = entries.findIndex((e) => e.end > logStartOffset);
    const gone = cut < 0 ? below : entries.slice(0, cut);
    if (gone.length === 0) return { summary: current, cleared, done: true };
    // The first data entry kept: if it is in the same object as the last one emptied, that
    // object stays referenced. Not in this page and not at the end: assume it does (the
    // count may stay one too high until a later pass), never one too low.
    const nextData = cut < 0 ? undefined : entries.slice(cut).find((e) => !e.hole);
    const atEnd = cut < 0 && to >= stableSlots;
    const lastData = [...gone].reverse().find((e) => !e.hole);
    const chunks = chunksOf(gone, nextData ?? (atEnd ? undefined : { object: lastData?.object }), current);
    if (chunks.some((c) => c.entries.length > 0)) await deps.beforeClear();
    const applied = await deps.index.clearEntries(tp, current.version, chunks);
    for (const c of chunks.slice(0, applied)) {
      current = {
        ...current,
        version: current.version + 1,
        settledBytes: current.settledBytes - c.delta.settledBytes,
        settledSegments: current.settledSegments - c.delta.settledSegments,
        tailBytes: current.tailBytes - c.delta.tailBytes,
        tailSegments: current.tailSegments - c.delta.tailSegments,
        cleared: c.cleared,
      };
      cleared += c.entries.length;
    }
    if (applied < chunks.length) return { summary: current, cleared, done: false };
    if (cut >= 0) return { summary: current, cleared, done: true };
  }
  // Out of pages while still emptying (or at the stable end).
  return { summary: current, cleared, done: current.cleared >= stableSlots };
}

/**
 * Chunks of at most 99 data entries (holes only move `cleared`), each with what its entries
 * take off the summary: their bytes, and each object whose last entry in the partition it is
 * (objects hold consecutive slots, so only one that continues into `next` stays).
 */
function chunksOf(gone: readonly IndexEntry[], next: { readonly object?: string | undefined } | undefined, summary: MaintenanceSummary) {
  const chunks: { entries: ClearedEntry[]; delta: SummaryDelta; cleared: number }[] = [];
  let entries: ClearedEntry[] = [];
  let delta = { settledBytes: 0, settledSegments: 0, tailBytes: 0, tailSegments: 0 };
  const region = (slot: number) => (slot < summary.settled ? 'settled' : slot < summary.through ? 'tail' : undefined);
  // The object of the next data entry after each one (objects hold consecutive slots).
  const laterObject: (string | undefined)[] = new Array(gone.length);
  let following = next?.object;
  for (let i = gone.length - 1; i >= 0; i--) {
    laterObject[i] = following;
    if (!gone[i]!.hole) following = gone[i]!.object;
  }
  gone.forEach((e, i) => {
    if (!e.hole && e.object !== undefined && e.position !== undefined) {
      entries.push({ slot: e.slot, object: e.object, position: e.position });
      const r = region(e.slot);
      const lastOfObject = laterObject[i] !== e.object;
      if (r === 'settled') delta = { ...delta, settledBytes: delta.settledBytes + (e.length ?? 0), settledSegments: delta.settledSegments + (lastOfObject ? 1 : 0) };
      if (r === 'tail') delta = { ...delta, tailBytes: delta.tailBytes + (e.length ?? 0), tailSegments: delta.tailSegments + (lastOfObject ? 1 : 0) };
    }
    if (entries.length === CHUNK || i === gone.length - 1) {
      chunks.push({ entries, delta, cleared: e.slot + 1 });
      entries = [];
      delta = { settledBytes: 0, settledSegments: 0, tailBytes: 0, tailSegments: 0 };
    }
  });
  return chunks;
}
