/**
 * The `sluice` command. Run through bin/sluice.js (tsx) or `npm start` (= `sluice dev`).
 */
import { Command, Option } from 'commander';
import { DEV_DEFAULTS, devOptions, runDev } from './dev.ts';

export function buildProgram(): Command {
  const program = new Command('sluice').description('Sluice: a serverless log with Kafka semantics on AWS');
  program
    .command('dev')
    .description('Run the HTTP API locally (DynamoDB Local + s3rver by default; data kept across restarts)')
    .addOption(
      new Option('--backend <backend>', 'where data lives').choices(['local', 'localstack', 'aws']).default('local'),
    )
    .option('--port <n>', `HTTP port (env PORT, default ${DEV_DEFAULTS.port})`)
    .option('--host <host>', `interface to listen on (default ${DEV_DEFAULTS.host})`)
    .option('--data-dir <dir>', `local backend data directory (env SLUICE_DATA_DIR, default ./${DEV_DEFAULTS.dataDir})`)
    .action(async (flags: { backend?: string; port?: string; host?: string; dataDir?: string }) => {
      process.exitCode = await runDev(devOptions(flags));
    });
  return program;
}

async function main(argv: readonly string[]): Promise<void> {
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

await main(process.argv);
