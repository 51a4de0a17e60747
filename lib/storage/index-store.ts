/**
 * The offset index in the `log` table: the conflict-free slot sequencer
 * (docs/ARCHITECTURE.md, "Write path").
 *
 * Items of one partition (callers name it by TopicPartition; the layout is keys/partition.ts's):
 *   head  (sk -1)  slots N, next N, at N        reserve target: ADD slots k, next n; SET at
 *   hint  (sk -2)  stable N, hwm N, v N, lso N, stamped N, runMax N
 *                  lazily advanced summary of the stable prefix; `v` marks hints written by
 *                  the verified reader (stable-prefix.ts judges a hint before trusting it)
 *   entry (sk s)   st 'd'|'h', base, end, obj, pos, len, cnt, usz, minTs, maxTs, at
 *
 * Invariants
 *  - Slot s's offsets are [base, end) with base = end of slot s-1: one atomic ADD on the head
 *    hands out the slot number and the offsets together, so offsets increase with slots (W1).
 *  - An entry is written exactly once, with attribute_not_exists(sk): the publishing writer
 *    and a reader filling a stale slot with a hole race on that one condition, and exactly one
 *    wins. Entries are never deleted while a writer could still be alive.
 *  - The stable prefix is slots [0, k) all present; the high watermark is end(k-1). Nothing at
 *    or after the first missing slot is visible (Kafka's last stable offset).
 */
