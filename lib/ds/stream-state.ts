/**
 * A Durable Streams stream in Sluice terms (pure, no I/O): its configuration and writer state,
 * and the rules an append is decided by.
 *
 * A stream is a one-partition topic (`__ds.<id>`, a fresh one per creation) plus this state,
 * kept as the attachment of one producer-state item (lib/storage/producer-store.ts) whose
 * last sequence is the state's version. Every change of the state, an append's included,
 * is one conditional update on that version, inside the append's publish transaction when
 * records are written: records and state commit together or not at all.
 *
 * Positions: the stream's own records sit at `base + k` for the topic's Kafka offset k. A
 * fork's `inherited` ranges say where positions below its base are read: range r serves
 * [r.from, r.to) from topic r.topic at position - r.base (a fork of a fork carries its
 * source's ranges, clipped). Ranges never change, and a source with forks is soft-deleted
 * rather than deleted, so inherited data stays readable.
 *
 * Closure: a close writes one control record (a null value with the header `ds.closed`)
 * after any final data, in the same request. Readers see closure in the log itself (a live
 * read wakes for it like for data); `closed.at` is the stream's final position, the marker's.
 */
import type { ProducerHeaders } from './protocol.ts';

export interface InheritedRange {
  readonly topic: string;
  readonly base: number;
  readonly from: number;
  readonly to: number;
}

export interface DsProducerState {
  readonly epoch: number;
  /** The last sequence accepted in `epoch`. */
  readonly seq: number;
  readonly at: number;
}

export interface DsStreamState {
  readonly path: string;
  readonly topic: string;
  readonly topicId: string;
  readonly base: number;
  readonly inherited: readonly InheritedRange[];
  readonly contentType: string;
  readonly createdAt: number;
  readonly ttlSeconds?: number | undefined;
  readonly expiresAt?: string | undefined;
  readonly expiresAtMs?: number | undefined;
  /** Last read or write that reset a sliding TTL. */
  readonly touchedAt: number;
  /** The next position an append gets (the tail). */
  readonly tail: number;
  readonly closed?: { readonly at: number; readonly by?: ProducerHeaders | undefined } | undefined;
  /** The last Stream-Seq accepted (scope: the stream). */
  readonly streamSeq?: string | undefined;
  readonly producers: Readonly<Record<string, DsProducerState>>;
  /** The source: its state's id and the incarnation (epoch) the fork was made from. */
  readonly fork?: { readonly sourceId: string; readonly sourceEpoch: number; readonly sourcePath: string; readonly offset: number; readonly subOffset: number } | undefined;
  /** Forks whose inherited ranges read this stream's topic (directly). */
  readonly forks: number;
  readonly softDeleted?: boolean | undefined;
}

export const CLOSE_MARKER_HEADER = 'ds.closed';
/** On every record of a byte append but its last (a body larger than a record is chunked). */
export const MORE_HEADER = 'ds.more';

/**
 * Producer states kept per stream; the least recently active go first past it. With ids of
 * at most MAX_ID_BYTES (protocol.ts) they take at most ~160 KB of the state's 400 KB item.
 */
export const MAX_PRODUCERS = 500;

export function serializeState(state: DsStreamState): string {
  return JSON.stringify(state);
}

export function parseState(json: string): DsStreamState {
  return JSON.parse(json) as DsStreamState;
}

/** When the stream expires (ms), or undefined when it never does. */
export function expiryOf(state: DsStreamState): number | undefined {
  if (state.expiresAtMs !== undefined) return state.expiresAtMs;
  if (state.ttlSeconds !== undefined) return state.touchedAt + state.ttlSeconds * 1000;
  return undefined;
}

export function isExpired(state: DsStreamState, now: number): boolean {
  const at = expiryOf(state);
  return at !== undefined && now >= at;
}

/**
 * A sliding TTL is reset by reads and writes. To keep reads from writing every time, a read
 * resets it only once a tenth of the window (at most a minute) has passed since the last reset:
 * the stream lives at least 90% of its TTL after any read.
 */
export function touchDue(state: DsStreamState, now: number): boolean {
  if (state.ttlSeconds === undefined) return false;
  return now - state.touchedAt >= Math.min(state.ttlSeconds * 100, 60_000);
}

export interface AppendRequest {
  readonly producer?: ProducerHeaders | undefined;
  readonly streamSeq?: string | undefined;
  readonly close: boolean;
  /** True when the body holds data (an empty body is close-only, or refused before here). */
  readonly hasData: boolean;
  readonly contentType?: string | undefined;
}

