/**
 * Fetch (DESIGN.md §3): stable view → find the entry holding the offset → walk entries up to
 * the byte/record budget (holes skipped) → ranged reads (cache first, adjacent ranges merged)
 * → decode, patch base offsets, drop records before the requested offset.
 *
 * As in Kafka: a fetch at exactly the high watermark answers empty (or long-polls); below the
 * log start offset or above the high watermark answers OFFSET_OUT_OF_RANGE with both bounds; the
 * first record is returned even if it alone exceeds maxBytes, so a consumer always progresses.
 */
import { PAGE_SIZES, TUNING_DEFAULTS } from '../config.ts';
import type { Clock } from '../deps.ts';
import { OffsetOutOfRangeError, SluiceError } from '../errors.ts';
import { errorFields, type ErrorFields } from '../wire/error-body.ts';
import { LIMITS } from '../limits.ts';
import type { IndexEntry, IndexStore } from '../storage/index-store.ts';
import type { TopicPartition } from '../model/topic.ts';
import type { SegmentStore } from '../storage/segment-store.ts';
import type { CommitSignal } from './commit-signal.ts';
import type { PartitionIndex, StableView } from './partition-index.ts';
import { decodeText, decodeValue, type Encoding } from './record-encoding.ts';
import { recordBudgetBytes } from './record-size.ts';
import { decodeStored } from './stored-batches.ts';
import type { TopicCache } from './topic-cache.ts';

export type OffsetSpec = number | 'earliest' | 'latest';

export interface FetchInput {
  readonly offset: OffsetSpec;
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly waitMs: number;
  readonly encoding: Encoding;
}

export interface FetchedRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: unknown;
  headers: { key: string; value: string | null }[];
  keyEncoding?: 'base64';
  valueEncoding?: 'base64';
}

export interface FetchResult {
  readonly records: FetchedRecord[];
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

export interface PartitionFetchRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: OffsetSpec;
}

export interface PartitionFetchResult extends Partial<FetchResult> {
  readonly topic: string;
  readonly partition: number;
  readonly error?: ErrorFields;
}

export interface FetchOptions {
  /** Re-check interval of a long poll when no in-process commit wakes it. */
  readonly pollIntervalMs: number;
}

export const DEFAULT_FETCH_OPTIONS: FetchOptions = { pollIntervalMs: TUNING_DEFAULTS.pollIntervalMs };


export class FetchService {
  constructor(
    private readonly topics: TopicCache,
    private readonly index: IndexStore,
    private readonly partitions: PartitionIndex,
    private readonly segments: SegmentStore,
    private readonly clock: Clock,
    private readonly signal: CommitSignal,
    private readonly opts: FetchOptions = DEFAULT_FETCH_OPTIONS,
  ) {}

  async fetch(topicName: string, partition: number, input: FetchInput): Promise<FetchResult> {
    const topic = await this.topics.withPartition(topicName, partition);
    const tp: TopicPartition = { topicId: topic.topicId, partition };
    const deadline = this.clock.now() + Math.min(input.waitMs, LIMITS.maxWaitMs);
    let offset: number | undefined;
    for (;;) {
      const view = await this.partitions.view(tp);
      offset ??= resolveOffset(input.offset, view);
      const result = await this.read(view, partition, offset, input);
      const remaining = deadline - this.clock.now();
      if (result.records.length > 0 || remaining <= 0 || offset < view.highWatermark) return result;
      await this.signal.wait([tp], Math.min(remaining, this.opts.pollIntervalMs));
    }
  }

  /**
   * Several partitions; answers as soon as any has records (or the wait ends). A partition's
   * error (unknown partition, out of range) is reported in its slot, not for the whole request.
   */
  async fetchMany(
    requests: readonly PartitionFetchRequest[],
    shared: Omit<FetchInput, 'offset'>,
  ): Promise<PartitionFetchResult[]> {
    const deadline = this.clock.now() + Math.min(shared.waitMs, LIMITS.maxWaitMs);
    const resolved = new Map<number, number>();
    for (;;) {
      const results = await Promise.all(
        requests.map(async (r, i): Promise<PartitionFetchResult> => {
          try {
            const topic = await this.topics.withPartition(r.topic, r.partition);
            const view = await this.partitions.view({ topicId: topic.topicId, partition: r.partition });
            let offset = resolved.get(i);
            if (offset === undefined) {
              offset = resolveOffset(r.offset, view);
              resolved.set(i, offset);
            }
            return { topic: r.topic, ...(await this.read(view, r.partition, offset, shared)) };
          } catch (err) {
            // Kafka answers fetch errors per partition; only a failure that is not ours aborts.
            if (!(err instanceof SluiceError)) throw err;
            return { topic: r.topic, partition: r.partition, error: errorFields(err) };
          }
        }),
      );
      const remaining = deadline - this.clock.now();
      if (remaining <= 0 || results.some((r) => (r.records?.length ?? 0) > 0)) return results;
      const tps = await Promise.all(
        requests.map(async (r): Promise<TopicPartition | undefined> => {
          try {
            return { topicId: (await this.topics.get(r.topic)).topicId, partition: r.partition };
          } catch {
            return undefined;
          }
        }),
      );
      await this.signal.wait(tps.filter((p): p is TopicPartition => p !== undefined), Math.min(remaining, this.opts.pollIntervalMs));
    }
  }

