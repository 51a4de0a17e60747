/**
 * Durable Streams on the log (docs/STREAMING.md "Durable Streams"): create, append, close,
 * read, delete and fork, each decided on the stream's state (stream-state.ts) and carried
 * out through the same services /v1 uses (topics, produce, fetch).
 *
 * Concurrency: every change is conditional on the state's version (its producer item's last
 * sequence). An append publishes its records and the new state in one transaction; a lost
 * race writes nothing visible and is decided again on the fresh state. Within a process the
 * changes of one stream also queue behind each other, so racing writers of one instance do
 * not spend segment writes on attempts that must lose.
 */
import { createHash } from 'node:crypto';
import { TUNING_DEFAULTS } from '../config.ts';
import type { Clock, IdGenerator } from '../deps.ts';
import {
  ConcurrentChangeError,
  OffsetOutOfRangeError,
  ProducerFencedError,
  ProducerRaceError,
  UnavailableError,
  UnknownTopicOrPartitionError,
} from '../errors.ts';
import type { FetchService } from '../log/fetch.ts';
import type { ProduceRecordInput, ProduceService } from '../log/produce.ts';
import type { TopicService } from '../log/topics.ts';
import type { LogRecord } from '../model/record.ts';
import { STREAM_PRODUCER_PREFIX, type ProducerState } from '../model/producer.ts';
import type { ProducerStore } from '../storage/producer-store.ts';
import { ITEM_KIND } from '../storage/keys/meta-item.ts';
import { planStreamSweep, type StreamSweepPlan } from './sweep-plan.ts';
import { CHUNK_BYTES, recordsOfBody } from './body.ts';
import { DEFAULT_CONTENT_TYPE, DsRequestError, isJson, mediaType } from './protocol.ts';
import {
  CLOSE_MARKER_HEADER,
  MORE_HEADER,
  afterAppend,
  decideAppend,
  inheritedRanges,
  isExpired,
  parseState,
  serializeState,
  touchDue,
  type AppendDecision,
  type AppendRequest,
  type DsStreamState,
} from './stream-state.ts';

/** Sluice topics that back streams; /v1 may read them but not create, write or delete them. */
export const DS_TOPIC_PREFIX = '__ds.';

export function isStreamTopic(name: string): boolean {
  return name.startsWith(DS_TOPIC_PREFIX);
}

export interface DsOptions {
  /** How long a long poll waits at the tail (capped by the fetch path's own limit). */
  readonly longPollMs: number;
  /** Bytes a catch-up read answers at most. */
  readonly readMaxBytes: number;
  readonly readMaxRecords: number;
}

export const DS_DEFAULTS: DsOptions = { longPollMs: TUNING_DEFAULTS.dsLongPollMs, readMaxBytes: 1024 * 1024, readMaxRecords: 1_000 };

/** DynamoDB's TTL never removes a stream's state: expiry is the service's to carry out. */
const NEVER_SECONDS = 4_102_444_800; // 2100-01-01

const ATTEMPTS = 64;

/** A state's JSON at most: DynamoDB items are 400 KB, with the item's other attributes beside it. */
const MAX_STATE_BYTES = 380_000;

export interface CreateRequest {
  readonly contentType?: string | undefined;
  readonly ttlSeconds?: number | undefined;
  readonly expiresAt?: { readonly raw: string; readonly ms: number } | undefined;
  readonly closed: boolean;
  readonly body: Uint8Array;
  readonly fork?: { readonly sourcePath: string; readonly offset?: number | undefined; readonly subOffset?: number | undefined } | undefined;
}

export type CreateResult = { readonly created: boolean; readonly state: DsStreamState };

export type AppendResult =
  | { readonly kind: 'appended'; readonly state: DsStreamState; readonly dataAppended: boolean }
  | { readonly kind: 'already-closed'; readonly state: DsStreamState }
  | { readonly kind: 'refused'; readonly decision: Exclude<AppendDecision, { kind: 'append' } | { kind: 'already-closed' }>; readonly state: DsStreamState };

