/**
 * `sluice consume TOPIC`: records to stdout, one per --format (kcat's tokens, format.ts) or
 * one JSON object per line with --json, through lib/client's consumer.
 *
 * Without --group the consumer is assigned every partition (or --partition) with no group and
 * commits nothing; it starts at the end, or --from-beginning, --offset N (N < 0: N records
 * before the end of each partition, as kcat's -o -N) or --timestamp T (the first offset at or
 * after T, via ListOffsets). With --group it joins the group (server-side assignment) and
 * commits what it printed; it starts at the group's committed offsets, and where the group has
 * none at the end, or with --from-beginning at the start (Kafka's console consumer:
 * auto.offset.reset earliest/latest).
 *
 * It stops after -c N records, or (without --follow) once every partition it consumes has
 * reached the high watermark seen when it got there, like kcat -e. Ctrl-C (SIGINT) or SIGTERM
 * stop it cleanly: the group member commits and leaves, exit 0; another one exits at once (the
 * copy of the same Ctrl-C that a wrapper like npx forwards does not count: signals.ts). A closed stdout (`| head`)
 * stops it the same way at the write that fails (EPIPE), exit 0.
 *
 * Commits: a member auto-commits (the client commits what each poll returned once the next
 * poll starts, and on close), which is what was printed, since every poll is written whole,
 * one write a poll. A write that fails (the reader went away) does not count: its partitions
 * are seeked back to its first records, which makes that poll's records unconsumed, so the
 * commit on close is what the earlier writes printed. With -c the last poll may be printed
 * only in part, so then auto-commit is off and the offsets after the printed records (of the
 * writes that went through) are committed before closing.
 */
import { Command, Option } from 'commander';
import { backoffDelay, DEFAULT_BACKOFF, sleep } from '../../client/backoff.ts';
import { isRetriable, OffsetOutOfRangeError, UnknownTopicOrPartitionError } from '../../client/errors.ts';
import type { Admin } from '../../client/admin.ts';
import type { Consumer } from '../../client/consumer.ts';
import type { ConsumedRecord, Encoding, FetchedPartition, OffsetCommit, TopicDescription, TopicPartition } from '../../client/types.ts';
import { addClientOptions, runClient, type ClientContext } from '../client-options.ts';
import { compileFormat, DEFAULT_FORMAT, recordJson } from '../format.ts';
import { atMostOne, ENCODINGS, integerArg, parseTimestamp, UsageError } from '../parse.ts';
import { onStop } from '../signals.ts';
import { examples } from '../text-output.ts';

export interface ConsumeFlags {
  readonly fromBeginning?: boolean;
  readonly offset?: number;
  readonly timestamp?: string;
  readonly partition?: number;
  readonly group?: string;
  readonly count?: number;
  readonly follow?: boolean;
  readonly format?: string;
  readonly encoding?: Encoding;
  readonly json?: boolean;
}

/** Where an assigned (group-less) consumer starts in each partition. */
export type Start = 'earliest' | 'latest' | { readonly offset: number } | { readonly timestamp: number };

export interface ConsumePlan {
  readonly start: Start;
  readonly group?: string;
  readonly partition?: number;
  readonly count?: number;
  readonly follow: boolean;
  readonly encoding: Encoding;
  /** Text of one record; undefined with --json. */
  readonly format?: (record: ConsumedRecord) => string;
}

/** Long-poll wait while following (Ctrl-C is seen within it); short when draining to the end. */
const FOLLOW_WAIT_MS = 5_000;
const DRAIN_WAIT_MS = 500;
/** Retriable poll failures in a row before the command fails with the last one. */
const MAX_POLL_RETRIES = 10;
/** On Ctrl-C, how long a write held back by a full pipe may still take before it is given up. */
const STOP_WRITE_GRACE_MS = 2_000;
/** Without --follow, a member that gets no partition gives up after this long. */
const UNASSIGNED_GIVE_UP_MS = 15_000;

