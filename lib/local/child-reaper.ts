/**
 * Child processes die with their parent, and get a chance to stop cleanly first.
 *
 * Every long-lived child we spawn (DynamoDB Local's JVM) is registered here. Three layers,
 * so that no JVM is ever left behind:
 *   1. `process.on('exit')` sends every live child SIGTERM synchronously (exit handlers cannot
 *      await); the watchdog of layer 3 sends SIGKILL if the child is still there after the grace
 *      period. A child without a watchdog (Windows, or `sh` failed to start) gets SIGKILL.
 *   2. SIGINT/SIGTERM/SIGHUP: if nobody else listens (a library user, a test runner that does
 *      not handle signals), do what layer 1 does and re-raise the signal so the default
 *      behaviour (terminate) still happens. When someone else listens (`sluice dev` stops
 *      gracefully), we stay out of the way; their shutdown calls `stop()` and layer 1 backs it.
 *   3. A watchdog: a tiny `sh` per child that blocks reading a pipe from us. When this process
 *      dies for any reason, even SIGKILL where no handler runs, the pipe closes and the
 *      watchdog sends the child SIGTERM, waits up to `REAP_GRACE_MS` for it to exit, then
 *      SIGKILLs it. Not on Windows (no `sh`); layers 1-2 still apply there.
 *
 * Why SIGTERM first: DynamoDB Local acknowledges a TransactWriteItems before its SQLite COMMIT
 * has run (the COMMIT is queued to its database thread and not awaited). A SIGKILL right after
 * the acknowledgement can lose that transaction; a SIGTERM lets the JVM run what is queued
 * before it exits. The grace is short: the JVM exits on SIGTERM in well under a second.
 *
 * Children are spawned with `detached: false`, so a Ctrl-C in a terminal (sent to the whole
 * foreground process group) reaches them too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** How long a reaped child gets between SIGTERM and SIGKILL. */
export const REAP_GRACE_MS = 3_000;

/** Live children; the value says whether a watchdog guards it (and will escalate to SIGKILL). */
const live = new Map<ChildProcess, { guarded: boolean }>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/** SIGTERM to guarded children (their watchdog escalates), SIGKILL to the others. */
function terminateAllSync(): void {
  for (const [child, { guarded }] of live) {
    try {
      child.kill(guarded ? 'SIGTERM' : 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', terminateAllSync);
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      terminateAllSync();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * `read` returns at EOF, i.e. when our end of the pipe closes (this process died). Then:
 * SIGTERM; poll every 0.1 s while the child exists, at most $2 times; SIGKILL. A child that
 * exited and was reaped fails `kill -0` and ends the wait at once (a zombie waits the full
 * grace, and SIGKILL to a zombie is harmless).
 */
const WATCHDOG_SCRIPT = [
  'read _',
  'kill -TERM "$1" 2>/dev/null || exit 0',
  'i=0',
  'while [ "$i" -lt "$2" ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done',
  'kill -KILL "$1" 2>/dev/null',
].join('\n');

function startWatchdog(pid: number, graceMs: number): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  const ticks = Math.max(1, Math.ceil(graceMs / 100));
  const watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'sluice-reaper', String(pid), String(ticks)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true, // its own process group: a terminal Ctrl-C must not kill the guard early
  });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  return watchdog.pid === undefined ? undefined : watchdog;
}

export interface ReapOptions {
  /** SIGTERM-to-SIGKILL grace when the watchdog reaps the child. Default `REAP_GRACE_MS`. */
  readonly graceMs?: number;
}

/**
 * Registers `child` so it is stopped (SIGTERM, then SIGKILL after a grace period) when this
 * process exits or is killed.
 */
export function reapOnExit(child: ChildProcess, opts: ReapOptions = {}): void {
  if (child.pid === undefined) return;
  install();
  const watchdog = startWatchdog(child.pid, opts.graceMs ?? REAP_GRACE_MS);
  live.set(child, { guarded: watchdog !== undefined });
  child.once('exit', () => {
    live.delete(child);
    // The pid may be reused once the child is gone: disarm the watchdog first.
    watchdog?.kill('SIGKILL');
  });
}
