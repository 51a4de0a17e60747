/**
 * The stable-prefix rule (docs/ARCHITECTURE.md, "Read path"), pure: no I/O, no clock, no mutation. Given what a
 * reader knows of a partition (an immutable snapshot of the prefix), the head it read and a page
 * of entries it read after the snapshot's end, it says what the prefix is now and what to do
 * next: read more, wait, or fill one abandoned slot with a hole.
 *
 * Invariants of every snapshot this module returns (a snapshot is never changed, only replaced):
 *  P1 `entries` are the entries of slots [firstSlot, firstSlot + entries.length), one per slot,
 *     in slot order; slots [0, firstSlot) are published too (the snapshot's history).
 *  P2 Offsets never go backwards: entries[0].base >= startOffset and each entry's base >= the
 *     previous entry's end. The high watermark is the end of the last entry (or startOffset),
 *     so it never exceeds the head's `next` and never decreases from one snapshot to the next.
 *  P3 Only published entries (data or holes) are in it; a missing slot ends it. A snapshot
 *     never reaches past head.slots.
 *
 * Hole filling (abandoned slots). A slot missing from the page was reserved no later than
 *   bound = min(head.reservedAt, publishedAt of every later slot in the page)
 * (slots are handed out in time order by one atomic ADD). Once now - bound > slotTimeoutMs, the
 * FIRST missing slot is filled, and only with offsets nobody else can own:
 *  - if it is the last slot of the missing run, its offsets are exactly known:
 *    [end of the prefix, base of the next published slot) or [end of the prefix, head.next)
 *    when it is the last reserved slot;
 *  - otherwise it gets an empty hole [end, end), and the run's offsets go to the run's last
 *    slot when that one is filled. A late writer of a later slot in the run may still publish
 *    its own exact range in between; an empty hole claims none of it, so ranges never overlap.
 * Fills go front to back, one conditional put at a time; a lost race (a late writer won the
 * slot) means: read again.
 */
import type { HeadState, HintState, IndexEntry } from '../storage/index-store.ts';

export interface PrefixSnapshot {
  /** Slot of entries[0]; slots before it are known published. */
  readonly firstSlot: number;
  /** Base offset of firstSlot (= the high watermark when entries is empty). */
  readonly startOffset: number;
  readonly entries: readonly IndexEntry[];
}

export interface PrefixRules {
  readonly now: number;
  /** How long a reserved slot may stay unpublished before it is declared abandoned. */
  readonly slotTimeoutMs: number;
  /** Entries a snapshot keeps (the oldest are dropped into its history). */
  readonly keepEntries: number;
}

export type PrefixStep =
  /** The prefix reaches every reserved slot. */
  | { readonly kind: 'complete' }
  /** The page was cut by its limit, not by a gap: read on from `fromSlot`. */
  | { readonly kind: 'more'; readonly fromSlot: number }
  /** Slot `slot` is reserved, unpublished, and not yet abandoned: the prefix ends before it. */
  | { readonly kind: 'wait'; readonly slot: number }
  /** Slot `slot` is abandoned: write this hole (conditionally), then continue. */
  | { readonly kind: 'fill'; readonly slot: number; readonly base: number; readonly end: number };

export function emptySnapshot(firstSlot = 0, startOffset = 0): PrefixSnapshot {
  return { firstSlot, startOffset, entries: [] };
}

/** Slots [0, stableSlots) are published. */
export function stableSlots(s: PrefixSnapshot): number {
  return s.firstSlot + s.entries.length;
}

export function highWatermark(s: PrefixSnapshot): number {
  const last = s.entries[s.entries.length - 1];
  return last ? last.end : s.startOffset;
}

/**
 * Appends the page's entries that continue the prefix, and decides the next step.
 * `page` holds entries of slots >= stableSlots(snapshot) in slot order (missing slots absent),
 * as one Query returns them; `pageFull` says the Query stopped at its limit.
 */