export function consumeCommand(): Command {
  return addClientOptions(new Command('consume'))
    .description('Print records of a topic (all partitions, or --partition), or consume as a group member (--group)')
    .argument('<topic>', 'topic to consume')
    .option('--from-beginning', 'start at the log start (with --group: where the group has no committed offset)')
    .option('--offset <n>', 'start at offset n in each partition; negative: n records before the end', integerArg(-Infinity))
    .option('--timestamp <time>', 'start at the first record at or after this time (ms since the epoch, or an ISO date)')
    .option('--partition <p>', 'only this partition', integerArg(0))
    .option('--group <group>', 'consume as a member of this group, committing what was printed')
    .option('-c, --count <n>', 'exit after n records', integerArg(1))
    .option('--follow', 'keep waiting for new records (default: exit at the end of every partition)')
    .option('-f, --format <format>', `output format: %t %p %o %k %K %s %S %T %h %%, escapes \\n \\t \\r \\\\ (default '${DEFAULT_FORMAT}')`)
    .addOption(new Option('--encoding <encoding>', 'how keys and values are fetched: string, json, base64').choices(ENCODINGS).default('string'))
    .addHelpText(
      'after',
      examples(
        'sluice consume orders --from-beginning',
        "sluice consume orders --from-beginning -f '%p:%o %k=%s\\n'",
        'sluice consume orders --group billing --follow',
        'sluice consume orders --timestamp 2024-05-01T00:00:00Z -c 10 --json',
      ),
    )
    .action((topic: string, flags: ConsumeFlags, cmd: Command) => runClient(cmd, (ctx) => consume(ctx, topic, consumePlan(flags))));
}

/** The flags' rules (pure): which start, which mode, the compiled format. */
export function consumePlan(flags: ConsumeFlags): ConsumePlan {
  atMostOne([
    ['--from-beginning', flags.fromBeginning],
    ['--offset', flags.offset],
    ['--timestamp', flags.timestamp],
  ]);
  if (flags.group !== undefined) {
    // A member starts where the group left off; positions and partitions are the group's.
    atMostOne([['--group', flags.group], ['--offset', flags.offset]]);
    atMostOne([['--group', flags.group], ['--timestamp', flags.timestamp]]);
    atMostOne([['--group', flags.group], ['--partition', flags.partition]]);
    if (flags.group.length === 0) throw new UsageError('--group needs a group id');
  }
  atMostOne([['--json', flags.json], ['--format', flags.format]]);
  const encoding = flags.encoding ?? 'string';
  const start: Start = flags.fromBeginning
    ? 'earliest'
    : flags.offset !== undefined
      ? { offset: flags.offset }
      : flags.timestamp !== undefined
        ? { timestamp: parseTimestamp(flags.timestamp, '--timestamp') }
        : 'latest';
  return {
    start,
    follow: flags.follow ?? false,
    encoding,
    ...(flags.group !== undefined ? { group: flags.group } : {}),
    ...(flags.partition !== undefined ? { partition: flags.partition } : {}),
    ...(flags.count !== undefined ? { count: flags.count } : {}),
    ...(flags.json ? {} : { format: compileFormat(flags.format ?? DEFAULT_FORMAT, encoding) }),
  };
}

const tpKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

/** The start offset of every partition for an assigned consumer. */
async function startOffsets(admin: Admin, topic: string, partitions: readonly number[], start: Start, described: TopicDescription): Promise<{ topic: string; partition: number; offset: number | 'earliest' | 'latest' }[]> {
  return Promise.all(
    partitions.map(async (partition) => {
      if (start === 'earliest' || start === 'latest') return { topic, partition, offset: start };
      if ('timestamp' in start) return { topic, partition, offset: (await admin.offsetAt(topic, partition, start.timestamp)).offset };
      const p = described.partitions.find((d) => d.partition === partition)!;
      if (start.offset < 0) return { topic, partition, offset: Math.max(p.logStartOffset, p.highWatermark + start.offset) };
      if (start.offset < p.logStartOffset || start.offset > p.highWatermark) {
        // Said here, before any fetch, with the range that would have worked.
        throw new OffsetOutOfRangeError(`--offset ${start.offset} is outside partition ${partition} of '${topic}', whose log start is ${p.logStartOffset} and high watermark ${p.highWatermark}`, {
          details: { topic, partition, logStartOffset: p.logStartOffset, highWatermark: p.highWatermark },
        });
      }
      return { topic, partition, offset: start.offset };
    }),
  );
}

