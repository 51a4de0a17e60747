/**
 * The batching producer. `send(topic, records)` resolves each record's offset; records of many
 * sends are gathered into one produce request per topic, because on AWS every request costs an
 * S3 PUT, an API call and a Lambda invocation, whatever it carries.
 *
 * A batch (one future request) is sent in its turn once `lingerMs` passed since its first record
 * (default 5 ms, Kafka's linger.ms), or `flush()`/`close()` asked, or the buffer is full and a
 * send waits for room. Until its request actually goes, it keeps taking records: while one
 * request is out, the next batch fills (Kafka's accumulator), so a busy producer sends full
 * batches. It stops taking records (and a new one opens) when the next record would take it
 * past `batchBytes` of records on the wire (default 1 MiB, capped by the server's
 * maxRequestBytes from GET /v1/cluster), or add a partition past the server's
 * maxPartitionsPerRequest (a produce request is atomic over at most that many partitions, so a
 * batch must never exceed it). A record larger than `batchBytes` goes alone in a batch (as Kafka
 * sends an oversized record in a batch of its own); one that cannot fit any request is refused at
 * once (MESSAGE_TOO_LARGE).
 *
 * Partitioning happens here, with the server's partitioner (records.ts): an explicit partition,
 * else murmur2 of the key over the partition count (topic metadata, refreshed every
 * `metadataMaxAgeMs`), else the batch's sticky partition (KIP-480: all null-key records of a
 * batch go to one partition, the next batch takes the next partition). Every record is sent with
 * its partition, so what the client counted is what the server writes.
 *
 * Delivery (idempotent by default, Kafka's enable.idempotence=true):
 *  - The producer gets an id and epoch from POST /v1/producers on its first batch, and numbers
 *    its requests 0, 1, 2, ... A retry repeats the same sequence, and the server answers a repeat
 *    with the original offsets without writing again, so a request whose answer was lost is
 *    written exactly once however often it is retried.
 *  - The server takes one request per producer at a time, so batches are sent one after
 *    another, in the order they became due. While one request is out, the next batch fills.
 *  - Retriable failures (the error says so; no answer at all; 429/503) are retried with
 *    exponential backoff and jitter until `deliveryTimeoutMs` after the batch's first record
 *    joined it; then the batch fails with RequestTimeoutError. An attempt always gets the whole
 *    `requestTimeoutMs` (cutting it short would only make its outcome unknown); the deadline is
 *    checked before each attempt, so a batch that waited out its time in the queue is failed
 *    without being sent (certainly not written). After an attempt whose outcome is unknown, the
 *    producer takes a new epoch (or a new id) before the next batch: a later batch can never be
 *    mistaken for a repeat of the unknown one.
 *  - Metadata (the topic's partition count, the server's limits) is looked up before a send
 *    joins a batch; retriable failures are retried for up to `maxBlockMs`, and a failed refresh
 *    keeps the last count.
 *  - A non-retriable refusal of a batch that holds several sends is retried as one request per
 *    send, so one send's bad record (RECORD_TOO_LARGE, INVALID_RECORD) fails only that send.
 *  - PRODUCER_FENCED (another producer took the same transactionalId) is fatal: every pending
 *    and later send fails with it, as in Kafka.
 *  - `idempotent: false` sends without a producer (at-least-once: a retried request whose first
 *    answer was lost is written twice) and allows `maxInFlight` requests at once.
 * A send whose records span several batches is not atomic: each batch is. Per record, the
 * promise of its send resolves with every offset, or rejects with the first failure.
 *
 * Order: the sends of a topic join their batches in the order they were called, whatever each
 * waits for, and batches go in the order they became due, one at a time: per partition, records
 * are written in send order (with idempotence; without it, `maxInFlight` > 1 and a retry can
 * reorder, as in Kafka).
 *
 * Back-pressure: records waiting for their answer may hold at most `bufferBytes` (default
 * 32 MiB, Kafka's buffer.memory); a send that does not fit waits for room, first come first
 * served (a later, smaller send never overtakes it), up to `maxBlockMs`, then rejects with
 * RequestTimeoutError (Kafka's max.block.ms).
 */
