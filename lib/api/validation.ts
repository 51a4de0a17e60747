/**
 * Request parsing: size guard, JSON, then a zod schema. Shape errors become INVALID_REQUEST
 * unless the schema's field maps to a more specific Kafka error (e.g. a topic `name` of the
 * wrong type is INVALID_TOPIC_EXCEPTION), so clients see the code they would see from Kafka.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { InvalidRequestError, MessageTooLargeError, type SluiceError } from '../errors.ts';

export type ErrorForField = (message: string) => SluiceError;

/**
 * Refuses a path whose segments do not percent-decode to UTF-8 (`%FF`, a lone `%`). Hono hands
 * such a parameter over undecoded, so `/v1/groups/%FF` would otherwise name a group "%FF".
 * Decoded segments are well-formed UTF-16: decodeURIComponent also refuses encoded surrogates.
 */
export function assertPathDecodes(url: string): void {
  if (!url.includes('%')) return;
  for (const segment of new URL(url).pathname.split('/')) {
    try {
      decodeURIComponent(segment);
    } catch {
      throw new InvalidRequestError(`path segment '${segment.slice(0, 80)}' is not valid percent-encoded UTF-8`);
    }
  }
}

/**
 * Refuses a path with a `.` or `..` segment, plain or percent-encoded (`%2e%2e`), as the client
 * sent it. URL parsing resolves such segments before routing, so `/v1/topics/orders/%2e%2e/
 * %2e%2e/tokens` would be served as `/v1/tokens`, while API Gateway authorises the path as
 * sent: an IAM grant on `/v1/topics/orders*` must not reach other routes.
 */
export function assertNoDotSegments(rawPath: string): void {
  const path = rawPath.split('?')[0]!;
  for (const segment of path.split('/')) {
    const plain = segment.replace(/%2e/gi, '.');
    if (plain === '.' || plain === '..') throw new InvalidRequestError(`path segment '${segment}' is not allowed: paths may not contain . or .. segments`);
  }
}

/** The path as the client sent it, before URL parsing: Lambda's event rawPath, the node server's request line. */
export function rawPathOf(c: Context): string | undefined {
  const env = c.env as { event?: { rawPath?: unknown }; incoming?: { url?: unknown } } | undefined;
  const raw = env?.event?.rawPath ?? env?.incoming?.url;
  return typeof raw === 'string' ? raw : undefined;
}

/** Reads the body as JSON, refusing more than `maxBytes` before parsing it. */
export async function readJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  return readJson(c, maxBytes, false);
}

/** Like readJsonBody, but an empty body is `undefined` (for requests whose fields are all optional). */
export async function readOptionalJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  return readJson(c, maxBytes, true);
}

async function readJson(c: Context, maxBytes: number, optional: boolean): Promise<unknown> {
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw tooLarge(declared, maxBytes);
  }
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw tooLarge(bytes.byteLength, maxBytes);
  if (bytes.byteLength === 0) {
    if (optional) return undefined;
    throw new InvalidRequestError('a JSON request body is required');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidRequestError('request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidRequestError(`malformed JSON body: ${(err as Error).message}`);
  }
}

function tooLarge(size: number, max: number): MessageTooLargeError {
  return new MessageTooLargeError(`request body of ${size} bytes exceeds the limit of ${max} bytes`, {
    maxRequestBytes: max,
  });
}

function describePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'body';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/** Parses `input`; the first issue decides the error (its top-level field may pick the code). */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  errorFor: Readonly<Record<string, ErrorForField>> = {},
): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path[0];
  const message = `${describePath(issue.path)}: ${issue.message}`;
  const specific = typeof field === 'string' ? errorFor[field] : undefined;
  throw specific ? specific(message) : new InvalidRequestError(message, { field: describePath(issue.path) });
}
