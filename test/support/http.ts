/** Small helpers for driving a Hono app in tests with JSON in and out. */
import { randomUUID } from 'node:crypto';
import type { RequestTarget } from './lambda-app.ts';

export interface JsonResponse<T = any> {
  readonly status: number;
  readonly body: T;
}

export async function call<T = any>(
  app: RequestTarget,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await app.request(path, init);
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined };
}

/** A topic/group name no other test (or earlier run on a persistent stack) uses. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}
