/**
 * The stable entries of a view from a slot on, page by page: read from the index below the
 * cached window, taken from the window (no request) once the walk reaches it. Entries are
 * published once and never change, so a page from either source is the same.
 */
import type { IndexEntry, IndexStore } from '../storage/index-store.ts';
import type { StableView } from './partition-index.ts';

/**
 * Pages of the entries of slots [fromSlot, toSlot) (toSlot capped at the view's stable slots),
 * in slot order. Index pages hold at most `pageSize` entries; the window comes as one page.
 * Stop iterating to stop reading.
 */
export async function* stableEntryPages(
  index: Pick<IndexStore, 'entries'>,
  view: StableView,
  fromSlot: number,
  pageSize: number,
  toSlot = view.stableSlots,
): AsyncGenerator<readonly IndexEntry[], void, undefined> {
  const end = Math.min(toSlot, view.stableSlots);
  let from = Math.max(0, fromSlot);
  while (from < end) {
    if (view.window.length > 0 && from >= view.windowFirstSlot) {
      yield view.window.slice(from - view.windowFirstSlot, end - view.windowFirstSlot);
      return;
    }
    // Below the window: stop at its first slot, the rest is in memory.
    const to = Math.min(end, from + pageSize, view.window.length > 0 ? view.windowFirstSlot : end);
    yield await index.entries(view.tp, from, to, pageSize);
    from = to;
  }
}
