/**
 * Idempotent producer items of the meta table:
 *   producer       pk "producer#<producerId>"       sk "producer"   (epoch, last sequence, recent requests)
 *   txn id         pk "txn#<transactionalId>"       sk "txn"        → producerId
 */
import type { MetaKey } from './meta-item.ts';

const PRODUCER_PREFIX = 'producer#';
const PRODUCER_SK = 'producer';
const TXN_PREFIX = 'txn#';
const TXN_SK = 'txn';

export function producerKey(producerId: string): MetaKey {
  return { pk: `${PRODUCER_PREFIX}${producerId}`, sk: PRODUCER_SK };
}

export function parseProducerKey(key: MetaKey): string | undefined {
  return key.sk === PRODUCER_SK && key.pk.startsWith(PRODUCER_PREFIX) ? key.pk.slice(PRODUCER_PREFIX.length) : undefined;
}

export function transactionalIdKey(transactionalId: string): MetaKey {
  return { pk: `${TXN_PREFIX}${transactionalId}`, sk: TXN_SK };
}

export function parseTransactionalIdKey(key: MetaKey): string | undefined {
  return key.sk === TXN_SK && key.pk.startsWith(TXN_PREFIX) ? key.pk.slice(TXN_PREFIX.length) : undefined;
}
