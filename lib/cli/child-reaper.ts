/**
 * Child processes die with their parent.
 *
 * Every long-lived child we spawn (DynamoDB Local's JVM) is registered here. Three layers,
 * so that no JVM is ever left behind:
 *   1. `process.on('exit')` SIGKILLs every live child synchronously (exit handlers cannot await).
 *   2. SIGINT/SIGTERM/SIGHUP: if nobody else listens (a library user, a test runner that does
 *      not handle signals), kill the children and re-raise the signal so the default
 *      behaviour (terminate) still happens. When someone else listens (`sluice dev` stops
 *      gracefully), we stay out of the way; their shutdown calls `stop()` and layer 1 backs it.
 *   3. A watchdog: a tiny `sh` per child that blocks reading a pipe from us. When this process
 *      dies for any reason, even SIGKILL where no handler runs, the pipe closes and the
 *      watchdog SIGKILLs the child. Not on Windows (no `sh`); layers 1-2 still apply there.
 *
 * Children are spawned with `detached: false`, so a Ctrl-C in a terminal (sent to the whole
 * foreground process group) reaches them too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

const live = new Set<ChildProcess>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllSync);
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      killAllSync();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function startWatchdog(pid: number): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  // `read` returns at EOF, i.e. when our end of the pipe closes (this process died).
  const watchdog = spawn('sh', ['-c', 'read _; kill -KILL "$1" 2>/dev/null', 'sluice-reaper', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true, // its own process group: a terminal Ctrl-C must not kill the guard early
  });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  return watchdog;
}

/** Registers `child` so it is killed when this process exits or is killed. */
export function reapOnExit(child: ChildProcess): void {
  if (child.pid === undefined) return;
  install();
  live.add(child);
  const watchdog = startWatchdog(child.pid);
  child.once('exit', () => {
    live.delete(child);
    // The pid may be reused once the child is gone: disarm the watchdog first.
    watchdog?.kill('SIGKILL');
  });
}
