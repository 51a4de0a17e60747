/**
 * Exactly-once consume → transform → produce (docs/DELIVERY-SEMANTICS.md "Exactly once"):
 *
 *   const t = sluice.transform({ from: 'orders', group: 'billing', to: 'invoices' }, (order) => ({
 *     key: order.key, value: { invoiceFor: order.value },
 *   }));
 *   ...
 *   await t.close();            // t.done rejects if the transform stopped on a fatal error
 *
 * A group consumer (autoCommit off) reads `from`. For each fetched partition batch, `fn` runs on
 * every record (it returns a ProducerRecord, an array of them, or null/[] for none), then ONE
 * request `POST /v1/topics/{to}/records` carries the outputs AND the commit of the input offset
 * (last + 1) in `commitOffsets`: the server writes both in one transaction or neither. A batch
 * whose outputs do not fit one request (maxRequestBytes, maxPartitionsPerRequest) goes as
 * several prefixes, each committing up to its own last input. A prefix without outputs is a plain
 * member commit (POST /v1/groups/{g}/offsets).
 *
 * Why every input yields its outputs exactly once:
 *  - Outputs and input offsets commit atomically, so a crash leaves either both or neither; the
 *    next owner of the partition starts from the committed offset.
 *  - The producer numbers its requests (one at a time, +1 per accepted request). A request
 *    whose outcome is unknown (no answer, 503) is repeated with the SAME sequence until it gets a
 *    definitive answer; the server answers a repeat of an accepted sequence with the original
 *    offsets and writes nothing. A sequence whose outcome is unknown is never reused for other
 *    records; a transform that stops while one is unknown leaves it to a new producer.
 *  - FENCED_MEMBER_EPOCH / STALE_MEMBER_EPOCH / UNKNOWN_MEMBER_ID on the produce (the group
 *    changed): nothing was written, and, as the server checks the sequence before the group, the
 *    sequence was not used either. The prefix is dropped and its partition sought back to the
 *    prefix's first input, so it is read again (if the partition is still ours) or by its next
 *    owner from the committed offset.
 *  - Zombies are fenced by the group, not by the producer: a commit is accepted only from the
 *    member the partition is assigned to, at its current epoch, atomically with a check of the
 *    group version. Once a partition moved, its old owner can neither commit nor (the two being
 *    one request) write its outputs. Each request names the member captured when its batch was
 *    read, and the consumer releases a lost partition only after the handler on it returned, so
 *    a batch never commits under a later incarnation.
 *  - Hence `transactionalId` is optional, and by default each instance takes a fresh producer
 *    id. Two running instances sharing one transactionalId would fence each other at every init
 *    (each init bumps the epoch), so give each instance its own, as in Kafka. PRODUCER_FENCED
 *    (another instance took this one's transactionalId) stops the transform.
 *  `fn` may run more than once for a record (a dropped prefix, a crash before the commit), so
 *  for exactly-once OUTPUT it must be deterministic and have no other side effects.
 *
 * Output partitions are chosen here, as the server would (records.ts): an explicit partition,
 * else murmur2 of the key, else one sticky partition per request; so what a request touches is
 * known before it is sent. A thrown `fn` makes the consumer read the batch again after a backoff
 * (told to `onError`); a non-retriable refusal (a record too large, an unknown partition) or
 * outputs of one input that fit no request stop the transform: `done` rejects with the error.
 */
import { backoffDelay, sleep, type BackoffPolicy } from './backoff.ts';
import { CONSUMER_DEFAULTS, Consumer, type ConsumerOptions } from './consumer.ts';
import {
  FencedMemberEpochError, MessageTooLargeError, OutOfOrderSequenceError, StaleMemberEpochError, UnknownMemberIdError,
  UnknownProducerIdError, isRetriable,
} from './errors.ts';
import { REQUEST_OVERHEAD_BYTES, partitionOf, toWire, wireBytes, type ProducerRecord, type WireRecord } from './records.ts';
import type { Sluice } from './sluice.ts';
import type { ConsumedRecord, Encoding, FetchedPartition, OffsetCommit, TopicPartition } from './types.ts';

export type TransformOutput = ProducerRecord | readonly ProducerRecord[] | null | undefined;
export type TransformFn = (record: ConsumedRecord) => TransformOutput | Promise<TransformOutput>;

export interface TransformOptions extends Omit<ConsumerOptions, 'autoCommit' | 'autoCommitIntervalMs'> {
  /** Input topic(s). */
  readonly from: string | readonly string[];
  readonly group: string;
  /** Output topic. */
  readonly to: string;
  /** A stable producer name (fences this instance's predecessors); default: a fresh producer per instance. */
  readonly transactionalId?: string;
  /** Encoding of the output records (default: `encoding`, else json). */
  readonly outputEncoding?: Encoding;
  /** How long one produce request may take before it is repeated (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** How long the output topic's partition count is trusted (default 60 s). */
  readonly metadataMaxAgeMs?: number;
  /** Told when `fn` threw, before the batch is read again. */
  readonly onError?: (err: unknown, tp: TopicPartition) => void;
}