import { DEFAULT_BACKOFF, backoffDelay, sleep } from './backoff.ts';
import {
  MessageTooLargeError, OutOfOrderSequenceError, ProducerFencedError, RequestTimeoutError, SluiceClientError, UnknownProducerIdError,
  UnknownTopicOrPartitionError, isRetriable,
} from './errors.ts';
import { REQUEST_OVERHEAD_BYTES, partitionOf, toWire, wireBytes, type ProducerRecord, type WireRecord } from './records.ts';
import type { Sluice } from './sluice.ts';
import type { Encoding } from './types.ts';

export type { ProducerRecord };

export interface ProducerOptions {
  /** Record encoding on the wire (docs/API.md): `json` (default), `string` or `base64`. */
  readonly encoding?: Encoding;
  readonly lingerMs?: number;
  readonly batchBytes?: number;
  readonly bufferBytes?: number;
  readonly maxBlockMs?: number;
  readonly idempotent?: boolean;
  /** A stable name: the same producer id on every start, and the older instance fenced. */
  readonly transactionalId?: string;
  readonly deliveryTimeoutMs?: number;
  readonly retryBackoffMs?: number;
  readonly retryBackoffMaxMs?: number;
  /** How long one produce request may take before it is abandoned and retried. */
  readonly requestTimeoutMs?: number;
  readonly metadataMaxAgeMs?: number;
  /** Requests at once without idempotence (with it, always 1: the server's rule). */
  readonly maxInFlight?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface ProducerStats {
  /** Records acknowledged. */
  records: number;
  /** Their bytes on the wire (as JSON in the request bodies). */
  bytes: number;
  /** Produce requests sent, retries included. */
  requests: number;
  /** Batches acknowledged (each one request when nothing was retried). */
  batches: number;
}

/** Wider than any partition number (a topic has at most 10,000): null-keyed records are sized with it. */
const SIZING_PARTITION = 99_999;

export const PRODUCER_DEFAULTS = {
  encoding: 'json',
  lingerMs: 5,
  batchBytes: 1024 * 1024,
  bufferBytes: 32 * 1024 * 1024,
  maxBlockMs: 60_000,
  deliveryTimeoutMs: 120_000,
  requestTimeoutMs: 30_000,
  metadataMaxAgeMs: 60_000,
  maxInFlight: 5,
} as const;

/** The records of one send() that went into one batch, and where its answers go. */
interface Part {
  readonly send: PendingSend;
  /** Indexes into the send's records, in order. */
  readonly indexes: number[];
}

interface PendingSend {
  readonly results: (RecordMetadata | undefined)[];
  remaining: number;
  settled: boolean;
  resolve(r: RecordMetadata[]): void;
  reject(e: unknown): void;
}

interface Batch {
  readonly topic: string;
  readonly records: WireRecord[];
  /** Each record's bytes as reserved from the buffer (sized before its sticky partition was known). */
  readonly sizes: number[];
  readonly parts: Part[];
  readonly partitions: Set<number>;
  bytes: number;
  sticky: number | undefined;
  readonly startedAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** In the ready queue (its linger passed, or it was flushed); still takes records until sent. */
  due: boolean;
}

interface TopicMeta {
  readonly partitions: number;
  readonly fetchedAt: number;
}

interface Identity {
  readonly id: string;
  readonly epoch: number;
  sequence: number;
}

export class Producer {
  readonly stats: ProducerStats = { records: 0, bytes: 0, requests: 0, batches: 0 };
  readonly #sluice: Sluice;
  readonly #opts: Required<Omit<ProducerOptions, 'transactionalId'>> & { transactionalId: string | undefined };
  readonly #open = new Map<string, Batch>();
  readonly #ready: Batch[] = [];
  readonly #meta = new Map<string, TopicMetaEntry>();
  /** Per topic, the send before the last one still preparing: sends join batches in call order. */
  readonly #lastPreparing = new Map<string, Promise<void>>();
  readonly #stickyNext = new Map<string, number>();
  readonly #roomWaiters: RoomWaiter[] = [];
  readonly #idle: (() => void)[] = [];
  readonly #preparing = new Set<Promise<void>>();
  #inFlight = 0;
  #buffered = 0;
  #identity: Promise<Identity> | undefined;
  /** Set when the outcome of a batch is unknown: the next batch needs a new epoch first. */
  #identityDoubtful = false;
  #fatal: SluiceClientError | undefined;
  #closed = false;

