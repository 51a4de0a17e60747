/**
 * The lines of `sluice produce`'s input, with a bound on their length, and what a failed read
 * of it says.
 *
 * A line ends at `\n` (a `\r` before it is dropped too, so `\r\n` files read the same); the
 * last line needs no ending. A line longer than `maxLineBytes` (the server's maxRequestBytes:
 * no request could carry it) is refused with its number while it is still being read, so an
 * input without newlines (`< /dev/zero`, a huge one-line file) fails in bounded memory instead
 * of growing one string until V8 gives up.
 */
import { RecordTooLargeError } from '../client/errors.ts';

const LF = 0x0a;
const CR = 0x0d;

/** Line `lineNo` (1-based) has more than `maxLineBytes` bytes. */
export function lineTooLong(lineNo: number, maxLineBytes: number): RecordTooLargeError {
  return new RecordTooLargeError(`line ${lineNo} is longer than ${maxLineBytes} bytes, the server's request limit (maxRequestBytes)`, {
    details: { line: lineNo, maxRequestBytes: maxLineBytes },
  });
}

/** The lines of `input` (UTF-8), each at most `maxLineBytes` long, else lineTooLong. */
export async function* readLines(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<string, void, undefined> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  /** Line `lineNo`: what is pending and then `last`, without a final \r. */
  const take = (last: Buffer): Buffer => {
    const bytes = pending.length === 0 ? last : Buffer.concat([...pending, last]);
    pending = [];
    pendingBytes = 0;
    const line = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
    if (line.length > maxLineBytes) throw lineTooLong(lineNo, maxLineBytes);
    return line;
  };
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let from = 0;
    for (let at = buf.indexOf(LF, from); at >= 0; at = buf.indexOf(LF, from)) {
      lineNo++;
      yield take(buf.subarray(from, at)).toString('utf8');
      from = at + 1;
    }
    if (from < buf.length) {
      pending.push(buf.subarray(from));
      pendingBytes += buf.length - from;
      // Refused as soon as it is too long (one byte of slack: the \r of a \r\n split across reads).
      if (pendingBytes > maxLineBytes + 1) throw lineTooLong(lineNo + 1, maxLineBytes);
    }
  }
  if (pendingBytes > 0) {
    lineNo++;
    yield take(Buffer.alloc(0)).toString('utf8');
  }
}

/**
 * The one line for an input that could not be read: `cannot read 'F': no such file or
 * directory` for a system error (ENOENT, EACCES, EISDIR, ...), its message otherwise.
 */
export function describeReadError(err: unknown, what: string): string {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string') return `cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`;
  // A system error's message is "CODE: description, syscall 'path'".
  let reason = e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : e.message;
  const tail = e.syscall !== undefined ? reason.lastIndexOf(`, ${e.syscall}`) : -1;
  if (tail > 0) reason = reason.slice(0, tail);
  return `cannot read ${what}: ${reason}`;
}
