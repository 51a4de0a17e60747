/**
 * The request bodies of the REST API (docs/API.md) as zod schemas, shared by the server's
 * routes and by clients that want to check a request before sending it. Pure: no other lib
 * folder is imported; limits that the server publishes (GET /v1/cluster) are applied by the
 * routes, not here. Field types only: the rules (topic names, config values, id limits) are
 * checked by the layers that own them, so a refusal carries that rule's Kafka error.
 */
import * as z from 'zod';
import { ENCODINGS } from './record-encoding.ts';

export const nonNegativeInt = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** One committed offset, as group commits and produce-with-commitOffsets both take it. */
export const offsetCommitEntry = z.strictObject({
  topic: z.string(),
  partition: nonNegativeInt,
  offset: nonNegativeInt,
  metadata: z.string().max(4096).nullable().optional(),
});

/** Who commits: a member (id + epoch), or nobody (admin commit into an empty group). */
export const committerFields = {
  memberId: z.string().min(1).nullable().optional(),
  memberEpoch: z.number().int().nonnegative().optional(),
  offsets: z.array(offsetCommitEntry).min(1),
};

// ---- records -------------------------------------------------------------------------

/** The record encodings a request may ask for (json, string, base64). */
export const encodingSchema = z.enum(ENCODINGS);

export const produceBody = z.strictObject({
  encoding: encodingSchema.optional(),
  records: z
    .array(
      z.strictObject({
        key: z.string().nullable().optional(),
        value: z.unknown().optional(),
        headers: z
          .array(z.strictObject({ key: z.string(), value: z.string().nullable().optional() }))
          .optional(),
        partition: nonNegativeInt.optional(),
        timestamp: nonNegativeInt.optional(),
      }),
    )
    .min(1, 'at least one record is required'),
  producer: z
    .strictObject({
      id: z.string().min(1),
      epoch: z.number().int().nonnegative(),
      sequence: z.number().int().nonnegative().max(2 ** 31 - 1),
    })
    .optional(),
  commitOffsets: z.strictObject({ group: z.string().min(1), ...committerFields }).optional(),
});

export const initProducerBody = z.strictObject({ transactionalId: z.string().optional() });

export const offsetSpec = z.union([nonNegativeInt, z.literal('earliest'), z.literal('latest')]);

/** POST /v1/fetch; `maxRecordsPerFetch` is the server's published limit (GET /v1/cluster). */
export function multiFetchBodyFor(limits: { readonly maxRecordsPerFetch: number }) {
  return z.strictObject({
    partitions: z
      .array(z.strictObject({ topic: z.string(), partition: nonNegativeInt, offset: offsetSpec }))
      .min(1)
      .max(1000),
    maxBytes: z.number().int().positive().optional(),
    maxRecords: z.number().int().positive().max(limits.maxRecordsPerFetch).optional(),
    waitMs: z.number().int().nonnegative().optional(),
    encoding: encodingSchema.optional(),
  });
}

// ---- topics ---------------------------------------------------------------------------

export const configValues = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));

export const createTopicBody = z.strictObject({
  name: z.string(),
  partitions: z.number().optional(),
  config: configValues.optional(),
});

export const updateTopicBody = z.strictObject({
  partitions: z.number().optional(),
  config: configValues.optional(),
});

/**
 * POST /v1/topics/{topic}/partitions/{partition}/delete-records (Kafka's DeleteRecords):
 * records below `beforeOffset` stop being readable; -1 means the high watermark (Kafka's
 * DeleteRecordsRequest.HIGH_WATERMARK).
 */
export const deleteRecordsBody = z.strictObject({
  beforeOffset: z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER),
});

// ---- consumer groups --------------------------------------------------------------------

export const heartbeatBody = z.strictObject({
  memberId: z.string().min(1).nullable().optional(),
  memberEpoch: z.number().int().min(-1),
  // Kafka's "null = unchanged" for these fields.
  topics: z.array(z.string().min(1)).max(10_000).nullable().optional(),
  sessionTimeoutMs: z.number().int().nullable().optional(),
  ownedPartitions: z
    .array(z.strictObject({ topic: z.string(), partitions: z.array(nonNegativeInt) }))
    .nullable()
    .optional(),
});

export const commitBody = z.strictObject(committerFields);

/** POST /v1/tokens (docs/API.md "Tokens and ACLs"); names and entries are checked by lib/auth. */
export const createTokenBody = z.strictObject({
  name: z.string(),
  allow: z.array(z.string()),
});

export const resetBody = z.strictObject({
  topic: z.string(),
  to: z.union([
    z.literal('earliest'),
    z.literal('latest'),
    z.strictObject({ timestamp: nonNegativeInt }),
    z.strictObject({ offset: nonNegativeInt }),
  ]),
});


// ---- answers ------------------------------------------------------------------------------
// What the server answers (docs/API.md), for clients to check what they receive. Objects are
// loose: a later version may add fields, and a client must not break on them.

export const errorFieldsSchema = z.looseObject({
  code: z.string(),
  message: z.string(),
  retriable: z.boolean(),
});

export const errorAnswer = z.looseObject({ error: errorFieldsSchema });

export const produceAnswer = z.looseObject({
  offsets: z.array(z.looseObject({ partition: nonNegativeInt, offset: nonNegativeInt })),
});

export const fetchedRecord = z.looseObject({
  partition: nonNegativeInt,
  offset: nonNegativeInt,
  timestamp: nonNegativeInt,
  key: z.string().nullable(),
  value: z.unknown(),
  headers: z.array(z.looseObject({ key: z.string(), value: z.string().nullable() })),
  keyEncoding: z.literal('base64').optional(),
  valueEncoding: z.literal('base64').optional(),
});

export const fetchAnswer = z.looseObject({
  records: z.array(fetchedRecord),
  nextOffset: nonNegativeInt,
  highWatermark: nonNegativeInt,
  logStartOffset: nonNegativeInt,
});

export const multiFetchAnswer = z.looseObject({
  partitions: z.array(
    z.union([
      fetchAnswer.extend({ topic: z.string(), partition: nonNegativeInt }),
      z.looseObject({ topic: z.string(), partition: nonNegativeInt, error: errorFieldsSchema }),
    ]),
  ),
});

export const topicDescription = z.looseObject({
  name: z.string(),
  topicId: z.string(),
  partitions: z.array(
    z.looseObject({ partition: nonNegativeInt, logStartOffset: nonNegativeInt, highWatermark: nonNegativeInt, sizeBytes: nonNegativeInt, segments: nonNegativeInt }),
  ),
  config: z.record(z.string(), z.unknown()),
});

export const deleteRecordsAnswer = z.looseObject({ logStartOffset: nonNegativeInt });

export const producerAnswer = z.looseObject({ id: z.string(), epoch: nonNegativeInt });

export const heartbeatAnswer = z.looseObject({
  memberId: z.string(),
  memberEpoch: z.number().int(),
  heartbeatIntervalMs: nonNegativeInt,
  assignment: z.array(z.looseObject({ topic: z.string(), partitions: z.array(nonNegativeInt) })),
});
