/**
 * The consumer: a group member (`subscribe`) or a reader of given partitions (`assign`), over
 * the REST API only (docs/API.md "Fetch", "Consumer groups").
 *
 *   const consumer = sluice.consumer({ autoOffsetReset: 'earliest' });
 *   await consumer.subscribe('billing', ['orders']);
 *   for await (const record of consumer) { ... }          // or poll(), or run({ eachBatch })
 *   await consumer.close();
 *
 * Group membership (KIP-848, the assignment is computed by the server):
 *  - `subscribe` joins with a heartbeat at epoch 0; a background loop then heartbeats every
 *    `heartbeatIntervalMs` of the answer. Every answer carries the member's whole current
 *    assignment, and the consumer reconciles against it:
 *      - a partition new in it: `onAssigned`, then its start position (the committed offset,
 *        else `autoOffsetReset`), then it is fetched;
 *      - a partition gone from it: it stops being fetched at once, the handler work on it
 *        (a run() handler, the iterator's current record, the records of the last poll()) is
 *        waited for, `onRevoked(…, 'revoked')` runs, and only THEN does the next heartbeat,
 *        sent promptly, leave it out of `ownedPartitions`. The server gives a partition to
 *        another member only once no member has it assigned or owned, so two members never
 *        process the same partition at the same time.
 *    Reconciliation steps run one after another, in answer order, so callbacks never overlap.
 *  - UNKNOWN_MEMBER_ID / FENCED_MEMBER_EPOCH, or no successful heartbeat for `sessionTimeoutMs`
 *    (measured from when the last successful heartbeat was SENT, so the consumer gives up no
 *    later than the server expires it): every partition is lost (`onRevoked(…, 'lost')`, after
 *    in-flight handler work), then the consumer rejoins at epoch 0 (fenced: with its memberId,
 *    which frees the old incarnation's partitions at once; otherwise as a new member).
 *  - Retriable failures (the error says so, or no answer) are retried with exponential
 *    backoff and jitter (`retryBackoffMs` .. `retryBackoffMaxMs`).
 *
 * Commits, and why they happen right before each heartbeat. The server accepts a member's
 * commit only for partitions in the assignment it last sent, at the member's current epoch.
 * So once an answer revokes a partition, its offsets can no longer be committed. With
 * `autoCommit` the consumer therefore commits its consumed positions (when anything is new)
 * immediately before each heartbeat, in the same serialised step, and every
 * `autoCommitIntervalMs`: the window between the last commit and a revocation is at most the
 * time of one heartbeat. Records of a revoked partition consumed after the last commit are
 * delivered again to its next owner: at-least-once. A commit answered STALE_MEMBER_EPOCH,
 * FENCED_MEMBER_EPOCH or UNKNOWN_MEMBER_ID is dropped silently: the next owner resumes from the
 * last good commit. Manual `commit()` throws these instead, so the caller knows.
 *
 * What counts as consumed (what a commit sends):
 *  - run(): a batch (record) once its handler returned; a handler that throws is not marked,
 *    and its partition is read again from the first unhandled record after a backoff;
 *  - the async iterator: a record once the iterator is asked for the next one after it;
 *  - poll(): the records it returned, at the next poll(), commit() or close() (Kafka's rule:
 *    auto-commit commits what the previous poll returned);
 *  - a position set by autoOffsetReset (nothing before it will ever be delivered).
 * seek() moves the fetch position only; the consumed mark moves when records are consumed.
 *
 * Fetching: one `POST /v1/fetch` long poll at a time over the owned, unpaused partitions with a
 * position; `maxBytes` and `maxRecords` apply per partition. Unless `maxBytes` is given, it is
 * the server's maxFetchBytes shared among the partitions (at most 1 MiB each), so one answer
 * stays within the server's response limit. A poll in flight is cut short (it answers nothing)
 * when a partition becomes fetchable (assigned, resumed, seeked), so new partitions do not
 * wait a whole long poll. Records of a partition revoked, paused or seeked while the poll was
 * out are never delivered.
 *
 * A partition's error in a fetch answer never blocks the other partitions, and never makes the
 * consumer fetch that partition again at once (a fetch of only errored partitions is answered
 * without waiting, so that would be a request loop):
 *  - OFFSET_OUT_OF_RANGE applies `autoOffsetReset` (earliest: the log start, latest: the high
 *    watermark, from the error's fields); with 'none' it is an error as below.
 *  - UNKNOWN_TOPIC_OR_PARTITION of a group member (its topic was deleted): not an error, the
 *    assignment drops it. The partition is left out of fetches until the answer of a heartbeat
 *    sent after the error, asked for at once (if that answer still assigns it, it is fetched
 *    again, and a repeat waits for the regular heartbeat).
 *  - A retriable one: fetched again after a backoff (`retryBackoffMs` .. `retryBackoffMaxMs`).
 *  - Any other (UNKNOWN_TOPIC_OR_PARTITION without a group, 'none', CORRUPT_MESSAGE, ...): thrown
 *    ONCE, by the poll that learned it (records that answer brought for other partitions are not
 *    delivered then, their positions stay, so the next poll reads them again); the partition is
 *    then left out of fetches until seek() or assign() moves it, while the others go on. Each
 *    occurrence is thrown once: a seek that meets the same error throws it again. (Kafka's
 *    consumer, too, keeps serving the healthy partitions and raises a partition's error when it
 *    meets it; it meets it again on every fetch, which here would be a request per poll.)
 *
 * Errors from poll() (and so from the iterator and run()): a partition's error (above, once), an
 * exception thrown by onAssigned/onRevoked (once), a non-retriable heartbeat error (fatal, on
 * every poll). Retriable fetch errors are thrown from poll() but retried by the iterator and
 * run(). A thrown error ends a `for await` loop and run(); the consumer stays usable, and a new
 * loop (or run()) goes on with the other partitions.
 *
 * Pure and browser-safe: fetch and timers only, no Node APIs.
 */
import { backoffDelay, sleep, type BackoffPolicy } from './backoff.ts';
import {
  FencedMemberEpochError, OffsetOutOfRangeError, SluiceClientError, UnknownMemberIdError,
  UnknownTopicOrPartitionError, errorFromBody, isRetriable,
} from './errors.ts';
import type { Sluice } from './sluice.ts';
import type { Assignment, ConsumedRecord, Encoding, FetchedPartition, HeartbeatAnswer, OffsetCommit, TopicPartition } from './types.ts';

export type OffsetResetPolicy = 'earliest' | 'latest' | 'none';
export type RevokeReason = 'revoked' | 'lost' | 'closed';

