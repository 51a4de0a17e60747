/**
 * The size a record counts for in fetch budgets (maxBytes): its key, value and header bytes
 * plus a fixed allowance for offsets, timestamps and JSON framing. Produce records the sum per
 * entry, so fetch can plan how many entries to read from what they decode to, not from their
 * (possibly compressed) stored length.
 */
export const RECORD_OVERHEAD_BYTES = 40;

export function recordBudgetBytes(payloadBytes: number): number {
  return payloadBytes + RECORD_OVERHEAD_BYTES;
}
