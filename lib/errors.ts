/**
 * The one error hierarchy of Sluice.
 *
 * Every failure that can reach a client is a `SluiceError` with a Kafka error name as `code`,
 * an HTTP `status`, and `retriable`. Subclasses carry structured fields (`details`) that the
 * API returns beside the message. `lib/api/error-mapping.ts` is the only place that turns
 * these into HTTP answers; storage turns SDK failures into these types inside `lib/storage`.
 *
 * Codes are stable API: never rename one.
 */

export type ErrorDetails = Record<string, unknown>;

export class SluiceError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retriable: boolean;
  readonly details: ErrorDetails;

  constructor(
    code: string,
    status: number,
    message: string,
    opts: { retriable?: boolean; details?: ErrorDetails; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.retriable = opts.retriable ?? false;
    this.details = opts.details ?? {};
  }
}

// ---- 400 -------------------------------------------------------------------------------

export class InvalidRequestError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('INVALID_REQUEST', 400, message, { details });
  }
}

export class InvalidTopicError extends SluiceError {
  constructor(message: string) {
    super('INVALID_TOPIC_EXCEPTION', 400, message);
  }
}

export class InvalidPartitionsError extends SluiceError {
  constructor(message: string) {
    super('INVALID_PARTITIONS', 400, message);
  }
}

export class InvalidConfigError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('INVALID_CONFIG', 400, message, { details });
  }
}

export class InvalidRecordError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('INVALID_RECORD', 400, message, { details });
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

// ---- 401 / 403 -------------------------------------------------------------------------

export class UnauthenticatedError extends SluiceError {
  constructor(message = 'a valid bearer token is required') {
    super('UNAUTHENTICATED', 401, message);
  }
}

// ---- 404 -------------------------------------------------------------------------------

export class UnknownTopicOrPartitionError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('UNKNOWN_TOPIC_OR_PARTITION', 404, message, { details });
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
    super('GROUP_ID_NOT_FOUND', 404, `group '${group}' does not exist`, { details: { group } });
  }
}

export class UnknownMemberIdError extends SluiceError {
  constructor(message: string) {
    super('UNKNOWN_MEMBER_ID', 404, message);
  }
}

export class UnknownProducerIdError extends SluiceError {
  constructor(message: string) {
    super('UNKNOWN_PRODUCER_ID', 404, message);
  }
}

// ---- 409 -------------------------------------------------------------------------------

export class TopicAlreadyExistsError extends SluiceError {
  constructor(name: string) {
    super('TOPIC_ALREADY_EXISTS', 409, `topic '${name}' already exists`, { details: { topic: name } });
  }
}

export class FencedMemberEpochError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('FENCED_MEMBER_EPOCH', 409, message, { details });
  }
}

export class StaleMemberEpochError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('STALE_MEMBER_EPOCH', 409, message, { details });
  }
}

export class NonEmptyGroupError extends SluiceError {
  constructor(group: string) {
    super('NON_EMPTY_GROUP', 409, `group '${group}' has active members`, { details: { group } });
  }
}

export class OutOfOrderSequenceError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('OUT_OF_ORDER_SEQUENCE_NUMBER', 409, message, { details });
  }
}

export class ProducerFencedError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('PRODUCER_FENCED', 409, message, { details });
  }
}

// ---- 413 / 416 -------------------------------------------------------------------------

export class RecordTooLargeError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('RECORD_TOO_LARGE', 413, message, { details });
  }
}

export class MessageTooLargeError extends SluiceError {
  constructor(message: string, details?: ErrorDetails) {
    super('MESSAGE_TOO_LARGE', 413, message, { details });
  }
}

export class OffsetOutOfRangeError extends SluiceError {
  constructor(offset: number, logStartOffset: number, highWatermark: number) {
    super(
      'OFFSET_OUT_OF_RANGE',
      416,
      `offset ${offset} is outside [${logStartOffset}, ${highWatermark}]`,
      { details: { offset, logStartOffset, highWatermark } },
    );
  }
}

// ---- 429 / 5xx -------------------------------------------------------------------------

export class ThrottledError extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super('THROTTLING_QUOTA_EXCEEDED', 429, message, { retriable: true, cause });
  }
}

/**
 * A dependency (S3, DynamoDB) is briefly unavailable or a race was lost: retry.
 * Kafka's name for "the log's storage failed, try again" is KAFKA_STORAGE_ERROR (retriable).
 */
export class UnavailableError extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super('KAFKA_STORAGE_ERROR', 503, message, { retriable: true, cause });
  }
}

export class UnknownServerError extends SluiceError {
  constructor(message = 'internal error', cause?: unknown) {
    super('UNKNOWN_SERVER_ERROR', 500, message, { cause });
  }
}