/**
 * Which partitions have reached their end (kcat -e): a partition is done once a fetch answered
 * its position at that answer's high watermark. Before the first fetch, an assigned consumer
 * also counts a partition whose start is at the high watermark described at start-up.
 */
class EndTracker {
  readonly #done = new Set<string>();

  seen(fp: FetchedPartition): void {
    if (fp.nextOffset >= fp.highWatermark) this.#done.add(tpKey(fp));
  }

  startsAtEnd(tp: TopicPartition, position: number | undefined, highWatermark: number | undefined): void {
    if (position !== undefined && highWatermark !== undefined && position >= highWatermark) this.#done.add(tpKey(tp));
  }

  forget(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.#done.delete(tpKey(tp));
  }

  allDone(assigned: readonly TopicPartition[]): boolean {
    return assigned.length > 0 && assigned.every((tp) => this.#done.has(tpKey(tp)));
  }
}

/** Error codes of a write to a stdout whose reader went away (`| head`). */
const READER_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/**
 * Writes to stdout one poll at a time, each awaited until it was handed to the OS (a full pipe
 * holds it back). Notes when the reader went away (`| head`: EPIPE), after which nothing more
 * is written. A write held back by a reader that does not read can be given up (abandon).
 */
class Output {
  closed = false;
  #abandon: (() => void) | undefined;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    // The failure also reaches the write's callback; without a listener it would be thrown.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (READER_GONE.has(err.code ?? '')) this.closed = true;
    });
  }

  /** A write is under way. */
  get writing(): boolean {
    return this.#abandon !== undefined;
  }

  /** Whether `text` was written: false once the reader is gone, or abandoned. Other write errors reject. */
  write(text: string): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (text.length === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      this.#abandon = () => resolve(false);
      this.stream.write(text, (err?: Error | null) => {
        this.#abandon = undefined;
        if (err === undefined || err === null) return resolve(true);
        if (!READER_GONE.has((err as NodeJS.ErrnoException).code ?? '')) return reject(err);
        this.closed = true;
        resolve(false);
      });
    });
  }

  /** Gives up the write under way after `ms` if it has not gone through by then. */
  abandonAfter(ms: number): void {
    const abandon = this.#abandon;
    if (abandon !== undefined) setTimeout(abandon, ms).unref();
  }
}

/**
 * The next offset after the last record printed, per partition. With --group and -c the
 * consumer does not auto-commit (it would commit the whole last poll, printed or not): these
 * are committed instead.
 */
class Printed {
  readonly #next = new Map<string, OffsetCommit>();

  add(record: ConsumedRecord): void {
    this.#next.set(tpKey(record), { topic: record.topic, partition: record.partition, offset: record.offset + 1 });
  }

