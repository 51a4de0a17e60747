/**
 * The ONE place where errors become HTTP answers (STYLE.md #7). Routes throw; this maps.
 * Body: {"error": {"code", "message", "retriable", ...details}}.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { InvalidRequestError, MessageTooLargeError, SluiceError, UnknownServerError } from '../errors.ts';

export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly retriable: boolean;
    readonly [detail: string]: unknown;
  };
}

export interface HttpError {
  readonly status: ContentfulStatusCode;
  readonly body: ErrorBody;
}

export function toSluiceErrorForHttp(err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  if (err instanceof HTTPException) {
    // Hono's own guards (e.g. a body limit) speak HTTPException; give them Kafka's names.
    if (err.status === 413) return new MessageTooLargeError(err.message || 'request body too large');
    if (err.status < 500) return new InvalidRequestError(err.message || 'bad request');
  }
  return new UnknownServerError('internal error', err);
}

export function toHttpError(err: unknown): HttpError {
  const e = toSluiceErrorForHttp(err);
  return {
    status: e.status as ContentfulStatusCode,
    body: { error: { ...e.details, code: e.code, message: e.message, retriable: e.retriable } },
  };
}