export interface ConsumerOptions {
  /** Record encoding of fetch answers: `json` (default), `string` or `base64`. */
  readonly encoding?: Encoding;
  /** Kafka's enable.auto.commit (default true). */
  readonly autoCommit?: boolean;
  /** Kafka's auto.commit.interval.ms (default 5000); commits also precede every heartbeat. */
  readonly autoCommitIntervalMs?: number;
  /** Kafka's auto.offset.reset (default 'latest'). */
  readonly autoOffsetReset?: OffsetResetPolicy;
  /** Kafka's session.timeout.ms (default 45000; the server accepts 1000..1800000). */
  readonly sessionTimeoutMs?: number;
  /** Long-poll wait of a fetch (default 5000), capped at the server's maxWaitMs. */
  readonly maxWaitMs?: number;
  /** Per partition per fetch (default: the server's maxFetchBytes shared, ≤ 1 MiB each). */
  readonly maxBytes?: number;
  /** Per partition per fetch (default: the server's, 500). */
  readonly maxRecords?: number;
  /** Kafka's retry.backoff.ms (default 100). */
  readonly retryBackoffMs?: number;
  /** Kafka's retry.backoff.max.ms (default 1000). */
  readonly retryBackoffMaxMs?: number;
  /** Called (and awaited) when partitions are assigned, before they are fetched; seek() may be used in it. */
  readonly onAssigned?: (tps: TopicPartition[]) => void | Promise<void>;
  /** Called (and awaited) after the handler work on the partitions finished, before they are released. */
  readonly onRevoked?: (tps: TopicPartition[], reason: RevokeReason) => void | Promise<void>;
  /** Clock (ms) and randomness, for tests. */
  readonly now?: () => number;
  readonly random?: () => number;
}

export const CONSUMER_DEFAULTS = {
  encoding: 'json',
  autoCommit: true,
  autoCommitIntervalMs: 5000,
  autoOffsetReset: 'latest',
  sessionTimeoutMs: 45_000,
  maxWaitMs: 5000,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1000,
} as const;

/** A partition to read with assign(): from `offset`, else per autoOffsetReset. */
export interface AssignedPartition extends TopicPartition {
  readonly offset?: number | 'earliest' | 'latest';
}

export interface SeekTarget extends TopicPartition {
  readonly offset: number;
}

export interface RunHandlers {
  /** Called for each non-empty partition result of a fetch. */
  readonly eachBatch?: (batch: FetchedPartition) => void | Promise<void>;
  /** Called for each record (when no eachBatch is given). */
  readonly eachRecord?: (record: ConsumedRecord) => void | Promise<void>;
  /** Told about a handler's failure before its records are read again (default: nothing). */
  readonly onError?: (err: unknown, tp: TopicPartition) => void;
}

/** Largest per-partition fetch when maxBytes is not given (the server's own default). */
const DEFAULT_PARTITION_FETCH_BYTES = 1024 * 1024;
/** POST /v1/fetch takes at most this many partitions (lib/wire/schemas.ts). */
const MAX_FETCH_PARTITIONS = 1000;
/** A long poll's request timeout is its wait plus this margin. */
const FETCH_TIMEOUT_MARGIN_MS = 10_000;
/** The final commit and the leave on close() give up after this long. */
const CLOSE_REQUEST_TIMEOUT_MS = 5000;
/** The shortest timeout a heartbeat or commit gets when the session is about to count as lost. */
const MIN_GROUP_REQUEST_TIMEOUT_MS = 100;
/** Used when GET /v1/cluster cannot be read (the server's published value). */
const FALLBACK_COMMIT_OFFSETS_PER_REQUEST = 64;

/** setTimeout's largest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const seg = encodeURIComponent;

function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

function tpOf(tp: TopicPartition): TopicPartition {
  return { topic: tp.topic, partition: tp.partition };
}

function sortTps<T extends TopicPartition>(tps: T[]): T[] {
  return tps.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

function groupByTopic(tps: Iterable<TopicPartition>): Assignment[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of tps) {
    const list = byTopic.get(tp.topic);
    if (list) list.push(tp.partition);
    else byTopic.set(tp.topic, [tp.partition]);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

/**
 * Wakes a sleeper early. A notify() with nobody asleep ends the next sleep at once, so a wake-up
 * that races with going to sleep is never lost.
 */
class Wakeup {
  #pending = false;
  readonly #sleepers = new Set<() => void>();

  notify(): void {
    this.#pending = true;
    for (const wake of [...this.#sleepers]) wake();
  }

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        this.#pending = false;
        resolve();
      };
      const timer = setTimeout(done, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
      this.#sleepers.add(done);
    });
  }
}

/** What the consumer knows about one partition it owns. */
class PartitionState implements TopicPartition {
  readonly key: string;
  /** The next offset to fetch; undefined until resolved. */
  position: number | undefined;
  /** The offset after the last consumed record (or a reset position): what a commit sends. */
  consumed: number | undefined;
  /** The offset last committed (or read as committed); commits skip partitions where it equals `consumed`. */
  committed: number | undefined;
  /** assign() with 'earliest' / 'latest': how to resolve the position (else autoOffsetReset). */
  resetTo: 'earliest' | 'latest' | undefined;
  paused = false;
  /** Gone from the assignment (or lost, or closing): not fetched, not delivered, being released. */
  revoking = false;
  /** A non-retriable error: the partition is not fetched until seek() (or assign()) moves it. */
  error: SluiceClientError | undefined;
  /** `error` was thrown from a poll already: each occurrence is thrown once. */
  errorThrown = false;
  /**
   * Group mode, UNKNOWN_TOPIC_OR_PARTITION (its topic was deleted): not fetched until the answer
   * of heartbeat number `awaitHeartbeat` (one sent after the error), which drops it or confirms it.
   */
  awaitHeartbeat: number | undefined;
  /** UNKNOWN_TOPIC_OR_PARTITION answers since its last good fetch (the first asks for a heartbeat at once). */
  unknownAnswers = 0;
  /** A retriable partition error: not fetched before this time (`now()`), backing off. */
  retryAt = 0;
  /** Retriable partition errors since its last good fetch. */
  retries = 0;
  /** Bumped by every seek: a fetch answer or buffered record from before it is stale. */
  generation = 0;
  #holds = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(readonly topic: string, readonly partition: number) {
    this.key = tpKey({ topic, partition });
  }

  /** Marks handler work in progress (revocation waits for it); returns its release. */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holds > 0) return;
      for (const wake of this.#idleWaiters.splice(0)) wake();
    };
  }

  idle(): Promise<void> {
    return this.#holds === 0 ? Promise.resolve() : new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}

/** A fetch result with the partition state and generation it was read for. */
interface Fetched {
  readonly st: PartitionState;
  readonly gen: number;
  readonly batch: FetchedPartition;
}

/** A fetch answer's partition slot (docs/API.md "POST /v1/fetch"). */
interface WireFetchedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly records?: readonly Omit<ConsumedRecord, 'topic'>[];
  readonly nextOffset?: number;
  readonly highWatermark?: number;
  readonly logStartOffset?: number;
  readonly error?: Record<string, unknown>;
}