export interface TransformStats {
  /** Input prefixes committed (with their outputs). */
  chunks: number;
  /** Input records committed. */
  recordsIn: number;
  /** Output records written. */
  recordsOut: number;
  /** Produce requests sent, repeats included. */
  produceRequests: number;
  /** Plain offset commits sent (prefixes without outputs), repeats included. */
  commitRequests: number;
  /** Requests repeated after a retriable failure. */
  retries: number;
  /** Prefixes refused because the group changed, to be read again. */
  dropped: number;
}

export interface TransformHandle {
  /** Resolves once closed; rejects with the error that stopped the transform. */
  readonly done: Promise<void>;
  /** Stops after the batch in progress (its request in flight finishes, no new attempt starts). */
  close(): Promise<void>;
  readonly stats: Readonly<TransformStats>;
}

export function transform(sluice: Sluice, opts: TransformOptions, fn: TransformFn): TransformHandle {
  const t = new Transform(sluice, opts, fn);
  return { done: t.done, close: () => t.close(), stats: t.stats };
}

const seg = encodeURIComponent;

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_METADATA_MAX_AGE_MS = 60_000;

type Outcome = 'written' | 'dropped' | 'closed';

/** One input record and what `fn` made of it. */
interface Item {
  readonly offset: number;
  readonly outputs: readonly ProducerRecord[];
}

/** A prefix of a batch that goes as one request. */
interface Chunk {
  readonly first: number;
  last: number;
  items: number;
  readonly records: WireRecord[];
  readonly partitions: Set<number>;
  bytes: number;
  readonly sticky: number;
}

/** The member a batch was read under: its request commits as that member, or not at all. */
interface Member {
  readonly memberId: string;
  readonly memberEpoch: number;
}

/** The group changed: the commit (and so the request) was refused, nothing written. */
function isGroupRefusal(err: unknown): boolean {
  return err instanceof FencedMemberEpochError || err instanceof StaleMemberEpochError || err instanceof UnknownMemberIdError;
}

function outputsOf(out: TransformOutput): readonly ProducerRecord[] {
  if (out === null || out === undefined) return [];
  return Array.isArray(out) ? (out as readonly ProducerRecord[]) : [out as ProducerRecord];
}

class Transform {
  readonly stats: TransformStats = { chunks: 0, recordsIn: 0, recordsOut: 0, produceRequests: 0, commitRequests: 0, retries: 0, dropped: 0 };
  readonly done: Promise<void>;
  readonly #sluice: Sluice;
  readonly #fn: TransformFn;
  readonly #consumer: Consumer;
  readonly #from: string[];
  readonly #group: string;
  readonly #to: string;
  readonly #transactionalId: string | undefined;
  readonly #encoding: Encoding;
  readonly #requestTimeoutMs: number;
  readonly #metadataMaxAgeMs: number;
  readonly #onError: TransformOptions['onError'];
  readonly #backoff: BackoffPolicy;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  #producer: { readonly id: string; readonly epoch: number } | undefined;
  /** The next request's sequence: advanced only by an accepted request. */
  #sequence = 0;
  #stickyNext: number | undefined;
  #meta: { partitions: number; fetchedAt: number } | undefined;
  #closing = false;
  #fatal: unknown;

  constructor(sluice: Sluice, opts: TransformOptions, fn: TransformFn) {
    const {
      from, group, to, transactionalId, outputEncoding, requestTimeoutMs, metadataMaxAgeMs, onError, ...consumerOpts
    } = opts;
    this.#from = typeof from === 'string' ? [from] : [...from];
    if (this.#from.length === 0) throw new TypeError('transform needs at least one input topic in `from`');
    if (!group) throw new TypeError('transform needs a `group`');
    if (!to) throw new TypeError('transform needs an output topic `to`');
    this.#sluice = sluice;
    this.#fn = fn;
    this.#group = group;
    this.#to = to;
    this.#transactionalId = transactionalId;
    this.#encoding = outputEncoding ?? opts.encoding ?? 'json';
    this.#requestTimeoutMs = requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#metadataMaxAgeMs = metadataMaxAgeMs ?? DEFAULT_METADATA_MAX_AGE_MS;
    this.#onError = onError;
    this.#backoff = {
      baseMs: opts.retryBackoffMs ?? CONSUMER_DEFAULTS.retryBackoffMs,
      maxMs: opts.retryBackoffMaxMs ?? CONSUMER_DEFAULTS.retryBackoffMaxMs,
    };
    this.#random = opts.random ?? Math.random;
    this.#now = opts.now ?? Date.now;
    // Kafka Streams' default: a new group starts at the beginning of its input.
    this.#consumer = new Consumer(sluice, { autoOffsetReset: 'earliest', ...consumerOpts, autoCommit: false });
    this.done = this.#main();
    // `done` carries the error to whoever awaits it; unobserved, it must not crash the process.
    this.done.catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#abort.abort();
    await this.#consumer.close();
    await this.done.catch(() => undefined);
  }

