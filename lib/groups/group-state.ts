/**
 * Consumer group state machine after KIP-848, pure (no I/O): storage loads a GroupState,
 * these functions compute the next one, storage writes it conditionally on the version.
 *
 * Invariant (checked by tests after every answer): a partition is in at most one live member's
 * `assigned ∪ owned`. A partition moves from A to B only after A's heartbeat no longer lists it
 * in `ownedPartitions` AND the service no longer assigns it to A, or A has left or expired.
 *
 * Epochs: the group epoch bumps on any membership, subscription or subscribed-topic metadata
 * change; the target assignment is recomputed in the same request (targetEpoch = groupEpoch).
 * A member moves to the target epoch once it has nothing left to revoke; partitions still
 * owned by others reach it on later heartbeats, at that epoch (KIP-848's UNRELEASED_PARTITIONS).
 */
import { DEFAULT_HEARTBEAT_INTERVAL_MS, SESSION_TIMEOUT } from '../config.ts';
import {
  FencedMemberEpochError,
  InvalidRequestError,
  UnknownMemberIdError,
} from '../errors.ts';
import { emptyGroupState, type GroupState, type MemberState, type NamedPartition } from '../model/group.ts';
import { assignUniformSticky, tpKey } from './assignor.ts';

export type { GroupState, MemberState } from '../model/group.ts';

export interface HeartbeatRequest {
  readonly memberId: string | null;
  readonly memberEpoch: number;
  readonly topics?: readonly string[] | undefined;
  readonly sessionTimeoutMs?: number | undefined;
  readonly ownedPartitions?: readonly { readonly topic: string; readonly partitions: readonly number[] }[] | undefined;
}

export interface HeartbeatResponse {
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly heartbeatIntervalMs: number;
  readonly assignment: { topic: string; partitions: number[] }[];
}

export interface HeartbeatContext {
  readonly now: number;
  readonly newMemberId: () => string;
  /** Partition counts of existing topics (any superset of the subscribed ones). */
  readonly partitionsPerTopic: Readonly<Record<string, number>>;
}

export function emptyGroup(group: string): GroupState {
  return emptyGroupState(group);
}

export function heartbeatIntervalFor(sessionTimeoutMs: number): number {
  return Math.min(DEFAULT_HEARTBEAT_INTERVAL_MS, Math.floor(sessionTimeoutMs / 3));
}

export function isExpired(m: MemberState, now: number): boolean {
  return now - m.lastHeartbeatAt > m.sessionTimeoutMs;
}

/** Removes members whose session expired; bumps the group epoch if any did. */
export function expireMembers(state: GroupState, now: number): GroupState {
  const live = Object.values(state.members).filter((m) => !isExpired(m, now));
  if (live.length === Object.keys(state.members).length) return state;
  return { ...state, groupEpoch: state.groupEpoch + 1, members: Object.fromEntries(live.map((m) => [m.memberId, m])) };
}

/** Every topic a member subscribes to (what the caller must load metadata for). */
export function subscribedTopics(state: GroupState, extra: readonly string[] = []): string[] {
  const all = new Set(extra);
  for (const m of Object.values(state.members)) for (const t of m.topics) all.add(t);
  return [...all].sort();
}

function flattenOwned(owned: HeartbeatRequest['ownedPartitions']): NamedPartition[] {
  return sortTps((owned ?? []).flatMap((o) => o.partitions.map((partition) => ({ topic: o.topic, partition }))));
}

function sortTps(tps: readonly NamedPartition[]): NamedPartition[] {
  return [...tps].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

function sameTps(a: readonly NamedPartition[], b: readonly NamedPartition[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(tpKey));
  return b.every((tp) => keys.has(tpKey(tp)));
}

function subset(a: readonly NamedPartition[], b: readonly NamedPartition[]): boolean {
  const keys = new Set(b.map(tpKey));
  return a.every((tp) => keys.has(tpKey(tp)));
}

function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((t, i) => t === [...b].sort()[i]);
}

function validateSession(ms: number | undefined): number | undefined {
  if (ms === undefined) return undefined;
  if (!Number.isInteger(ms) || ms < SESSION_TIMEOUT.min || ms > SESSION_TIMEOUT.max) {
    throw new InvalidRequestError(
      `sessionTimeoutMs must be an integer from ${SESSION_TIMEOUT.min} to ${SESSION_TIMEOUT.max}, got ${ms}`,
    );
  }
  return ms;
}

/**
 * One heartbeat (join with epoch 0, leave with -1, else a regular heartbeat). Returns the next
 * state (unchanged object identity is not guaranteed; compare versions in storage) and the
 * answer. Throws the API's errors for unknown members and fenced epochs.
 */
