/**
 * `sluice produce TOPIC`: one record per line of stdin (or --file), through lib/client's
 * batching producer. Lines are handed over in chunks without waiting for each answer, with a
 * bounded number of chunks unanswered (so a large input streams in constant memory while the
 * producer keeps its batches full). Line rules (empty lines, -K, encodings) are line-records.ts.
 *
 * A line that does not fit its encoding, or is longer than the server's maxRequestBytes (no
 * request could carry it; lines.ts refuses it while reading, in bounded memory), fails the
 * command (exit 1) with its line number:
 *  - with --file naming a regular file, every line is checked before anything is sent, so
 *    nothing is produced;
 *  - from stdin, or a --file that is a pipe or a device (read once, as it comes), the records
 *    before that line are produced and acknowledged (the message counts them), nothing from
 *    that line on.
 * An input that cannot be read fails with `sluice: cannot read 'F': <reason>` (exit 1).
 *
 * Output: on a terminal, stderr shows progress (records/s, bytes) updated in place; at the end
 * a summary line on stderr, or with --json a JSON summary on stdout. Ctrl-C (or SIGTERM) stops
 * reading, waits for what was handed over, prints the summary and exits 130 (SIGTERM: 143);
 * the copy of the same Ctrl-C that a wrapper like npx forwards is ignored (signals.ts).
 */
import { createReadStream, fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import type { Encoding } from '../../client/types.ts';
import { addClientOptions, CliFailure, describeFailure, runClient, type ClientContext } from '../client-options.ts';
import { isBase64, lineRecord, type LineRecord, type LineRecordOptions } from '../line-records.ts';
import { describeReadError, readLines } from '../lines.ts';
import { collect, ENCODINGS, integerArg, parseHeaders, UsageError } from '../parse.ts';
import { onStop, signalExitCode } from '../signals.ts';
import { examples, formatBytes, formatSeconds, plural } from '../text-output.ts';

export interface ProduceFlags {
  readonly file?: string;
  readonly keyDelimiter?: string;
  readonly partition?: number;
  readonly header?: string[];
  readonly encoding?: Encoding;
}

/** Records per send() call, and the bytes at which a chunk is handed over early. */
const CHUNK_RECORDS = 500;
const CHUNK_BYTES = 256 * 1024;
/** Chunks handed to the producer and not yet answered, at most. */
const MAX_UNANSWERED_CHUNKS = 16;
const PROGRESS_EVERY_MS = 200;

export function produceCommand(): Command {
  return addClientOptions(new Command('produce'))
    .description('Produce one record per line of stdin (or --file) to a topic')
    .argument('<topic>', 'topic to produce to')
    .option('--file <path>', 'read lines from this file instead of stdin (a regular file is checked completely before anything is sent)')
    .option('-K, --key-delimiter <delim>', 'split each line into key and value at the first <delim> (kcat -K)')
    .option('--partition <p>', 'send every record to this partition (default: by key, null keys spread)', integerArg(0))
    .option('--header <key=value>', 'a header on every record, repeatable', collect)
    .addOption(new Option('--encoding <encoding>', 'how lines are read: string (as is), json (each value a JSON document), base64').choices(ENCODINGS).default('string'))
    .addHelpText(
      'after',
      `
Empty lines are skipped. With -K, a line without the delimiter has no key (it is all value).
With --encoding json every value must be JSON; a bad line fails the command with its number.

${examples(
  'seq 1 1000 | sluice produce orders',
  "printf 'alice:{\"amount\":200}\\nbob:{\"amount\":7}\\n' | sluice produce orders -K : --encoding json",
  'sluice produce orders --file events.jsonl --encoding json --header source=import',
).trimStart()}`,
    )
    .action((topic: string, flags: ProduceFlags, cmd: Command) => runClient(cmd, (ctx) => produce(ctx, topic, flags)));
}

/** The per-line options from the flags (a usage error for a bad header or delimiter). */
export function lineOptions(flags: ProduceFlags): LineRecordOptions {
  const encoding = flags.encoding ?? 'string';
  if (flags.keyDelimiter === '') throw new UsageError('-K needs a non-empty delimiter');
  const headers = parseHeaders(flags.header);
  if (encoding === 'base64') {
    const bad = headers.find((h) => !isBase64(h.value));
    if (bad) throw new UsageError(`--header ${bad.key}: with --encoding base64 header values must be base64`);
  }
  return {
    encoding,
    ...(flags.keyDelimiter !== undefined ? { keyDelimiter: flags.keyDelimiter } : {}),
    ...(flags.partition !== undefined ? { partition: flags.partition } : {}),
    ...(headers.length > 0 ? { headers } : {}),
  };
}

function openInput(file: string | undefined): Readable {
  if (file !== undefined) return createReadStream(file);
  // Node reads a directory as stdin (`< /`) as an empty input; say what it is instead.
  if (isDirectory(0)) throw readFailure(Object.assign(new Error('EISDIR: illegal operation on a directory, read'), { code: 'EISDIR', syscall: 'read' }), undefined);
  return process.stdin;
}

function isDirectory(fd: number): boolean {
  try {
    return fstatSync(fd).isDirectory();
  } catch {
    return false; // no stdin at all: reading it says so
  }
}

/** A failed read of the input as the command's one line (exit 1). */
function readFailure(err: unknown, file: string | undefined): CliFailure {
  return new CliFailure(`sluice: ${describeReadError(err, file === undefined ? 'stdin' : `'${file}'`)}`, 1);
}

/** Every line of `file` checked (length, encoding) before anything is sent. */
async function checkFile(file: string, opts: LineRecordOptions, maxLineBytes: number): Promise<void> {
  let n = 0;
  const input = openInput(file);
  try {
    for await (const line of readLines(input, maxLineBytes)) lineRecord(line, ++n, opts);
  } catch (err) {
    throw isSystemError(err) ? readFailure(err, file) : err;
  } finally {
    input.destroy();
  }
}

async function isRegularFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (err) {
    throw readFailure(err, file);
  }
}

