/**
 * How one produce request becomes per-partition chunks, and how its offsets are answered:
 * pure (no I/O, no codec, no clock), so the rules are unit- and property-tested apart from the
 * write path that carries them out (produce.ts).
 *
 * Invariants
 *  G1 Every record of the request lands in exactly one chunk: the chunk of its partition.
 *  G2 Inside a chunk, records keep their request order (Kafka orders a partition's records as
 *     the producer sent them; the batch encodes them in that order).
 *  G3 Chunks are ordered by the first appearance of their partition in the request.
 *  G4 A request touching more than `maxPartitions` partitions is refused before anything is
 *     written (one transaction holds at most 100 items; LIMITS.maxPartitionsPerRequest).
 *  O1 The answer lists one offset per record, in request order; a partition's records get
 *     consecutive offsets from its base, in request order (W1 inside one request).
 */
import { InvalidRequestError } from '../errors.ts';

export interface PlannedRecord<R> {
  readonly partition: number;
  readonly record: R;
  /** What the record counts for in fetch budgets (decoded size). */
  readonly budgetBytes: number;
}

export interface Chunk<R> {
  readonly partition: number;
  /** Indexes into the request's records, in request order. */
  readonly indexes: readonly number[];
  readonly records: readonly R[];
  readonly budgetBytes: number;
}

export interface ProducedOffset {
  readonly partition: number;
  readonly offset: number;
}

/** Groups the request's records by partition (G1-G3) and enforces the partition cap (G4). */
export function planChunks<R>(records: readonly PlannedRecord<R>[], maxPartitions: number): Chunk<R>[] {
  const byPartition = new Map<number, number[]>();
  records.forEach((r, i) => {
    const list = byPartition.get(r.partition);
    if (list) list.push(i);
    else byPartition.set(r.partition, [i]);
  });
  if (byPartition.size > maxPartitions) {
    throw new InvalidRequestError(
      `a request may touch at most maxPartitionsPerRequest = ${maxPartitions} partitions; this one touches ${byPartition.size}`,
      { maxPartitionsPerRequest: maxPartitions },
    );
  }
  return [...byPartition].map(([partition, indexes]) => ({
    partition,
    indexes,
    records: indexes.map((i) => records[i]!.record),
    budgetBytes: indexes.reduce((n, i) => n + records[i]!.budgetBytes, 0),
  }));
}

/** The answer (O1): each partition's records consecutive from `baseOf(partition)`, request order. */
export function offsetsInRequestOrder(
  records: readonly { readonly partition: number }[],
  baseOf: (partition: number) => number,
): ProducedOffset[] {
  const next = new Map<number, number>();
  return records.map((r) => {
    const offset = next.get(r.partition) ?? baseOf(r.partition);
    next.set(r.partition, offset + 1);
    return { partition: r.partition, offset };
  });
}

/** Smallest and largest timestamp of a non-empty chunk (the entry and footer record both). */
export function timestampRange(records: readonly { readonly timestamp: number }[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const r of records) {
    if (r.timestamp < min) min = r.timestamp;
    if (r.timestamp > max) max = r.timestamp;
  }
  return { min, max };
}
