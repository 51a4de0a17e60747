/**
 * `sluice tokens create|list|revoke`: bearer tokens and their ACLs (docs/API.md "Tokens and
 * ACLs") through lib/client's Admin. Every subcommand needs an admin token (--token or
 * SLUICE_TOKEN). `create` prints the new token once, on stdout alone (so
 * `TOKEN=$(sluice tokens create ...)` works); the server keeps only its hash.
 */
import { Command } from 'commander';
import { addClientOptions, runClient, type ClientContext } from '../client-options.ts';
import { collect } from '../parse.ts';
import { examples, renderTable } from '../text-output.ts';

interface CreateFlags {
  readonly name: string;
  readonly allow: readonly string[];
}

export function tokensCommand(): Command {
  const create = addClientOptions(new Command('create'))
    .description('Create a bearer token with an ACL; prints the token (shown only this once)')
    .requiredOption('--name <name>', 'a unique name (1-255 printable characters)')
    .requiredOption('--allow <entry>', 'an ACL entry, repeatable: produce:P, fetch:P, group:P (P a name, or a prefix ending in *), admin', collect)
    .addHelpText(
      'after',
      examples(
        "sluice tokens create --name billing-svc --allow 'produce:orders*' --allow 'fetch:payments' --allow 'group:billing-*'",
        'sluice tokens create --name ops --allow admin --json',
        'export SLUICE_TOKEN=$(sluice tokens create --name reader --allow "fetch:*" --allow "group:*")',
      ),
    )
    .action((flags: CreateFlags, cmd: Command) => runClient(cmd, (ctx) => createToken(ctx, flags)));

  const list = addClientOptions(new Command('list'))
    .description('List tokens: name, ACL and creation time (never the tokens themselves)')
    .addHelpText('after', examples('sluice tokens list', 'sluice tokens list --json'))
    .action((_flags: unknown, cmd: Command) => runClient(cmd, listTokens));

  const revoke = addClientOptions(new Command('revoke'))
    .description('Revoke a token: it stops working within 5 seconds')
    .argument('<name>', 'the token name')
    .addHelpText('after', examples('sluice tokens revoke billing-svc'))
    .action((name: string, _flags: unknown, cmd: Command) => runClient(cmd, (ctx) => revokeToken(ctx, name)));

  return new Command('tokens')
    .description('Create, list and revoke bearer tokens (needs an admin token)')
    .addCommand(create)
    .addCommand(list)
    .addCommand(revoke)
    .addHelpText('after', examples("sluice tokens create --name ci --allow 'fetch:*'", 'sluice tokens list', 'sluice tokens revoke ci'));
}

async function createToken(ctx: ClientContext, flags: CreateFlags): Promise<void> {
  const created = await ctx.admin.createToken({ name: flags.name, allow: flags.allow });
  if (ctx.json) return ctx.printJson(created);
  ctx.out(created.token);
  ctx.note(`created token ${created.name}: it is shown only now; store it safely`);
}

async function listTokens(ctx: ClientContext): Promise<void> {
  const tokens = await ctx.admin.listTokens();
  if (ctx.json) return ctx.printJson({ tokens });
  if (tokens.length === 0) return ctx.note('no tokens');
  const rows = tokens.map((t) => [t.name, new Date(t.createdAt).toISOString(), t.allow.join(' ')]);
  for (const line of renderTable(['NAME', 'CREATED', 'ALLOW'], rows)) ctx.out(line);
}

async function revokeToken(ctx: ClientContext, name: string): Promise<void> {
  await ctx.admin.revokeToken(name);
  if (ctx.json) return ctx.printJson({ name, revoked: true });
  ctx.out(`revoked token ${name}`);
}
