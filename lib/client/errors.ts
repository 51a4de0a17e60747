/**
 * The client's errors: one class per Kafka error code the API answers (docs/API.md), all
 * subclasses of `SluiceClientError`, so callers can `instanceof` the case they handle:
 *
 *   try { await admin.createTopic({ name }) } catch (e) { if (e instanceof TopicAlreadyExistsError) ... }
 *
 * `code`, `retriable` and the body's other fields (`details`) come from the server's error
 * body; `status` is the HTTP status (0 when no answer arrived). Two codes are the client's own,
 * for failures that never got an answer: NETWORK_ERROR (the request may or may not have been
 * applied; retriable) and REQUEST_TIMEOUT (Kafka's TimeoutException: a record could not be
 * delivered within `deliveryTimeoutMs`, or a request within `requestTimeoutMs`). SigV4 without
 * credentials to sign with is CREDENTIALS_UNAVAILABLE (transport.ts), a plain SluiceClientError.
 *
 * Pure: no Node APIs, so the client runs in browsers too.
 */

export class SluiceClientError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retriable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, opts: { status?: number; retriable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 0;
    this.retriable = opts.retriable ?? false;
    this.details = opts.details ?? {};
  }
}

type Opts = ConstructorParameters<typeof SluiceClientError>[2];

/** Declares the class of one code: `code` is fixed, everything else comes from the answer. */
function forCode<C extends string>(code: C) {
  return class extends SluiceClientError {
    static readonly code: C = code;
    constructor(message: string, opts: Opts = {}) {
      super(code, message, opts);
    }
  };
}

export class InvalidRequestError extends forCode('INVALID_REQUEST') {}
export class InvalidTopicError extends forCode('INVALID_TOPIC_EXCEPTION') {}
export class InvalidPartitionsError extends forCode('INVALID_PARTITIONS') {}
export class InvalidConfigError extends forCode('INVALID_CONFIG') {}
export class InvalidRecordError extends forCode('INVALID_RECORD') {}
export class PolicyViolationError extends forCode('POLICY_VIOLATION') {}
export class UnauthenticatedError extends forCode('UNAUTHENTICATED') {}
export class TopicAuthorizationFailedError extends forCode('TOPIC_AUTHORIZATION_FAILED') {}
export class GroupAuthorizationFailedError extends forCode('GROUP_AUTHORIZATION_FAILED') {}
export class ClusterAuthorizationFailedError extends forCode('CLUSTER_AUTHORIZATION_FAILED') {}
/** `revokeToken` of a name no token has. */
export class DelegationTokenNotFoundError extends forCode('DELEGATION_TOKEN_NOT_FOUND') {}
/** `createToken` with a name a token already has. */
export class DuplicateResourceError extends forCode('DUPLICATE_RESOURCE') {}
export class UnknownTopicOrPartitionError extends forCode('UNKNOWN_TOPIC_OR_PARTITION') {}
export class GroupIdNotFoundError extends forCode('GROUP_ID_NOT_FOUND') {}
export class UnknownMemberIdError extends forCode('UNKNOWN_MEMBER_ID') {}
export class UnknownProducerIdError extends forCode('UNKNOWN_PRODUCER_ID') {}
export class TopicAlreadyExistsError extends forCode('TOPIC_ALREADY_EXISTS') {}
export class FencedMemberEpochError extends forCode('FENCED_MEMBER_EPOCH') {}
export class StaleMemberEpochError extends forCode('STALE_MEMBER_EPOCH') {}
export class NonEmptyGroupError extends forCode('NON_EMPTY_GROUP') {}
export class OutOfOrderSequenceError extends forCode('OUT_OF_ORDER_SEQUENCE_NUMBER') {}
export class ProducerFencedError extends forCode('PRODUCER_FENCED') {}
export class RecordTooLargeError extends forCode('RECORD_TOO_LARGE') {}
export class MessageTooLargeError extends forCode('MESSAGE_TOO_LARGE') {}
export class OffsetOutOfRangeError extends forCode('OFFSET_OUT_OF_RANGE') {}
export class ThrottlingQuotaExceededError extends forCode('THROTTLING_QUOTA_EXCEEDED') {}
export class KafkaStorageError extends forCode('KAFKA_STORAGE_ERROR') {}
export class CorruptMessageError extends forCode('CORRUPT_MESSAGE') {}
export class UnknownServerError extends forCode('UNKNOWN_SERVER_ERROR') {}
/** No answer arrived (connection refused or reset, DNS, an aborted request). */
export class NetworkError extends forCode('NETWORK_ERROR') {}
/** Kafka's TimeoutException: not delivered within the configured time. */
export class RequestTimeoutError extends forCode('REQUEST_TIMEOUT') {}

const BY_CODE: Readonly<Record<string, new (message: string, opts?: Opts) => SluiceClientError>> = Object.fromEntries(
  [
    InvalidRequestError, InvalidTopicError, InvalidPartitionsError, InvalidConfigError, InvalidRecordError,
    PolicyViolationError, UnauthenticatedError, TopicAuthorizationFailedError, GroupAuthorizationFailedError,
    ClusterAuthorizationFailedError, DelegationTokenNotFoundError, DuplicateResourceError,
    UnknownTopicOrPartitionError, GroupIdNotFoundError, UnknownMemberIdError, UnknownProducerIdError,
    TopicAlreadyExistsError, FencedMemberEpochError, StaleMemberEpochError, NonEmptyGroupError,
    OutOfOrderSequenceError, ProducerFencedError, RecordTooLargeError, MessageTooLargeError,
    OffsetOutOfRangeError, ThrottlingQuotaExceededError, KafkaStorageError, CorruptMessageError,
    UnknownServerError, NetworkError, RequestTimeoutError,
  ].map((c) => [c.code, c]),
);

/**
 * The typed error for an error body (`{code, message, retriable, ...details}`) answered with
 * `status`. An unknown code (a newer server) is a plain SluiceClientError with that code. A
 * body without the error shape (a proxy's HTML page, say) becomes UNKNOWN_SERVER_ERROR, and
 * 429 and 5xx stay retriable, as a gateway's own throttling and outages are.
 */
export function errorFromBody(status: number, body: unknown): SluiceClientError {
  const fields = (body as { error?: Record<string, unknown> } | null)?.error;
  if (fields && typeof fields.code === 'string' && typeof fields.message === 'string') {
    const { code, message, retriable, ...details } = fields;
    const opts = { status, retriable: retriable === true, details };
    const Class = BY_CODE[code];
    return Class ? new Class(message, opts) : new SluiceClientError(code, message, opts);
  }
  const retriable = status === 429 || status >= 500;
  const message = typeof (body as { message?: unknown } | null)?.message === 'string' ? (body as { message: string }).message : `HTTP ${status}`;
  if (status === 429) return new ThrottlingQuotaExceededError(message, { status, retriable });
  if (status === 401) return new UnauthenticatedError(message, { status });
  if (status === 403) return new SluiceClientError('FORBIDDEN', message, { status });
  return new UnknownServerError(message, { status, retriable });
}

/** True when repeating the same request may succeed (the error says so, or no answer came). */
export function isRetriable(err: unknown): boolean {
  return err instanceof SluiceClientError && err.retriable;
}
