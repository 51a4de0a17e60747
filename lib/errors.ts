/**
 * The one error hierarchy of Sluice.
 *
 * Every failure that can reach a client is a `SluiceError` with a Kafka error name as `code`,
 * `retriable`, and structured fields (`details`) that the API returns beside the message.
 * Errors know nothing of HTTP: `lib/api/error-mapping.ts` holds the one code -> status table
 * (every code in ERROR_CODES has a row, checked by the compiler and a test). Storage turns SDK
 * failures into these types inside `lib/storage`.
 *
 * Codes are stable API: never rename one.
 */

export const ERROR_CODES = [
  'INVALID_REQUEST',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_PARTITIONS',
  'INVALID_CONFIG',
  'INVALID_RECORD',
  'POLICY_VIOLATION',
  'UNAUTHENTICATED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_NOT_FOUND',
  'DUPLICATE_RESOURCE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'GROUP_ID_NOT_FOUND',
  'UNKNOWN_MEMBER_ID',
  'UNKNOWN_PRODUCER_ID',
  'TOPIC_ALREADY_EXISTS',
  'FENCED_MEMBER_EPOCH',
  'STALE_MEMBER_EPOCH',
  'NON_EMPTY_GROUP',
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'PRODUCER_FENCED',
  'RECORD_TOO_LARGE',
  'MESSAGE_TOO_LARGE',
  'OFFSET_OUT_OF_RANGE',
  'THROTTLING_QUOTA_EXCEEDED',
  'KAFKA_STORAGE_ERROR',
  'CORRUPT_MESSAGE',
  'UNKNOWN_SERVER_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorDetails = Record<string, unknown>;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: ErrorDetails;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retriable?: boolean; details?: ErrorDetails; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.details = opts.details ?? {};
  }
}

// ---- the request is wrong ----------------------------------------------------------------

export class InvalidRequestError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('INVALID_REQUEST', message, { details });
  }
}

export class InvalidTopicError extends SluiceError {
  constructor(message: string) {
    super('INVALID_TOPIC_EXCEPTION', message);
  }
}

export class InvalidPartitionsError extends SluiceError {
  constructor(message: string) {
    super('INVALID_PARTITIONS', message);
  }
}

export class InvalidConfigError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('INVALID_CONFIG', message, { details });
  }
}

export class InvalidRecordError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('INVALID_RECORD', message, { details });
  }
}

/**
 * A json record value nested deeper than it can be stored. `byteLength` is the size of its JSON
 * text, so the checks that outrank this one (partition, max.message.bytes) can still run.
 */
export class RecordTooDeepError extends InvalidRecordError {
  constructor(message: string, readonly byteLength: number, maxJsonDepth: number) {
    super(message, { maxJsonDepth });
  }
}

/**
 * The topic's configuration forbids the operation: Kafka's PolicyViolationException (e.g.
 * DeleteRecords on a topic whose cleanup.policy is only `compact`). Not retriable: the same
 * request fails the same way until the config changes.
 */
export class PolicyViolationError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('POLICY_VIOLATION', message, { details });
  }
}

// ---- who is asking -----------------------------------------------------------------------

export class UnauthenticatedError extends SluiceError {
  constructor(message = 'a valid bearer token is required') {
    super('UNAUTHENTICATED', message);
  }
}

/** The token is valid but its ACL does not allow this operation on the topic (Kafka's TOPIC_AUTHORIZATION_FAILED). */
export class TopicAuthorizationFailedError extends SluiceError {
  /** Without `topic`: an operation on topics in general (create: the name is in the body). */
  constructor(topic: string | undefined, operation: string) {
    super('TOPIC_AUTHORIZATION_FAILED', topic === undefined ? `not authorized to ${operation} topics` : `not authorized to ${operation} topic '${topic}'`, {
      details: { ...(topic === undefined ? {} : { topic }), operation },
    });
  }
}

/** The token is valid but its ACL does not allow this operation on the group (Kafka's GROUP_AUTHORIZATION_FAILED). */
export class GroupAuthorizationFailedError extends SluiceError {
  constructor(group: string | undefined, operation: string) {
    super('GROUP_AUTHORIZATION_FAILED', group === undefined ? `not authorized to ${operation} groups` : `not authorized to ${operation} group '${group}'`, {
      details: { ...(group === undefined ? {} : { group }), operation },
    });
  }
}