  offsets(assigned: readonly TopicPartition[]): OffsetCommit[] {
    const owned = new Set(assigned.map(tpKey));
    return [...this.#next.entries()].filter(([key]) => owned.has(key)).map(([, o]) => o);
  }
}

async function consume(ctx: ClientContext, topic: string, plan: ConsumePlan): Promise<void> {
  const described = await ctx.admin.describeTopic(topic);
  if (plan.partition !== undefined && plan.partition >= described.partitions.length) {
    throw new UnknownTopicOrPartitionError(`topic '${topic}' has no partition ${plan.partition} (it has ${described.partitions.length})`, { details: { topic, partition: plan.partition } });
  }
  const partitions = plan.partition !== undefined ? [plan.partition] : described.partitions.map((p) => p.partition);
  const ends = new EndTracker();
  const printed = new Printed();
  const group = plan.group;
  const commitPrinted = group !== undefined && plan.count !== undefined;

  // Loaded on demand: the admin commands and `sluice dev` start without the consumer's code.
  const { Sluice } = await import('../../client/sluice.ts');
  const sluice = new Sluice(ctx.connection);
  const consumer: Consumer = sluice.consumer({
    encoding: plan.encoding,
    autoCommit: group !== undefined && !commitPrinted,
    // A member: Kafka's console consumer's rule. Assigned: the start is resolved here, and an
    // explicit offset out of range is an error rather than a silent jump.
    autoOffsetReset: plan.start === 'earliest' ? 'earliest' : group !== undefined ? 'latest' : 'none',
    maxWaitMs: plan.follow ? FOLLOW_WAIT_MS : DRAIN_WAIT_MS,
    onRevoked: (tps) => ends.forget(tps),
  });

  const out = new Output();
  let stopping = false;
  const unregister = onStop(() => {
    stopping = true;
    // A write under way finishes first (the loop then ends), unless the reader does not read.
    if (out.writing) return out.abandonAfter(STOP_WRITE_GRACE_MS);
    // close() cuts the long poll short; the loop then ends. With commitPrinted the commit
    // must come first, so that loop ends after its poll instead.
    if (!commitPrinted) void consumer.close().catch(() => undefined);
  });

  try {
    if (group !== undefined) {
      await consumer.subscribe(group, [topic]);
    } else {
      await consumer.assign(await startOffsets(ctx.admin, topic, partitions, plan.start, described));
      for (const p of described.partitions) ends.startsAtEnd({ topic, partition: p.partition }, consumer.position({ topic, partition: p.partition }), p.highWatermark);
    }
    let count = 0;
    let failures = 0;
    let checkedAt = 0;
    let unassignedSince = Date.now();
    while (!stopping && !out.closed) {
      const assigned = consumer.assignment();
      if (!plan.follow && ends.allDone(assigned)) break;
      if (assigned.length > 0) unassignedSince = Date.now();
      else if (!plan.follow && Date.now() - unassignedSince > UNASSIGNED_GIVE_UP_MS) {
        ctx.note(`no partition of ${topic} was assigned to this member of ${group} within ${UNASSIGNED_GIVE_UP_MS / 1000} s (other members own them all)`);
        break;
      }
      let fetched: FetchedPartition[];
      try {
        fetched = await consumer.poll();
        failures = 0;
      } catch (err) {
        // poll() leaves retrying to its caller: a few times, then the failure is the answer.
        if (stopping || !isRetriable(err) || ++failures > MAX_POLL_RETRIES) throw err;
        await sleep(backoffDelay(failures, DEFAULT_BACKOFF));
        continue;
      }
      // A positioned partition the answer left out failed in a way the consumer keeps
      // retrying (a deleted topic): describe says which, at most once a second.
      const reported = new Set(fetched.map(tpKey));
      if (group === undefined && assigned.some((tp) => !reported.has(tpKey(tp))) && Date.now() - checkedAt > 1000) {
        checkedAt = Date.now();
        await ctx.admin.describeTopic(topic);
      }
      let text = '';
      const shown: ConsumedRecord[] = [];
      for (const fp of fetched) {
        for (const record of fp.records) {
          if (plan.count !== undefined && count + shown.length >= plan.count) break;
          text += plan.format ? plan.format(record) : `${JSON.stringify(recordJson(record))}\n`;
          shown.push(record);
        }
      }
      if (!(await out.write(text))) {
        // The reader went away, or a stop gave the write up: these records count as not
        // printed. A member auto-commits what each poll returned: moving its position back
        // to them keeps the commit on close at what the earlier writes printed.
        if (group !== undefined && !commitPrinted) unconsume(consumer, shown);
        break;
      }
      for (const record of shown) printed.add(record);
      count += shown.length;
      for (const fp of fetched) ends.seen(fp);
      if (plan.count !== undefined && count >= plan.count) break;
    }
    if (commitPrinted) await consumer.commit(printed.offsets(consumer.assignment()));
  } catch (err) {
    // After close() (a signal), a poll may refuse to run: that is the end, not a failure.
    if (!stopping) throw err;
  } finally {
    unregister();
    await consumer.close();
  }
}

/**
 * Seeks each partition of `records` back to its first one, so that the consumer's auto-commit
 * (at close) does not count them as consumed: a seek makes the records of the last poll stale.
 */
function unconsume(consumer: Consumer, records: readonly ConsumedRecord[]): void {
  const first = new Map<string, ConsumedRecord>();
  for (const r of records) if (!first.has(tpKey(r))) first.set(tpKey(r), r);
  for (const r of first.values()) {
    try {
      consumer.seek({ topic: r.topic, partition: r.partition, offset: r.offset });
    } catch {
      // No longer assigned: its records are not this member's to commit anyway.
    }
  }
}