type ResolvedOptions = Required<Omit<ConsumerOptions, 'maxBytes' | 'maxRecords' | 'onAssigned' | 'onRevoked'>> &
  Pick<ConsumerOptions, 'maxBytes' | 'maxRecords' | 'onAssigned' | 'onRevoked'>;

/** The abort reason of a poll cut short because a partition became fetchable. */
const WAKEUP = Symbol('wakeup');

export class Consumer {
  readonly #sluice: Sluice;
  readonly #opts: ResolvedOptions;
  readonly #backoff: BackoffPolicy;
  #mode: 'idle' | 'group' | 'assign' = 'idle';
  #group: string | undefined;
  #topics: string[] = [];
  #memberId: string | null = null;
  #memberEpoch = 0;
  /** Every partition the consumer owns, including those being revoked (still listed as owned). */
  readonly #owned = new Map<string, PartitionState>();
  /** The assignment of the last heartbeat answer: the only partitions a commit may name. */
  #serverAssigned = new Set<string>();

  // group loop
  #joining: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  readonly #loopWake = new Wakeup();
  #nextHeartbeatAt = 0;
  #nextAutoCommitAt = 0;
  #lastOkSentAt = 0;
  #heartbeatFailures = 0;
  /** Set when a heartbeat is asked for while one is out: its ownedPartitions may be outdated. */
  #heartbeatAsked = false;
  /** Heartbeats sent so far (each numbered by this count when sent). */
  #heartbeatsSent = 0;
  /** Group requests (heartbeats, commits) go one at a time, so a commit never races a heartbeat. */
  #groupQueue: Promise<unknown> = Promise.resolve();
  /** Reconciliation steps (callbacks, position lookups, releases), one after another. */
  #steps: Promise<void> = Promise.resolve();

  // fetching
  readonly #changed = new Wakeup();
  #pollAbort: AbortController | undefined;
  #polling = false;
  #rotate = 0;
  /** poll()'s results, counted as consumed at the next poll/commit/close; with their holds. */
  #pendingPoll: { readonly st: PartitionState; readonly gen: number; readonly offset: number; readonly release: () => void }[] = [];
  #running: Promise<void> | undefined;

  // failures and shutdown
  #fatal: unknown;
  #callbackError: unknown;
  #closing = false;
  #closed: Promise<void> | undefined;
  readonly #closeController = new AbortController();
  readonly #closingNow: Promise<void>;

  constructor(sluice: Sluice, opts: ConsumerOptions = {}) {
    this.#sluice = sluice;
    this.#opts = {
      encoding: opts.encoding ?? CONSUMER_DEFAULTS.encoding,
      autoCommit: opts.autoCommit ?? CONSUMER_DEFAULTS.autoCommit,
      autoCommitIntervalMs: opts.autoCommitIntervalMs ?? CONSUMER_DEFAULTS.autoCommitIntervalMs,
      autoOffsetReset: opts.autoOffsetReset ?? CONSUMER_DEFAULTS.autoOffsetReset,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? CONSUMER_DEFAULTS.sessionTimeoutMs,
      maxWaitMs: opts.maxWaitMs ?? CONSUMER_DEFAULTS.maxWaitMs,
      maxBytes: opts.maxBytes,
      maxRecords: opts.maxRecords,
      retryBackoffMs: opts.retryBackoffMs ?? CONSUMER_DEFAULTS.retryBackoffMs,
      retryBackoffMaxMs: opts.retryBackoffMaxMs ?? CONSUMER_DEFAULTS.retryBackoffMaxMs,
      onAssigned: opts.onAssigned,
      onRevoked: opts.onRevoked,
      now: opts.now ?? Date.now,
      random: opts.random ?? Math.random,
    };
    for (const k of ['autoCommitIntervalMs', 'sessionTimeoutMs', 'maxWaitMs', 'retryBackoffMs', 'retryBackoffMaxMs'] as const) {
      const v = this.#opts[k];
      if (!Number.isFinite(v) || v < 0) throw new TypeError(`${k} must be a non-negative number, got ${v}`);
    }
    if (!['earliest', 'latest', 'none'].includes(this.#opts.autoOffsetReset)) {
      throw new TypeError(`autoOffsetReset must be 'earliest', 'latest' or 'none', got '${this.#opts.autoOffsetReset}'`);
    }
    this.#backoff = { baseMs: this.#opts.retryBackoffMs, maxMs: this.#opts.retryBackoffMaxMs };
    const signal = this.#closeController.signal;
    this.#closingNow = new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  get group(): string | undefined {
    return this.#group;
  }

  /** The member id the server gave (null before joining, and between a loss and the rejoin). */
  get memberId(): string | null {
    return this.#memberId;
  }

  get memberEpoch(): number {
    return this.#memberEpoch;
  }

  // ---- membership -------------------------------------------------------------------------

  /**
   * Joins `group` for `topics` and keeps the membership up in the background. Resolves once the
   * join was answered; a non-retriable refusal (a bad group name, a session timeout out of
   * range) is thrown, a retriable one is retried by the background loop.
   */
  async subscribe(group: string, topics: readonly string[]): Promise<void> {
    this.#requireIdle('subscribe');
    if (topics.length === 0) throw new TypeError('subscribe needs at least one topic');
    this.#mode = 'group';
    this.#group = group;
    this.#topics = [...new Set(topics)];
    // close() waits for the join, so it never misses the loop or the membership to leave.
    this.#joining = this.#join();
    await this.#joining;
  }

