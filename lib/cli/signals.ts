/**
 * Ctrl-C for the commands that stop cleanly (produce, consume, maintenance run).
 *
 * bin/sluice.js runs the CLI in its own process, so a terminal's Ctrl-C arrives here once. But
 * a wrapper that forwards signals to its child (`npx sluice`, `npm exec`, a process manager)
 * is in the terminal's process group too: it gets the Ctrl-C and forwards it, so one Ctrl-C
 * can arrive TWICE, milliseconds apart, and nothing tells a forwarded copy from a second
 * keypress. The rule, for SIGINT and SIGTERM alike:
 * The rule, for SIGINT and SIGTERM alike:
 *
 *  - the first signal asks the command to stop cleanly (its `onStop` handler);
 *  - one more within SAME_REQUEST_MS of it is taken for the same request, and ignored;
 *  - any further one (a real second Ctrl-C) exits at once,
 *    by the signal (the shell sees 130 for SIGINT, 143 for SIGTERM).
 *
 * Once a command has asked for this, it holds for the rest of the process (a late copy that
 * arrives after the command's handler is gone, while it prints its summary, is still ignored).
 * A signal with no handler registered (and none before) exits at once, as Node's default would.
 */
import { constants } from 'node:os';

/** How long after a stop signal one more is taken as the same request. */
export const SAME_REQUEST_MS = 1000;

export type StopHandler = (signal: NodeJS.Signals) => void;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** The exit status of a process ended by `signal` (128 + its number), as shells report it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** The rule above, on its own (the clock and the forced exit injectable, for tests). */
export class StopSignals {
  #handler: StopHandler | undefined;
  #firstAt: number | undefined;
  #ignored = 0;

  constructor(
    private readonly exit: (signal: NodeJS.Signals) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** `fn` is called on the first stop signal; answers the function that unregisters it. */
  onStop(fn: StopHandler): () => void {
    this.#handler = fn;
    return () => {
      if (this.#handler === fn) this.#handler = undefined;
    };
  }

  /** A SIGINT or SIGTERM arrived. */
  signal(signal: NodeJS.Signals): void {
    const now = this.now();
    if (this.#firstAt === undefined) {
      this.#firstAt = now;
      if (this.#handler !== undefined) return this.#handler(signal);
    } else if (this.#ignored === 0 && now - this.#firstAt < SAME_REQUEST_MS) {
      this.#ignored++; // the same Ctrl-C, delivered to this process twice (see above)
      return;
    }
    this.exit(signal);
  }
}

/** Ends the process by `signal` itself (so that a shell loop around it stops too). */
function exitBy(signal: NodeJS.Signals): void {
  for (const s of STOP_SIGNALS) process.removeListener(s, listener);
  process.kill(process.pid, signal);
  // Only if something else still listens for it (the signal would have ended the process).
  setTimeout(() => process.exit(signalExitCode(signal)), 200);
}

const processSignals = new StopSignals(exitBy);
const listener = (signal: NodeJS.Signals): void => processSignals.signal(signal);
let installed = false;

/**
 * Calls `fn` on the first SIGINT or SIGTERM of the process (see above). Answers the function
 * that unregisters it; the duplicate rule stays in force for the rest of the process.
 */
export function onStop(fn: StopHandler): () => void {
  if (!installed) {
    installed = true;
    for (const s of STOP_SIGNALS) process.on(s, listener);
  }
  return processSignals.onStop(fn);
}
