/**
 * Notices when the `npm` that started us is gone.
 *
 * `npm start` runs `sh -c "tsx lib/cli/main.ts dev"`. On SIGTERM npm forwards the signal to
 * that `sh` only; `sh` dies without passing it on, and the dev server (with its JVM) would
 * live on as an orphan. So when we run under npm (npm_lifecycle_event is set), we find the
 * npm process among our nearest ancestors and poll it; when it disappears we shut down as if
 * we had been sent SIGTERM. Ctrl-C in a terminal does not need this (it reaches every
 * process of the foreground group).
 */
import { execFileSync } from 'node:child_process';

const MAX_DEPTH = 6;

function parentOf(pid: number): { ppid: number; args: string } | undefined {
  try {
    const line = execFileSync('ps', ['-o', 'ppid=,args=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const match = /^(\d+)\s+(.*)$/.exec(line);
    return match ? { ppid: Number(match[1]), args: match[2] ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the `npm` process that (indirectly) started this one, if any. */
export function findNpmAncestor(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (env.npm_lifecycle_event === undefined || process.platform === 'win32') return undefined;
  let pid = process.ppid;
  for (let depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
    const info = parentOf(pid);
    if (info === undefined) return undefined;
    // npm sets its process title to e.g. "npm start"; older ones show ".../npm-cli.js start".
    if (/(^|[\s/])npm(-cli\.js)?(\s|$)/.test(info.args)) return pid;
    pid = info.ppid;
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Calls `onGone` once when the npm ancestor exits; returns a function that stops watching. */
export function watchNpmAncestor(onGone: () => void, intervalMs = 500): () => void {
  const pid = findNpmAncestor();
  if (pid === undefined) return () => undefined;
  const timer = setInterval(() => {
    if (alive(pid)) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
