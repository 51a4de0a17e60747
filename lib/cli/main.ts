/**
 * The `sluice` command: the root lists the subcommands, each in its own file under commands/
 * with its arguments, delegating to the library (lib/local, lib/env.ts, lib/api). Run through
 * bin/sluice.js (tsx) or `npm start` (= `sluice dev`).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { SLUICE_VERSION } from '../version.ts';
import { devCommand } from './commands/dev.ts';
import { maintenanceCommand } from './commands/maintenance.ts';

export function buildProgram(): Command {
  return new Command('sluice')
    .description('Sluice: a serverless log with Kafka semantics on AWS')
    .version(SLUICE_VERSION, '-V, --version', 'print the version')
    .addCommand(devCommand())
    .addCommand(maintenanceCommand());
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    // Startup failures are usually configuration (Java, ports, env): the message says what to
    // do, a stack trace would only bury it. SLUICE_DEBUG=1 shows the stack.
    const detail = err instanceof Error && process.env.SLUICE_DEBUG ? err.stack : undefined;
    const message = err instanceof Error ? err.message : String(err);
    console.error(`sluice: ${detail ?? message}`);
    process.exitCode = 1;
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