import {
  BatchGetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../errors.ts';
import { N, S, num, optNum, optStr, str, type Item } from './attributes.ts';
import { conditionalWrite } from './conditional-write.ts';
import type { AwsClients } from './clients.ts';
import type { TopicPartition } from '../model/topic.ts';
import {
  ENTRY_ATTR as A,
  ENTRY_STATE,
  HEAD_ATTR as H,
  HEAD_SLOT,
  HINT_ATTR as T,
  HINT_SLOT,
  MAINTENANCE_ATTR as M,
  pkOf,
  timeIndexKey,
  timeIndexLowerBound,
} from './keys/partition.ts';
import { queryAll } from './query.ts';
import { withRetries } from './retry.ts';
import { LOG_INDEX } from './tables.ts';

/** One published slot: data (a byte range of a segment object) or a hole. */
export interface IndexEntry {
  readonly slot: number;
  readonly base: number;
  /** Exclusive. */
  readonly end: number;
  readonly hole: boolean;
  /** Data entries only. */
  readonly object?: string;
  readonly position?: number;
  readonly length?: number;
  readonly recordCount?: number;
  /** What the entry's records count for in fetch budgets (decoded, see record-size.ts). */
  readonly budgetBytes?: number;
  readonly minTimestamp?: number;
  readonly maxTimestamp?: number;
  /** Publish time (ms): bounds the reservation time of every earlier slot. */
  readonly publishedAt: number;
  /** When compaction first kept the entry's tombstones (compacted topics only). */
  readonly tombstonesAt?: number;
}

export interface Reservation {
  readonly tp: TopicPartition;
  readonly slot: number;
  readonly base: number;
  readonly end: number;
}

export interface HeadState {
  /** Slots reserved so far (next slot number). */
  readonly slots: number;
  /** Next offset to hand out. */
  readonly next: number;
  /** Time of the latest reservation (ms): every reserved slot was reserved at or before it. */
  readonly reservedAt: number;
}

export interface HintState {
  /** Slots [0, stable) are known published. */
  readonly stable: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** Slots [0, stamped) carry a tsKey; runningMaxTs is the max timestamp over them. */
  readonly stamped: number;
  readonly runningMaxTs: number;
  /** Writer version of stable/hwm (0: written by code that did not verify its prefix). */
  readonly version: number;
  /** Maintenance's summary (zeros before its first pass). */
  readonly maintenance: MaintenanceSummary;
}

/** What the last maintenance pass of a partition recorded (keys/partition.ts MAINTENANCE_ATTR). */
export interface MaintenanceSummary {
  /** Slots [0, settled) sit in settled segments: no merge rewrites them again. */
  readonly settled: number;
  readonly settledBytes: number;
  readonly settledSegments: number;
  /** Slots [0, through) were looked at by the last pass. */
  readonly through: number;
  /** Bytes and distinct objects of the data entries in [settled, through). */
  readonly tailBytes: number;
  readonly tailSegments: number;
  /** When entries that pass left unmerged (too young) become due (ms; 0: none). */
  readonly due: number;
  /** Bumped by every summary write: concurrent passes do not overwrite a newer one. */
  readonly version: number;
  /** Slots [0, cleared) lie wholly below the log start offset and were emptied (retention). */
  readonly cleared: number;
  /** The topic config version the last pass applied (-1: none yet). */
  readonly configVersion: number;
  /** Compaction's checkpoint (offsets below it are clean; 0: none yet). */
  readonly compactedTo: number;
  /** Bumped by every compaction rewrite: a cached entry read at another revision may be stale. */
  readonly revision: number;
}

/** One entry compaction changed: new bytes, emptied, or only its tombstones' horizon set. */
export interface EntryRewrite {
  readonly slot: number;
  readonly from: { readonly object: string; readonly position: number };
  readonly to:
    | { readonly kind: 'moved'; readonly object: string; readonly position: number; readonly length: number; readonly recordCount: number; readonly budgetBytes: number }
    | { readonly kind: 'empty' }
    | { readonly kind: 'same' };
  /** Set when the entry keeps tombstones (their first cleaning time). */
  readonly tombstonesAt?: number;
}

/** A data entry wholly below the log start offset, to be emptied (its bytes are gone). */
export interface ClearedEntry {
  readonly slot: number;
  readonly object: string;
  readonly position: number;
}

/** What emptying a chunk of entries takes off maintenance's summary (negative ADDs). */
export interface SummaryDelta {
  readonly settledBytes: number;
  readonly settledSegments: number;
  readonly tailBytes: number;
  readonly tailSegments: number;
}

/** One entry moved by a merge: same slot, same bytes, a new place. */
export interface Repoint {
  readonly slot: number;
  readonly from: { readonly object: string; readonly position: number };
  readonly to: { readonly object: string; readonly position: number };
}

export const EMPTY_MAINTENANCE: MaintenanceSummary = {
  settled: 0,
  settledBytes: 0,
  settledSegments: 0,
  through: 0,
  tailBytes: 0,
  tailSegments: 0,
  due: 0,
  version: 0,
  cleared: 0,
  configVersion: -1,
  compactedTo: 0,
  revision: 0,
};

export interface PartitionState {
  readonly head: HeadState;
  readonly hint: HintState;
}

export interface PublishItem {
  readonly reservation: Reservation;
  readonly object: string;
  readonly position: number;
  readonly length: number;
  readonly recordCount: number;
  readonly budgetBytes: number;
  readonly minTimestamp: number;
  readonly maxTimestamp: number;
}

const EMPTY_HEAD: HeadState = { slots: 0, next: 0, reservedAt: 0 };
const EMPTY_HINT: HintState = {
  stable: 0,
  highWatermark: 0,
  logStartOffset: 0,
  stamped: 0,
  runningMaxTs: -1,
  version: 0,
  maintenance: EMPTY_MAINTENANCE,
};
/** BatchGetItem takes at most 100 keys: the head and hint of 50 partitions. */
const STATES_PER_BATCH = 50;
/** TransactWriteItems takes at most 100 items. */
export const TRANSACTION_ITEMS = 100;

function headFromItem(item: Item): HeadState {
  return { slots: num(item, H.slots), next: num(item, H.next), reservedAt: optNum(item, H.reservedAt) ?? 0 };
}

function hintFromItem(item: Item): HintState {
  return {
    stable: optNum(item, T.stable) ?? 0,
    highWatermark: optNum(item, T.highWatermark) ?? 0,
    logStartOffset: optNum(item, T.logStartOffset) ?? 0,
    stamped: optNum(item, T.stamped) ?? 0,
    runningMaxTs: optNum(item, T.runningMaxTs) ?? -1,
    version: optNum(item, T.version) ?? 0,
    maintenance: {
      settled: optNum(item, M.settled) ?? 0,
      settledBytes: optNum(item, M.settledBytes) ?? 0,
      settledSegments: optNum(item, M.settledSegments) ?? 0,
      through: optNum(item, M.through) ?? 0,
      tailBytes: optNum(item, M.tailBytes) ?? 0,
      tailSegments: optNum(item, M.tailSegments) ?? 0,
      due: optNum(item, M.due) ?? 0,
      version: optNum(item, M.version) ?? 0,
      cleared: optNum(item, M.cleared) ?? 0,
      configVersion: optNum(item, M.configVersion) ?? -1,
      compactedTo: optNum(item, M.compactedTo) ?? 0,
      revision: optNum(item, M.revision) ?? 0,
    },
  };
}
function entryFromItem(item: Item): IndexEntry {
  const hole = optStr(item, A.state) === ENTRY_STATE.hole;
  return {
    slot: num(item, 'sk'),
    base: num(item, A.base),
    end: num(item, A.end),
    hole,
    object: optStr(item, A.object),
    position: optNum(item, A.position),
    length: optNum(item, A.length),
    recordCount: optNum(item, A.recordCount),
    budgetBytes: optNum(item, A.budgetBytes),
    minTimestamp: optNum(item, A.minTimestamp),
    maxTimestamp: optNum(item, A.maxTimestamp),
    publishedAt: optNum(item, A.publishedAt) ?? 0,
    ...(optNum(item, A.tombstonesAt) !== undefined ? { tombstonesAt: optNum(item, A.tombstonesAt)! } : {}),
  };
}

/** The stored form of a published data entry (publish-transaction.ts writes it). */
export function entryItem(p: PublishItem, publishedAt: number): Item {
  const r = p.reservation;
  return {
    pk: S(pkOf(r.tp)),
    sk: N(r.slot),
    [A.state]: S(ENTRY_STATE.data),
    [A.base]: N(r.base),
    [A.end]: N(r.end),
    [A.object]: S(p.object),
    [A.position]: N(p.position),
    [A.length]: N(p.length),
    [A.recordCount]: N(p.recordCount),
    [A.budgetBytes]: N(p.budgetBytes),
    [A.minTimestamp]: N(p.minTimestamp),
    [A.maxTimestamp]: N(p.maxTimestamp),
    [A.publishedAt]: N(publishedAt),
  };
}

export class IndexStore {
  readonly table: string;

  constructor(private readonly clients: AwsClients, tableName: string) {
    this.table = tableName;
  }

  // ---- write path ----------------------------------------------------------------------

  /**
   * Reserves one slot and `count` offsets. Never conflicts (an unconditional ADD). Not
   * idempotent: if a response is lost and the SDK retries, the first slot stays unpublished and
   * readers fill it with a hole after the timeout; no offset is ever handed out twice.
   */
  async reserve(tp: TopicPartition, count: number, now: number): Promise<Reservation> {
    return (await this.reserveSlots(tp, [count], now))[0]!;
  }

  /**
   * Reserves `counts.length` consecutive slots in ONE UpdateItem (a group commit's units of
   * this partition), slot i holding `counts[i]` offsets, in order. Same rules as reserve().
   */
  async reserveSlots(tp: TopicPartition, counts: readonly number[], now: number): Promise<Reservation[]> {
    const pk = pkOf(tp);
    const total = counts.reduce((a, b) => a + b, 0);
    const out = await withRetries('reserve slot', () =>
      this.clients.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: S(pk), sk: N(HEAD_SLOT) },
          UpdateExpression: 'ADD #slots :k, #next :n SET #at = :now',
          ExpressionAttributeNames: { '#slots': H.slots, '#next': H.next, '#at': H.reservedAt },
          ExpressionAttributeValues: { ':k': N(counts.length), ':n': N(total), ':now': N(now) },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    let slot = num(out.Attributes, H.slots) - counts.length;
    let base = num(out.Attributes, H.next) - total;
    return counts.map((count) => {
      const r = { tp, slot: slot++, base, end: base + count };
      base += count;
      return r;
    });
  }

  /**
   * Writes a hole into a slot unless something is already there. Returns true when the hole
   * was written. `base`/`end` are the offsets the hole covers (possibly empty).
   */
  async fillHole(tp: TopicPartition, slot: number, base: number, end: number, now: number): Promise<boolean> {
    const pk = pkOf(tp);
    const outcome = await conditionalWrite('fill hole', () =>
      this.clients.dynamo.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { pk: S(pk), sk: N(slot), [A.state]: S(ENTRY_STATE.hole), [A.base]: N(base), [A.end]: N(end), [A.publishedAt]: N(now) },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      ),
    );
    return outcome.won;
  }

  // ---- read path ------------------------------------------------------------------------

  /** Head and hint in one strongly consistent Query (sk -2..-1). */
  async readState(tp: TopicPartition): Promise<PartitionState> {
    const pk = pkOf(tp);
    const out = await withRetries('read partition head', () =>
      this.clients.dynamo.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues: { ':pk': S(pk), ':lo': N(HINT_SLOT), ':hi': N(HEAD_SLOT) },
          ConsistentRead: true,
        }),
      ),
    );
    let head = EMPTY_HEAD;
    let hint = EMPTY_HINT;
    for (const item of out.Items ?? []) {
      if (num(item, 'sk') === HEAD_SLOT) head = headFromItem(item);
      else hint = hintFromItem(item);
    }
    return { head, hint };
  }

  /**
   * Head and hint of many partitions, 50 partitions per BatchGetItem (its 100-key limit);
   * unprocessed keys are asked again. Strongly consistent by default (the same answer as
   * readState per partition); `consistent: false` reads at half the cost, for maintenance's
   * look for work (a write it misses is seen at the next tick).
   */
  async readStates(tps: readonly TopicPartition[], concurrency = 8, consistent = true): Promise<PartitionState[]> {
    const pks = tps.map(pkOf);
    const found = new Map<string, { head?: HeadState; hint?: HintState }>();
    const batches: string[][] = [];
    for (let i = 0; i < pks.length; i += STATES_PER_BATCH) batches.push(pks.slice(i, i + STATES_PER_BATCH));
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let b = next++; b < batches.length; b = next++) {
        let keys: Item[] = batches[b]!.flatMap((pk) => [
          { pk: S(pk), sk: N(HEAD_SLOT) },
          { pk: S(pk), sk: N(HINT_SLOT) },
        ]);
        for (let attempt = 0; keys.length > 0; attempt++) {
          if (attempt >= 8) throw new UnavailableError('reading partition heads: DynamoDB left keys unprocessed repeatedly');
          // Unprocessed keys mean the table is busy: back off with jitter before asking again.
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * Math.min(1000, 25 * 2 ** attempt))));
          const batchKeys = keys;
          const out = await withRetries('read partition heads', () =>
            this.clients.dynamo.send(
              new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: batchKeys, ConsistentRead: consistent } } }),
            ),
          );
          for (const item of out.Responses?.[this.table] ?? []) {
            const pk = str(item, 'pk');
            const entry = found.get(pk) ?? {};
            if (num(item, 'sk') === HEAD_SLOT) entry.head = headFromItem(item);
            else entry.hint = hintFromItem(item);
            found.set(pk, entry);
          }
          keys = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
    return pks.map((pk) => ({ head: found.get(pk)?.head ?? EMPTY_HEAD, hint: found.get(pk)?.hint ?? EMPTY_HINT }));
  }

  /**
   * Entries with slot in [fromSlot, toSlot), strongly consistent, in slot order; stops after
   * `limit` entries. Missing slots are simply absent from the answer.
   */
  async entries(tp: TopicPartition, fromSlot: number, toSlot: number, limit: number): Promise<IndexEntry[]> {
    const pk = pkOf(tp);
    if (toSlot <= fromSlot) return [];
    const items = await queryAll(
      this.clients,
      'read index entries',
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': S(pk), ':lo': N(fromSlot), ':hi': N(toSlot - 1) },
        ConsistentRead: true,
      },
      limit,
    );
    return items.map(entryFromItem);
  }

  /**
   * The slot of the last entry whose base <= offset, from the byOffset index. The index is
   * eventually consistent, so the answer may be an EARLIER slot than the true one (never a
   * later one): callers walk forward from it.
   */
  async slotAtOrBefore(tp: TopicPartition, offset: number): Promise<number | undefined> {
    const pk = pkOf(tp);
    const out = await withRetries('find offset', () =>
      this.clients.dynamo.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: LOG_INDEX.byOffset,
          KeyConditionExpression: 'pk = :pk AND #base <= :o',
          ExpressionAttributeNames: { '#base': A.base },
          ExpressionAttributeValues: { ':pk': S(pk), ':o': N(offset) },
          ScanIndexForward: false,
          Limit: 1,
        }),
      ),
    );
    const item = out.Items?.[0];
    return item ? num(item, 'sk') : undefined;
  }

  /** First stamped entry whose running max timestamp >= ts (byTime index), if any. */
  async firstSlotWithMaxTsAtLeast(tp: TopicPartition, ts: number): Promise<number | undefined> {
    const pk = pkOf(tp);
    const out = await withRetries('find timestamp', () =>
      this.clients.dynamo.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: LOG_INDEX.byTime,
          KeyConditionExpression: 'pk = :pk AND #t >= :t',
          ExpressionAttributeNames: { '#t': A.timeKey },
          ExpressionAttributeValues: { ':pk': S(pk), ':t': S(timeIndexLowerBound(ts)) },
          Limit: 1,
        }),
      ),
    );
    const item = out.Items?.[0];
    return item ? num(item, 'sk') : undefined;
  }

  /**
   * Sets the monotone time-index key on a stable data entry (idempotent). An entry that is no
   * longer there (removed by retention) has nothing to stamp: that is not an error.
   */
  async stamp(tp: TopicPartition, slot: number, runningMaxTs: number): Promise<void> {
    const pk = pkOf(tp);
    await conditionalWrite('stamp entry', () =>
      this.clients.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: S(pk), sk: N(slot) },
          UpdateExpression: 'SET #t = :k',
          ConditionExpression: 'attribute_exists(sk)',
          ExpressionAttributeNames: { '#t': A.timeKey },
          ExpressionAttributeValues: { ':k': S(timeIndexKey(runningMaxTs, slot)) },
        }),
      ),
    );
  }

  /**
   * Advances the stable-prefix summary (stable slots, high watermark) on the hint item, marked
   * with `version`. Only ever forward: the condition refuses a value not above the stored one,
   * and refuses to build on a hint of an older writer (that one must be repaired, not raised).
   * Losing is fine: someone else advanced it at least as far. Returns whether it was written.
   */
  async advanceHint(tp: TopicPartition, stable: number, highWatermark: number, version: number): Promise<boolean> {
    const pk = pkOf(tp);
    return this.conditionalHintUpdate(
      'advance hint',
      pk,
      'SET #s = :s, #h = :h, #v = :ver',
      'attribute_not_exists(#s) OR (#v = :ver AND #s < :s)',
      { '#s': T.stable, '#h': T.highWatermark, '#v': T.version },
      { ':s': N(stable), ':h': N(highWatermark), ':ver': N(version) },
    );
  }

  /**
   * Replaces a hint a reader found wrong (judged against the head and the entries) with the
   * prefix it verified, even if that is lower: conditional on the stored hint still being the
   * one it judged, so a concurrent repair or advance is never undone. The time-index pointer
   * is reset too (the same older code may have stamped past a gap); stamping is idempotent.
   */
  async repairHint(tp: TopicPartition, found: { stable: number; highWatermark: number }, stable: number, highWatermark: number, version: number): Promise<boolean> {
    const pk = pkOf(tp);
    return this.conditionalHintUpdate(
      'repair hint',
      pk,
      'SET #s = :s, #h = :h, #v = :ver, #st = :zero, #rm = :none',
      '#s = :os AND #h = :oh',
      { '#s': T.stable, '#h': T.highWatermark, '#v': T.version, '#st': T.stamped, '#rm': T.runningMaxTs },
      {
        ':s': N(stable),
        ':h': N(highWatermark),
        ':ver': N(version),
        ':os': N(found.stable),
        ':oh': N(found.highWatermark),
        ':zero': N(0),
        ':none': N(-1),
      },
    );
  }

  /**
   * Moves the log start offset forward (DeleteRecords, retention), never back: the condition
   * refuses a value not above the stored one. Returns the log start offset now stored (the
   * given one, or a later one another writer stored first). `maintenanceDueAt` (DeleteRecords)
   * asks maintenance to look at the partition then, to empty the entries now below the start.
   */
  async advanceLogStart(tp: TopicPartition, logStartOffset: number, maintenanceDueAt?: number): Promise<number> {
    const values: Item = { ':l': N(logStartOffset) };
    if (maintenanceDueAt !== undefined) {
      values[':due'] = N(maintenanceDueAt);
      values[':one'] = N(1);
    }
    const outcome = await conditionalWrite('advance log start offset', () =>
      this.clients.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: S(pkOf(tp)), sk: N(HINT_SLOT) },
          // With a due time it also bumps the summary version, so a pass running now cannot
          // write its summary (and its due time) over this request for a pass.
          UpdateExpression: maintenanceDueAt === undefined ? 'SET #l = :l' : 'SET #l = :l, #d = :due ADD #mv :one',
          ConditionExpression: 'attribute_not_exists(#l) OR #l < :l',
          ExpressionAttributeNames: { '#l': T.logStartOffset, ...(maintenanceDueAt === undefined ? {} : { '#d': M.due, '#mv': M.version }) },
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    return outcome.won ? logStartOffset : Math.max(logStartOffset, optNum(outcome.existing, T.logStartOffset) ?? 0);
  }

  /** Advances the time-index stamping pointer (stamped slots, running max) on the hint item. */
  async advanceStamp(tp: TopicPartition, stamped: number, runningMaxTs: number): Promise<void> {
    const pk = pkOf(tp);
    await this.conditionalHintUpdate(
      'advance stamped',
      pk,
      'SET #c = :v, #m = :m',
      'attribute_not_exists(#c) OR #c < :v',
      { '#c': T.stamped, '#m': T.runningMaxTs },
      { ':v': N(stamped), ':m': N(runningMaxTs) },
    );
  }

  private async conditionalHintUpdate(
    what: string,
    pk: string,
    update: string,
    condition: string,
    names: Record<string, string>,
    values: Item,
  ): Promise<boolean> {
    const outcome = await conditionalWrite(what, () =>
      this.clients.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: S(pk), sk: N(HINT_SLOT) },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
    return outcome.won;
  }

  // ---- maintenance --------------------------------------------------------------------

  /**
   * Moves entries to a merged object, in transactions of up to 100 items, each update
   * conditional on the entry's old pointer (object and position): a chunk whose entries another
   * merge moved first, or whose topic was deleted, is cancelled whole and counted as lost;
   * chunks are independent, so a crash between them leaves some entries moved and some not,
   * each pointing at the same bytes. Never creates an item. Returns the slots that moved.
   * `beforeChunk` runs before each transaction and may stop the rest (resolves false).
   */
  async repoint(
    tp: TopicPartition,
    moves: readonly Repoint[],
    beforeChunk: () => Promise<boolean> = async () => true,
  ): Promise<{ moved: number[]; lost: number; stopped: boolean }> {
    const pk = pkOf(tp);
    const moved: number[] = [];
    let lost = 0;
    for (let i = 0; i < moves.length; i += TRANSACTION_ITEMS) {
      const chunk = moves.slice(i, i + TRANSACTION_ITEMS);
      if (!(await beforeChunk())) return { moved, lost, stopped: true };
      const outcome = await conditionalWrite('repoint merged entries', () =>
        this.clients.dynamo.send(
          new TransactWriteItemsCommand({
            TransactItems: chunk.map((m) => ({
              Update: {
                TableName: this.table,
                Key: { pk: S(pk), sk: N(m.slot) },
                UpdateExpression: 'SET #o = :to, #p = :tp',
                ConditionExpression: '#o = :from AND #p = :fp',
                ExpressionAttributeNames: { '#o': A.object, '#p': A.position },
                ExpressionAttributeValues: {
                  ':to': S(m.to.object),
                  ':tp': N(m.to.position),
                  ':from': S(m.from.object),
                  ':fp': N(m.from.position),
                },
              },
            })),
          }),
        ),
      );
      if (outcome.won) moved.push(...chunk.map((m) => m.slot));
      else lost += chunk.length;
    }
    return { moved, lost, stopped: false };
  }

  /**
   * Records a pass's summary on the hint item, conditional on the summary version the pass
   * started from: of two concurrent passes only the first to finish writes (the other's
   * numbers may predate the winner's merges). Returns whether it was written.
   */
  async writeMaintenance(tp: TopicPartition, basedOn: number, next: Omit<MaintenanceSummary, 'version'>): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Item = { ':v': N(basedOn), ':nv': N(basedOn + 1) };
    const sets: string[] = ['#mv = :nv'];
    names['#mv'] = M.version;
    (Object.keys(next) as (keyof typeof next)[]).forEach((field, i) => {
      names[`#a${i}`] = M[field];
      values[`:a${i}`] = N(next[field]);
      sets.push(`#a${i} = :a${i}`);
    });
    return this.conditionalHintUpdate(
      'write maintenance summary',
      pkOf(tp),
      `SET ${sets.join(', ')}`,
      basedOn === 0 ? 'attribute_not_exists(#mv) OR #mv = :v' : '#mv = :v',
      names,
      values,
    );
  }

  /**
   * Empties data entries wholly below the log start offset (retention, DeleteRecords): each
   * becomes a hole over the same offsets (slots and offsets stay; its object is no longer
   * referenced, so garbage collection may take it), conditional on its pointer (a merge that
   * moved it first makes the chunk lose; the next pass tries again). Each transaction of up to
   * 99 entries also takes their bytes and objects off the summary (`deltas[i]` for chunk i, at
   * most 99 entries each) and moves `cleared` forward, so the summary never counts an emptied
   * entry and a crash between chunks leaves both consistent. Returns the chunks that applied.
   */
  async clearEntries(
    tp: TopicPartition,
    basedOn: number,
    chunks: readonly { entries: readonly ClearedEntry[]; delta: SummaryDelta; cleared: number }[],
  ): Promise<number> {
    const pk = pkOf(tp);
    let applied = 0;
    for (const chunk of chunks) {
      // Versioned like a summary write: a pass that read the summary before this change can
      // no longer write it back over these deductions (its write loses and asks for a pass).
      const version = basedOn + applied;
      if (chunk.entries.length > TRANSACTION_ITEMS - 1) throw new RangeError('at most 99 entries per chunk');
      const outcome = await conditionalWrite('clear entries below the log start', () =>
        this.clients.dynamo.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              ...chunk.entries.map((e) => ({
                Update: {
                  TableName: this.table,
                  Key: { pk: S(pk), sk: N(e.slot) },
                  UpdateExpression: 'SET #st = :hole REMOVE #o, #p, #l, #c, #u, #mn, #mx',
                  ConditionExpression: '#o = :o AND #p = :p',
                  ExpressionAttributeNames: {
                    '#st': A.state,
                    '#o': A.object,
                    '#p': A.position,
                    '#l': A.length,
                    '#c': A.recordCount,
                    '#u': A.budgetBytes,
                    '#mn': A.minTimestamp,
                    '#mx': A.maxTimestamp,
                  },
                  ExpressionAttributeValues: { ':hole': S(ENTRY_STATE.hole), ':o': S(e.object), ':p': N(e.position) },
                },
              })),
              {
                Update: {
                  TableName: this.table,
                  Key: { pk: S(pk), sk: N(HINT_SLOT) },
                  UpdateExpression: 'ADD #sb :sb, #ss :ss, #tb :tb, #ts :ts SET #cl = :cl, #mv = :nv',
                  ConditionExpression: `(attribute_not_exists(#cl) OR #cl < :cl) AND ${version === 0 ? '(attribute_not_exists(#mv) OR #mv = :v)' : '#mv = :v'}`,
                  ExpressionAttributeNames: { '#sb': M.settledBytes, '#ss': M.settledSegments, '#tb': M.tailBytes, '#ts': M.tailSegments, '#cl': M.cleared, '#mv': M.version },
                  ExpressionAttributeValues: {
                    ':v': N(version),
                    ':nv': N(version + 1),
                    ':sb': N(-chunk.delta.settledBytes),
                    ':ss': N(-chunk.delta.settledSegments),
                    ':tb': N(-chunk.delta.tailBytes),
                    ':ts': N(-chunk.delta.tailSegments),
                    ':cl': N(chunk.cleared),
                  },
                },
              },
            ],
          }),
        ),
      );
      if (!outcome.won) break;
      applied++;
    }
    return applied;
  }

  /**
   * Compaction's writes: entries changed in transactions of up to 99, each conditional on the
   * entry's pointer, plus one hint update per transaction, conditional on the summary version
   * and bumping it, that resets the summary to a recount from `recountFrom` (the slots below it
   * are empty: their bytes and objects are 0) and asks for a pass now; the last one also moves
   * the compaction checkpoint. Returns the transactions that applied (they stop at the first
   * that does not).
   */
  async rewriteEntries(
    tp: TopicPartition,
    basedOn: number,
    rewrites: readonly EntryRewrite[],
    recountFrom: number,
    compactedTo: number,
    now: number,
    beforeChunk: () => boolean = () => true,
  ): Promise<{ applied: number; of: number }> {
    const pk = pkOf(tp);
    const chunks: EntryRewrite[][] = [];
    for (let i = 0; i < rewrites.length; i += TRANSACTION_ITEMS - 1) chunks.push(rewrites.slice(i, i + TRANSACTION_ITEMS - 1));
    if (chunks.length === 0) chunks.push([]);
    let applied = 0;
    for (const [i, chunk] of chunks.entries()) {
      if (!beforeChunk()) break;
      const version = basedOn + applied;
      const last = i === chunks.length - 1;
      const entryUpdates = chunk.map((r) => {
        const names: Record<string, string> = { '#o': A.object, '#p': A.position };
        const values: Item = { ':fo': S(r.from.object), ':fp': N(r.from.position) };
        let update: string;
        if (r.to.kind === 'empty') {
          Object.assign(names, { '#st': A.state, '#l': A.length, '#c': A.recordCount, '#u': A.budgetBytes, '#mn': A.minTimestamp, '#mx': A.maxTimestamp, '#tb': A.tombstonesAt });
          values[':hole'] = S(ENTRY_STATE.hole);
          update = 'SET #st = :hole REMOVE #o, #p, #l, #c, #u, #mn, #mx, #tb';
        } else {
          const sets: string[] = [];
          if (r.to.kind === 'moved') {
            Object.assign(names, { '#l': A.length, '#c': A.recordCount, '#u': A.budgetBytes });
            Object.assign(values, { ':o': S(r.to.object), ':p': N(r.to.position), ':l': N(r.to.length), ':c': N(r.to.recordCount), ':u': N(r.to.budgetBytes) });
            sets.push('#o = :o', '#p = :p', '#l = :l', '#c = :c', '#u = :u');
          }
          names['#tb'] = A.tombstonesAt;
          if (r.tombstonesAt !== undefined) {
            values[':tb'] = N(r.tombstonesAt);
            sets.push('#tb = :tb');
          }
          // Moved without tombstones left: a horizon of removed ones must not linger.
          update = `SET ${sets.join(', ')}${r.tombstonesAt === undefined ? ' REMOVE #tb' : ''}`;
        }
        return {
          Update: {
            TableName: this.table,
            Key: { pk: S(pk), sk: N(r.slot) },
            UpdateExpression: update,
            ConditionExpression: '#o = :fo AND #p = :fp',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          },
        };
      });
      const hintValues: Item = {
        ':v': N(version),
        ':nv': N(version + 1),
        ':from': N(recountFrom),
        ':zero': N(0),
        ':now': N(now),
        ':one': N(1),
        ...(last ? { ':cto': N(compactedTo) } : {}),
      };
      const outcome = await conditionalWrite('rewrite compacted entries', () =>
        this.clients.dynamo.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              ...entryUpdates,
              {
                Update: {
                  TableName: this.table,
                  Key: { pk: S(pk), sk: N(HINT_SLOT) },
                  // Only a transaction that changes entries resets the summary and the revision;
                  // one that only moves the checkpoint leaves both (readers keep their caches).
                  UpdateExpression:
                    chunk.length > 0
                      ? `SET #mv = :nv, #s = :from, #t = :from, #sb = :zero, #ss = :zero, #tb2 = :zero, #ts = :zero, #d = :now${last ? ', #cto = :cto' : ''} ADD #rev :one`
                      : `SET #mv = :nv${last ? ', #cto = :cto' : ''}`,
                  ConditionExpression: version === 0 ? 'attribute_not_exists(#mv) OR #mv = :v' : '#mv = :v',
                  ExpressionAttributeNames:
                    chunk.length > 0
                      ? {
                          '#mv': M.version,
                          '#s': M.settled,
                          '#t': M.through,
                          '#sb': M.settledBytes,
                          '#ss': M.settledSegments,
                          '#tb2': M.tailBytes,
                          '#ts': M.tailSegments,
                          '#d': M.due,
                          '#rev': M.revision,
                          ...(last ? { '#cto': M.compactedTo } : {}),
                        }
                      : { '#mv': M.version, ...(last ? { '#cto': M.compactedTo } : {}) },
                  ExpressionAttributeValues: chunk.length > 0 ? hintValues : { ':v': N(version), ':nv': N(version + 1), ...(last ? { ':cto': N(compactedTo) } : {}) },
                },
              },
            ],
          }),
        ),
      );
      if (!outcome.won) break;
      applied++;
    }
    return { applied, of: chunks.length };
  }

  /** Asks the next maintenance pass to look at the partition again (a pass that lost a race). */
  async requestMaintenance(tp: TopicPartition, at: number): Promise<void> {
    await withRetries('request maintenance', () =>
      this.clients.dynamo.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: S(pkOf(tp)), sk: N(HINT_SLOT) },
          UpdateExpression: 'SET #d = :at',
          ExpressionAttributeNames: { '#d': M.due },
          ExpressionAttributeValues: { ':at': N(at) },
        }),
      ),
    );
  }

  /** Does any index entry reference this segment object? (byObject index; for GC.) */
  async isObjectReferenced(objectKey: string): Promise<boolean> {
    const out = await withRetries('check object references', () =>
      this.clients.dynamo.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: LOG_INDEX.byObject,
          KeyConditionExpression: 'obj = :o',
          ExpressionAttributeValues: { ':o': S(objectKey) },
          Limit: 1,
        }),
      ),
    );
    return (out.Items?.length ?? 0) > 0;
  }
}
