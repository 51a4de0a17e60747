import { describe, expect, it } from 'vitest';
import { SAME_REQUEST_MS, signalExitCode, StopSignals } from '../../../lib/cli/signals.ts';

/** A StopSignals on a hand-moved clock, recording what it did. */
function harness() {
  let now = 1_000_000;
  const events: string[] = [];
  const signals = new StopSignals((s) => events.push(`exit ${s}`), () => now);
  return { signals, events, advance: (ms: number) => (now += ms) };
}

describe('stop signals (a terminal Ctrl-C reaches the CLI twice: directly and through the launcher)', () => {
  it('the first signal stops; its copy within the window is ignored; the next one exits', () => {
    const { signals, events, advance } = harness();
    signals.onStop((s) => events.push(`stop ${s}`));
    signals.signal('SIGINT');
    advance(5);
    signals.signal('SIGINT'); // the launcher's forwarded copy
    expect(events).toEqual(['stop SIGINT']);
    advance(200);
    signals.signal('SIGINT'); // a second Ctrl-C
    expect(events).toEqual(['stop SIGINT', 'exit SIGINT']);
  });

  it('a second signal after the window is a second request: it exits', () => {
    const { signals, events, advance } = harness();
    signals.onStop(() => events.push('stop'));
    signals.signal('SIGTERM');
    advance(SAME_REQUEST_MS);
    signals.signal('SIGTERM');
    expect(events).toEqual(['stop', 'exit SIGTERM']);
  });

  it('still ignores the copy after the command unregistered its handler (printing its summary)', () => {
    const { signals, events, advance } = harness();
    const unregister = signals.onStop(() => events.push('stop'));
    signals.signal('SIGINT');
    unregister();
    advance(10);
    signals.signal('SIGINT');
    expect(events).toEqual(['stop']);
  });

  it('with no handler, the first signal exits as Node would', () => {
    const { signals, events } = harness();
    signals.onStop(() => events.push('stop'))();
    signals.signal('SIGINT');
    expect(events).toEqual(['exit SIGINT']);
  });

  it('exit codes are 128 + the signal number', () => {
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGTERM')).toBe(143);
  });
});
