import { afterEach, describe, expect, it } from 'vitest';
import {
  CodecUnavailableError,
  CompressionCodec,
  codecAvailable,
  codecUnavailableReason,
  optionalNative,
  setNativeRequireForTests,
} from '../../../lib/codec/compression.ts';
import { CorruptBatchError } from '../../../lib/codec/errors.ts';
import { decodeRecordBatches, encodeRecordBatch } from '../../../lib/codec/record-batch.ts';
import { CodecUnavailableServerError, CorruptStoredDataError } from '../../../lib/errors.ts';
import { codecErrorAnswer, decodeStored } from '../../../lib/log/stored-batches.ts';
import type { IndexEntry } from '../../../lib/storage/index-store.ts';

describe('a codec whose optional package does not load', () => {
  const load = optionalNative<unknown>('snappy', 'sluice-no-such-package');

  it('throws CodecUnavailableError naming the codec, the package and how to fix it', () => {
    let thrown: unknown;
    try {
      load();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CodecUnavailableError);
    expect(thrown).toBeInstanceOf(Error);
    const err = thrown as CodecUnavailableError;
    expect(err.codec).toBe('snappy');
    expect(err.packageName).toBe('sluice-no-such-package');
    expect(err.message).toContain('compression codec snappy is unavailable');
    expect(err.message).toContain('npm install sluice-no-such-package');
    expect(err.message).toContain("Cannot find module 'sluice-no-such-package'");
    // One line: the require stack stays in `cause`.
    expect(err.message).not.toContain('\n');
  });

  it('remembers the failure instead of searching for the package on every use', () => {
    let first: unknown;
    let second: unknown;
    try {
      load();
    } catch (err) {
      first = err;
    }
    try {
      load();
    } catch (err) {
      second = err;
    }
    expect(second).toBe(first);
  });
});

describe('codecUnavailableReason', () => {
  it('is undefined for the codecs built into Node', () => {
    expect(codecUnavailableReason(CompressionCodec.none)).toBeUndefined();
    expect(codecUnavailableReason(CompressionCodec.gzip)).toBeUndefined();
    expect(codecAvailable(CompressionCodec.gzip)).toBe(true);
  });
});

describe('a stored batch whose codec package is missing (injected loader)', () => {
  // As in a Lambda bundle without node_modules/snappy: require('snappy') fails.
  const missing = (id: string): never => {
    const err = new Error(`Cannot find module '${id}'\nRequire stack:\n- /var/task/index.mjs`) as Error & { code: string };
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  };
  // Compressible, so lz4 stores a compressed block (a tiny input is stored raw and needs no lz4-napi).
  const records = [{ offsetDelta: 0, timestamp: 1_700_000_000_000, key: null, value: Buffer.alloc(4096, 'ab'), headers: [] }];
  const entry: IndexEntry = { slot: 0, base: 0, end: 1, hole: false, object: 'seg/abc', position: 0, length: 1, recordCount: 1, publishedAt: 0 };

  afterEach(() => setNativeRequireForTests());

  it.each([
    ['snappy', CompressionCodec.snappy, 'snappy'],
    ['lz4', CompressionCodec.lz4, 'lz4-napi'],
  ] as const)('%s: decoding throws CodecUnavailableError, not CorruptBatchError', (codec, id, pkg) => {
    if (!codecAvailable(id)) return; // the batch cannot even be written here
    const batch = encodeRecordBatch({ compression: id, records });
    setNativeRequireForTests(missing);
    let thrown: unknown;
    try {
      decodeRecordBatches(batch);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CodecUnavailableError);
    expect(thrown).not.toBeInstanceOf(CorruptBatchError);
    expect((thrown as CodecUnavailableError).codec).toBe(codec);
    expect((thrown as CodecUnavailableError).packageName).toBe(pkg);

    // What fetch answers: UNKNOWN_SERVER_ERROR naming the package, never CORRUPT_MESSAGE.
    let answered: unknown;
    try {
      decodeStored(entry, batch);
    } catch (err) {
      answered = err;
    }
    expect(answered).toBeInstanceOf(CodecUnavailableServerError);
    const e = answered as CodecUnavailableServerError;
    expect(e.code).toBe('UNKNOWN_SERVER_ERROR');
    expect(e.retriable).toBe(false);
    expect(e.details).toEqual({ codec, package: pkg });
    expect(e.message).toContain(`"${pkg}" did not load`);
    expect(e.message).toContain(`Cannot find module '${pkg}'`);

    // The real loader comes back (loaders forget the failure).
    setNativeRequireForTests();
    expect(decodeRecordBatches(batch)[0]!.records).toHaveLength(1);
  });

  it('a batch that is really corrupt is still CORRUPT_MESSAGE', () => {
    const batch = Buffer.from(encodeRecordBatch({ compression: CompressionCodec.gzip, records }));
    batch[batch.length - 1]! ^= 0xff;
    expect(() => decodeStored(entry, batch)).toThrow(CorruptStoredDataError);
  });

  it('encoding (produce) with the package missing answers the same error', () => {
    setNativeRequireForTests(missing);
    let thrown: unknown;
    try {
      encodeRecordBatch({ compression: CompressionCodec.snappy, records });
    } catch (err) {
      thrown = codecErrorAnswer(err);
    }
    expect(thrown).toBeInstanceOf(CodecUnavailableServerError);
    expect((thrown as CodecUnavailableServerError).details).toEqual({ codec: 'snappy', package: 'snappy' });
  });
});
