/**
 * The ONE place where errors become HTTP answers: the code -> status table below, used by
 * every route (a multi-partition fetch reports per-partition errors with the same body).
 * Routes throw; this maps. Body: {"error": {"code", "message", "retriable", ...details}}.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { InvalidRequestError, MessageTooLargeError, SluiceError, UnknownServerError, type ErrorCode } from '../errors.ts';
import type { LogFields, Logger } from '../deps.ts';
import { errorFields, type ErrorBody } from '../wire/error-body.ts';

/** Every code has exactly one status (the `satisfies` makes a missing code a compile error). */
export const HTTP_STATUS = {
  INVALID_REQUEST: 400,
  INVALID_TOPIC_EXCEPTION: 400,
  INVALID_PARTITIONS: 400,
  INVALID_CONFIG: 400,
  INVALID_RECORD: 400,
  POLICY_VIOLATION: 400,
  UNAUTHENTICATED: 401,
  TOPIC_AUTHORIZATION_FAILED: 403,
  GROUP_AUTHORIZATION_FAILED: 403,
  CLUSTER_AUTHORIZATION_FAILED: 403,
  DELEGATION_TOKEN_NOT_FOUND: 404,
  DUPLICATE_RESOURCE: 409,
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  GROUP_ID_NOT_FOUND: 404,
  UNKNOWN_MEMBER_ID: 404,
  UNKNOWN_PRODUCER_ID: 404,
  TOPIC_ALREADY_EXISTS: 409,
  FENCED_MEMBER_EPOCH: 409,
  STALE_MEMBER_EPOCH: 409,
  NON_EMPTY_GROUP: 409,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 409,
  PRODUCER_FENCED: 409,
  RECORD_TOO_LARGE: 413,
  MESSAGE_TOO_LARGE: 413,
  OFFSET_OUT_OF_RANGE: 416,
  THROTTLING_QUOTA_EXCEEDED: 429,
  KAFKA_STORAGE_ERROR: 503,
  CORRUPT_MESSAGE: 500,
  UNKNOWN_SERVER_ERROR: 500,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

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
    status: HTTP_STATUS[e.code],
    body: { error: errorFields(e) },
  };
}

/**
 * The log line of an answer of 500 or more. The details go into the line too: for
 * CORRUPT_MESSAGE they name the object (and the failed check), so an operator can find the
 * bytes. Used for whole answers and for one partition's error inside a multi-partition fetch.
 */
export function logServerError(logger: Logger, err: unknown, request: { method: string; path: string }, extra: LogFields = {}): void {
  const e = toSluiceErrorForHttp(err);
  const status = HTTP_STATUS[e.code];
  if (status < 500) return;
  logger.error(e.message, {
    status,
    code: e.code,
    method: request.method,
    path: request.path,
    ...extra,
    ...(Object.keys(e.details).length > 0 ? { details: e.details } : {}),
    err: String(err),
    cause: String((err as Error).cause ?? ''),
  });
}