  constructor(sluice: Sluice, opts: ProducerOptions = {}) {
    this.#sluice = sluice;
    const idempotent = opts.idempotent ?? true;
    this.#opts = {
      encoding: opts.encoding ?? PRODUCER_DEFAULTS.encoding,
      lingerMs: opts.lingerMs ?? PRODUCER_DEFAULTS.lingerMs,
      batchBytes: opts.batchBytes ?? PRODUCER_DEFAULTS.batchBytes,
      bufferBytes: opts.bufferBytes ?? PRODUCER_DEFAULTS.bufferBytes,
      maxBlockMs: opts.maxBlockMs ?? PRODUCER_DEFAULTS.maxBlockMs,
      idempotent,
      transactionalId: opts.transactionalId,
      deliveryTimeoutMs: opts.deliveryTimeoutMs ?? PRODUCER_DEFAULTS.deliveryTimeoutMs,
      retryBackoffMs: opts.retryBackoffMs ?? DEFAULT_BACKOFF.baseMs,
      retryBackoffMaxMs: opts.retryBackoffMaxMs ?? DEFAULT_BACKOFF.maxMs,
      requestTimeoutMs: opts.requestTimeoutMs ?? PRODUCER_DEFAULTS.requestTimeoutMs,
      metadataMaxAgeMs: opts.metadataMaxAgeMs ?? PRODUCER_DEFAULTS.metadataMaxAgeMs,
      maxInFlight: idempotent ? 1 : Math.max(1, opts.maxInFlight ?? PRODUCER_DEFAULTS.maxInFlight),
      now: opts.now ?? Date.now,
      random: opts.random ?? Math.random,
    };
    if (opts.transactionalId !== undefined && !idempotent) throw new TypeError('transactionalId needs an idempotent producer');
    for (const k of ['lingerMs', 'batchBytes', 'bufferBytes', 'deliveryTimeoutMs'] as const) {
      const v = this.#opts[k];
      if (!Number.isFinite(v) || v < 0) throw new TypeError(`${k} must be a non-negative number, got ${v}`);
    }
  }