export interface ReadResult {
  readonly values: Uint8Array[];
  /** Where the next read starts. */
  readonly next: number;
  readonly upToDate: boolean;
  /** The stream is closed and `next` is its final position. */
  readonly closed: boolean;
}

export interface ReadOptions {
  /** Wait at the tail until this clock time (a long poll); 0 answers at once. */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
}

interface Loaded {
  readonly item: ProducerState;
  readonly state: DsStreamState;
}

export class DsStreams {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Streams with a TTL reset queued (touch). */
  private readonly touching = new Set<string>();

  constructor(
    private readonly topics: TopicService,
    private readonly produce: ProduceService,
    private readonly fetch: FetchService,
    private readonly store: ProducerStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    readonly opts: DsOptions = DS_DEFAULTS,
  ) {}

  /** The stream's state, or a 404 / 410 (an expired stream is removed on the way). */
  async get(path: string): Promise<DsStreamState> {
    return (await this.live(path)).state;
  }

  async create(path: string, req: CreateRequest): Promise<CreateResult> {
    const id = streamId(path);
    return this.serially(id, async () => {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const existing = await this.load(id);
        // An expired stream with forks stays, soft-deleted: its path is still held.
        if (existing?.state.softDeleted) throw new DsRequestError(409, 'a deleted stream with forks still holds this path');
        if (existing && !(await this.expireIfDue(existing))) {
          if (!sameConfig(existing.state, req)) throw new DsRequestError(409, 'the stream exists with another configuration');
          return { created: false, state: existing.state };
        }
        const now = this.clock.now();
        const fork = req.fork && (await this.forkPoint(req, now));
        const contentType = req.contentType ?? fork?.source.contentType ?? DEFAULT_CONTENT_TYPE;
        // Everything refusable is refused before anything is written (a bad JSON body, too big).
        const values = [...(fork?.prefix ? [fork.prefix] : []), ...(req.body.byteLength > 0 ? recordsOfBody(req.body, isJson(contentType), true) : [])];
        // The source counts the fork before the fork exists: a crash in between leaks a count
        // (the sweep corrects it), it never loses data a fork reads. The count is conditional
        // on the source as forkPoint read it (its incarnation included): else decide again.
        if (fork && !(await this.countFork(fork.loaded))) continue;
        const base = fork?.offset ?? 0;
        let committed = false;
        let topicName: string | undefined;
        try {
          // The topic's name says whose it is (the sweep checks the owner before it deletes one).
          const topic = await this.topics.create({ name: `${DS_TOPIC_PREFIX}${id.slice(STREAM_PRODUCER_PREFIX.length)}.${this.ids.newId()}`, partitions: 1, config: { 'retention.ms': -1 } });
          topicName = topic.name;
          // The initial body (and a close's marker) go into the new topic before the state
          // exists: nobody can read or write the topic yet, and the one conditional put below
          // makes the stream exist with its content, or not at all (the topic is then deleted).
          let tail = base;
          let closedAt: number | undefined;
          if (values.length > 0 || req.closed) {
            const offsets = await this.produce.produce(topic.name, { records: this.recordsFor(values, req.closed) });
            const last = base + offsets[offsets.length - 1]!.offset;
            tail = req.closed ? last : last + 1;
            if (req.closed) closedAt = last;
          }
          const state: DsStreamState = {
            path,
            topic: topic.name,
            topicId: topic.topicId,
            base,
            inherited: fork ? inheritedRanges(fork.source, fork.offset) : [],
            contentType,
            createdAt: now,
            ttlSeconds: req.ttlSeconds ?? (req.expiresAt === undefined ? fork?.source.ttlSeconds : undefined),
            expiresAt: req.expiresAt?.raw ?? (req.ttlSeconds === undefined ? fork?.source.expiresAt : undefined),
            expiresAtMs: req.expiresAt?.ms ?? (req.ttlSeconds === undefined ? fork?.source.expiresAtMs : undefined),
            touchedAt: now,
            tail,
            ...(closedAt !== undefined ? { closed: { at: closedAt } } : {}),
            producers: {},
            forks: 0,
            ...(fork
              ? { fork: { sourceId: fork.loaded.item.producerId, sourceEpoch: fork.loaded.item.epoch, sourcePath: req.fork!.sourcePath, offset: fork.anchor, subOffset: req.fork!.subOffset ?? 0 } }
              : {}),
          };
          // The epoch is this incarnation's own number: a request that loaded an earlier
          // incarnation of the path (deleted and created again since) can never match it.
          const item: ProducerState = { producerId: id, epoch: incarnation(this.ids.newId()), lastSequence: 0, recent: [], lastActiveAt: now, attachment: serializeState(state) };
          try {
            await this.store.initialise(item, undefined, NEVER_SECONDS, ITEM_KIND.dsStream);
          } catch (err) {
            if (!(err instanceof ProducerRaceError)) throw err;
            // Our own put may have committed with its answer lost (the retry then finds it).
            const now2 = await this.load(id);
            if (now2?.item.epoch !== item.epoch) continue; // another creation won: theirs decides
          }
          committed = true;
          // A creation slower than the sweep's grace could have lost its topic to the sweep:
          // then the stream must not exist either.
          const still = await this.topics.get(topic.name).catch(() => undefined);
          if (still?.topicId !== topic.topicId) {
            committed = false;
            await this.store.remove(item);
            throw new UnavailableError('the stream\'s topic went away during its creation; retry');
          }
          return { created: true, state };
        } finally {
          if (!committed) {
            if (topicName !== undefined) await this.deleteTopic(topicName).catch(() => undefined);
            if (fork) await this.releaseFork(fork.loaded.item.producerId, fork.loaded.item.epoch).catch(() => undefined);
          }
        }
      }
      throw new DsRequestError(409, 'the stream changed too often during its creation; retry');
    });
  }

  async append(path: string, req: AppendRequest, body: Uint8Array): Promise<AppendResult> {
    const id = streamId(path);
    return this.serially(id, async () => {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const loaded = await this.live(path);
        const decision = decideAppend(loaded.state, req, (a, b) => mediaType(a) === mediaType(b));
        if (decision.kind === 'already-closed') return { kind: 'already-closed', state: loaded.state };
        if (decision.kind !== 'append') return { kind: 'refused', decision, state: loaded.state };
        const values = body.byteLength > 0 ? recordsOfBody(body, isJson(loaded.state.contentType), false) : [];
        const appended = await this.appendOn(loaded, req, values, decision);
        if (appended) return { kind: 'appended', state: appended.state, dataAppended: values.length > 0 };
      }
      throw new DsRequestError(409, 'the stream changed too often during the append; retry');
    });
  }

  /** Reads from `position` (inherited ranges first, then the stream's own records). */
  async read(state: DsStreamState, position: number, opts: ReadOptions): Promise<ReadResult> {
    const values: Uint8Array[] = [];
    let bytes = 0;
    let pos = position;
    const budgetLeft = () => this.opts.readMaxBytes - bytes;
    for (const r of state.inherited) {
      if (pos >= r.to) continue;
      pos = Math.max(pos, r.from);
      const batch = await this.readTopic(r.topic, pos - r.base, Math.max(1, budgetLeft()), 0);
      for (const rec of batch.records) {
        const at = r.base + rec.offset;
        if (at >= r.to) break;
        if (isMarker(rec)) continue;
        values.push(rec.value ?? new Uint8Array(0));
        bytes += rec.value?.byteLength ?? 0;
      }
      pos = Math.min(r.to, r.base + batch.nextOffset);
      if (pos < r.to) return { values, next: pos, upToDate: false, closed: false };
      if (budgetLeft() <= 0) return { values, next: pos, upToDate: false, closed: false };
    }
    pos = Math.max(pos, state.base);
    const wait = values.length === 0 ? opts.deadline : 0;
    const own = await this.readTopic(state.topic, pos - state.base, Math.max(1, budgetLeft()), wait, opts.signal);
    let closedAt: number | undefined;
    for (const rec of own.records) {
      if (isMarker(rec)) {
        closedAt = state.base + rec.offset;
        break;
      }
      values.push(rec.value ?? new Uint8Array(0));
    }
    if (closedAt !== undefined) return { values, next: closedAt, upToDate: true, closed: true };
    const next = state.base + own.nextOffset;
    const closed = state.closed !== undefined && next >= state.closed.at;
    if (closed) return { values, next: state.closed!.at, upToDate: true, closed: true };
    return { values, next, upToDate: next >= state.base + own.highWatermark, closed: false };
  }

  /**
   * Resets a sliding TTL after a read of `seen`, when due (touchDue): most reads write nothing
   * and read nothing more. A lost race needs no retry (whoever won wrote a newer touch).
   */
  async touch(path: string, seen: DsStreamState): Promise<void> {
    if (!touchDue(seen, this.clock.now())) return;
    const id = streamId(path);
    // One reset queued per stream: a burst of reads does not queue a burst of them.
    if (this.touching.has(id)) return;
    this.touching.add(id);
    // In the stream's queue: a reset never makes this instance's own append lose its race.
    await this.serially(id, async () => {
      this.touching.delete(id);
      const loaded = await this.load(id);
      if (!loaded || loaded.state.softDeleted || isExpired(loaded.state, this.clock.now()) || !touchDue(loaded.state, this.clock.now())) return;
      await this.store.advance(loaded.item, nextItem(loaded.item, { ...loaded.state, touchedAt: this.clock.now() }, this.clock.now()), NEVER_SECONDS);
    });
  }

  async delete(path: string): Promise<void> {
    const id = streamId(path);
    await this.serially(id, async () => {
      const loaded = await this.live(path);
      await this.remove(loaded);
    });
  }

  /**
   * Maintenance's clean-up (sweep-plan.ts S1-S3): expired streams nobody touches, topics no
   * state names, leaked fork counts. Each change is made as the request path makes it (in the
   * stream's queue, conditional on its version), so a sweep racing a request loses, harmlessly.
   */
  async sweep(graceMs: number, dryRun = false): Promise<StreamSweepPlan> {
    const [items, topics] = await Promise.all([this.store.listKind(ITEM_KIND.dsStream), this.topics.list()]);
    const streams = items.flatMap((item) => (item.attachment ? [{ id: item.producerId, epoch: item.epoch, state: parseState(item.attachment), changedAt: item.lastActiveAt }] : []));
    const plan = planStreamSweep(
      streams,
      topics.filter((t) => isStreamTopic(t.name)).map((t) => ({ name: t.name, createdAt: t.createdAt })),
      this.clock.now(),
      graceMs,
    );
    if (dryRun) return plan;
    for (const id of plan.expire) {
      await this.serially(id, async () => {
        const loaded = await this.load(id);
        if (loaded) await this.expireIfDue(loaded);
      });
    }
    for (const name of plan.orphanTopics) {
      // The owner, read consistently now: a topic its stream (still) names is never deleted,
      // and one whose name names no owner (none is made so) is left alone.
      const owner = topicOwner(name);
      if (owner === undefined) continue;
      const loaded = await this.load(owner);
      if (loaded && (loaded.state.topic === name || loaded.state.inherited.some((r) => r.topic === name))) continue;
      await this.deleteTopic(name);
    }
    for (const { id, epoch, forks } of plan.forkCounts) {
      await this.serially(id, async () => {
        const loaded = await this.load(id);
        // Only ever down to the forks that exist, and only if nothing moved since the plan.
        if (!loaded || loaded.item.epoch !== epoch || loaded.state.forks <= forks || loaded.item.lastActiveAt !== streams.find((s) => s.id === id)?.changedAt) return;
        if (forks === 0 && loaded.state.softDeleted) {
          if (await this.store.remove(loaded.item)) {
            await this.deleteTopic(loaded.state.topic);
            if (loaded.state.fork) await this.releaseFork(loaded.state.fork.sourceId, loaded.state.fork.sourceEpoch);
          }
          return;
        }
        await this.store.advance(loaded.item, nextItem(loaded.item, { ...loaded.state, forks }, this.clock.now()), NEVER_SECONDS);
      });
    }
    return plan;
  }

  // ---- internals ----------------------------------------------------------------------

  /** One append attempt on `loaded`; undefined when the state moved on (decide again). */
  private async appendOn(loaded: Loaded, req: AppendRequest, values: readonly Uint8Array[], decision: AppendDecision): Promise<Loaded | undefined> {
    if (decision.kind !== 'append') throw new Error(`appendOn called for a ${decision.kind} decision`);
    if (values.length === 0 && !req.close) throw new DsRequestError(400, 'an append needs a body (or Stream-Closed: true)');
    const now = this.clock.now();
    const records = this.recordsFor(values, req.close);
    // The state is one DynamoDB item: refuse what would outgrow it before anything is written.
    const probe = afterAppend(loaded.state, req, decision, loaded.state.tail, records.length, now);
    if (Buffer.byteLength(serializeState(probe)) > MAX_STATE_BYTES) throw new DsRequestError(413, 'the stream\'s writer state is full (too many or too long producer ids)');
    let next: Loaded | undefined;
    try {
      await this.produce.produce(loaded.state.topic, {
        records,
        advance: (bases) => {
          const first = loaded.state.base + bases.get(0)!;
          const state = afterAppend(loaded.state, req, decision, first, records.length, now);
          const item = nextItem(loaded.item, state, now);
          next = { item, state };
          return { prev: loaded.item, next: item, ttlSeconds: NEVER_SECONDS };
        },
      });
    } catch (err) {
      if (lostRace(err)) return undefined;
      if (err instanceof UnknownTopicOrPartitionError) throw new DsRequestError(404, 'stream not found');
      throw err;
    }
    return next;
  }

  /**
   * The records of one append: its values, all but the last marked MORE_HEADER (a sub-offset
   * fork walks one append's records), then the close marker if it closes.
   */
  private recordsFor(values: readonly Uint8Array[], close: boolean): ProduceRecordInput[] {
    const records: ProduceRecordInput[] = values.map((value, i) => ({ key: null, value, headers: i < values.length - 1 ? [{ key: MORE_HEADER, value: null }] : [] }));
    if (close) records.push({ key: null, value: null, headers: [{ key: CLOSE_MARKER_HEADER, value: null }] });
    return records;
  }

  /**
   * Where a fork starts: positions below `offset` are inherited; `prefix` (a binary
   * sub-offset's first bytes of the append at the anchor) is copied into the fork as its first
   * record, so inherited ranges always end at record boundaries.
   */
  private async forkPoint(req: CreateRequest, now: number): Promise<{ loaded: Loaded; source: DsStreamState; anchor: number; offset: number; prefix?: Uint8Array }> {
    const spec = req.fork!;
    const loaded = await this.load(streamId(spec.sourcePath));
    if (!loaded || isExpired(loaded.state, now)) throw new DsRequestError(404, 'the source stream does not exist');
    const source = loaded.state;
    if (source.softDeleted) throw new DsRequestError(409, 'the source stream was deleted (its forks keep it)');
    if (req.contentType !== undefined && mediaType(req.contentType) !== mediaType(source.contentType)) {
      throw new DsRequestError(409, 'a fork has its source content type');
    }
    const tail = source.closed?.at ?? source.tail;
    const anchor = spec.offset ?? tail;
    if (anchor > tail) throw new DsRequestError(400, 'the fork offset is past the source tail');
    const start = source.inherited[0]?.from ?? source.base;
    if (anchor < start) throw new DsRequestError(400, 'the fork offset is before the source start');
    const sub = spec.subOffset ?? 0;
    if (sub === 0) return { loaded, source, anchor, offset: anchor };
    // Walk the append at the anchor (its records, contiguous) to the sub-offset: JSON counts
    // messages (one record each), anything else bytes (a record's part is copied as a prefix).
    const json = isJson(source.contentType);
    let remaining = sub;
    let position = anchor;
    for (let more = true; more; ) {
      more = false;
      const page = await this.recordsAt(source, position, json ? CHUNK_BYTES : remaining + CHUNK_BYTES);
      for (const { at, record } of page) {
        if (at !== position) break;
        const value = record.value ?? new Uint8Array(0);
        const size = json ? 1 : value.byteLength;
        if (remaining < size) return { loaded, source, anchor, offset: at, prefix: value.subarray(0, remaining) };
        remaining -= size;
        position = at + 1;
        if (remaining === 0) return { loaded, source, anchor, offset: position };
        more = record.headers.some((h) => h.key === MORE_HEADER);
        if (!more) break; // the append's last record
      }
    }
    throw new DsRequestError(400, 'the fork sub-offset is past the append at the fork offset');
  }

  /** The records of `state` from `position` on, within the one range that holds it. */
  private async recordsAt(state: DsStreamState, position: number, maxBytes: number): Promise<{ at: number; record: LogRecord }[]> {
    const range = state.inherited.find((r) => position >= r.from && position < r.to);
    const topic = range?.topic ?? state.topic;
    const base = range?.base ?? state.base;
    const batch = await this.readTopic(topic, position - base, maxBytes, 0);
    const out: { at: number; record: LogRecord }[] = [];
    for (const record of batch.records) {
      const at = base + record.offset;
      if ((range && at >= range.to) || isMarker(record)) break;
      out.push({ at, record });
    }
    return out;
  }

  private async remove(loaded: Loaded): Promise<void> {
    const { state } = loaded;
    if (state.forks > 0) {
      if (!(await this.store.advance(loaded.item, nextItem(loaded.item, { ...state, softDeleted: true }, this.clock.now()), NEVER_SECONDS))) {
        throw new DsRequestError(409, 'the stream changed during the delete; retry');
      }
      return;
    }
    if (!(await this.store.remove(loaded.item))) throw new DsRequestError(409, 'the stream changed during the delete; retry');
    await this.deleteTopic(state.topic);
    if (state.fork) await this.releaseFork(state.fork.sourceId, state.fork.sourceEpoch);
  }

  /**
   * A fork is gone: its source counts one fork less, and goes too if it was deleted already.
   * Only the incarnation the fork was made from: another stream at the path is not its source.
   */
  private async releaseFork(sourceId: string, sourceEpoch: number): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const source = await this.load(sourceId);
      if (!source || source.item.epoch !== sourceEpoch) return;
      const forks = Math.max(0, source.state.forks - 1);
      if (forks === 0 && source.state.softDeleted) {
        if (!(await this.store.remove(source.item))) continue;
        await this.deleteTopic(source.state.topic);
        if (source.state.fork) await this.releaseFork(source.state.fork.sourceId, source.state.fork.sourceEpoch);
        return;
      }
      if (await this.store.advance(source.item, nextItem(source.item, { ...source.state, forks }, this.clock.now()), NEVER_SECONDS)) return;
    }
  }

  private async deleteTopic(name: string): Promise<void> {
    try {
      await this.topics.delete(name);
    } catch (err) {
      if (!(err instanceof UnknownTopicOrPartitionError)) throw err;
    }
  }

  /** One more fork reads `source`: conditional on the source exactly as it was read. */
  private async countFork(source: Loaded): Promise<boolean> {
    return this.store.advance(source.item, nextItem(source.item, { ...source.state, forks: source.state.forks + 1 }, this.clock.now()), NEVER_SECONDS);
  }

  /** A live stream: 404 when absent or expired (and then removed), 410 when soft-deleted. */
  private async live(path: string): Promise<Loaded> {
    const loaded = await this.load(streamId(path));
    if (!loaded || (await this.expireIfDue(loaded))) throw new DsRequestError(404, 'stream not found');
    if (loaded.state.softDeleted) throw new DsRequestError(410, 'the stream was deleted');
    return loaded;
  }

  /** True when the stream had expired; it is then removed (soft-deleted if it has forks). */
  private async expireIfDue(loaded: Loaded): Promise<boolean> {
    if (!isExpired(loaded.state, this.clock.now())) return false;
    if (!loaded.state.softDeleted) {
      try {
        await this.remove(loaded);
      } catch (err) {
        if (!(err instanceof DsRequestError)) throw err; // raced: the next access tries again
      }
    }
    return true;
  }

  private async load(id: string): Promise<Loaded | undefined> {
    const item = await this.store.get(id);
    if (!item?.attachment) return undefined;
    return { item, state: parseState(item.attachment) };
  }

  private async readTopic(topic: string, offset: number, maxBytes: number, deadline: number, signal?: AbortSignal) {
    const waitMs = deadline > 0 ? Math.max(0, deadline - this.clock.now()) : 0;
    try {
      if (waitMs === 0 || signal === undefined) {
        return await this.fetch.fetch(topic, 0, { offset, maxRecords: this.opts.readMaxRecords, maxBytes, waitMs });
      }
      const tp = await this.fetch.topicPartition(topic, 0);
      let last;
      for await (const batch of this.fetch.session(tp, offset, { maxRecords: this.opts.readMaxRecords, maxBytes, deadline, signal })) {
        last = batch;
        break;
      }
      if (!last) throw new Error('a read session ended without a batch');
      return last;
    } catch (err) {
      if (err instanceof UnknownTopicOrPartitionError) throw new DsRequestError(404, 'stream not found');
      if (err instanceof OffsetOutOfRangeError) {
        const { logStartOffset, highWatermark } = err.details as { logStartOffset: number; highWatermark: number };
        if (offset < logStartOffset) throw new DsRequestError(410, 'the offset is before the earliest retained position');
        return { partition: 0, records: [], nextOffset: Math.max(offset, highWatermark), highWatermark, logStartOffset };
      }
      throw err;
    }
  }

  private serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return run;
  }
}

