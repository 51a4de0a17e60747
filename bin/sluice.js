#!/usr/bin/env node
// Launcher for the `sluice` command: runs lib/cli/main.ts under tsx in a child Node process,
// forwarding arguments, signals and the exit status. (The CLI stays TypeScript; no build step.)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const main = fileURLToPath(new URL('../lib/cli/main.ts', import.meta.url));
// Resolve tsx from this package, so the launcher works from any working directory.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const child = spawn(process.execPath, ['--import', tsx, main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});

const forward = (signal) => {
  // A terminal's Ctrl-C signals the whole process group, so it reached the child already; the
  // launcher cannot tell that from a signal sent to it alone (`kill -INT <pid>`), so it
  // forwards anyway. The CLI takes the copy arriving within 1 s of the first for the same
  // request (lib/cli/signals.ts): one Ctrl-C stops cleanly, a second one exits at once.
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);

child.on('error', (err) => {
  console.error(`sluice: cannot start node: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
