/**
 * Decoding what storage returned for an index entry. The batches' CRC-32C and framing are
 * checked by the codec; bytes that fail name the object they came from (CORRUPT_MESSAGE), so
 * the answer and the server log point at the object to inspect. A codec that cannot load is
 * not corruption: it is answered as UNKNOWN_SERVER_ERROR naming the missing package.
 */
import { CodecUnavailableError } from '../codec/compression.ts';
import { CorruptBatchError } from '../codec/errors.ts';
import { decodeRecordBatches, type RecordBatch } from '../codec/record-batch.ts';
import { CodecUnavailableServerError, CorruptStoredDataError } from '../errors.ts';
import type { IndexEntry } from '../storage/index-store.ts';

export function decodeStored(entry: IndexEntry, chunk: Uint8Array): RecordBatch[] {
  try {
    return decodeRecordBatches(chunk, { baseOffset: entry.base });
  } catch (err) {
    if (err instanceof CorruptBatchError) throw new CorruptStoredDataError(entry.object ?? '(unknown object)', err.reason, err);
    throw codecErrorAnswer(err);
  }
}

/**
 * A codec whose package did not load (CodecUnavailableError) as the API answers it:
 * UNKNOWN_SERVER_ERROR naming the codec and the package; any other error unchanged.
 */
export function codecErrorAnswer(err: unknown): unknown {
  return err instanceof CodecUnavailableError
    ? new CodecUnavailableServerError(err.codec, err.packageName, err.message, err)
    : err;
}
