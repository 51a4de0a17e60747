/**
 * What every client command (topics, produce, consume, groups, cluster) shares: the connection
 * flags, the output helpers, and how a failure becomes one line on stderr and an exit code.
 *
 *   --url     env SLUICE_URL, default http://localhost:8080 (`npm start`)
 *   --token   env SLUICE_TOKEN: a bearer token (a server started with SLUICE_AUTH_TOKEN)
 *   --sigv4 [--region R]   SigV4-signed requests for a deployed stack with IAM auth; region
 *             from --region, else AWS_REGION / AWS_DEFAULT_REGION; credentials from the AWS
 *             SDK's default chain (env, profile, SSO, instance role)
 *   --json    machine output with the REST API's field names
 *
 * Exit codes: 0 success; 1 a failed operation (`sluice: <CODE>: <message>`, CODE being the
 * server's Kafka error name, or NETWORK_ERROR when the URL could not be reached); 2 a usage
 * error (`sluice: usage: <message>`), commander's own (unknown flag, missing argument, bad
 * value) included: `configureUsageErrors` makes them one line and exit 2 (commander's default
 * is several lines and exit 1).
 *
 * Everything goes through lib/client, i.e. the public REST API.
 */
import { Command, CommanderError } from 'commander';
import { Admin } from '../client/admin.ts';
import { NetworkError, SluiceClientError } from '../client/errors.ts';
import { Transport, type ConnectionOptions } from '../client/transport.ts';
import { UsageError } from './parse.ts';

export { UsageError };

export const DEFAULT_URL = 'http://localhost:8080';

export interface ClientFlags {
  readonly url?: string;
  readonly token?: string;
  readonly sigv4?: boolean;
  readonly region?: string;
  readonly json?: boolean;
}

/** Adds the connection flags and --json to a client command. */
export function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', `Sluice API URL (env SLUICE_URL, default ${DEFAULT_URL})`)
    .option('--token <token>', 'bearer token (env SLUICE_TOKEN)')
    .option('--sigv4', "sign requests with AWS SigV4 (a deployed stack with IAM auth; the AWS SDK's default credentials)")
    .option('--region <region>', 'AWS region for --sigv4 (env AWS_REGION, else AWS_DEFAULT_REGION)')
    .option('--json', "machine-readable output: JSON with the REST API's field names");
}

/** Connection options from the flags, falling back to the environment. */
export function connectionOptions(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  const url = flags.url ?? env.SLUICE_URL ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/]/i.test(url)) throw new UsageError(`--url must be an http:// or https:// URL, got '${url}'`);
  if (flags.sigv4) {
    const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (region === undefined || region === '') throw new UsageError('--sigv4 needs a region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)');
    // Both, for a stack deployed with auth 'both': the token then goes in X-Sluice-Token. Only
    // the flag counts here: an SLUICE_TOKEN left in the environment must not change a SigV4 call.
    return flags.token === undefined ? { url, sigv4: { region } } : { url, sigv4: { region }, token: flags.token };
  }
  if (flags.region !== undefined) throw new UsageError('--region only applies with --sigv4');
  // The environment's token counts only without --sigv4: a flag wins over the environment.
  const token = flags.token ?? (env.SLUICE_TOKEN === '' ? undefined : env.SLUICE_TOKEN);
  return token === undefined ? { url } : { url, token };
}

/** What a client command's action gets. */
export interface ClientContext {
  readonly connection: ConnectionOptions;
  readonly url: string;
  readonly admin: Admin;
  readonly json: boolean;
  /** One line on stdout. */
  out(line: string): void;
  /** One line on stderr (notes and summaries: stdout stays the data). */
  note(line: string): void;
  /** One JSON value as one line on stdout. */
  printJson(value: unknown): void;
}

export function clientContext(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): ClientContext {
  const connection = connectionOptions(flags, env);
  return {
    connection,
    url: connection.url,
    admin: new Admin(new Transport(connection)),
    json: flags.json ?? false,
    out: (line) => void process.stdout.write(`${line}\n`),
    note: (line) => void process.stderr.write(`${line}\n`),
    printJson: (value) => void process.stdout.write(`${JSON.stringify(value)}\n`),
  };
}

