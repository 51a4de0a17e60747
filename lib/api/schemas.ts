/** Request schema pieces shared by several routes. */
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
