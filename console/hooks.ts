import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Sluice } from '../lib/client/index.ts';

export const ClientContext = createContext<Sluice | undefined>(undefined);

export function useClient(): Sluice {
  const c = useContext(ClientContext);
  if (c === undefined) throw new Error('no client');
  return c;
}

export interface Async<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/**
 * Runs `fn` when `deps` change and on reload(); with `refreshMs`, again that long after each
 * answer (never two at once, so a slow server is not asked faster than it answers).
 */
export function useAsync<T>(fn: () => Promise<T>, deps: readonly unknown[], refreshMs?: number): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState((s) => ({ ...s, loading: true }));
    const again = () => {
      if (live && refreshMs !== undefined) timer = setTimeout(() => setTick((n) => n + 1), refreshMs);
    };
    fnRef.current().then(
      (data) => {
        if (live) setState({ data, error: undefined, loading: false });
        again();
      },
      (error: unknown) => {
        if (live) setState((s) => ({ data: s.data, error, loading: false }));
        again();
      },
    );
    return () => {
      live = false;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [...deps, tick, refreshMs]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

/** `href('topics', 'orders')` → `#/topics/orders` (names encoded). */
export const href = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join('/')}`;