/** A failure already said as its one line, with the exit code it ends with. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  constructor(
    line: string,
    readonly exitCode: number,
  ) {
    super(line);
  }
}

const oneLine = (text: string): string => text.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/** The innermost cause's message, where fetch hides it ("fetch failed" → "connect ECONNREFUSED ..."). */
function rootCause(err: unknown): string | undefined {
  let cause: unknown = err;
  let message: string | undefined;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    message = cause.message;
    cause = cause.cause;
  }
  return message;
}

/** The stderr line and exit code for an error thrown by a client command. */
export function describeFailure(err: unknown, url: string | undefined): { line: string; exitCode: number } {
  if (err instanceof CliFailure) return { line: err.message, exitCode: err.exitCode };
  if (err instanceof UsageError) return { line: `sluice: usage: ${oneLine(err.message)}`, exitCode: 2 };
  if (err instanceof NetworkError) {
    const timedOut = /no answer within/.test(err.message);
    const detail = timedOut ? err.message : (rootCause(err.cause) ?? err.message);
    const where = url === undefined ? 'the server' : url;
    return { line: `sluice: ${err.code}: ${timedOut ? '' : `could not reach ${where}: `}${oneLine(detail)}`, exitCode: 1 };
  }
  if (err instanceof SluiceClientError) return { line: `sluice: ${err.code}: ${oneLine(err.message)}`, exitCode: 1 };
  const detail = err instanceof Error ? (process.env.SLUICE_DEBUG ? (err.stack ?? err.message) : oneLine(err.message)) : String(err);
  return { line: `sluice: ${detail}`, exitCode: 1 };
}

/**
 * Runs a client command's body with its context. Every failure is rethrown as a CliFailure
 * (its line and exit code), which lib/cli/main.ts prints.
 */
export async function runClient(cmd: Command, body: (ctx: ClientContext) => Promise<void>): Promise<void> {
  const flags = cmd.opts<ClientFlags>();
  let url: string | undefined;
  try {
    const ctx = clientContext(flags);
    url = ctx.url;
    await body(ctx);
  } catch (err) {
    const { line, exitCode } = describeFailure(err, url);
    throw new CliFailure(line, exitCode);
  }
}

/** `sluice topics create` for the command `create` under `topics` under the root. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * commander's usage errors as one line and exit code 2, on `root` and every command below it:
 * commander raises them in the command that parsed the arguments, so each needs the setting.
 * Errors arrive in main.ts as CommanderError (exitOverride) and are not printed again there.
 *
 * A command made only of subcommands (`sluice topics`) given none would print its whole help
 * as an error; below the root that is one usage line naming the subcommands instead. The root
 * alone (`sluice`) still prints its help, on stderr, with exit code 2.
 */
export function configureUsageErrors(root: Command): Command {
  const visit = (cmd: Command): void => {
    cmd
      .exitOverride()
      .showHelpAfterError(false)
      .configureOutput({
        outputError: (text, write) => {
          const message = oneLine(text.replace(/^error: /, ''));
          const hint = /Did you mean/.test(message) ? '' : ` (see '${commandPath(cmd)} --help')`;
          write(`sluice: usage: ${message}${hint}\n`);
        },
      });
    if (cmd !== root && cmd.commands.length > 0) needsSubcommand(cmd);
    for (const sub of cmd.commands) visit(sub);
  };
  visit(root);
  return root;
}

/**
 * commander calls help({ error: true }) for exactly one thing: a command with subcommands and
 * no action of its own was given no subcommand. That becomes a one-line usage error.
 */
function needsSubcommand(cmd: Command): void {
  const help = cmd.help.bind(cmd) as (context?: { error: boolean }) => never;
  cmd.help = ((context?: { error: boolean }) => {
    if (context?.error !== true) return help(context);
    const names = cmd.commands.map((c) => c.name()).filter((name) => name !== 'help');
    return cmd.error(`'${commandPath(cmd)}' needs a command: ${names.join(', ')}`, { code: 'sluice.missingSubcommand', exitCode: 2 });
  }) as Command['help'];
}

/** The exit code for a CommanderError: 0 for --help and --version, else 2 (usage). */
export function commanderExitCode(err: CommanderError): number {
  return err.exitCode === 0 ? 0 : 2;
}
