import { describe, expect, it } from 'vitest';
import {
  CodecUnavailableError,
  CompressionCodec,
  codecAvailable,
  codecUnavailableReason,
  optionalNative,
} from '../../../lib/codec/compression.ts';

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