/** The producer-item id of the stream at `path` (a hash: paths are longer than ids may be). */
export function streamId(path: string): string {
  return `${STREAM_PRODUCER_PREFIX}${createHash('sha256').update(path).digest('base64url')}`;
}

/** The state id a stream topic's name carries (`__ds.<hash>.<uuid>`), if it carries one. */
export function topicOwner(name: string): string | undefined {
  const m = /^__ds\.([A-Za-z0-9_-]{43})\.[0-9a-fA-F-]+$/.exec(name);
  return m ? `${STREAM_PRODUCER_PREFIX}${m[1]}` : undefined;
}

/** A 48-bit number from a fresh id: the epoch of one incarnation of a path. */
function incarnation(id: string): number {
  return Number.parseInt(createHash('sha256').update(id).digest('hex').slice(0, 12), 16);
}

/**
 * A publish that lost its condition: the state moved (the group committer wraps that in
 * UnavailableError), or the path now holds another incarnation (a fenced epoch). Nothing of
 * the request is visible; decide again.
 */
function lostRace(err: unknown): boolean {
  if (err instanceof ConcurrentChangeError || err instanceof ProducerFencedError) return true;
  if (err instanceof UnavailableError) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof ConcurrentChangeError || cause instanceof ProducerFencedError;
  }
  return false;
}

