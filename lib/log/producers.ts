/**
 * Idempotent producers (API.md "Idempotence", Kafka's ProducerStateManager rules):
 *  - `init` issues {id, epoch}; with a transactionalId the same id comes back with the epoch
 *    bumped, which fences every older epoch (PRODUCER_FENCED).
 *  - `check` runs BEFORE anything is reserved, so duplicates and refusals consume no offsets:
 *    sequence = last + 1 → accept; one of the last 5 → duplicate (answer the original offsets,
 *    write nothing); anything else → OUT_OF_ORDER_SEQUENCE_NUMBER. The conditional update in
 *    the publish transaction still decides races.
 *  - State expires after `transactional.id.expiration.ms` (7 days) of inactivity, checked in
 *    code (TTL deletion is eventual, and DynamoDB Local never deletes).
 */
import { CONFLICT_RETRY_DEFAULTS, PRODUCER_EXPIRATION_MS } from '../config.ts';
import type { Clock, IdGenerator } from '../deps.ts';
import { OutOfOrderSequenceError, ProducerFencedError, UnknownProducerIdError } from '../errors.ts';
import { validateId } from '../id-rules.ts';
import { DEFAULT_CONFLICT_POLICY, retryOnConflict, type ConflictPolicy } from '../retry-on-conflict.ts';
import { RECENT_REQUESTS, STREAM_PRODUCER_PREFIX, type ProducerState, type RecentRequest } from '../model/producer.ts';
import type { ProducerStore } from '../storage/producer-store.ts';
import type { ProducerAdvance } from '../storage/publish-transaction.ts';

/** Producer epochs are int16 in Kafka; past this a fresh producer id is issued. */
const MAX_EPOCH = 32_767;

export interface ProducerRef {
  readonly id: string;
  readonly epoch: number;
  readonly sequence: number;
}

export type SequenceCheck =
  | { readonly kind: 'accept'; readonly prev: ProducerState }
  | { readonly kind: 'duplicate'; readonly original: RecentRequest };

export class ProducerService {
  constructor(
    private readonly store: ProducerStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly expirationMs = PRODUCER_EXPIRATION_MS,
    private readonly conflicts: ConflictPolicy = { ...DEFAULT_CONFLICT_POLICY, attempts: CONFLICT_RETRY_DEFAULTS.attempts.producerInit },
  ) {}

  async init(transactionalId?: string): Promise<{ id: string; epoch: number }> {
    if (transactionalId !== undefined) validateId('transactional', transactionalId);
    return retryOnConflict(`transactionalId '${transactionalId}'`, async () => {
      const now = this.clock.now();
      const existingId = transactionalId === undefined ? undefined : await this.store.producerIdFor(transactionalId);
      const existing = existingId === undefined ? undefined : await this.store.get(existingId);
      const reuse = existing !== undefined && existing.epoch < MAX_EPOCH;
      const state: ProducerState = {
        producerId: reuse ? existing.producerId : `p-${this.ids.newId()}`,
        epoch: reuse ? existing.epoch + 1 : 0,
        lastSequence: -1,
        recent: [],
        lastActiveAt: now,
        ...(transactionalId !== undefined ? { transactionalId } : {}),
      };
      // A lost race (another init of the same transactionalId) is a ProducerRaceError: retried.
      await this.store.initialise(state, reuse ? existing.epoch : undefined, this.ttl(now));
      return { id: state.producerId, epoch: state.epoch };
    }, this.conflicts);
  }

  async check(ref: ProducerRef): Promise<SequenceCheck> {
    const id = validateId('producer', ref.id);
    // A stream's state is a producer item too (lib/ds): never one a client may advance.
    const state = id.startsWith(STREAM_PRODUCER_PREFIX) ? undefined : await this.store.get(id);
    if (!state || this.clock.now() - state.lastActiveAt > this.expirationMs) {
      throw new UnknownProducerIdError(`producer '${ref.id}' is unknown or expired; initialise a new one with POST /v1/producers`);
    }
    if (ref.epoch !== state.epoch) {
      throw new ProducerFencedError(
        `producer '${ref.id}' epoch ${ref.epoch} is fenced: the current epoch is ${state.epoch}`,
        { currentEpoch: state.epoch },
      );
    }
    if (ref.sequence === state.lastSequence + 1) return { kind: 'accept', prev: state };
    const original = state.recent.find((r) => r.sequence === ref.sequence);
    if (original) return { kind: 'duplicate', original };
    throw new OutOfOrderSequenceError(
      `producer '${ref.id}' sent sequence ${ref.sequence}, expected ${state.lastSequence + 1}`,
      { expectedSequence: state.lastSequence + 1 },
    );
  }

  /** The state after accepting `request` (the last RECENT_REQUESTS requests are kept). */
  next(prev: ProducerState, request: RecentRequest): ProducerState {
    return {
      ...prev,
      lastSequence: request.sequence,
      recent: [...prev.recent, request].slice(-RECENT_REQUESTS),
      lastActiveAt: this.clock.now(),
    };
  }

  /** The producer-state advance the publish transaction makes (conditional on `prev`). */
  advance(prev: ProducerState, request: RecentRequest): ProducerAdvance {
    return { prev, next: this.next(prev, request), ttlSeconds: this.ttl() };
  }

  ttl(now = this.clock.now()): number {
    return Math.ceil((now + this.expirationMs) / 1000);
  }
}
