/**
 * Limits in force, published by `GET /v1/cluster`. Each derives from an AWS limit
 * (Lambda payloads, DynamoDB items and transactions); the derivation is stated beside it so a
 * change stays honest.
 */
export const LIMITS = {
  /** Lambda's synchronous payload limit is 6 MB for the request (and the response). */
  maxRequestBytes: 6 * 1024 * 1024,
  /** Fetch answers must fit Lambda's 6 MB response with JSON/base64 overhead (4/3 + framing). */
  maxFetchBytes: 4 * 1024 * 1024,
  /**
   * One TransactWriteItems holds at most 100 items. A produce publishes one entry per partition,
   * plus one producer-state item, plus up to `maxCommitOffsetsPerRequest` offset items and one
   * group fence item: 32 + 1 + 64 + 1 = 98 <= 100.
   */
  maxPartitionsPerRequest: 32,
  maxCommitOffsetsPerRequest: 64,
  /** HTTP API's 30 s integration timeout: long polls end well before it. */
  maxWaitMs: 20_000,
  /** Kafka's CreateTopics has no hard cap; we cap so a topic's head items stay listable. */
  maxPartitionsPerTopic: 10_000,
  maxRecordsPerFetch: 10_000,
} as const;
