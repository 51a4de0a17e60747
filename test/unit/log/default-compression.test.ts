import { describe, expect, it } from 'vitest';
import { CompressionCodec, codecAvailable } from '../../../lib/codec/compression.ts';
import { DEFAULT_COMPRESSION, defaultCompression } from '../../../lib/log/produce.ts';

describe('default compression for compression.type=producer', () => {
  it('is zstd where zstd works, as here', () => {
    expect(codecAvailable(CompressionCodec.zstd)).toBe(true);
    expect(DEFAULT_COMPRESSION).toBe(CompressionCodec.zstd);
  });

  it('falls back to none on a runtime with no working zstd instead of failing every produce', () => {
    expect(defaultCompression(() => false)).toBe(CompressionCodec.none);
    expect(defaultCompression((c) => c === CompressionCodec.zstd)).toBe(CompressionCodec.zstd);
  });

  it('always has the none codec', () => {
    expect(codecAvailable(CompressionCodec.none)).toBe(true);
  });
});
