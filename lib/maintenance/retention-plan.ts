/**
 * Retention by time and size (cleanup.policy containing `delete`): how far the log start
 * offset moves. Pure (decide, don't do). The unit of deletion is an index entry (one produced
 * batch, wherever maintenance moved its bytes), as a log segment is Kafka's.
 *
 * Input: the stable entries from the one holding the current log start offset, in slot order
 * (holes included), and the partition's size (stored bytes of its data entries from the first
 * given on: entries given that lie wholly below the start are taken off it here). Invariants of every plan:
 *  R1 Only a contiguous prefix goes, oldest first, and only whole entries: the new start is
 *     the end of the last entry that goes (never inside an entry), never below the old start.
 *  R2 Time (`retention.ms` ≥ 0): an entry goes when its largest record timestamp is older than
 *     `now - retention.ms` (Kafka judges a segment by its largest timestamp, not its write
 *     time). The scan stops at the first data entry that is too new. All entries may go.
 *  R3 Size (`retention.bytes` ≥ 0): while `size - size(oldest) >= retention.bytes` the oldest
 *     goes (Kafka's rule), so the partition may stay above the limit by up to one entry, and
 *     the newest data entry is never deleted for size.
 *  R4 Holes (no records) go with the data around them: a hole before a data entry that goes
 *     goes too; holes at the end go when everything before them went.
 *  R5 -1 turns a rule off; with both off nothing moves.
 */

export interface RetentionEntry {
  readonly base: number;
  /** Exclusive. */
  readonly end: number;
  readonly hole: boolean;
  readonly length?: number | undefined;
  readonly maxTimestamp?: number | undefined;
}

export interface RetentionRules {
  readonly now: number;
  /** -1: no limit. */
  readonly retentionMs: number;
  /** -1: no limit. */
  readonly retentionBytes: number;
}

export interface RetentionPlan {
  /** The new log start offset (the old one when nothing goes). */
  readonly logStartOffset: number;
  /** Entries that go, from the first given. */
  readonly entries: number;
  readonly bytes: number;
  readonly reason: 'time' | 'size' | 'none';
  /** The scan reached the end of what it could decide without a stop, and more entries follow. */
  readonly more: boolean;
  /** Entries of those given that are decided: with `more`, plan again from the entry at this index. */
  readonly consumed: number;
}

export function planRetention(
  entries: readonly RetentionEntry[],
  logStartOffset: number,
  keptBytes: number,
  rules: RetentionRules,
  /** The entries reach the end of the stable prefix (so the last data entry is the newest). */
  reachesEnd = true,
): RetentionPlan {
  const byTime = rules.retentionMs >= 0;
  const bySize = rules.retentionBytes >= 0;
  let start = logStartOffset;
  let gone = 0;
  let bytes = 0;
  let reason: RetentionPlan['reason'] = 'none';
  let size = keptBytes;
  let pendingHoles = 0;
  // The newest data entry given (R3). When more follow, whether it is the newest is not known
  // here: it is left undecided, for the next plan that sees what comes after it.
  const lastData = entries.reduce((at, e, i) => (e.hole ? at : i), -1);
  let firstPending = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (pendingHoles === 0) firstPending = i;
    // Already below the start: no reader sees it, so its bytes (if the caller's size still
    // counts them: not yet emptied) are not part of the partition's size.
    if (e.end <= logStartOffset) {
      if (!e.hole) size -= e.length ?? 0;
      continue;
    }
    if (!reachesEnd && i === lastData) return { logStartOffset: start, entries: gone, bytes, reason, more: true, consumed: firstPending };
    if (e.hole) {
      pendingHoles++;
      // R4: trailing holes go once every data entry before them went.
      if (i > lastData && reason !== 'none') {
        gone += pendingHoles;
        pendingHoles = 0;
        start = Math.max(start, e.end);
      }
      continue;
    }
    const len = e.length ?? 0;
    const expired = byTime && (e.maxTimestamp ?? Infinity) < rules.now - rules.retentionMs;
    const oversize = bySize && i !== lastData && size - len >= rules.retentionBytes;
    if (!expired && !oversize) return { logStartOffset: start, entries: gone, bytes, reason, more: false, consumed: i };
    if (reason === 'none' || (expired && reason === 'size')) reason = expired ? 'time' : 'size';
    gone += 1 + pendingHoles;
    pendingHoles = 0;
    bytes += len;
    size -= len;
    start = Math.max(start, e.end);
  }
  // Every entry given went (or was below the start): with more to read, the caller asks again.
  return { logStartOffset: start, entries: gone, bytes, reason, more: !reachesEnd, consumed: entries.length };
}
