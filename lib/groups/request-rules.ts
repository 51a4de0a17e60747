/**
 * What a group request must satisfy before anything is read (pure, no I/O): its ids, the
 * number of offsets, and topic names. A malformed request thus costs no storage call, neither
 * here nor in a produce carrying `commitOffsets`. Ids follow id-rules.ts; topic names
 * topic-rules.ts.
 */
import { InvalidRequestError } from '../errors.ts';
import { validateId } from '../id-rules.ts';
import { LIMITS } from '../limits.ts';
import { requireExistingTopicName, validateTopicName } from '../log/topic-rules.ts';
import type { HeartbeatRequest } from './group-state.ts';

export interface OffsetCommitInput {
  readonly memberId?: string | null | undefined;
  readonly memberEpoch?: number | undefined;
  readonly offsets: readonly { topic: string; partition: number; offset: number; metadata?: string | undefined }[];
}

export function validateGroupName(group: string): string {
  return validateId('group', group);
}

/**
 * A commit names existing topics: a name no topic can have is unknown (404), as for every
 * other operation on an existing topic.
 */
export function validateOffsetCommit(group: string, input: OffsetCommitInput): void {
  validateGroupName(group);
  if (input.memberId !== null && input.memberId !== undefined) validateId('member', input.memberId);
  if (input.offsets.length > LIMITS.maxCommitOffsetsPerRequest) {
    throw new InvalidRequestError(`at most ${LIMITS.maxCommitOffsetsPerRequest} offsets per commit`);
  }
  for (const o of input.offsets) requireExistingTopicName(o.topic);
}

/**
 * A subscription may name topics that do not exist yet, so an unknown name is no error; a name
 * no topic can ever have is INVALID_TOPIC_EXCEPTION, in `topics` and `ownedPartitions` alike.
 */
export function validateHeartbeat(group: string, req: HeartbeatRequest): void {
  validateGroupName(group);
  if (req.memberId !== null) validateId('member', req.memberId);
  for (const t of req.topics ?? []) validateTopicName(t);
  for (const o of req.ownedPartitions ?? []) validateTopicName(o.topic);
}