export type AppendDecision =
  | { readonly kind: 'append'; readonly producerState?: DsProducerState | undefined }
  /** Nothing to write: the stream is already closed and this close-only request says so again. */
  | { readonly kind: 'already-closed' }
  | { readonly kind: 'duplicate'; readonly lastSeq: number; readonly closed: boolean }
  | { readonly kind: 'closed' }
  | { readonly kind: 'stale-epoch'; readonly currentEpoch: number }
  | { readonly kind: 'epoch-needs-seq-0' }
  | { readonly kind: 'gap'; readonly expected: number; readonly received: number }
  | { readonly kind: 'content-type' }
  | { readonly kind: 'seq-regression'; readonly last: string };

const sameTuple = (a: ProducerHeaders | undefined, b: ProducerHeaders) =>
  a !== undefined && a.id === b.id && a.epoch === b.epoch && a.seq === b.seq;

/**
 * The protocol's order: a stale epoch is fenced first (a zombie learns it is one, even on a
 * closed stream); then closure (the closing request's retry is a duplicate); then content
 * type; then the producer's sequence (a retry is a duplicate before its Stream-Seq is looked
 * at); then Stream-Seq, which must grow byte-wise.
 */
export function decideAppend(state: DsStreamState, req: AppendRequest, sameContentType: (a: string, b: string) => boolean): AppendDecision {
  const p = req.producer;
  // Own properties only: a producer may be called "toString" or "__proto__".
  const known = p === undefined || !Object.hasOwn(state.producers, p.id) ? undefined : state.producers[p.id];
  if (p && known && p.epoch < known.epoch) return { kind: 'stale-epoch', currentEpoch: known.epoch };
  if (state.closed) {
    if (p && sameTuple(state.closed.by, p)) return { kind: 'duplicate', lastSeq: p.seq, closed: true };
    if (!req.hasData && req.close && !p) return { kind: 'already-closed' };
    return { kind: 'closed' };
  }
  if (req.hasData && req.contentType !== undefined && !sameContentType(req.contentType, state.contentType)) return { kind: 'content-type' };
  let producerState: DsProducerState | undefined;
  if (p) {
    if (!known || p.epoch > known.epoch) {
      if (p.seq !== 0) return known ? { kind: 'epoch-needs-seq-0' } : { kind: 'gap', expected: 0, received: p.seq };
    } else if (p.seq <= known.seq) {
      return { kind: 'duplicate', lastSeq: known.seq, closed: false };
    } else if (p.seq !== known.seq + 1) {
      return { kind: 'gap', expected: known.seq + 1, received: p.seq };
    }
    producerState = { epoch: p.epoch, seq: p.seq, at: 0 };
  }
  if (req.streamSeq !== undefined && state.streamSeq !== undefined && byteCompare(req.streamSeq, state.streamSeq) <= 0) {
    return { kind: 'seq-regression', last: state.streamSeq };
  }
  return { kind: 'append', producerState };
}

/** The state after an accepted append of `count` positions (a close marker counts). */
export function afterAppend(
  state: DsStreamState,
  req: AppendRequest,
  decision: Extract<AppendDecision, { kind: 'append' }>,
  firstPosition: number,
  count: number,
  now: number,
): DsStreamState {
  const tail = firstPosition + count;
  let producers = state.producers;
  if (req.producer && decision.producerState) {
    const id = req.producer.id;
    const accepted = { ...decision.producerState, at: now };
    const others = Object.keys(producers).filter((other) => other !== id);
    // The producer just accepted always stays (its retry must be a duplicate); of the others
    // the most recently active are kept, whatever the clocks of the instances that wrote them.
    const kept = others.length < MAX_PRODUCERS ? others : others.sort((a, b) => producers[b]!.at - producers[a]!.at).slice(0, MAX_PRODUCERS - 1);
    producers = { ...Object.fromEntries(kept.map((other) => [other, producers[other]!])), [id]: accepted };
  }
  return {
    ...state,
    // A close's marker is the last position: the final tail is the marker's own.
    tail: req.close ? tail - 1 : tail,
    touchedAt: now,
    producers,
    ...(req.streamSeq !== undefined ? { streamSeq: req.streamSeq } : {}),
    ...(req.close ? { closed: { at: tail - 1, by: req.producer } } : {}),
  };
}

/** Byte-wise (UTF-8) comparison, as the protocol orders Stream-Seq. */
export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The ranges a fork at `offset` of `source` inherits. */
export function inheritedRanges(source: DsStreamState, offset: number): InheritedRange[] {
  const ranges: InheritedRange[] = [];
  for (const r of source.inherited) {
    if (r.from >= offset) break;
    ranges.push({ ...r, to: Math.min(r.to, offset) });
  }
  if (offset > source.base) ranges.push({ topic: source.topic, base: source.base, from: source.base, to: offset });
  return ranges;
}
