/**
 * Finding orphaned segment objects (invariant W3 of docs/ARCHITECTURE.md): an object that no index entry
 * references, older than a grace period longer than any produce can take (Lambda's 15 min
 * maximum plus the slot timeout), was written by a request that crashed or failed between its
 * PUT and its publish. Referenced = the byObject index has an entry for it. Deleting them is
 * a later maintenance job's work; this only finds them, so it is safe to run at any time.
 */
import { ORPHAN_GRACE_MS } from '../config.ts';
import type { Clock } from '../deps.ts';
import type { IndexStore } from '../storage/index-store.ts';
import type { ListedObject } from '../storage/segment-listing.ts';

export async function findOrphanSegments(
  objects: AsyncIterable<ListedObject>,
  index: Pick<IndexStore, 'isObjectReferenced'>,
  clock: Clock,
  graceMs = ORPHAN_GRACE_MS,
): Promise<ListedObject[]> {
  const orphans: ListedObject[] = [];
  const cutoff = clock.now() - graceMs;
  for await (const o of objects) {
    if (o.lastModified > cutoff) continue;
    if (!(await index.isObjectReferenced(o.key))) orphans.push(o);
  }
  return orphans;
}