  private async read(view: StableView, partition: number, offset: number, input: Omit<FetchInput, 'offset'>): Promise<FetchResult & { partition: number }> {
    const { highWatermark, logStartOffset } = view;
    if (offset < logStartOffset || offset > highWatermark) {
      throw new OffsetOutOfRangeError(offset, logStartOffset, highWatermark);
    }
    const base = { partition, highWatermark, logStartOffset };
    if (offset === highWatermark) return { ...base, records: [], nextOffset: offset };

    const maxBytes = Math.min(input.maxBytes, LIMITS.maxFetchBytes);
    const entries = await this.entriesFrom(view, offset, maxBytes, input.maxRecords);
    const data = entries.filter((e) => !e.hole);
    const chunks = await this.segments.read(
      data.map((e) => ({ object: e.object!, position: e.position!, length: e.length! })),
    );

    const records: FetchedRecord[] = [];
    let bytes = 0;
    let nextOffset = offset;
    let full = false;
    let di = 0;
    for (const entry of entries) {
      if (full) break;
      if (entry.hole) {
        nextOffset = Math.max(nextOffset, entry.end);
        continue;
      }
      const chunk = chunks[di++]!;
      for (const batch of decodeStored(entry, chunk)) {
        const logAppend = batch.timestampType === 'LogAppendTime';
        for (const r of batch.records) {
          if (r.offset < offset) continue;
          const size = recordBudgetBytes(
            (r.key?.byteLength ?? 0) +
              (r.value?.byteLength ?? 0) +
              r.headers.reduce((n, h) => n + Buffer.byteLength(h.key) + (h.value?.byteLength ?? 0), 0),
          );
          if (records.length >= input.maxRecords || (records.length > 0 && bytes + size > maxBytes)) {
            full = true;
            break;
          }
          bytes += size;
          records.push(toApiRecord(partition, r, logAppend ? batch.maxTimestamp : r.timestamp, input.encoding));
          nextOffset = r.offset + 1;
        }
        if (full) break;
      }
      if (!full) nextOffset = Math.max(nextOffset, entry.end);
    }
    return { ...base, records, nextOffset: Math.min(nextOffset, highWatermark) };
  }

  /**
   * Stable entries from the one holding `offset`, enough to cover the budgets. Served from the
   * cached window when it reaches back far enough; else located via the byOffset index.
   */
  private async entriesFrom(view: StableView, offset: number, maxBytes: number, maxRecords: number): Promise<IndexEntry[]> {
    const take = (list: readonly IndexEntry[]): IndexEntry[] => {
      const out: IndexEntry[] = [];
      let bytes = 0;
      let records = 0;
      for (const e of list) {
        if (e.end <= offset) continue;
        out.push(e);
        // Plan by what the entry decodes to (stored bytes may be compressed several times over).
        bytes += e.budgetBytes ?? e.length ?? 0;
        records += e.recordCount ?? 0;
        if (bytes >= maxBytes || records >= maxRecords + (offset - out[0]!.base)) break;
      }
      return out;
    };
    if (view.windowStartOffset <= offset && view.window.length > 0) {
      return take(view.window.slice(lowerBoundEntry(view.window, offset)));
    }
    let from = (await this.index.slotAtOrBefore(view.tp, offset)) ?? 0;
    const collected: IndexEntry[] = [];
    while (from < view.stableSlots) {
      const to = Math.min(view.stableSlots, from + PAGE_SIZES.fetchWalk);
      const page = await this.index.entries(view.tp, from, to, PAGE_SIZES.fetchWalk);
      collected.push(...page);
      const picked = take(collected);
      const last = picked[picked.length - 1];
      if (last && (picked.reduce((n, e) => n + (e.budgetBytes ?? e.length ?? 0), 0) >= maxBytes || last.end >= view.highWatermark)) return picked;
      from = to;
    }
    return take(collected);
  }
}

function lowerBoundEntry(entries: readonly IndexEntry[], offset: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.end <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function resolveOffset(spec: OffsetSpec, view: Pick<StableView, 'logStartOffset' | 'highWatermark'>): number {
  if (spec === 'earliest') return view.logStartOffset;
  if (spec === 'latest') return view.highWatermark;
  return spec;
}

function toApiRecord(
  partition: number,
  r: { offset: number; key: Uint8Array | null; value: Uint8Array | null; headers: { key: string; value: Uint8Array | null }[] },
  timestamp: number,
  encoding: Encoding,
): FetchedRecord {
  const key = decodeText(r.key, encoding);
  const value = decodeValue(r.value, encoding);
  const record: FetchedRecord = {
    partition,
    offset: r.offset,
    timestamp,
    key: key.value,
    value: value.value,
    headers: r.headers.map((h) => ({ key: h.key, value: decodeText(h.value, encoding === 'json' ? 'string' : encoding).value })),
  };
  if (key.fellBackToBase64) record.keyEncoding = 'base64';
  if (value.fellBackToBase64) record.valueEncoding = 'base64';
  return record;
}