/**
 * The token is valid but is not an `admin` token, and the operation (token management) is on
 * the cluster, not on a topic or group (Kafka's CLUSTER_AUTHORIZATION_FAILED).
 */
export class ClusterAuthorizationFailedError extends SluiceError {
  constructor(operation: string) {
    super('CLUSTER_AUTHORIZATION_FAILED', `not authorized to ${operation}: needs an admin token`, { details: { operation } });
  }
}

// ---- not found ---------------------------------------------------------------------------

export class UnknownTopicOrPartitionError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('UNKNOWN_TOPIC_OR_PARTITION', message, { details });
  }
  static topic(name: string): UnknownTopicOrPartitionError {
    return new UnknownTopicOrPartitionError(`topic '${name}' does not exist`, { topic: name });
  }
  static partition(name: string, partition: number, count: number): UnknownTopicOrPartitionError {
    return new UnknownTopicOrPartitionError(
      `topic '${name}' has no partition ${partition} (it has ${count})`,
      { topic: name, partition },
    );
  }
}

export class GroupIdNotFoundError extends SluiceError {
  constructor(group: string) {
    super('GROUP_ID_NOT_FOUND', `group '${group}' does not exist`, { details: { group } });
  }
}

export class UnknownMemberIdError extends SluiceError {
  constructor(message: string) {
    super('UNKNOWN_MEMBER_ID', message);
  }
}

export class UnknownProducerIdError extends SluiceError {
  constructor(message: string) {
    super('UNKNOWN_PRODUCER_ID', message);
  }
}

/** No token of that name (Kafka's name for an unknown token: DELEGATION_TOKEN_NOT_FOUND). */
export class TokenNotFoundError extends SluiceError {
  constructor(name: string) {
    super('DELEGATION_TOKEN_NOT_FOUND', `token '${name}' does not exist`, { details: { name } });
  }
}

// ---- state conflicts ---------------------------------------------------------------------

export class TopicAlreadyExistsError extends SluiceError {
  constructor(name: string) {
    super('TOPIC_ALREADY_EXISTS', `topic '${name}' already exists`, { details: { topic: name } });
  }
}

/** A token of that name exists already (Kafka's DUPLICATE_RESOURCE). */
export class TokenAlreadyExistsError extends SluiceError {
  constructor(name: string) {
    super('DUPLICATE_RESOURCE', `token '${name}' already exists`, { details: { name } });
  }
}

export class FencedMemberEpochError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('FENCED_MEMBER_EPOCH', message, { details });
  }
}

export class StaleMemberEpochError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('STALE_MEMBER_EPOCH', message, { details });
  }
}

export class NonEmptyGroupError extends SluiceError {
  constructor(group: string) {
    super('NON_EMPTY_GROUP', `group '${group}' has active members`, { details: { group } });
  }
}

export class OutOfOrderSequenceError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('OUT_OF_ORDER_SEQUENCE_NUMBER', message, { details });
  }
}

export class ProducerFencedError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('PRODUCER_FENCED', message, { details });
  }
}

// ---- sizes and ranges --------------------------------------------------------------------

export class RecordTooLargeError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('RECORD_TOO_LARGE', message, { details });
  }
}

export class MessageTooLargeError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('MESSAGE_TOO_LARGE', message, { details });
  }
}

export class OffsetOutOfRangeError extends SluiceError {
  constructor(offset: number, logStartOffset: number, highWatermark: number) {
    super(
      'OFFSET_OUT_OF_RANGE',
      `offset ${offset} is outside [${logStartOffset}, ${highWatermark}]`,
      { details: { offset, logStartOffset, highWatermark } },
    );
  }
}

// ---- transient, or the server's fault ----------------------------------------------------

export class ThrottledError extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super('THROTTLING_QUOTA_EXCEEDED', message, { retriable: true, cause });
  }
}

/**
 * A dependency (S3, DynamoDB) is briefly unavailable or a race was lost: retry.
 * Kafka's name for "the log's storage failed, try again" is KAFKA_STORAGE_ERROR (retriable).
 */
