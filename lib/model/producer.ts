/** Idempotent-producer state (values only, no imports): what the publish transaction advances. */

/**
 * Producer ids starting so are Durable Streams' stream states (lib/ds), never a client's
 * producer: /v1 treats them as unknown.
 */
export const STREAM_PRODUCER_PREFIX = 'ds.';

/** Kafka keeps metadata of the last 5 batches per producer (ProducerStateEntry). */
export const RECENT_REQUESTS = 5;

export interface RecentRequest {
  readonly sequence: number;
  /** The sticky partition the request's null-keyed records went to. */
  readonly sticky: number;
  /** partition → first offset the request got in it. */
  readonly bases: Readonly<Record<string, number>>;
}

export interface ProducerState {
  readonly producerId: string;
  readonly epoch: number;
  /** -1 before the first request of this epoch. */
  readonly lastSequence: number;
  readonly recent: readonly RecentRequest[];
  readonly lastActiveAt: number;
  readonly transactionalId?: string;
  /**
   * State a caller keeps beside the sequence and advances in the same conditional update
   * (opaque JSON here): a Durable Streams stream's configuration and writer state
   * (lib/ds/stream-state.ts), so an append and its state change commit together or not at all.
   */
  readonly attachment?: string;
}
