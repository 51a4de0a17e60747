/**
 * Maintenance bookkeeping items of the meta table:
 *   gc sweep       pk "maintenance#gc"              sk "gc"         cursor of the bucket sweep
 * One small item for the whole deployment: where garbage collection's listing of the bucket
 * stands, and when the last full sweep finished.
 */
import type { MetaKey } from './meta-item.ts';

export function gcSweepKey(): MetaKey {
  return { pk: 'maintenance#gc', sk: 'gc' };
}