function nextItem(prev: ProducerState, state: DsStreamState, now: number): ProducerState {
  return { ...prev, lastSequence: prev.lastSequence + 1, lastActiveAt: now, attachment: serializeState(state) };
}

function isMarker(rec: LogRecord): boolean {
  return rec.headers.some((h) => h.key === CLOSE_MARKER_HEADER);
}

function sameConfig(state: DsStreamState, req: CreateRequest): boolean {
  const type = req.contentType ?? (req.fork ? state.contentType : DEFAULT_CONTENT_TYPE);
  if (mediaType(type) !== mediaType(state.contentType)) return false;
  if (req.closed !== (state.closed !== undefined)) return false;
  if (!req.fork) {
    if (req.ttlSeconds !== state.ttlSeconds) return false;
    if ((req.expiresAt?.ms ?? undefined) !== state.expiresAtMs) return false;
    return state.fork === undefined;
  }
  if (!state.fork || state.fork.sourcePath !== req.fork.sourcePath) return false;
  if (req.fork.offset !== undefined && req.fork.offset !== state.fork.offset) return false;
  if ((req.fork.subOffset ?? 0) !== state.fork.subOffset) return false;
  if (req.ttlSeconds !== undefined && req.ttlSeconds !== state.ttlSeconds) return false;
  if (req.expiresAt !== undefined && req.expiresAt.ms !== state.expiresAtMs) return false;
  return true;
}

