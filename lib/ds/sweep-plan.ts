/**
 * What maintenance cleans up after Durable Streams (pure): the three leftovers the request
 * path cannot remove by itself.
 *
 *  S1 A stream past its TTL or Expires-At that nobody touches again is removed (as a DELETE
 *     would: soft when forks still read it). The request path removes one only on access.
 *  S2 A `__ds.` topic no stream state references, older than the grace, is deleted: what a
 *     crash between creating a stream's topic and its state leaves. The grace covers a
 *     creation in flight (topic created, state not yet written); the topic's name carries its
 *     owner's id, whose state is read again (consistently) before the delete, and a topic
 *     whose name carries no owner is never deleted.
 *  S3 A fork count above the forks that exist is corrected, once the source's state has been
 *     quiet for the grace: what a crash between counting a fork and creating it leaves (the
 *     count goes up first, so a crash leaks a count, never loses data). A corrected count of
 *     zero on a soft-deleted stream lets it be purged.
 *
 * Invariant: nothing a reader can see changes except as a DELETE or an expiry defines; a
 * topic is deleted only when no state names it, directly or in an inherited range.
 */
import { isExpired, type DsStreamState } from './stream-state.ts';

export interface SweptStream {
  readonly id: string;
  /** The incarnation (the state item's epoch): forks count against the one they were made from. */
  readonly epoch: number;
  readonly state: DsStreamState;
  /** When the state item last changed (ms). */
  readonly changedAt: number;
}

export interface SweptTopic {
  readonly name: string;
  readonly createdAt: number;
}

export interface StreamSweepPlan {
  readonly expire: readonly string[];
  readonly orphanTopics: readonly string[];
  readonly forkCounts: readonly { readonly id: string; readonly epoch: number; readonly forks: number }[];
}

/**
 * The grace is never under 15 minutes, whatever maintenance's GC grace (tests set it to 0):
 * far longer than any request (the API's 30 s, a Lambda's 15 min), so a stream's creation
 * (topic, then state) never finds its topic swept in between, and the byKind listing (eventually
 * consistent) has long caught up with any state it names. The carrying out re-checks the
 * topic's owner with a consistent read before it deletes, and a creation checks its topic after.
 */
export const MIN_SWEEP_GRACE_MS = 15 * 60_000;

export function planStreamSweep(streams: readonly SweptStream[], topics: readonly SweptTopic[], now: number, gcGraceMs: number): StreamSweepPlan {
  const graceMs = Math.max(gcGraceMs, MIN_SWEEP_GRACE_MS);
  const referenced = new Set<string>();
  const forksOf = new Map<string, number>();
  for (const { state } of streams) {
    referenced.add(state.topic);
    for (const r of state.inherited) referenced.add(r.topic);
    if (state.fork) {
      const source = `${state.fork.sourceId}#${state.fork.sourceEpoch}`;
      forksOf.set(source, (forksOf.get(source) ?? 0) + 1);
    }
  }
  const expire = streams.filter((s) => !s.state.softDeleted && isExpired(s.state, now)).map((s) => s.id);
  const orphanTopics = topics.filter((t) => !referenced.has(t.name) && now - t.createdAt >= graceMs).map((t) => t.name);
  const forksOfStream = (s: SweptStream) => forksOf.get(`${s.id}#${s.epoch}`) ?? 0;
  const forkCounts = streams
    .filter((s) => s.state.forks > forksOfStream(s) && now - s.changedAt >= graceMs)
    .map((s) => ({ id: s.id, epoch: s.epoch, forks: forksOfStream(s) }));
  return { expire, orphanTopics, forkCounts };
}
