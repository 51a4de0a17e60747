import { open, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { RecordTooLargeError } from '../../../lib/client/errors.ts';
import { describeReadError, readLines } from '../../../lib/cli/lines.ts';

async function collect(chunks: readonly (string | Buffer)[], max = 100): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(chunks, max)) lines.push(line);
  return lines;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('readLines', () => {
  it('splits at \\n, drops the \\r of \\r\\n, keeps empty lines and a last line without ending', async () => {
    expect(await collect(['one\n\ntwo\r\nthree'])).toEqual(['one', '', 'two', 'three']);
    expect(await collect(['a\n'])).toEqual(['a']);
    expect(await collect([''])).toEqual([]);
    expect(await collect(['\n'])).toEqual(['']);
    expect(await collect(['a\rb\n'])).toEqual(['a\rb']); // only a \r before \n ends a line
  });

  it('joins lines split across reads, a \\r\\n and a multi-byte character included', async () => {
    const euro = Buffer.from('€', 'utf8');
    expect(await collect([Buffer.from('ab'), Buffer.concat([Buffer.from('c'), euro.subarray(0, 1)]), Buffer.concat([euro.subarray(1), Buffer.from('\r')]), '\nd'])).toEqual(['abc€', 'd']);
  });

  it('refuses a line longer than the limit with its number, a line of exactly the limit passes', async () => {
    expect(await collect(['x'.repeat(10), '\r\n', 'y'.repeat(10)], 10)).toEqual(['x'.repeat(10), 'y'.repeat(10)]);
    const err = await failure(collect(['ok\n', 'fine\n', 'x'.repeat(11), '\n'], 10));
    expect(err).toBeInstanceOf(RecordTooLargeError);
    expect((err as Error).message).toBe("line 3 is longer than 10 bytes, the server's request limit (maxRequestBytes)");
    expect(await failure(collect(['ok\n' + 'x'.repeat(11) + '\nmore\n'], 10))).toMatchObject({ message: expect.stringMatching(/^line 2 /) });
    expect(await failure(collect(['ok\n', 'x'.repeat(11)], 10))).toMatchObject({ message: expect.stringMatching(/^line 2 /) });
  });

  it('an input without newlines fails as soon as it passes the limit, without reading the rest', async () => {
    let reads = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        reads++;
        yield Buffer.alloc(64 * 1024);
      }
    }
    const err = await failure((async () => {
      for await (const _ of readLines(endless(), 1024 * 1024)) void _;
    })());
    expect(err).toBeInstanceOf(RecordTooLargeError);
    expect((err as Error).message).toMatch(/^line 1 is longer than 1048576 bytes/);
    expect(reads).toBe(17);
  });
});

describe('describeReadError', () => {
  it("says which input and why, in words, for the OS's errors", async () => {
    const missing = await failure(readFile('/nonexistent/sluice-input'));
    expect(describeReadError(missing, "'/nonexistent/sluice-input'")).toBe("cannot read '/nonexistent/sluice-input': no such file or directory");
    const dir = await open('/');
    try {
      const isDir = await failure(dir.read(Buffer.alloc(1), 0, 1, 0));
      expect(describeReadError(isDir, "'/'")).toBe("cannot read '/': illegal operation on a directory");
    } finally {
      await dir.close();
    }
    expect(describeReadError(new Error('boom'), 'stdin')).toBe('cannot read stdin: boom');
  });
});