export function advance(
  snapshot: PrefixSnapshot,
  head: HeadState,
  page: readonly IndexEntry[],
  pageFull: boolean,
  rules: PrefixRules,
): { snapshot: PrefixSnapshot; step: PrefixStep } {
  let expected = stableSlots(snapshot);
  let end = highWatermark(snapshot);
  const added: IndexEntry[] = [];
  let i = 0;
  for (; i < page.length && page[i]!.slot === expected && expected < head.slots; i++, expected++) {
    const e = page[i]!;
    if (e.base < end) break; // P2 would break: never build on it (see entryContinues)
    added.push(e);
    end = e.end;
  }
  const next = append(snapshot, added, rules.keepEntries);
  if (expected >= head.slots) return { snapshot: next, step: { kind: 'complete' } };
  const rest = page.slice(i);
  // A full page read without a gap only means "more to read", not a missing slot.
  if (rest.length === 0 && pageFull) return { snapshot: next, step: { kind: 'more', fromSlot: expected } };
  if (rest[0]?.slot === expected) {
    // Present but overlapping the prefix (P2): only older code could have written that. Stop
    // here rather than serve overlapping offsets; the prefix stays correct up to this slot.
    return { snapshot: next, step: { kind: 'wait', slot: expected } };
  }
  const bound = Math.min(head.reservedAt, ...rest.map((e) => e.publishedAt));
  if (rules.now - bound <= rules.slotTimeoutMs) return { snapshot: next, step: { kind: 'wait', slot: expected } };
  const nextPresent = rest[0];
  const lastOfRun = (nextPresent ? nextPresent.slot : head.slots) === expected + 1;
  const runEndOffset = nextPresent ? nextPresent.base : head.next;
  return {
    snapshot: next,
    step: { kind: 'fill', slot: expected, base: end, end: lastOfRun ? Math.max(end, runEndOffset) : end },
  };
}

/** The hole a successful fill wrote, as the entry readers will see. */
export function holeEntry(step: Extract<PrefixStep, { kind: 'fill' }>, publishedAt: number): IndexEntry {
  return { slot: step.slot, base: step.base, end: step.end, hole: true, publishedAt };
}

/** A new snapshot with `added` appended (they must continue it: P1, P2), trimmed to `keep`. */
export function append(s: PrefixSnapshot, added: readonly IndexEntry[], keep: number): PrefixSnapshot {
  if (added.length === 0) return s;
  const all = s.entries.concat(added);
  const drop = Math.max(0, all.length - keep);
  if (drop === 0) return { ...s, entries: all };
  return { firstSlot: s.firstSlot + drop, startOffset: all[drop - 1]!.end, entries: all.slice(drop) };
}

/**
 * The snapshot with some entries' pointers replaced by fresh reads (maintenance moved them):
 * an entry is taken only for a slot the snapshot holds with the same offsets, so the prefix
 * (slots, offsets, high watermark) is unchanged (P1-P3 hold as before).
 */
export function withMovedEntries(s: PrefixSnapshot, moved: readonly IndexEntry[]): PrefixSnapshot {
  let entries: IndexEntry[] | undefined;
  for (const m of moved) {
    const i = m.slot - s.firstSlot;
    const old = s.entries[i];
    if (!old || old.slot !== m.slot || old.base !== m.base || old.end !== m.end || old.hole !== m.hole) continue;
    entries ??= s.entries.slice();
    entries[i] = m;
  }
  return entries ? { ...s, entries } : s;
}

/**
 * Can a reader start from this hint instead of slot 0? The hint claims slots [0, stable) are
 * published and that slot stable-1 ends at hwm. A reader checks that claim against the head it
 * read and against the entry of slot stable-1 (read in the same Query as the rest of its page,
 * so the check costs no request). `anchor` is that entry, or undefined if it is missing.
 * Hints not written by the verified writer (`version` < HINT_VERSION) are not trusted at all:
 * older code could count entries twice and skip unpublished slots.
 */
export const HINT_VERSION = 2;

export type HintVerdict = 'trusted' | 'distrusted';

export function judgeHint(hint: HintState, head: HeadState, anchor: IndexEntry | undefined): HintVerdict {
  if (hint.stable === 0) return hint.highWatermark === 0 ? 'trusted' : 'distrusted';
  if (hint.version < HINT_VERSION) return 'distrusted';
  if (hint.stable > head.slots || hint.highWatermark > head.next) return 'distrusted';
  if (!anchor || anchor.slot !== hint.stable - 1 || anchor.end !== hint.highWatermark) return 'distrusted';
  return 'trusted';
}