/** An error of the OS (ENOENT, EISDIR, ...), as opposed to a refused line. */
function isSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

interface PartitionSummary {
  partition: number;
  records: number;
  firstOffset: number;
  lastOffset: number;
}

/** Counts what was acknowledged, and shows it. */
class Tally {
  records = 0;
  bytes = 0;
  readonly started = Date.now();
  readonly partitions = new Map<number, PartitionSummary>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly progress: boolean) {
    if (progress) this.#timer = setInterval(() => this.#show(), PROGRESS_EVERY_MS);
  }

  add(offsets: readonly { partition: number; offset: number }[], bytes: number): void {
    this.records += offsets.length;
    this.bytes += bytes;
    for (const { partition, offset } of offsets) {
      const p = this.partitions.get(partition);
      if (p === undefined) this.partitions.set(partition, { partition, records: 1, firstOffset: offset, lastOffset: offset });
      else {
        p.records++;
        p.firstOffset = Math.min(p.firstOffset, offset);
        p.lastOffset = Math.max(p.lastOffset, offset);
      }
    }
  }

  #show(): void {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(this.records / seconds) : 0;
    process.stderr.write(`\r\x1b[K${plural(this.records, 'record')} (${formatBytes(this.bytes)}), ${rate} records/s`);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.progress) process.stderr.write('\r\x1b[K');
  }
}

async function produce(ctx: ClientContext, topic: string, flags: ProduceFlags): Promise<void> {
  const opts = lineOptions(flags);
  // An unknown topic fails before any input is read, even an empty one. The producer's code
  // is loaded on demand (the admin commands and `sluice dev` start without it); the cluster's
  // limits bound a line (and the producer's batches: it asks the same Sluice).
  const [, { sluice, maxLineBytes }] = await Promise.all([
    ctx.admin.describeTopic(topic),
    import('../../client/sluice.ts').then(async ({ Sluice }) => {
      const s = new Sluice(ctx.connection);
      return { sluice: s, maxLineBytes: (await s.cluster()).limits.maxRequestBytes };
    }),
  ]);
  // A regular file is checked whole first; a pipe or a device (`--file /dev/stdin`,
  // `--file <(...)`) can be read only once, so it is read as stdin is.
  if (flags.file !== undefined && (await isRegularFile(flags.file))) await checkFile(flags.file, opts, maxLineBytes);

  const producer = sluice.producer({ encoding: opts.encoding });
  const tally = new Tally(process.stderr.isTTY === true);
  const unanswered = new Set<Promise<void>>();
  let sendFailure: unknown;
  let inputFailure: unknown;
  let interrupted: NodeJS.Signals | undefined;
  const input = openInput(flags.file);
  const unregister = onStop((signal) => {
    interrupted = signal;
    input.destroy(); // ends the line loop; what was handed over is still awaited
  });

  let chunk: LineRecord[] = [];
  let chunkBytes = 0;
  const handOver = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const records = chunk;
    const bytes = chunkBytes;
    chunk = [];
    chunkBytes = 0;
    const answered: Promise<void> = producer
      .send(topic, records.map((r) => r.record))
      .then(
        (offsets) => tally.add(offsets, bytes),
        (err: unknown) => void (sendFailure ??= err),
      )
      .finally(() => unanswered.delete(answered));
    unanswered.add(answered);
    // Bounded: wait for the oldest answers before reading further.
    while (unanswered.size >= MAX_UNANSWERED_CHUNKS) await Promise.race(unanswered);
  };

  let lineNo = 0;
  try {
    try {
      for await (const line of readLines(input, maxLineBytes)) {
        if (interrupted !== undefined) break; // lines already read, after the stop
        const record = lineRecord(line, ++lineNo, opts);
        if (record === undefined) continue;
        chunk.push(record);
        chunkBytes += record.bytes;
        if (chunk.length >= CHUNK_RECORDS || chunkBytes >= CHUNK_BYTES) await handOver();
        if (sendFailure !== undefined) break;
      }
    } catch (err) {
      // A bad line (or an unreadable input): nothing from here on is sent, what came before is.
      if (interrupted === undefined) inputFailure = isSystemError(err) ? readFailure(err, flags.file) : err;
    }
    if (sendFailure === undefined) await handOver();
    await Promise.all(unanswered);
    await producer.close();
  } finally {
    unregister();
    input.destroy();
    tally.stop();
  }

  const failure = sendFailure ?? inputFailure;
  const elapsedMs = Date.now() - tally.started;
  if (failure !== undefined) {
    const { line, exitCode } = describeFailure(failure, ctx.url);
    const done = tally.records > 0 ? ` (${plural(tally.records, 'record')} produced before it)` : '';
    throw new CliFailure(line + done, exitCode);
  }
  if (ctx.json) {
    ctx.printJson({
      topic,
      records: tally.records,
      bytes: tally.bytes,
      requests: producer.stats.requests,
      elapsedMs,
      partitions: [...tally.partitions.values()].sort((a, b) => a.partition - b.partition),
    });
  } else {
    ctx.note(`produced ${plural(tally.records, 'record')} (${formatBytes(tally.bytes)}) to ${topic} in ${formatSeconds(elapsedMs)}`);
  }
  // The summary said what was produced.
  if (interrupted !== undefined) throw new CliFailure('', signalExitCode(interrupted));
}