export class UnavailableError extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super('KAFKA_STORAGE_ERROR', message, { retriable: true, cause });
  }
}

/**
 * S3 answered a ranged GET of a segment object with fewer bytes than the range holds (a body
 * cut short in transit). Segment objects are immutable and complete once referenced, so
 * reading again is the cure: KAFKA_STORAGE_ERROR, retriable (retried by `withRetries`, then
 * answered 503 if it persists). The object key and the byte counts are in the details.
 */
export class ShortReadError extends SluiceError {
  constructor(object: string, expected: number, received: number) {
    super('KAFKA_STORAGE_ERROR', `short read of ${object}: ${received} of ${expected} bytes`, {
      retriable: true,
      details: { object, expectedBytes: expected, receivedBytes: received },
    });
  }
}

/**
 * A segment object an entry pointed at is gone: maintenance merged the entry's bytes into a
 * new object and garbage collection removed the old one after its grace period, while this
 * reader still held the old pointer (a cached entry, or one read just before the merge). The
 * reader re-reads the entry and follows its new pointer (lib/log/entry-chunks.ts); reaching a
 * client it is a retriable KAFKA_STORAGE_ERROR.
 */
export class MissingSegmentError extends SluiceError {
  constructor(readonly object: string, cause?: unknown) {
    super('KAFKA_STORAGE_ERROR', `segment object ${object} is gone (moved by maintenance); retry`, {
      retriable: true,
      details: { object },
      cause,
    });
  }
}

/**
 * Stored data failed its checks (CRC-32C, framing) when read: Kafka's CORRUPT_MESSAGE. Not
 * retriable: the bytes in storage are what they are. The object key is in the details (and
 * the log line), so an operator can find it.
 */
export class CorruptStoredDataError extends SluiceError {
  constructor(object: string, reason: string, cause?: unknown) {
    super('CORRUPT_MESSAGE', `stored data in ${object} is corrupt (${reason})`, { details: { object, reason }, cause });
  }
}

/** Our publish lost its slot to a hole filler (we were too slow): nothing of ours is visible. */
export class SlotTakenError extends UnavailableError {
  constructor(what: string, slot: number) {
    super(`slot ${slot} of ${what} was declared abandoned before this write published; retry the request`);
  }
}

export class UnknownServerError extends SluiceError {
  constructor(message = 'internal error', cause?: unknown) {
    super('UNKNOWN_SERVER_ERROR', message, { cause });
  }
}

/**
 * A compression codec's optional package did not load in this process (not installed, or
 * built for another platform): the installation is incomplete, the stored data is not at
 * fault, so never CORRUPT_MESSAGE. UNKNOWN_SERVER_ERROR (500), not retriable (the same
 * process fails the same way), with the codec and the npm package in the message and details.
 */
export class CodecUnavailableServerError extends SluiceError {
  constructor(codec: string, packageName: string, message: string, cause?: unknown) {
    super('UNKNOWN_SERVER_ERROR', message, { details: { codec, package: packageName }, cause });
  }
}

// ---- races lost (storage raises, the rules retry; never answered as themselves) -------

/**
 * A conditional write lost a race: what it was conditional on changed. The caller re-reads
 * and retries (lib/retry-on-conflict.ts); after its retries it answers a retriable error.
 */
export class ConcurrentChangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class TopicChangedError extends ConcurrentChangeError {
  constructor(readonly topic: string) {
    super(`topic '${topic}' changed concurrently`);
  }
}

export class GroupChangedError extends ConcurrentChangeError {
  constructor(readonly group: string) {
    super(`group '${group}' changed concurrently`);
  }
}

export class ProducerRaceError extends ConcurrentChangeError {
  constructor(readonly producerId: string) {
    super(`producer '${producerId}' state changed concurrently`);
  }
}

/**
 * The publish transaction found the producer at a later sequence than the one checked: a
 * concurrent copy of this request (a retry) committed first. Retrying answers its offsets.
 */
export class DuplicateSequenceError extends ConcurrentChangeError {
  constructor(readonly producerId: string, readonly sequence: number) {
    super(`producer '${producerId}' committed sequence ${sequence} concurrently`);
  }
}

