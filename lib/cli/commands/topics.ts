/**
 * `sluice topics create|list|describe|alter|delete`: the topic admin operations of the REST
 * API (docs/API.md "Topics") through lib/client's Admin, printed as kafka-topics would, or with
 * --json as the API answers them.
 *
 * `alter` resets a config key to its default with `--config k=` (empty value) or
 * `--delete-config k`: both send null, the API's incrementalAlterConfigs DELETE.
 */
import { Command } from 'commander';
import type { TopicConfig, TopicDescription } from '../../client/types.ts';
import { addClientOptions, runClient, UsageError, type ClientContext } from '../client-options.ts';
import { collect, integerArg, parseAlterConfig, parseCreateConfig } from '../parse.ts';
import { examples, plural, renderTable } from '../text-output.ts';

interface CreateFlags {
  readonly partitions?: number;
  readonly config?: string[];
}

interface AlterFlags extends CreateFlags {
  readonly deleteConfig?: string[];
}

export function topicsCommand(): Command {
  const create = addClientOptions(new Command('create'))
    .description('Create a topic')
    .argument('<name>', 'topic name: 1-249 characters of [a-zA-Z0-9._-]')
    .option('--partitions <n>', 'number of partitions (default 1)', integerArg(1))
    .option('--config <key=value>', 'topic config, repeatable (retention.ms, cleanup.policy, ...)', collect)
    .addHelpText('after', examples('sluice topics create orders --partitions 3', 'sluice topics create audit --config retention.ms=86400000 --config cleanup.policy=compact'))
    .action((name: string, flags: CreateFlags, cmd: Command) => runClient(cmd, (ctx) => createTopic(ctx, name, flags)));

  const list = addClientOptions(new Command('list'))
    .description('List topics (name, partitions, topic id)')
    .addHelpText('after', examples('sluice topics list', 'sluice topics list --json'))
    .action((_flags: unknown, cmd: Command) => runClient(cmd, listTopics));

  const describe = addClientOptions(new Command('describe'))
    .description("Describe a topic: every partition's offsets and stored size, and the effective config")
    .argument('<name>', 'topic name')
    .addHelpText('after', examples('sluice topics describe orders', 'sluice topics describe orders --json'))
    .action((name: string, _flags: unknown, cmd: Command) => runClient(cmd, (ctx) => describeTopic(ctx, name)));

  const alter = addClientOptions(new Command('alter'))
    .description('Add partitions or change config (config changes merge into the current config)')
    .argument('<name>', 'topic name')
    .option('--partitions <n>', 'new partition count (may only grow)', integerArg(1))
    .option('--config <key=value>', 'set a config key, repeatable; an empty value (key=) resets it to its default', collect)
    .option('--delete-config <key>', 'reset a config key to its default, repeatable', collect)
    .addHelpText(
      'after',
      examples('sluice topics alter orders --partitions 6', 'sluice topics alter orders --config retention.ms=3600000', 'sluice topics alter orders --delete-config retention.ms'),
    )
    .action((name: string, flags: AlterFlags, cmd: Command) => runClient(cmd, (ctx) => alterTopic(ctx, name, flags)));

  const del = addClientOptions(new Command('delete'))
    .description("Delete a topic (its data is removed in the background)")
    .argument('<name>', 'topic name')
    .addHelpText('after', examples('sluice topics delete orders'))
    .action((name: string, _flags: unknown, cmd: Command) => runClient(cmd, (ctx) => deleteTopic(ctx, name)));

  return new Command('topics')
    .description('Create, list, describe, alter and delete topics')
    .addCommand(create)
    .addCommand(list)
    .addCommand(describe)
    .addCommand(alter)
    .addCommand(del)
    .addHelpText('after', examples('sluice topics create orders --partitions 3', 'sluice topics list'));
}

async function createTopic(ctx: ClientContext, name: string, flags: CreateFlags): Promise<void> {
  const config = parseCreateConfig(flags.config);
  const created = await ctx.admin.createTopic({
    name,
    ...(flags.partitions !== undefined ? { partitions: flags.partitions } : {}),
    ...(Object.keys(config).length > 0 ? { config } : {}),
  });
  if (ctx.json) return ctx.printJson(created);
  ctx.out(`created topic ${created.name} (${plural(created.partitions, 'partition')})`);
}

async function listTopics(ctx: ClientContext): Promise<void> {
  const topics = await ctx.admin.listTopics();
  if (ctx.json) return ctx.printJson({ topics });
  if (topics.length === 0) return ctx.note('no topics');
  for (const line of renderTable(['NAME', 'PARTITIONS', 'TOPIC-ID'], topics.map((t) => [t.name, t.partitions, t.topicId]))) ctx.out(line);
}

/** The describe text: a summary line, the partitions table, then the config. */
export function describeLines(d: TopicDescription): string[] {
  return [
    `topic ${d.name}  id ${d.topicId}  ${plural(d.partitions.length, 'partition')}`,
    '',
    ...renderTable(
      ['PARTITION', 'LOG-START-OFFSET', 'HIGH-WATERMARK', 'SIZE-BYTES', 'SEGMENTS'],
      d.partitions.map((p) => [p.partition, p.logStartOffset, p.highWatermark, p.sizeBytes, p.segments]),
    ),
    '',
    'config:',
    ...configLines(d.config),
  ];
}

function configLines(config: TopicConfig): string[] {
  return renderTable(['KEY', 'VALUE'], Object.keys(config).sort().map((k) => [k, String(config[k])])).slice(1).map((l) => `  ${l}`);
}

async function describeTopic(ctx: ClientContext, name: string): Promise<void> {
  const described = await ctx.admin.describeTopic(name);
  if (ctx.json) return ctx.printJson(described);
  for (const line of describeLines(described)) ctx.out(line);
}

async function alterTopic(ctx: ClientContext, name: string, flags: AlterFlags): Promise<void> {
  const config = parseAlterConfig(flags.config, flags.deleteConfig);
  const keys = Object.keys(config);
  if (flags.partitions === undefined && keys.length === 0) throw new UsageError('nothing to alter: give --partitions, --config or --delete-config');
  const altered = await ctx.admin.alterTopic(name, {
    ...(flags.partitions !== undefined ? { partitions: flags.partitions } : {}),
    ...(keys.length > 0 ? { config } : {}),
  });
  if (ctx.json) return ctx.printJson(altered);
  const changes = keys.sort().map((k) => `${k}=${String(altered.config[k])}${config[k] === null ? ' (default)' : ''}`);
  ctx.out(`altered topic ${altered.name}: ${[plural(altered.partitions, 'partition'), ...changes].join(', ')}`);
}

async function deleteTopic(ctx: ClientContext, name: string): Promise<void> {
  await ctx.admin.deleteTopic(name);
  if (ctx.json) return ctx.printJson({ name, deleted: true });
  ctx.out(`deleted topic ${name}`);
}
