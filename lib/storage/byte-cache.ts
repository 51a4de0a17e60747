/**
 * A byte-budgeted LRU of immutable byte ranges (segment objects never change once written).
 * Map iteration order is insertion order, so re-inserting on hit makes the first key the LRU.
 *
 * Invariant: `size` is never less than the memory the cached values keep alive. A
 * `Uint8Array` is a view: a 1 KiB `subarray` of a 6 MB segment (the writer's write-through
 * chunks, the slices of a merged GET) keeps the whole 6 MB `ArrayBuffer` reachable. Counting
 * such a view by its length would let the cache hold many times its budget. So on insert:
 *  - a value that owns its whole buffer is kept as is and counted by its length;
 *  - a view smaller than half of its buffer (or of a buffer larger than the budget) is copied
 *    into a buffer of its own, so the parent can be collected, and counted by its length;
 *  - any other view is kept as is and counted as its whole parent buffer: it already pins
 *    more than half of it, and copying it would cost a copy for less than a 2x saving.
 * Copying only views smaller than half their parent bounds the copy cost by the bytes it
 * frees. Several entries sharing one parent may each be charged for it, which over-counts
 * (the cache then holds less than its budget) but never under-counts.
 */
export class ByteLru {
  private readonly map = new Map<string, { value: Uint8Array; charge: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): Uint8Array | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }

  set(key: string, value: Uint8Array): void {
    if (value.byteLength > this.maxBytes) return;
    const entry = retained(value, this.maxBytes);
    const old = this.map.get(key);
    if (old) {
      this.bytes -= old.charge;
      this.map.delete(key);
    }
    this.map.set(key, entry);
    this.bytes += entry.charge;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.charge;
    }
  }

  /** The bytes the cached values keep alive (see the invariant above). */
  get size(): number {
    return this.bytes;
  }
}

/** What to store for `value`, and what it costs (the memory it keeps reachable). */
function retained(value: Uint8Array, maxBytes: number): { value: Uint8Array; charge: number } {
  const parent = value.buffer.byteLength;
  if (parent === value.byteLength) return { value, charge: value.byteLength };
  if (value.byteLength * 2 < parent || parent > maxBytes) {
    const copy = new Uint8Array(value.byteLength);
    copy.set(value);
    return { value: copy, charge: copy.byteLength };
  }
  return { value, charge: parent };
}
