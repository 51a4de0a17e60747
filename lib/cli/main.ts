/**
 * The `sluice` command: the root lists the subcommands, each in its own file under commands/
 * with its arguments. `dev` and `maintenance` delegate to the library (lib/local, lib/env.ts,
 * lib/api); the client commands (topics, produce, consume, groups, cluster, tokens) go through
 * lib/client, the public REST API, with their shared flags and exit codes in client-options.ts.
 * Run through bin/sluice.js (tsx) or `npm start` (= `sluice dev`).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { SLUICE_VERSION } from '../version.ts';
import { CliFailure, commanderExitCode, configureUsageErrors } from './client-options.ts';
import { clusterCommand } from './commands/cluster.ts';
import { consumeCommand } from './commands/consume.ts';
import { groupsCommand } from './commands/groups.ts';
import { produceCommand } from './commands/produce.ts';
import { tokensCommand } from './commands/tokens.ts';
import { topicsCommand } from './commands/topics.ts';

const ROOT_HELP = `
Exit codes: 0 success, 1 a failed operation (one line: sluice: <CODE>: <message>), 2 a usage error.
Client commands connect to --url (env SLUICE_URL, default http://localhost:8080); see docs/CLI.md.

Examples:
  sluice dev
  sluice topics create orders --partitions 3
  seq 1 100 | sluice produce orders
  sluice consume orders --from-beginning
`;

/** The commands that only talk to a server over the REST API. */
export const CLIENT_COMMANDS: readonly string[] = ['topics', 'produce', 'consume', 'groups', 'cluster', 'tokens'];

/**
 * The program. `dev` and `maintenance` are loaded on demand (dynamic imports): their modules
 * pull in the server, the AWS SDK and the emulators, about half a second of start-up that a
 * client command (`sluice consume ...` in a loop or a pipe) should not pay. `server: false`
 * leaves them out, for a command line that names a client command.
 */
export async function buildProgram(opts: { server?: boolean } = {}): Promise<Command> {
  const program = new Command('sluice')
    .description('Sluice: a serverless log with Kafka semantics on AWS')
    .version(SLUICE_VERSION, '-V, --version', 'print the version');
  if (opts.server ?? true) {
    const [{ devCommand }, { maintenanceCommand }] = await Promise.all([import('./commands/dev.ts'), import('./commands/maintenance.ts')]);
    program.addCommand(devCommand()).addCommand(maintenanceCommand());
  }
  program
    .addCommand(topicsCommand())
    .addCommand(produceCommand())
    .addCommand(consumeCommand())
    .addCommand(groupsCommand())
    .addCommand(clusterCommand())
    .addCommand(tokensCommand())
    .addHelpText('after', ROOT_HELP);
  return configureUsageErrors(program);
}

export async function main(argv: readonly string[]): Promise<void> {
  // A reader that went away (`sluice topics list | head -1`) fails writes with EPIPE, emitted
  // as an 'error' that would otherwise crash with a stack: what is left is dropped instead.
  // (consume notices it and stops: commands/consume.ts.)
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') throw err;
  });
  try {
    const program = await buildProgram({ server: !CLIENT_COMMANDS.includes(argv[2] ?? '') });
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Already printed: help, the version, or a one-line usage error (client-options.ts).
      process.exitCode = commanderExitCode(err);
    } else if (err instanceof CliFailure) {
      // A client command's failure, already said as its one line (none for an interrupt).
      if (err.message !== '') console.error(err.message);
      process.exitCode = err.exitCode;
    } else {
      // Startup failures are usually configuration (Java, ports, env): the message says what to
      // do, a stack trace would only bury it. SLUICE_DEBUG=1 shows the stack.
      const detail = err instanceof Error && process.env.SLUICE_DEBUG ? err.stack : undefined;
      const message = err instanceof Error ? err.message : String(err);
      console.error(`sluice: ${detail ?? message}`);
      process.exitCode = 1;
    }
  }
  // Exit explicitly: SDK sockets or timers must not keep a stopped dev server alive.
  process.exit();
}

/** True when this file is the process's entry script (not imported, e.g. by a test). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) await main(process.argv);
