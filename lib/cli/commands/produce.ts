/**
 * `sluice produce TOPIC`: one record per line of stdin (or --file), through lib/client's
 * batching producer. Lines are handed over in chunks without waiting for each answer, with a
 * bounded number of chunks unanswered (so a large input streams in constant memory while the
 * producer keeps its batches full). Line rules (empty lines, -K, encodings) are line-records.ts.
 *
 * A line that does not fit its encoding fails the command (exit 1) with its line number:
 *  - with --file, every line is checked before anything is sent, so nothing is produced;
 *  - from stdin (read once, as it comes), the records before that line are produced and
 *    acknowledged (the message counts them), nothing from that line on.
 *
 * Output: on a terminal, stderr shows progress (records/s, bytes) updated in place; at the end
 * a summary line on stderr, or with --json a JSON summary on stdout. Ctrl-C stops reading,
 * waits for what was handed over, prints the summary and exits 130.
 */
import { createReadStream } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import type { Encoding } from '../../client/types.ts';
import { addClientOptions, CliFailure, describeFailure, runClient, type ClientContext } from '../client-options.ts';
import { isBase64, lineRecord, type LineRecord, type LineRecordOptions } from '../line-records.ts';
import { collect, ENCODINGS, integerArg, parseHeaders, UsageError } from '../parse.ts';
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
    .option('--file <path>', 'read lines from this file instead of stdin (checked completely before anything is sent)')
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

function lines(input: Readable): Interface {
  // crlfDelay: a \r\n split across reads is still one line break.
  return createInterface({ input, crlfDelay: Infinity });
}

function openInput(file: string | undefined): Readable {
  return file === undefined ? process.stdin : createReadStream(file);
}

/** Every line of `file` checked against its encoding, before anything is sent. */
async function checkFile(file: string, opts: LineRecordOptions): Promise<void> {
  let n = 0;
  for await (const line of lines(createReadStream(file))) lineRecord(line, ++n, opts);
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
  // An unknown topic fails before any input is read, even an empty one.
  await Promise.all([
    ctx.admin.describeTopic(topic),
    flags.file !== undefined && opts.encoding !== 'string' ? checkFile(flags.file, opts) : undefined,
  ]);

  // Loaded on demand: the admin commands and `sluice dev` start without the producer's code.
  const { Sluice } = await import('../../client/sluice.ts');
  const sluice = new Sluice(ctx.connection);
  const producer = sluice.producer({ encoding: opts.encoding });
  const tally = new Tally(process.stderr.isTTY === true);
  const unanswered = new Set<Promise<void>>();
  let sendFailure: unknown;
  let inputFailure: unknown;
  let interrupted = false;
  const input = openInput(flags.file);
  const reader = lines(input);
  const onSigint = (): void => {
    interrupted = true;
    reader.close(); // ends the line loop; what was handed over is still awaited
    input.destroy();
  };
  process.once('SIGINT', onSigint);

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
      for await (const line of reader) {
        const record = lineRecord(line, ++lineNo, opts);
        if (record === undefined) continue;
        chunk.push(record);
        chunkBytes += record.bytes;
        if (chunk.length >= CHUNK_RECORDS || chunkBytes >= CHUNK_BYTES) await handOver();
        if (sendFailure !== undefined) break;
      }
    } catch (err) {
      // A bad line (or an unreadable input): nothing from here on is sent, what came before is.
      if (!(interrupted && isAbort(err))) inputFailure = err;
    }
    if (sendFailure === undefined) await handOver();
    await Promise.all(unanswered);
    await producer.close();
  } finally {
    process.removeListener('SIGINT', onSigint);
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
  if (interrupted) throw new CliFailure('', 130); // the summary said what was produced
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && ((err as NodeJS.ErrnoException).code === 'ABORT_ERR' || (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || err.name === 'AbortError');
}