  /**
   * Queues `records` for `topic` and resolves with each record's {topic, partition, offset},
   * in the order given, once all are acknowledged.
   */
  send(topic: string, records: ProducerRecord | readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    // Until its records sit in a batch, a send is "preparing" (metadata, buffer room): flush()
    // waits for those too, so it covers every send called before it, as Kafka's flush does.
    let queued!: () => void;
    const enqueued = new Promise<void>((r) => (queued = r));
    this.#preparing.add(enqueued);
    const done = () => {
      this.#preparing.delete(enqueued);
      queued();
    };
    // Sends of a topic join their batches in the order they were called, whatever each waits
    // for (metadata, a retried lookup, buffer room): per partition, records keep send order.
    const before = this.#lastPreparing.get(topic);
    this.#lastPreparing.set(topic, enqueued);
    void enqueued.then(() => {
      if (this.#lastPreparing.get(topic) === enqueued) this.#lastPreparing.delete(topic);
    });
    return this.#send(topic, records, before, done).finally(done);
  }

  async #send(topic: string, records: ProducerRecord | readonly ProducerRecord[], before: Promise<void> | undefined, enqueued: () => void): Promise<RecordMetadata[]> {
    const list: readonly ProducerRecord[] = Array.isArray(records) ? records : [records as ProducerRecord];
    if (this.#closed) throw new SluiceClientError('PRODUCER_CLOSED', 'the producer is closed');
    if (this.#fatal) throw this.#fatal;
    if (list.length === 0) return [];
    await before;
    const [limits, meta] = await this.#lookups(topic);

    // Everything that can be refused without the server is refused before anything is queued,
    // so one bad send never fails the other sends that share its batch.
    const prepared = list.map((record, i) => {
      const partition = partitionOf(record, this.#opts.encoding, meta.partitions);
      if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition >= meta.partitions)) {
        throw new UnknownTopicOrPartitionError(`topic '${topic}' has no partition ${partition} (it has ${meta.partitions})`, { details: { topic, partition } });
      }
      // A null-keyed record learns its (sticky) partition when it joins a batch: it is sized
      // with the widest partition number, so a batch never ends up larger than counted.
      const wire = toWire(record, partition ?? SIZING_PARTITION);
      const bytes = wireBytes(wire);
      if (bytes > limits.maxRecordBytes) {
        throw new MessageTooLargeError(`record ${i} is ${bytes} bytes on the wire; a request holds at most ${limits.maxRecordBytes}`, { details: { index: i } });
      }
      return { wire, bytes, sticky: partition === undefined };
    });
    const total = prepared.reduce((n, p) => n + p.bytes, 0);
    await this.#reserve(total);
    if (this.#fatal) {
      this.#release(total);
      throw this.#fatal;
    }

    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const send: PendingSend = { results: new Array(list.length), remaining: list.length, settled: false, resolve, reject };
      let part: Part | undefined;
      let batch: Batch | undefined;
      prepared.forEach((p, i) => {
        const b = this.#batchFor(topic, p.wire, p.bytes, p.sticky, limits, meta.partitions);
        if (b !== batch || part === undefined) {
          batch = b;
          part = { send, indexes: [] };
          b.parts.push(part);
        }
        if (p.sticky) p.wire.partition = b.sticky!;
        b.records.push(p.wire);
        b.sizes.push(p.bytes);
        b.partitions.add(p.wire.partition);
        b.bytes += p.bytes;
        part.indexes.push(i);
      });
      enqueued();
    });
  }

  /** Sends everything queued now (without waiting for the linger) and waits for all answers. */
  async flush(): Promise<void> {
    // Open batches go first: a send still preparing may be waiting for the buffer room they hold.
    this.#sendOpenBatches();
    await Promise.all(this.#preparing);
    this.#sendOpenBatches();
    if (this.#inFlight === 0 && this.#ready.length === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** Flushes, then refuses further sends. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return this.flush();
    this.#closed = true;
    await this.flush();
  }

  // ---- batching ---------------------------------------------------------------------------

  /** The open batch for `topic` that can take this record, closing the current one if not. */
  #batchFor(topic: string, wire: WireRecord, bytes: number, sticky: boolean, limits: Limits, partitions: number): Batch {
    let batch = this.#open.get(topic);
    if (batch) {
      const partition = sticky ? (batch.sticky ?? this.#peekSticky(topic, partitions)) : wire.partition;
      const newPartition = !batch.partitions.has(partition);
      const full =
        batch.bytes + bytes > limits.batchBytes ||
        (newPartition && batch.partitions.size >= limits.maxPartitionsPerRequest);
      if (full && batch.records.length > 0) {
        this.#seal(topic);
        batch = undefined;
      }
    }
    if (!batch) {
      batch = { topic, records: [], sizes: [], parts: [], partitions: new Set(), bytes: 0, sticky: undefined, startedAt: this.#opts.now(), timer: undefined, due: false };
      this.#open.set(topic, batch);
      const b = batch;
      b.timer = setTimeout(() => this.#makeDue(b), this.#opts.lingerMs);
    }
    if (sticky && batch.sticky === undefined) batch.sticky = this.#takeSticky(topic, partitions);
    return batch;
  }

  /** KIP-480: a batch's null-key records share one partition; the next batch takes the next. */
  #peekSticky(topic: string, partitions: number): number {
    if (!this.#stickyNext.has(topic)) this.#stickyNext.set(topic, Math.floor(this.#opts.random() * partitions));
    return this.#stickyNext.get(topic)! % partitions;
  }

  #takeSticky(topic: string, partitions: number): number {
    const p = this.#peekSticky(topic, partitions);
    this.#stickyNext.set(topic, p + 1);
    return p;
  }

  /**
   * A batch whose linger passed joins the ready queue but stays open: while it waits behind the
   * request in flight, records keep joining it (Kafka's accumulator does the same), so a busy
   * producer sends full batches instead of one small batch per linger.
   */
  #makeDue(batch: Batch): void {
    clearTimeout(batch.timer);
    if (batch.due) return;
    batch.due = true;
    this.#ready.push(batch);
    this.#pump();
  }

  /** The topic's open batch takes no more records (full); it is sent in its turn. */
  #seal(topic: string): void {
    const batch = this.#open.get(topic);
    if (!batch) return;
    this.#open.delete(topic);
    this.#makeDue(batch);
  }

  #sendOpenBatches(): void {
    for (const batch of [...this.#open.values()]) this.#makeDue(batch);
  }

  #pump(): void {
    while (this.#inFlight < this.#opts.maxInFlight && this.#ready.length > 0) {
      const batch = this.#ready.shift()!;
      // Once taken, it is the request's: later records start a new batch.
      if (this.#open.get(batch.topic) === batch) this.#open.delete(batch.topic);
      this.#inFlight++;
      void this.#deliver(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
        if (this.#inFlight === 0 && this.#ready.length === 0) for (const done of this.#idle.splice(0)) done();
      });
    }
  }

  // ---- delivery ---------------------------------------------------------------------------

  /** Sends one batch until it is answered, refused or out of time; never throws. */
  async #deliver(batch: Batch): Promise<void> {
    try {
      if (this.#fatal) throw this.#fatal;
      const offsets = await this.#sendWithRetries(batch);
      this.stats.batches++;
      this.stats.records += batch.records.length;
      this.stats.bytes += batch.bytes;
      this.#settle(batch, offsets);
    } catch (err) {
      if (err instanceof ProducerFencedError) this.#fatal = err;
      const splittable = err instanceof SluiceClientError && !err.retriable && !(err instanceof RequestTimeoutError) && !(err instanceof OutOfOrderSequenceError);
      if (!this.#fatal && batch.parts.length > 1 && splittable) {
        // One send's bad record must not fail the others: try each send on its own.
        this.#ready.unshift(...this.#splitBySend(batch));
        return;
      }
      this.#fail(batch, err);
    }
  }

  async #sendWithRetries(batch: Batch): Promise<{ partition: number; offset: number }[]> {
    const deadline = batch.startedAt + this.#opts.deliveryTimeoutMs;
    let sent = false;
    for (let attempt = 1; ; attempt++) {
      if (this.#opts.now() >= deadline) {
        // Never sent (it waited its whole delivery time in the queue): certainly not written.
        // Sent before: its outcome is unknown, and the next batch must not reuse its sequence.
        if (sent) this.#identityDoubtful = true;
        throw new RequestTimeoutError(`records for '${batch.topic}' not sent within ${this.#opts.deliveryTimeoutMs} ms`);
      }
      try {
        const identity = this.#opts.idempotent ? await this.#currentIdentity() : undefined;
        this.stats.requests++;
        sent = true;
        const answer = await this.#sluice.transport.request<{ offsets: { partition: number; offset: number }[] }>(
          'POST',
          `/v1/topics/${encodeURIComponent(batch.topic)}/records`,
          {
            body: {
              encoding: this.#opts.encoding,
              records: batch.records,
              ...(identity ? { producer: { id: identity.id, epoch: identity.epoch, sequence: identity.sequence } } : {}),
            },
            // The whole request timeout, even past the delivery deadline: an attempt cut short
            // would leave its outcome unknown for no gain (the deadline is checked between attempts).
            timeoutMs: this.#opts.requestTimeoutMs,
          },
        );
        if (identity) identity.sequence++;
        return answer.offsets;
      } catch (err) {
        let retriable = err instanceof SluiceClientError && err.retriable;
        if (err instanceof UnknownProducerIdError) {
          // Expired after a week idle (or unknown to this server): a fresh id starts at 0.
          this.#identity = undefined;
          retriable = true;
        } else if (err instanceof OutOfOrderSequenceError) {
          // The server's sequence and ours disagree, so nothing this producer numbered can be
          // trusted: the batch fails and the next one starts a new epoch.
          this.#identityDoubtful = true;
          throw err;
        }
        if (err instanceof UnknownTopicOrPartitionError) this.#meta.delete(batch.topic);
        if (!retriable) throw err;
        const delay = backoffDelay(attempt, { baseMs: this.#opts.retryBackoffMs, maxMs: this.#opts.retryBackoffMaxMs }, this.#opts.random);
        if (this.#opts.now() + delay >= deadline) {
          // It may have been written: the next batch must not reuse this sequence.
          this.#identityDoubtful = true;
          throw new RequestTimeoutError(`records for '${batch.topic}' not acknowledged within ${this.#opts.deliveryTimeoutMs} ms; the last attempt's outcome is unknown (${(err as Error).message})`, { cause: err });
        }
        await sleep(delay);
      }
    }
  }

  /** The producer's id, epoch and next sequence; a new epoch after a batch of unknown outcome. */
  async #currentIdentity(): Promise<Identity> {
    if (this.#identityDoubtful) {
      this.#identityDoubtful = false;
      this.#identity = undefined;
    }
    this.#identity ??= this.#sluice.transport
      .request<{ id: string; epoch: number }>('POST', '/v1/producers', {
        body: this.#opts.transactionalId === undefined ? {} : { transactionalId: this.#opts.transactionalId },
      })
      .then((p) => ({ id: p.id, epoch: p.epoch, sequence: 0 }))
      .catch((err: unknown) => {
        this.#identity = undefined;
        throw err;
      });
    return this.#identity;
  }

  #splitBySend(batch: Batch): Batch[] {
    let at = 0;
    return batch.parts.map((part) => {
      const records = batch.records.slice(at, at + part.indexes.length);
      const sizes = batch.sizes.slice(at, at + part.indexes.length);
      at += part.indexes.length;
      return {
        topic: batch.topic,
        records,
        sizes,
        parts: [part],
        partitions: new Set(records.map((r) => r.partition)),
        bytes: sizes.reduce((n, b) => n + b, 0),
        sticky: batch.sticky,
        startedAt: batch.startedAt,
        timer: undefined,
        due: true,
      };
    });
  }

  #settle(batch: Batch, offsets: readonly { partition: number; offset: number }[]): void {
    let at = 0;
    for (const part of batch.parts) {
      for (const i of part.indexes) {
        const o = offsets[at++]!;
        part.send.results[i] = { topic: batch.topic, partition: o.partition, offset: o.offset };
      }
      part.send.remaining -= part.indexes.length;
      if (part.send.remaining === 0 && !part.send.settled) {
        part.send.settled = true;
        part.send.resolve(part.send.results as RecordMetadata[]);
      }
    }
    this.#release(batch.bytes);
  }

  #fail(batch: Batch, err: unknown): void {
    for (const part of batch.parts) {
      if (!part.send.settled) {
        part.send.settled = true;
        part.send.reject(err);
      }
    }
    this.#release(batch.bytes);
  }

  // ---- buffer -----------------------------------------------------------------------------

  /**
   * Takes `bytes` of buffer room, waiting first-come first-served: a send that must wait is
   * never overtaken by a later, smaller one (that would reorder records of a partition). A send
   * larger than the whole buffer goes once the buffer is empty.
   */
  async #reserve(bytes: number): Promise<void> {
    const fits = () => this.#buffered === 0 || this.#buffered + bytes <= this.#opts.bufferBytes;
    if (this.#roomWaiters.length === 0 && fits()) {
      this.#buffered += bytes;
      return;
    }
    // Waiting for room: let the open batches go now rather than after their linger (Kafka sends
    // batches at once when the buffer is exhausted), or their room is only freed by this timeout.
    this.#sendOpenBatches();
    await new Promise<void>((resolve, reject) => {
      const waiter: RoomWaiter = {
        fits,
        admit: () => {
          clearTimeout(timer);
          this.#buffered += bytes;
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#roomWaiters.splice(this.#roomWaiters.indexOf(waiter), 1);
        reject(new RequestTimeoutError(`the producer's buffer (${this.#opts.bufferBytes} bytes) stayed full for ${this.#opts.maxBlockMs} ms`));
        this.#admitWaiters(); // the next in line may fit where this one did not
      }, this.#opts.maxBlockMs);
      this.#roomWaiters.push(waiter);
    });
  }

  #release(bytes: number): void {
    this.#buffered -= bytes;
    this.#admitWaiters();
  }

  /** Admits waiting sends in order while the first one fits. */
  #admitWaiters(): void {
    while (this.#roomWaiters.length > 0 && this.#roomWaiters[0]!.fits()) this.#roomWaiters.shift()!.admit();
  }

  /** Bytes of records queued or in flight, not yet answered. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  // ---- metadata ---------------------------------------------------------------------------

  /**
   * The server's limits and the topic's partition count, retrying retriable failures with
   * backoff for up to `maxBlockMs` (a blip must not fail a send that has not been sent yet).
   */
  async #lookups(topic: string): Promise<[Limits, TopicMeta]> {
    const giveUpAt = this.#opts.now() + this.#opts.maxBlockMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await Promise.all([this.#limits(), this.#topicMeta(topic)]);
      } catch (err) {
        const delay = backoffDelay(attempt, { baseMs: this.#opts.retryBackoffMs, maxMs: this.#opts.retryBackoffMaxMs }, this.#opts.random);
        if (!isRetriable(err) || this.#opts.now() + delay >= giveUpAt) throw err;
        await sleep(delay);
      }
    }
  }

  async #limits(): Promise<Limits> {
    const { limits } = await this.#sluice.cluster();
    const maxRecordBytes = limits.maxRequestBytes - REQUEST_OVERHEAD_BYTES;
    return { batchBytes: Math.min(this.#opts.batchBytes, maxRecordBytes), maxRecordBytes, maxPartitionsPerRequest: limits.maxPartitionsPerRequest };
  }

  /**
   * The topic's partition count, described at most every `metadataMaxAgeMs`. A refresh that
   * fails retriably keeps the count it had (partitions only grow), so a blip during a refresh
   * fails nothing; an unknown topic fails (and forgets the count).
   */
  async #topicMeta(topic: string): Promise<TopicMeta> {
    const entry = this.#meta.get(topic) ?? {};
    this.#meta.set(topic, entry);
    if (entry.value && this.#opts.now() - entry.value.fetchedAt < this.#opts.metadataMaxAgeMs) return entry.value;
    entry.refresh ??= this.#sluice.admin
      .describeTopic(topic)
      .then((d) => (entry.value = { partitions: d.partitions.length, fetchedAt: this.#opts.now() }))
      .finally(() => (entry.refresh = undefined));
    try {
      return await entry.refresh;
    } catch (err) {
      if (entry.value && isRetriable(err)) return entry.value;
      if (err instanceof UnknownTopicOrPartitionError) this.#meta.delete(topic);
      throw err;
    }
  }
}

interface RoomWaiter {
  fits(): boolean;
  admit(): void;
}

interface TopicMetaEntry {
  value?: TopicMeta;
  refresh?: Promise<TopicMeta> | undefined;
}

interface Limits {
  readonly batchBytes: number;
  readonly maxRecordBytes: number;
  readonly maxPartitionsPerRequest: number;
}
