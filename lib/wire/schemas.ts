/**
 * The request bodies of the REST API (docs/API.md) as zod schemas, shared by the server's
 * routes and by clients that want to check a request before sending it. Pure: no other lib
 * folder is imported; limits that the server publishes (GET /v1/cluster) are applied by the
 * routes, not here. Field types only: the rules (topic names, config values, id limits) are
 * checked by the layers that own them, so a refusal carries that rule's Kafka error.
 */
import { z } from 'zod';

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

export const resetBody = z.strictObject({
  topic: z.string(),
  to: z.union([
    z.literal('earliest'),
    z.literal('latest'),
    z.strictObject({ timestamp: nonNegativeInt }),
    z.strictObject({ offset: nonNegativeInt }),
  ]),
});