export function applyHeartbeat(
  prior: GroupState,
  req: HeartbeatRequest,
  ctx: HeartbeatContext,
): { state: GroupState; response: HeartbeatResponse } {
  const sessionTimeoutMs = validateSession(req.sessionTimeoutMs);
  let state = expireMembers(prior, ctx.now);
  const members: Record<string, MemberState> = { ...state.members };
  let groupEpoch = state.groupEpoch;

  if (req.memberEpoch === -1) {
    if (req.memberId !== null && members[req.memberId]) {
      delete members[req.memberId];
      groupEpoch++;
    }
    state = { ...state, groupEpoch, members };
    return {
      state: recomputeTarget(state, ctx.partitionsPerTopic),
      response: { memberId: req.memberId ?? '', memberEpoch: -1, heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS, assignment: [] },
    };
  }

  let member: MemberState;
  if (req.memberEpoch === 0) {
    if (!req.topics) throw new InvalidRequestError('topics is required when joining (memberEpoch 0)');
    const memberId = req.memberId ?? ctx.newMemberId();
    // A rejoin with a known id abandons everything the old incarnation had (KIP-848 fencing).
    member = {
      memberId,
      memberEpoch: 0,
      previousEpoch: 0,
      topics: [...new Set(req.topics)].sort(),
      sessionTimeoutMs: sessionTimeoutMs ?? SESSION_TIMEOUT.default,
      lastHeartbeatAt: ctx.now,
      assigned: [],
      owned: [],
    };
    groupEpoch++;
  } else {
    if (req.memberId === null) throw new UnknownMemberIdError('memberId is required with a memberEpoch other than 0');
    const current = members[req.memberId];
    if (!current) {
      throw new UnknownMemberIdError(`member '${req.memberId}' is not in group '${state.group}' (expired or never joined); rejoin with memberEpoch 0`);
    }
    const owned = req.ownedPartitions === undefined ? current.owned : flattenOwned(req.ownedPartitions);
    const epochOk =
      req.memberEpoch === current.memberEpoch ||
      (req.memberEpoch === current.previousEpoch && subset(owned, current.assigned));
    if (!epochOk) {
      throw new FencedMemberEpochError(
        `member '${req.memberId}' sent epoch ${req.memberEpoch}, its current epoch is ${current.memberEpoch}; rejoin with memberEpoch 0`,
        { memberEpoch: current.memberEpoch },
      );
    }
    const topics = req.topics ? [...new Set(req.topics)].sort() : current.topics;
    if (!sameTopics(topics, current.topics)) groupEpoch++;
    member = {
      ...current,
      topics,
      sessionTimeoutMs: sessionTimeoutMs ?? current.sessionTimeoutMs,
      lastHeartbeatAt: ctx.now,
      owned,
    };
  }
  members[member.memberId] = member;

  // Subscribed topics created, deleted or grown also change the target (new group epoch).
  const metadata: Record<string, number> = {};
  for (const t of subscribedTopics({ ...state, members })) {
    const n = ctx.partitionsPerTopic[t];
    if (n !== undefined) metadata[t] = n;
  }
  if (JSON.stringify(metadata) !== JSON.stringify(state.topicMetadata)) groupEpoch++;

  state = recomputeTarget({ ...state, groupEpoch, members, topicMetadata: metadata }, ctx.partitionsPerTopic);
  const reconciled = reconcile(state, member.memberId, ctx.now);
  const finalMember = reconciled.members[member.memberId]!;
  return {
    state: reconciled,
    response: {
      memberId: finalMember.memberId,
      memberEpoch: finalMember.memberEpoch,
      heartbeatIntervalMs: heartbeatIntervalFor(finalMember.sessionTimeoutMs),
      assignment: groupByTopic(finalMember.assigned),
    },
  };
}

function recomputeTarget(state: GroupState, partitionsPerTopic: Readonly<Record<string, number>>): GroupState {
  if (state.targetEpoch >= state.groupEpoch) return state;
  const members = Object.values(state.members);
  const target = assignUniformSticky({
    members: members.map((m) => ({ memberId: m.memberId, topics: m.topics })),
    partitionsPerTopic,
    previous: state.target,
  });
  return { ...state, target, targetEpoch: state.groupEpoch };
}

/**
 * Moves one member toward its target: first revoke (tell it to stop consuming what is no
 * longer its), then, once nothing is left to revoke, take the target epoch and every target
 * partition that no other live member still has assigned or owned.
 */
function reconcile(state: GroupState, memberId: string, now: number): GroupState {
  const m = state.members[memberId]!;
  const target = state.target[memberId] ?? [];
  const targetKeys = new Set(target.map(tpKey));
  const keep = m.assigned.filter((tp) => targetKeys.has(tpKey(tp)));
  let next: MemberState;
  if (keep.length < m.assigned.length) {
    next = { ...m, assigned: keep };
  } else {
    const busy = new Set<string>();
    for (const other of Object.values(state.members)) {
      if (other.memberId === memberId || isExpired(other, now)) continue;
      for (const tp of other.assigned) busy.add(tpKey(tp));
      for (const tp of other.owned) busy.add(tpKey(tp));
    }
    const have = new Set(m.assigned.map(tpKey));
    const gained = target.filter((tp) => !have.has(tpKey(tp)) && !busy.has(tpKey(tp)));
    const epochBump = m.memberEpoch !== state.targetEpoch;
    next = {
      ...m,
      assigned: sortTps([...m.assigned, ...gained]),
      memberEpoch: state.targetEpoch,
      previousEpoch: epochBump ? m.memberEpoch : m.previousEpoch,
    };
  }
  return { ...state, members: { ...state.members, [memberId]: next } };
}

export function groupByTopic(tps: readonly NamedPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of sortTps(tps)) {
    const list = byTopic.get(tp.topic);
    if (list) list.push(tp.partition);
    else byTopic.set(tp.topic, [tp.partition]);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

export const GROUP_STATES = ['Empty', 'Assigning', 'Reconciling', 'Stable'] as const;
export type GroupStateName = (typeof GROUP_STATES)[number];

export function groupStateName(state: GroupState): GroupStateName {
  const members = Object.values(state.members);
  if (members.length === 0) return 'Empty';
  if (state.targetEpoch < state.groupEpoch) return 'Assigning';
  const settled = members.every(
    (m) => m.memberEpoch === state.targetEpoch && sameTps(m.assigned, state.target[m.memberId] ?? []),
  );
  return settled ? 'Stable' : 'Reconciling';
}
