/**
 * Partition choice, as Kafka's producer does it (Java `BuiltInPartitioner`, KIP-480):
 *  - keyed record: toPositive(murmur2(keyBytes)) % numPartitions, over ALL partitions
 *    (BuiltInPartitioner.partitionForKey). An empty key (0 bytes) is hashed like any other.
 *  - null key: sticky (KIP-480): every null-key record of one produce request goes to the same
 *    partition, and successive requests to a topic walk the partitions round-robin.
 *
 * Pure: no Math.random, no clock. The sticky partitioner's starting point comes from an
 * injected seed (e.g. derived from the function instance id) so that concurrent Lambda
 * instances spread over different partitions while tests stay deterministic.
 */

import { murmur2, toPositive } from './murmur2.ts';

// TextEncoder, not Buffer: the client uses this module in browsers too.
const utf8 = new TextEncoder();

function checkPartitions(numPartitions: number): void {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
  }
}

export function partitionForKey(keyBytes: Uint8Array, numPartitions: number): number {
  checkPartitions(numPartitions);
  return toPositive(murmur2(keyBytes)) % numPartitions;
}

export interface StickyPartitionerOptions {
  /** Starting counter (any int32). Give each instance a different one. Default 0. */
  seed?: number;
}

/**
 * A sticky seed for one instance from one of its fresh ids (the caller draws it from injected
 * randomness, so this stays pure): instances started together begin their round-robin at
 * different partitions instead of all sending their first null-key records to the same one.
 */
export function stickySeedFromId(id: string): number {
  return murmur2(utf8.encode(id));
}

/**
 * Sticky partition per request, round-robin across requests, per topic.
 * Call `partitionForRequest(topic, n)` once per produce request and use the answer for all
 * of that request's null-key records for the topic.
 */
export class StickyPartitioner {
  readonly #seed: number;
  readonly #counters = new Map<string, number>();

  constructor(opts: StickyPartitionerOptions = {}) {
    this.#seed = (opts.seed ?? 0) | 0;
  }

  partitionForRequest(topic: string, numPartitions: number): number {
    checkPartitions(numPartitions);
    // Offset each topic by its name's hash so topics do not all start on partition `seed`.
    const current = this.#counters.get(topic) ?? (this.#seed + murmur2(utf8.encode(topic))) | 0;
    this.#counters.set(topic, (current + 1) | 0);
    return toPositive(current) % numPartitions;
  }
}

/**
 * The partition for one record: explicit partition wins, then the key hash, then the
 * request's sticky partition.
 */
export function choosePartition(
  record: { partition?: number | undefined; key: Uint8Array | null; },
  numPartitions: number,
  stickyPartition: number,
): number {
  if (record.partition !== undefined) return record.partition;
  if (record.key !== null) return partitionForKey(record.key, numPartitions);
  return stickyPartition;
}
