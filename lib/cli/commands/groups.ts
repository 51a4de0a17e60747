/**
 * `sluice groups list|describe|reset-offsets|delete`: consumer group admin through lib/client's
 * Admin, printed as kafka-consumer-groups would (a partition with no committed offset shows
 * `-` for its current offset and lag), or with --json in the REST API's field names.
 *
 * `reset-offsets` works on empty groups only, as the API (and Kafka) require; `--dry-run`
 * prints the offsets a reset would commit and changes nothing.
 */
import { Command } from 'commander';
import { GroupIdNotFoundError } from '../../client/errors.ts';
import type { GroupDescription, PartitionLag, ResetTo } from '../../client/types.ts';
import { addClientOptions, runClient, type ClientContext } from '../client-options.ts';
import { exactlyOne, integerArg, parseTimestamp } from '../parse.ts';
import { examples, plural, renderTable } from '../text-output.ts';

export interface ResetFlags {
  readonly topic: string;
  readonly toEarliest?: boolean;
  readonly toLatest?: boolean;
  readonly toDatetime?: string;
  readonly toOffset?: number;
  readonly dryRun?: boolean;
}

export function groupsCommand(): Command {
  const list = addClientOptions(new Command('list'))
    .description('List consumer groups with their state and member count')
    .addHelpText('after', examples('sluice groups list'))
    .action((_flags: unknown, cmd: Command) => runClient(cmd, listGroups));

  const describe = addClientOptions(new Command('describe'))
    .description("Show a group's committed offsets, lag and owning member per partition")
    .argument('<group>', 'group id')
    .addHelpText('after', examples('sluice groups describe billing', 'sluice groups describe billing --json'))
    .action((group: string, _flags: unknown, cmd: Command) => runClient(cmd, (ctx) => describeGroup(ctx, group)));

  const reset = addClientOptions(new Command('reset-offsets'))
    .description("Reset an empty group's committed offsets for every partition of a topic")
    .argument('<group>', 'group id')
    .requiredOption('--topic <topic>', 'the topic whose offsets to reset')
    .option('--to-earliest', 'to the log start offset')
    .option('--to-latest', 'to the high watermark (skip everything published so far)')
    .option('--to-datetime <time>', 'to the first offset with a timestamp at or after this ISO date (or ms since the epoch)')
    .option('--to-offset <n>', 'to this offset (clamped into [log start, high watermark])', integerArg(0))
    .option('--dry-run', 'print the offsets the reset would commit; change nothing')
    .addHelpText(
      'after',
      examples(
        'sluice groups reset-offsets billing --topic orders --to-earliest --dry-run',
        'sluice groups reset-offsets billing --topic orders --to-datetime 2024-05-01T00:00:00Z',
        'sluice groups reset-offsets billing --topic orders --to-offset 42',
      ),
    )
    .action((group: string, flags: ResetFlags, cmd: Command) => runClient(cmd, (ctx) => resetOffsets(ctx, group, flags)));

  const del = addClientOptions(new Command('delete'))
    .description('Delete an empty group and its committed offsets')
    .argument('<group>', 'group id')
    .addHelpText('after', examples('sluice groups delete billing'))
    .action((group: string, _flags: unknown, cmd: Command) => runClient(cmd, (ctx) => deleteGroup(ctx, group)));

  return new Command('groups')
    .description('List, describe, reset offsets of and delete consumer groups')
    .addCommand(list)
    .addCommand(describe)
    .addCommand(reset)
    .addCommand(del)
    .addHelpText('after', examples('sluice groups list', 'sluice groups describe billing'));
}

async function listGroups(ctx: ClientContext): Promise<void> {
  const groups = await ctx.admin.listGroups();
  if (ctx.json) return ctx.printJson({ groups });
  if (groups.length === 0) return ctx.note('no groups');
  for (const line of renderTable(['GROUP', 'STATE', 'MEMBERS'], groups.map((g) => [g.group, g.state, g.members]))) ctx.out(line);
}

/** The describe table, as kafka-consumer-groups --describe (`-` where nothing is committed). */
export function lagLines(rows: readonly PartitionLag[]): string[] {
  return renderTable(
    ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'MEMBER'],
    rows.map((r) => [r.topic, r.partition, r.offset, r.highWatermark, r.lag, r.memberId]),
  );
}

async function describeGroup(ctx: ClientContext, group: string): Promise<void> {
  // A group with only committed offsets may not be describable on its own; its lag still is.
  const [rows, description] = await Promise.all([
    ctx.admin.groupLag(group),
    ctx.admin.describeGroup(group).catch((err: unknown): GroupDescription | undefined => {
      if (err instanceof GroupIdNotFoundError) return undefined;
      throw err;
    }),
  ]);
  const state = description?.state ?? 'Empty';
  const members = description?.members.length ?? 0;
  if (ctx.json) return ctx.printJson({ group, state, members, offsets: rows });
  ctx.out(`group ${group}  state ${state}  ${plural(members, 'member')}`);
  ctx.out('');
  for (const line of lagLines(rows)) ctx.out(line);
}

/** The reset target of the --to-* flags (exactly one). */
export function resetTarget(flags: Omit<ResetFlags, 'topic' | 'dryRun'>): ResetTo {
  exactlyOne([
    ['--to-earliest', flags.toEarliest],
    ['--to-latest', flags.toLatest],
    ['--to-datetime', flags.toDatetime],
    ['--to-offset', flags.toOffset],
  ]);
  if (flags.toEarliest) return 'earliest';
  if (flags.toLatest) return 'latest';
  if (flags.toDatetime !== undefined) return { timestamp: parseTimestamp(flags.toDatetime, '--to-datetime') };
  return { offset: flags.toOffset! };
}

async function resetOffsets(ctx: ClientContext, group: string, flags: ResetFlags): Promise<void> {
  const to = resetTarget(flags);
  const dryRun = flags.dryRun ?? false;
  const offsets = await ctx.admin.resetOffsets(group, flags.topic, to, { dryRun });
  if (ctx.json) return ctx.printJson({ group, topic: flags.topic, dryRun, offsets });
  const rows = [...offsets].sort((a, b) => a.partition - b.partition).map((o) => [group, o.topic, o.partition, o.offset]);
  for (const line of renderTable(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], rows)) ctx.out(line);
  if (dryRun) ctx.note('dry run: no offsets were changed (run without --dry-run to apply)');
}

async function deleteGroup(ctx: ClientContext, group: string): Promise<void> {
  await ctx.admin.deleteGroup(group);
  if (ctx.json) return ctx.printJson({ group, deleted: true });
  ctx.out(`deleted group ${group}`);
}