  async #main(): Promise<void> {
    try {
      await this.#identity(); // with a transactionalId, fences the predecessors before reading
      if (this.#closing) return;
      await this.#consumer.subscribe(this.#group, this.#from);
      if (this.#closing) return;
      await this.#consumer.run({
        eachBatch: (batch) => this.#onBatch(batch),
        onError: (err, tp) => this.#onError?.(err, tp),
      });
    } catch (err) {
      if (!this.#closing) this.#fatal ??= err;
    } finally {
      await this.#consumer.close();
    }
    if (this.#fatal !== undefined) throw this.#fatal;
  }

  /** Stops on a fatal error; close() is not awaited here, as it waits for this very handler. */
  #fail(err: unknown): void {
    this.#fatal ??= err;
    this.#closing = true;
    this.#abort.abort();
    void this.#consumer.close();
  }

  // ---- one batch ----------------------------------------------------------------------------

  async #onBatch(batch: FetchedPartition): Promise<void> {
    if (this.#closing) return; // not committed: the next owner reads it from the committed offset
    const tp = { topic: batch.topic, partition: batch.partition };
    const memberId = this.#consumer.memberId;
    if (memberId === null) return this.#readAgain(tp, batch.records[0]!.offset);
    const member: Member = { memberId, memberEpoch: this.#consumer.memberEpoch };
    // fn runs before anything is sent: if it throws, nothing of the batch was committed and
    // the consumer reads it again.
    const items: Item[] = [];
    for (const record of batch.records) items.push({ offset: record.offset, outputs: outputsOf(await this.#fn(record)) });
    let uncommitted = items[0]!.offset;
    try {
      for (const chunk of await this.#cut(tp, items)) {
        const outcome = await this.#commitChunk(tp, chunk, member);
        if (outcome === 'closed') return;
        if (outcome === 'dropped') {
          this.stats.dropped++;
          await this.#readAgain(tp, chunk.first);
          return;
        }
        uncommitted = chunk.last + 1;
        this.stats.chunks++;
        this.stats.recordsIn += chunk.items;
        this.stats.recordsOut += chunk.records.length;
      }
    } catch (err) {
      // Requests retry their own retriable failures; one here came from reading the limits or
      // the output topic's metadata, before the prefix was sent.
      if (isRetriable(err)) await this.#readAgain(tp, uncommitted);
      else this.#fail(err);
    }
  }

  /** The prefix was not committed: fetch the partition from its first input again, after a pause. */
  async #readAgain(tp: TopicPartition, offset: number): Promise<void> {
    try {
      this.#consumer.seek({ ...tp, offset });
    } catch {
      return; // no longer ours: its next owner reads it from the committed offset
    }
    await sleep(backoffDelay(1, this.#backoff, this.#random), this.#abort.signal);
  }

  #commitChunk(tp: TopicPartition, chunk: Chunk, member: Member): Promise<Outcome> {
    const offsets = [{ topic: tp.topic, partition: tp.partition, offset: chunk.last + 1 }];
    return chunk.records.length > 0 ? this.#produce(chunk.records, offsets, member) : this.#commitOnly(offsets, member);
  }

  /** The member's epoch now, if it is still the same member (else the old one: refused). */
  #epochOf(member: Member): number {
    return this.#consumer.memberId === member.memberId ? this.#consumer.memberEpoch : member.memberEpoch;
  }

  // ---- requests -----------------------------------------------------------------------------

  /** Outputs + offset commit in one request, repeated with the same sequence until definitive. */
  async #produce(records: WireRecord[], offsets: OffsetCommit[], member: Member): Promise<Outcome> {
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      if (this.#closing) return 'closed';
      const producer = await this.#identity();
      if (producer === undefined) return 'closed';
      const body = {
        encoding: this.#encoding,
        records,
        producer: { id: producer.id, epoch: producer.epoch, sequence: this.#sequence },
        commitOffsets: { group: this.#group, memberId: member.memberId, memberEpoch: this.#epochOf(member), offsets },
      };
      this.stats.produceRequests++;
      try {
        await this.#sluice.transport.request('POST', `/v1/topics/${seg(this.#to)}/records`, { body, timeoutMs: this.#requestTimeoutMs });
        this.#sequence++;
        return 'written';
      } catch (err) {
        if (isGroupRefusal(err)) return 'dropped';
        // Both are checked before anything is written: a new producer (sequence 0) is safe.
        // Twice for one request is a server out of step with us: stop rather than loop.
        if ((err instanceof UnknownProducerIdError || err instanceof OutOfOrderSequenceError) && !renewed) {
          renewed = true;
          this.#producer = undefined;
          continue;
        }
        if (!isRetriable(err)) throw err;
        this.stats.retries++;
        await sleep(backoffDelay(attempt, this.#backoff, this.#random), this.#abort.signal);
      }
    }
  }

  /** A prefix without outputs: a plain member commit (repeating it is harmless). */
  async #commitOnly(offsets: OffsetCommit[], member: Member): Promise<Outcome> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closing) return 'closed';
      const body = { memberId: member.memberId, memberEpoch: this.#epochOf(member), offsets };
      this.stats.commitRequests++;
      try {
        await this.#sluice.transport.request('POST', `/v1/groups/${seg(this.#group)}/offsets`, { body, timeoutMs: this.#requestTimeoutMs });
        return 'written';
      } catch (err) {
        if (isGroupRefusal(err)) return 'dropped';
        if (!isRetriable(err)) throw err;
        this.stats.retries++;
        await sleep(backoffDelay(attempt, this.#backoff, this.#random), this.#abort.signal);
      }
    }
  }

  /** The producer id and epoch (POST /v1/producers, retried); undefined once closing. */
  async #identity(): Promise<{ id: string; epoch: number } | undefined> {
    for (let attempt = 1; this.#producer === undefined; attempt++) {
      if (this.#closing) return undefined;
      try {
        const body = this.#transactionalId === undefined ? {} : { transactionalId: this.#transactionalId };
        this.#producer = await this.#sluice.transport.request<{ id: string; epoch: number }>('POST', '/v1/producers', { body });
        this.#sequence = 0;
      } catch (err) {
        if (!isRetriable(err)) throw err;
        await sleep(backoffDelay(attempt, this.#backoff, this.#random), this.#abort.signal);
      }
    }
    return this.#producer;
  }

  // ---- cutting a batch into requests ----------------------------------------------------------

  /** Consecutive prefixes of the batch, each within the request limits. */
  async #cut(tp: TopicPartition, items: readonly Item[]): Promise<Chunk[]> {
    const [{ limits }, partitions] = await Promise.all([this.#sluice.cluster(), this.#partitionCount()]);
    const room = { bytes: limits.maxRequestBytes - REQUEST_OVERHEAD_BYTES, partitions: limits.maxPartitionsPerRequest };
    const chunks: Chunk[] = [];
    for (const item of items) {
      const last = chunks.at(-1);
      if (last && this.#place(item, last, partitions, room)) continue;
      const chunk: Chunk = { first: item.offset, last: item.offset, items: 0, records: [], partitions: new Set(), bytes: 0, sticky: this.#takeSticky(partitions) };
      if (!this.#place(item, chunk, partitions, room)) {
        throw new MessageTooLargeError(
          `the outputs of ${tp.topic}-${tp.partition} offset ${item.offset} do not fit one produce request ` +
            `(at most ${room.bytes} bytes over ${room.partitions} partitions): they could not be written atomically with its commit`,
          { details: { topic: tp.topic, partition: tp.partition, offset: item.offset } },
        );
      }
      chunks.push(chunk);
    }
    return chunks;
  }

  /** Adds the item's outputs to the chunk if they fit; the chunk is unchanged otherwise. */
  #place(item: Item, chunk: Chunk, partitions: number, room: { bytes: number; partitions: number }): boolean {
    const wires = item.outputs.map((o) => toWire(o, partitionOf(o, this.#encoding, partitions) ?? chunk.sticky));
    const bytes = wires.reduce((n, w) => n + wireBytes(w), 0);
    const added = new Set(wires.map((w) => w.partition).filter((p) => !chunk.partitions.has(p)));
    if (chunk.bytes + bytes > room.bytes || chunk.partitions.size + added.size > room.partitions) return false;
    chunk.records.push(...wires);
    for (const p of added) chunk.partitions.add(p);
    chunk.bytes += bytes;
    chunk.items++;
    chunk.last = item.offset;
    return true;
  }

  /** KIP-480: null-key outputs of one request share a partition; the next request takes the next. */
  #takeSticky(partitions: number): number {
    this.#stickyNext ??= Math.floor(this.#random() * partitions);
    return this.#stickyNext++ % partitions;
  }

  async #partitionCount(): Promise<number> {
    const now = this.#now();
    if (this.#meta && now - this.#meta.fetchedAt < this.#metadataMaxAgeMs) return this.#meta.partitions;
    const described = await this.#sluice.admin.describeTopic(this.#to);
    this.#meta = { partitions: described.partitions.length, fetchedAt: now };
    return this.#meta.partitions;
  }
}
