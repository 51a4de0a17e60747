import type { ComponentChildren } from 'preact';
import { describeError } from './api.ts';

/** An API error: its Kafka code and the server's message. */
export function ErrorBox({ error, what }: { error: unknown; what?: string }) {
  if (error === undefined || error === null) return null;
  const e = describeError(error);
  return (
    <div class="error" role="alert" data-code={e.code}>
      <strong class="code">{e.code}</strong>
      {what ? <span> {what}: </span> : ' '}
      <span class="message">{e.message}</span>
      {e.code === 'UNAUTHENTICATED' || e.status === 401 || e.status === 403 ? (
        <p class="hint">Enter a token at the top of the page (docs/CONSOLE.md, “Token”).</p>
      ) : null}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Stat({ label, value, id }: { label: string; value: ComponentChildren; id?: string }) {
  return (
    <div class="stat" data-stat={id}>
      <div class="stat-value">{value}</div>
      <div class="stat-label">{label}</div>
    </div>
  );
}
