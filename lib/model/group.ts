/**
 * Consumer group state as stored and as the pure state machine (groups/group-state.ts) moves
 * it (values only, no imports). Partitions are named by topic name here: a group's members
 * subscribe to names, and offsets are resolved to topic ids when committed.
 */

export interface NamedPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface MemberState {
  readonly memberId: string;
  readonly memberEpoch: number;
  /** The epoch before the last bump: a heartbeat with it is accepted if its response was lost. */
  readonly previousEpoch: number;
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly lastHeartbeatAt: number;
  /** What the service last told the member it may consume. */
  readonly assigned: readonly NamedPartition[];
  /** What the member last reported it still consumes. */
  readonly owned: readonly NamedPartition[];
}

export interface GroupState {
  readonly group: string;
  readonly groupEpoch: number;
  readonly targetEpoch: number;
  readonly target: Readonly<Record<string, readonly NamedPartition[]>>;
  /** Partition counts of the subscribed topics when the target was computed. */
  readonly topicMetadata: Readonly<Record<string, number>>;
  readonly members: Readonly<Record<string, MemberState>>;
}

/** A group with no members and no assignment (what a name that was never joined holds). */
export function emptyGroupState(group: string): GroupState {
  return { group, groupEpoch: 0, targetEpoch: 0, target: {}, topicMetadata: {}, members: {} };
}