  async #join(): Promise<void> {
    const sentAt = this.#opts.now();
    try {
      const { answer, seq } = await this.#serial(() => this.#sendHeartbeat(this.#opts.sessionTimeoutMs));
      this.#heartbeatAnswered(answer, sentAt, seq);
    } catch (err) {
      if (this.#closing) return;
      if (!isRetriable(err)) {
        this.#mode = 'idle';
        this.#group = undefined;
        throw err;
      }
      this.#heartbeatFailed();
    }
    if (this.#closing) return;
    this.#nextAutoCommitAt = this.#opts.now() + this.#opts.autoCommitIntervalMs;
    this.#loop = this.#groupLoop().catch((err: unknown) => {
      this.#fatal = err;
      this.#changed.notify();
    });
  }

  /** Reads exactly these partitions, without a group (no commits, no callbacks). Replaces an earlier assign(). */
  async assign(partitions: readonly AssignedPartition[]): Promise<void> {
    if (this.#mode === 'group') throw new Error('assign() cannot be used on a subscribed consumer');
    if (this.#closing) throw new Error('the consumer is closed');
    this.#mode = 'assign';
    const wanted = new Set(partitions.map(tpKey));
    for (const [key, st] of this.#owned) {
      if (!wanted.has(key)) {
        st.revoking = true;
        this.#owned.delete(key);
      }
    }
    const states = partitions.map((p) => {
      const st = this.#owned.get(tpKey(p)) ?? new PartitionState(p.topic, p.partition);
      this.#owned.set(st.key, st);
      st.error = undefined;
      st.errorThrown = false;
      st.generation++;
      if (typeof p.offset === 'number') {
        st.position = p.offset;
      } else {
        st.position = undefined;
        st.resetTo = p.offset;
      }
      return st;
    });
    await this.#resolvePositions(states);
    this.#partitionsChanged();
  }

  // ---- reading ----------------------------------------------------------------------------

  /**
   * One long poll over the owned, unpaused partitions: every partition result of the answer
   * (empty ones too, with their high watermark), positions advanced to `nextOffset`.
   */
  async poll(): Promise<FetchedPartition[]> {
    if (this.#closing) throw new Error('the consumer is closed');
    this.#markPendingPoll();
    const results = await this.#fetch();
    this.#pendingPoll = results
      .filter((r) => r.batch.records.length > 0)
      .map((r) => ({ st: r.st, gen: r.gen, offset: r.batch.nextOffset, release: r.st.hold() }));
    return results.map((r) => r.batch);
  }

  /** Yields records one by one; breaking out leaves the consumer open (close() it). */
  [Symbol.asyncIterator](): AsyncIterator<ConsumedRecord> {
    const buffer: { st: PartitionState; gen: number; record: ConsumedRecord }[] = [];
    let current: { st: PartitionState; gen: number; offset: number; release: () => void } | undefined;
    let failures = 0;
    const finishCurrent = () => {
      if (current && this.#owns(current.st, current.gen)) current.st.consumed = current.offset + 1;
      current?.release();
      current = undefined;
    };
    const next = async (): Promise<IteratorResult<ConsumedRecord>> => {
      finishCurrent();
      for (;;) {
        if (this.#closing) return { value: undefined, done: true };
        const item = this.#takeDeliverable(buffer);
        if (item) {
          current = { st: item.st, gen: item.gen, offset: item.record.offset, release: item.st.hold() };
          return { value: item.record, done: false };
        }
        try {
          const results = await this.#fetch();
          failures = 0;
          for (const r of results) for (const record of r.batch.records) buffer.push({ st: r.st, gen: r.gen, record });
        } catch (err) {
          if (this.#closing) return { value: undefined, done: true };
          if (!isRetriable(err)) throw err;
          await this.#sleep(backoffDelay(++failures, this.#backoff, this.#opts.random));
        }
      }
    };
    const stop = async (): Promise<IteratorResult<ConsumedRecord>> => {
      // The current record was not asked past: not consumed. Records fetched but never handed
      // out are read again by the next poll.
      current?.release();
      current = undefined;
      this.#rewindBuffered(buffer);
      buffer.length = 0;
      return { value: undefined, done: true };
    };
    return { next, return: stop };
  }

  /**
   * Calls the handler for each fetched batch (or record) until close(); resolves then. A
   * batch counts as consumed once its handler returned. A handler that throws is told to
   * `onError`, and its partition is read again from the first unhandled record after a backoff.
   */
  run(handlers: RunHandlers): Promise<void> {
    if (!handlers.eachBatch && !handlers.eachRecord) return Promise.reject(new TypeError('run() needs eachBatch or eachRecord'));
    if (this.#running) return Promise.reject(new Error('run() is already running'));
    if (this.#closing) return Promise.reject(new Error('the consumer is closed'));
    this.#running = this.#runLoop(handlers).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #runLoop(handlers: RunHandlers): Promise<void> {
    let fetchFailures = 0;
    let handlerFailures = 0;
    while (!this.#closing) {
      let results: Fetched[];
      try {
        results = await this.#fetch();
        fetchFailures = 0;
      } catch (err) {
        if (this.#closing) return;
        if (!isRetriable(err)) throw err;
        await this.#sleep(backoffDelay(++fetchFailures, this.#backoff, this.#opts.random));
        continue;
      }
      let failed = false;
      for (const r of results) {
        if (r.batch.records.length === 0 || !this.#owns(r.st, r.gen) || this.#closing) continue;
        if (!(await this.#handle(r, handlers))) failed = true;
      }
      if (failed) await this.#sleep(backoffDelay(++handlerFailures, this.#backoff, this.#opts.random));
      else if (results.some((r) => r.batch.records.length > 0)) handlerFailures = 0;
    }
  }

  /** Runs the handler on one batch; false if it threw (the partition is then rewound). */
  async #handle({ st, gen, batch }: Fetched, handlers: RunHandlers): Promise<boolean> {
    const release = st.hold();
    let next = batch.records[0]!.offset;
    try {
      if (handlers.eachBatch) {
        await handlers.eachBatch(batch);
      } else {
        for (const record of batch.records) {
          await handlers.eachRecord!(record);
          next = record.offset + 1;
          if (this.#owns(st, gen)) st.consumed = next;
        }
      }
      if (this.#owns(st, gen)) st.consumed = batch.nextOffset;
      return true;
    } catch (err) {
      handlers.onError?.(err, tpOf(st));
      if (this.#owns(st, gen)) this.#rewind(st, next);
      return false;
    } finally {
      release();
    }
  }

  // ---- positions --------------------------------------------------------------------------

  /** Fetches `tp` from `offset` next (records of it fetched before are not delivered). */
  seek(target: SeekTarget): void {
    const st = this.#owned.get(tpKey(target));
    if (!st) throw new Error(`cannot seek ${target.topic}-${target.partition}: it is not assigned to this consumer`);
    if (!Number.isSafeInteger(target.offset) || target.offset < 0) throw new TypeError(`offset must be a non-negative integer, got ${target.offset}`);
    this.#rewind(st, target.offset);
    st.error = undefined;
    st.errorThrown = false;
    this.#partitionsChanged();
  }

  pause(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      const st = this.#owned.get(tpKey(tp));
      if (st) st.paused = true;
    }
  }

  resume(tps: readonly TopicPartition[]): void {
    let changed = false;
    for (const tp of tps) {
      const st = this.#owned.get(tpKey(tp));
      if (st?.paused) {
        st.paused = false;
        changed = true;
      }
    }
    if (changed) this.#partitionsChanged();
  }

  paused(): TopicPartition[] {
    return sortTps([...this.#owned.values()].filter((st) => st.paused && !st.revoking).map(tpOf));
  }

  /** The next offset to fetch for `tp`, or undefined (not owned, or not resolved yet). */
  position(tp: TopicPartition): number | undefined {
    return this.#owned.get(tpKey(tp))?.position;
  }

  /** The partitions this consumer owns (not those being revoked). */
  assignment(): TopicPartition[] {
    return sortTps([...this.#owned.values()].filter((st) => !st.revoking).map(tpOf));
  }

  // ---- commits ----------------------------------------------------------------------------

  /**
   * Commits `offsets` (each the next offset to read), or the consumed positions. Only a group
   * member can commit; a refusal (STALE_MEMBER_EPOCH, FENCED_MEMBER_EPOCH, ...) is thrown.
   */
  async commit(offsets?: readonly OffsetCommit[]): Promise<void> {
    if (this.#mode !== 'group') throw new TypeError('commit() needs a group: subscribe() first (assign() reads without one)');
    if (offsets === undefined) {
      this.#markPendingPoll();
      return this.#serial(() => this.#commitConsumed({ quiet: false }));
    }
    if (offsets.length === 0) return;
    await this.#serial(async () => {
      await this.#sendCommits(offsets, {});
      for (const o of offsets) {
        const st = this.#owned.get(tpKey(o));
        if (st) st.committed = o.offset;
      }
    });
  }

  /** Commits what was consumed and is still assigned; `quiet` drops every failure (auto-commit). */
  async #commitConsumed(opts: { quiet: boolean; timeoutMs?: number; signal?: AbortSignal }): Promise<void> {
    // Auto-commit leaves out partitions whose topic the server did not know (deleted): one of
    // them would fail the whole request.
    const due = [...this.#owned.values()].filter(
      (st) =>
        this.#serverAssigned.has(st.key) && st.consumed !== undefined && st.consumed !== st.committed &&
        !(opts.quiet && st.awaitHeartbeat !== undefined),
    );
    if (due.length === 0) return;
    const offsets = due.map((st) => ({ topic: st.topic, partition: st.partition, offset: st.consumed! }));
    try {
      await this.#sendCommits(offsets, opts);
      // The offsets sent, not `consumed` now: it may have moved while the request was out.
      due.forEach((st, i) => (st.committed = offsets[i]!.offset));
    } catch (err) {
      // Auto-commit: a fenced or stale commit is void (the next owner resumes from the last
      // good one); anything else is retried by the next round.
      if (!opts.quiet) throw err;
    }
  }

  async #sendCommits(offsets: readonly OffsetCommit[], opts: { timeoutMs?: number; signal?: AbortSignal }): Promise<void> {
    // A commit without a member would be an admin commit (allowed into an empty group): never send one.
    const memberId = this.#memberId;
    if (memberId === null) throw new UnknownMemberIdError('the consumer is not a group member right now (joining)', { details: { group: this.#group } });
    const perRequest = await this.#sluice.cluster().then(
      (c) => c.limits.maxCommitOffsetsPerRequest,
      () => FALLBACK_COMMIT_OFFSETS_PER_REQUEST,
    );
    for (let i = 0; i < offsets.length; i += perRequest) {
      const body = { memberId, memberEpoch: this.#memberEpoch, offsets: offsets.slice(i, i + perRequest) };
      await this.#sluice.transport.request('POST', `/v1/groups/${seg(this.#group!)}/offsets`, { body, ...opts });
    }
  }

  // ---- closing ----------------------------------------------------------------------------

  /**
   * Stops polling (the long poll in flight is aborted), waits for run()'s handler, commits the
   * consumed positions (autoCommit), calls onRevoked(…, 'closed') and leaves the group.
   * Idempotent. Do not await it inside a run() handler: close waits for that handler.
   */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    this.#closing = true;
    this.#closeController.abort();
    this.#pollAbort?.abort();
    this.#changed.notify();
    this.#loopWake.notify();
    await this.#joining?.catch(() => undefined);
    await this.#running?.catch(() => undefined);
    await this.#loop;
    await this.#steps;
    if (this.#mode === 'group' && this.#memberId !== null) {
      if (this.#opts.autoCommit) {
        this.#markPendingPoll();
        await this.#serial(() => this.#commitConsumed({ quiet: true, timeoutMs: CLOSE_REQUEST_TIMEOUT_MS }));
      }
      const remaining = [...this.#owned.values()];
      for (const st of remaining) st.revoking = true;
      if (remaining.length > 0) await this.#callback(() => this.#opts.onRevoked?.(sortTps(remaining.map(tpOf)), 'closed'));
      await this.#leave();
    }
    for (const p of this.#pendingPoll) p.release();
    this.#pendingPoll = [];
    this.#owned.clear();
    this.#serverAssigned = new Set();
  }

  async #leave(): Promise<void> {
    const body = { memberId: this.#memberId, memberEpoch: -1 };
    await this.#serial(() =>
      this.#sluice.transport.request('POST', `/v1/groups/${seg(this.#group!)}/heartbeat`, { body, timeoutMs: CLOSE_REQUEST_TIMEOUT_MS }),
    ).catch(() => undefined); // unreachable: the server expires the member after its session
    this.#memberId = null;
    this.#memberEpoch = -1;
  }

  // ---- the group loop ---------------------------------------------------------------------

  /** Heartbeats when due (or asked), auto-commits when due, declares the session lost when due. */
  async #groupLoop(): Promise<void> {
    while (!this.#closing) {
      const now = this.#opts.now();
      if (this.#memberId !== null && now >= this.#lossAt()) {
        await this.#loseAll();
        this.#memberId = null; // the server may already have expired us: join as a new member
        this.#memberEpoch = 0;
        this.#nextHeartbeatAt = 0;
      } else if (now >= this.#nextHeartbeatAt) {
        await this.#beat();
      } else if (this.#opts.autoCommit && now >= this.#nextAutoCommitAt) {
        this.#nextAutoCommitAt = now + this.#opts.autoCommitIntervalMs;
        const timeoutMs = this.#requestTimeout(now);
        await this.#serial(() => this.#commitConsumed({ quiet: true, timeoutMs, signal: this.#closeController.signal }));
      } else {
        const autoCommitAt = this.#opts.autoCommit ? this.#nextAutoCommitAt : Infinity;
        await this.#loopWake.sleep(Math.min(this.#nextHeartbeatAt, autoCommitAt, this.#lossAt()) - now);
        if (this.#heartbeatAsked) this.#nextHeartbeatAt = 0;
      }
    }
  }

  /** When the session counts as lost: no successful heartbeat sent since then. */
  #lossAt(): number {
    return this.#memberId === null ? Infinity : this.#lastOkSentAt + this.#opts.sessionTimeoutMs;
  }

  /**
   * A group request must answer before the session counts as lost, so the loss is declared on
   * time (no later than the server expires the member) even when requests hang.
   */
  #requestTimeout(now: number): number {
    return Math.max(MIN_GROUP_REQUEST_TIMEOUT_MS, Math.min(this.#opts.sessionTimeoutMs, this.#lossAt() - now));
  }

  /** One heartbeat, preceded by the auto-commit of what was consumed. */
  async #beat(): Promise<void> {
    const sentAt = this.#opts.now();
    const timeoutMs = this.#requestTimeout(sentAt);
    this.#heartbeatAsked = false;
    try {
      const { answer, seq } = await this.#serial(async () => {
        if (this.#opts.autoCommit && this.#memberId !== null && this.#memberEpoch > 0) {
          this.#nextAutoCommitAt = sentAt + this.#opts.autoCommitIntervalMs;
          await this.#commitConsumed({ quiet: true, timeoutMs, signal: this.#closeController.signal });
        }
        return this.#sendHeartbeat(timeoutMs);
      });
      if (!this.#closing) this.#heartbeatAnswered(answer, sentAt, seq);
    } catch (err) {
      if (this.#closing) return;
      if (err instanceof UnknownMemberIdError || err instanceof FencedMemberEpochError) {
        await this.#loseAll();
        // Fenced: the member exists, and a rejoin with its id frees its old partitions at once.
        if (err instanceof UnknownMemberIdError) this.#memberId = null;
        this.#memberEpoch = 0;
        this.#nextHeartbeatAt = 0;
        return;
      }
      if (!isRetriable(err)) throw err;
      this.#heartbeatFailed();
    }
  }

  /** Sends one heartbeat; answers it with its number (see #heartbeatsSent). */
  async #sendHeartbeat(timeoutMs: number): Promise<{ answer: HeartbeatAnswer; seq: number }> {
    const body =
      this.#memberEpoch === 0 || this.#memberId === null
        ? { memberId: this.#memberId, memberEpoch: 0, topics: this.#topics, sessionTimeoutMs: this.#opts.sessionTimeoutMs }
        : { memberId: this.#memberId, memberEpoch: this.#memberEpoch, ownedPartitions: groupByTopic(this.#owned.values()) };
    const seq = ++this.#heartbeatsSent;
    const answer = await this.#sluice.transport.request<HeartbeatAnswer>('POST', `/v1/groups/${seg(this.#group!)}/heartbeat`, {
      body,
      signal: this.#closeController.signal,
      timeoutMs,
    });
    return { answer, seq };
  }

  #heartbeatAnswered(answer: HeartbeatAnswer, sentAt: number, seq: number): void {
    this.#heartbeatFailures = 0;
    this.#lastOkSentAt = sentAt;
    this.#memberId = answer.memberId;
    this.#memberEpoch = answer.memberEpoch;
    // Asked for again while this one was out: its ownedPartitions may already be outdated.
    this.#nextHeartbeatAt = this.#heartbeatAsked ? 0 : sentAt + answer.heartbeatIntervalMs;
    this.#reconcile(answer.assignment);
    // Partitions whose topic the server did not know wait for an answer sent after that: this
    // one dropped them (they are being revoked now), or still assigns them (fetched again).
    let freed = false;
    for (const st of this.#owned.values()) {
      if (st.awaitHeartbeat === undefined || seq < st.awaitHeartbeat) continue;
      st.awaitHeartbeat = undefined;
      if (!st.revoking) freed = true;
    }
    if (freed) this.#partitionsChanged();
  }

  #heartbeatFailed(): void {
    this.#heartbeatFailures++;
    this.#nextHeartbeatAt = this.#opts.now() + backoffDelay(this.#heartbeatFailures, this.#backoff, this.#opts.random);
  }

  #heartbeatSoon(): void {
    this.#heartbeatAsked = true;
    this.#nextHeartbeatAt = 0;
    this.#loopWake.notify();
  }

  // ---- reconciliation ---------------------------------------------------------------------

  /**
   * Applies an answer's assignment: what left it stops being fetched now and is released in a
   * step; what is new is owned now (so listed as owned, never fetched before its position) and
   * set up in a step. A partition still being released is not "new" until it is gone.
   */
  #reconcile(assignment: readonly Assignment[]): void {
    const target = new Map<string, TopicPartition>();
    for (const a of assignment) for (const partition of a.partitions) target.set(tpKey({ topic: a.topic, partition }), { topic: a.topic, partition });
    this.#serverAssigned = new Set(target.keys());
    const removed = [...this.#owned.values()].filter((st) => !st.revoking && !target.has(st.key));
    const added: PartitionState[] = [];
    for (const [key, tp] of target) {
      if (this.#owned.has(key)) continue;
      const st = new PartitionState(tp.topic, tp.partition);
      this.#owned.set(key, st);
      added.push(st);
    }
    for (const st of removed) st.revoking = true;
    if (removed.length > 0) void this.#step(() => this.#release(removed, 'revoked'));
    if (added.length > 0) void this.#step(() => this.#setUp(added));
  }

  #step(fn: () => Promise<void>): Promise<void> {
    this.#steps = this.#steps.then(fn).catch((err: unknown) => {
      this.#callbackError ??= err;
    });
    return this.#steps;
  }

  /** Waits for handler work on `states`, tells onRevoked, forgets them, heartbeats promptly. */
  async #release(states: PartitionState[], reason: RevokeReason): Promise<void> {
    await Promise.race([Promise.all(states.map((st) => st.idle())), this.#closingNow]);
    await this.#callback(() => this.#opts.onRevoked?.(sortTps(states.map(tpOf)), reason));
    for (const st of states) if (this.#owned.get(st.key) === st) this.#owned.delete(st.key);
    if (this.#mode === 'group' && !this.#closing) this.#heartbeatSoon();
  }

  async #setUp(states: PartitionState[]): Promise<void> {
    const live = states.filter((st) => this.#isCurrent(st) && !st.revoking);
    if (live.length === 0 || this.#closing) return;
    await this.#callback(() => this.#opts.onAssigned?.(sortTps(live.map(tpOf))));
    await this.#resolvePositions(live);
    this.#partitionsChanged();
  }

  /** Every owned partition is lost (expired or fenced): released, after in-flight work. */
  async #loseAll(): Promise<void> {
    this.#serverAssigned = new Set();
    const states = [...this.#owned.values()].filter((st) => !st.revoking);
    for (const st of states) st.revoking = true;
    this.#pollAbort?.abort();
    await this.#step(async () => {
      if (states.length > 0) await this.#release(states, 'lost');
    });
  }

  /** Runs a user callback; its exception is thrown from the next poll (once). */
  async #callback(fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#callbackError ??= err;
      this.#changed.notify();
    }
  }

  /**
   * Start positions of partitions without one: the committed offset (group), else the reset
   * policy. Retriable failures are retried with backoff while the partitions stay owned.
   */
  async #resolvePositions(states: PartitionState[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const need = states.filter((st) => this.#isCurrent(st) && !st.revoking && st.position === undefined && !st.error);
      if (need.length === 0 || this.#closing) return;
      try {
        await this.#resolveOnce(need);
        return;
      } catch (err) {
        if (!isRetriable(err) && !this.#revokedSoon(err)) {
          for (const st of need) if (!st.error) this.#fail(st, err instanceof SluiceClientError ? err : new SluiceClientError('UNKNOWN', String(err)));
          this.#partitionsChanged(); // thrown by the poll waiting now, not after its long poll
          return;
        }
        // A deleted topic: the answer of a heartbeat sent now drops its partitions.
        if (attempt === 1 && this.#revokedSoon(err)) this.#heartbeatSoon();
        await this.#sleep(backoffDelay(attempt, this.#backoff, this.#opts.random));
      }
    }
  }

  async #resolveOnce(need: PartitionState[]): Promise<void> {
    const committed = new Map<string, number>();
    if (this.#mode === 'group') {
      for (const c of await this.#sluice.admin.fetchOffsets(this.#group!)) committed.set(tpKey(c), c.offset);
    }
    await Promise.all(
      need.map(async (st) => {
        const gen = st.generation;
        const offset = committed.get(st.key);
        if (offset !== undefined) {
          if (st.generation !== gen || st.position !== undefined) return; // seeked meanwhile
          st.position = offset;
          st.consumed = offset;
          st.committed = offset;
          return;
        }
        await this.#reset(st, st.resetTo ?? this.#opts.autoOffsetReset, 'it has no committed offset');
      }),
    );
  }

  /** Resolves a position by policy; 'none' makes it the partition's error. */
  async #reset(st: PartitionState, policy: OffsetResetPolicy, why: string): Promise<void> {
    if (policy === 'none') {
      this.#fail(st, new OffsetOutOfRangeError(`${st.topic}-${st.partition}: ${why}, and autoOffsetReset is 'none'`, {
        details: { topic: st.topic, partition: st.partition },
      }));
      this.#partitionsChanged(); // thrown by the poll waiting now, not after its long poll
      return;
    }
    const gen = st.generation;
    const { offset } = await this.#sluice.admin.offsetAt(st.topic, st.partition, policy);
    if (st.generation !== gen || st.position !== undefined) return; // seeked meanwhile
    st.position = offset;
    st.consumed = offset;
  }

  // ---- fetching ---------------------------------------------------------------------------

  /** One long poll (or, with nothing to fetch, a wait of up to maxWaitMs for something). */
  async #fetch(): Promise<Fetched[]> {
    this.#throwIfFailed();
    if (this.#polling) throw new Error('a poll is already in progress: poll(), the iterator and run() must not overlap');
    this.#polling = true;
    try {
      const states = this.#fetchable();
      if (states.length === 0) {
        await this.#changed.sleep(Math.min(this.#opts.maxWaitMs, this.#nextRetryAt() - this.#opts.now()));
        this.#throwIfFailed();
        return [];
      }
      const requested = states.map((st) => ({ st, gen: st.generation, offset: st.position! }));
      // Armed before the first await, so a close or wake-up during it is not missed.
      const controller = new AbortController();
      this.#pollAbort = controller;
      let answer: { partitions: WireFetchedPartition[] };
      try {
        const body = await this.#fetchBody(requested);
        if (controller.signal.aborted) return this.#cutShort();
        answer = await this.#sluice.transport.request('POST', '/v1/fetch', {
          body,
          signal: controller.signal,
          timeoutMs: body.waitMs + FETCH_TIMEOUT_MARGIN_MS,
        });
      } catch (err) {
        if (controller.signal.aborted) return this.#cutShort(); // woken (new partitions, an error) or closing
        throw err;
      } finally {
        if (this.#pollAbort === controller) this.#pollAbort = undefined;
      }
      return this.#applyFetch(requested, answer.partitions);
    } finally {
      this.#polling = false;
    }
  }

  /** A poll cut short answers nothing, or the error that cut it short. */
  #cutShort(): Fetched[] {
    if (!this.#closing) this.#throwIfFailed();
    return [];
  }

  #fetchable(): PartitionState[] {
    const now = this.#opts.now();
    const all = [...this.#owned.values()].filter(
      (st) =>
        !st.revoking && !st.paused && !st.error && st.position !== undefined && st.awaitHeartbeat === undefined && st.retryAt <= now,
    );
    if (all.length <= MAX_FETCH_PARTITIONS) return all;
    // More than one request can name: take turns.
    this.#rotate = (this.#rotate + MAX_FETCH_PARTITIONS) % all.length;
    return [...all.slice(this.#rotate), ...all.slice(0, this.#rotate)].slice(0, MAX_FETCH_PARTITIONS);
  }

  async #fetchBody(requested: { st: PartitionState; offset: number }[]) {
    const { limits } = await this.#sluice.cluster();
    const maxBytes = this.#opts.maxBytes ?? Math.max(1, Math.min(DEFAULT_PARTITION_FETCH_BYTES, Math.floor(limits.maxFetchBytes / requested.length)));
    const maxRecords = this.#opts.maxRecords === undefined ? undefined : Math.min(this.#opts.maxRecords, limits.maxRecordsPerFetch);
    return {
      partitions: requested.map(({ st, offset }) => ({ topic: st.topic, partition: st.partition, offset })),
      waitMs: Math.min(this.#opts.maxWaitMs, limits.maxWaitMs),
      maxBytes,
      ...(maxRecords === undefined ? {} : { maxRecords }),
      encoding: this.#opts.encoding,
    };
  }

  /** When the first partition backing off from a retriable error may be fetched again. */
  #nextRetryAt(): number {
    const now = this.#opts.now();
    let at = Infinity;
    for (const st of this.#owned.values()) if (st.retryAt > now) at = Math.min(at, st.retryAt);
    return at;
  }

  /**
   * Positions advance; answers for partitions revoked, paused or seeked meanwhile are dropped.
   * A partition's new error is thrown now, by the poll that learned it; the records of the
   * other partitions in the same answer are then not delivered (their positions stay), so the
   * next poll reads them again.
   */
  #applyFetch(requested: { st: PartitionState; gen: number; offset: number }[], partitions: readonly WireFetchedPartition[]): Fetched[] {
    const byKey = new Map(partitions.map((p) => [tpKey(p), p]));
    const good: { st: PartitionState; gen: number; offset: number; p: WireFetchedPartition }[] = [];
    let failed = false;
    for (const { st, gen, offset } of requested) {
      const p = byKey.get(st.key);
      if (!p || !this.#owns(st, gen) || st.paused || st.position !== offset) continue;
      if (p.error) {
        // A fetch names several partitions: the error says which (the server's fields first).
        const err = errorFromBody(0, { error: { topic: st.topic, partition: st.partition, ...p.error } });
        if (this.#partitionError(st, err)) failed = true;
        continue;
      }
      good.push({ st, gen, offset, p });
    }
    if (failed) this.#throwIfFailed();
    const out: Fetched[] = [];
    for (const { st, gen, offset, p } of good) {
      st.unknownAnswers = 0;
      st.retries = 0;
      st.retryAt = 0;
      const records = (p.records ?? []).map((r): ConsumedRecord => ({ topic: st.topic, ...r }));
      st.position = p.nextOffset ?? offset;
      out.push({
        st,
        gen,
        batch: {
          topic: st.topic,
          partition: st.partition,
          records,
          nextOffset: st.position,
          highWatermark: p.highWatermark ?? st.position,
          logStartOffset: p.logStartOffset ?? 0,
        },
      });
    }
    return out;
  }

  /**
   * A partition's error in a fetch answer; true if it is one to throw. A fetch of only errored
   * partitions is answered at once, so none of these may be fetched again straight away:
   *  - OFFSET_OUT_OF_RANGE: autoOffsetReset moves the position (with 'none': thrown);
   *  - UNKNOWN_TOPIC_OR_PARTITION of a group member (its topic was deleted): left out of fetches
   *    until the answer of a heartbeat sent after it, which is asked for at once the first time
   *    (later ones wait for the regular heartbeat, in case the server still assigns it);
   *  - retriable: fetched again after a backoff;
   *  - anything else: thrown once, and not fetched until seek() or assign() moves it.
   */
  #partitionError(st: PartitionState, err: SluiceClientError): boolean {
    if (err instanceof OffsetOutOfRangeError) {
      const policy = st.resetTo ?? this.#opts.autoOffsetReset;
      const to = policy === 'earliest' ? err.details.logStartOffset : err.details.highWatermark;
      if (policy !== 'none' && typeof to === 'number') {
        st.position = to;
        st.consumed = to;
        return false;
      }
    } else if (this.#revokedSoon(err)) {
      st.awaitHeartbeat = this.#heartbeatsSent + 1;
      if (++st.unknownAnswers === 1) this.#heartbeatSoon();
      return false;
    } else if (err.retriable) {
      st.retryAt = this.#opts.now() + backoffDelay(++st.retries, this.#backoff, this.#opts.random);
      return false;
    }
    this.#fail(st, err);
    return true;
  }

  /** Parks the partition with `err`: thrown by the next poll (once), not fetched until moved. */
  #fail(st: PartitionState, err: SluiceClientError): void {
    st.error = err;
    st.errorThrown = false;
  }

  /** Throws what failed: the fatal error (always), else a callback's or a partition's new error (once each). */
  #throwIfFailed(): void {
    if (this.#fatal !== undefined) throw this.#fatal;
    if (this.#callbackError !== undefined) {
      const err = this.#callbackError;
      this.#callbackError = undefined;
      throw err;
    }
    for (const st of this.#owned.values()) {
      if (!st.error || st.errorThrown || st.revoking) continue;
      const err = st.error;
      // One failure shared by several partitions (a position lookup for them all) is one occurrence.
      for (const other of this.#owned.values()) if (other.error === err) other.errorThrown = true;
      throw err;
    }
  }

  /** The next buffered record that may still be delivered (paused ones are rewound for later). */
  #takeDeliverable(buffer: { st: PartitionState; gen: number; record: ConsumedRecord }[]) {
    while (buffer.length > 0) {
      const item = buffer.shift()!;
      if (!this.#owns(item.st, item.gen)) continue;
      if (item.st.paused) {
        this.#rewind(item.st, item.record.offset);
        continue;
      }
      return item;
    }
    return undefined;
  }

  #rewindBuffered(buffer: readonly { st: PartitionState; gen: number; record: ConsumedRecord }[]): void {
    const first = new Map<PartitionState, { gen: number; offset: number }>();
    for (const item of buffer) if (!first.has(item.st)) first.set(item.st, { gen: item.gen, offset: item.record.offset });
    for (const [st, { gen, offset }] of first) if (this.#owns(st, gen)) this.#rewind(st, offset);
  }

  #markPendingPoll(): void {
    for (const p of this.#pendingPoll) {
      if (this.#owns(p.st, p.gen)) p.st.consumed = p.offset;
      p.release();
    }
    this.#pendingPoll = [];
  }

  /** Moves the fetch position; whatever was read for the old one becomes stale. */
  #rewind(st: PartitionState, offset: number): void {
    st.position = offset;
    st.generation++;
  }

  /** Something became fetchable: wake a waiting poll, cut a long poll short. */
  #partitionsChanged(): void {
    this.#changed.notify();
    this.#pollAbort?.abort(WAKEUP);
  }

  // ---- small helpers ----------------------------------------------------------------------

  /** A group member's partition of a deleted topic leaves its assignment with the next heartbeat. */
  #revokedSoon(err: unknown): boolean {
    return this.#mode === 'group' && err instanceof UnknownTopicOrPartitionError;
  }

  #isCurrent(st: PartitionState): boolean {
    return this.#owned.get(st.key) === st;
  }

  /** Still ours, not being released, and not seeked since `gen`. */
  #owns(st: PartitionState, gen: number): boolean {
    return this.#isCurrent(st) && !st.revoking && st.generation === gen;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#groupQueue.then(fn, fn);
    this.#groupQueue = run.catch(() => undefined);
    return run;
  }

  #sleep(ms: number): Promise<void> {
    return sleep(ms, this.#closeController.signal);
  }

  #requireIdle(what: string): void {
    if (this.#closing) throw new Error('the consumer is closed');
    if (this.#mode !== 'idle') throw new Error(`${what}() cannot be used: the consumer is already ${this.#mode === 'group' ? 'subscribed' : 'assigned'}`);
  }
}
