/**
 * The group coordinator, which is DynamoDB itself: read the group, apply the pure state machine
 * (group-state.ts), write it back conditionally on the version; on a lost race, re-read and
 * re-apply. Offsets: commit (fenced by member epoch and assignment, atomically with a check of
 * the group version), fetch with lag, reset, list, describe, delete.
 */
import type { Clock, IdGenerator } from '../deps.ts';
import {
  FencedMemberEpochError,
  GroupIdNotFoundError,
  InvalidRequestError,
  NonEmptyGroupError,
  StaleMemberEpochError,
  UnknownMemberIdError,
  UnknownTopicOrPartitionError,
} from '../errors.ts';
import { LIMITS } from '../limits.ts';
import type { OffsetsService } from '../log/offsets.ts';
import type { PartitionIndex } from '../log/partition-index.ts';
import type { TopicCache } from '../log/topic-cache.ts';
import type { GroupStore, VersionedGroup } from '../storage/group-store.ts';
import type { GroupOffsetCommit } from '../storage/publish-transaction.ts';
import { DEFAULT_CONFLICT_POLICY, retryOnConflict, type ConflictPolicy } from '../retry-on-conflict.ts';
import type { TopicRecord } from '../model/topic.ts';
import { tpKey } from './assignor.ts';
import {
  applyHeartbeat,
  emptyGroup,
  expireMembers,
  groupByTopic,
  groupStateName,
  subscribedTopics,
  type GroupState,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from './group-state.ts';
import {
  validateGroupName,
  validateHeartbeat,
  validateOffsetCommit,
  type OffsetCommitInput,
} from './request-rules.ts';

export type { OffsetCommitInput } from './request-rules.ts';

export type ResetTarget = 'earliest' | 'latest' | { timestamp: number } | { offset: number };

export class GroupService {
  constructor(
    private readonly store: GroupStore,
    private readonly topics: TopicCache,
    private readonly partitions: PartitionIndex,
    private readonly offsetsService: OffsetsService,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly conflicts: ConflictPolicy = DEFAULT_CONFLICT_POLICY,
  ) {}

  async heartbeat(group: string, req: HeartbeatRequest): Promise<HeartbeatResponse> {
    validateHeartbeat(group, req);
    return this.update(group, async (current) => {
      const names = subscribedTopics(current, req.topics ?? []);
      const partitionsPerTopic = await this.partitionCounts(names);
      const { state, response } = applyHeartbeat(current, req, {
        now: this.clock.now(),
        newMemberId: () => this.ids.newId(),
        partitionsPerTopic,
      });
      return { state, result: response };
    });
  }

  /** Validates and commits offsets; fenced atomically against the group version. */
  async commitOffsets(group: string, input: OffsetCommitInput): Promise<void> {
    validateOffsetCommit(group, input);
    return retryOnConflict(`group '${group}'`, async () => {
      const current = (await this.store.get(group)) ?? { state: emptyGroup(group), version: 0 };
      const resolved = await this.validateCommit(current, input);
      await this.store.commitOffsets(group, current.version, resolved, this.clock.now());
    }, this.conflicts);
  }

  /**
   * For a produce with `commitOffsets`: validates the commit exactly as `commitOffsets` does
   * and returns its transaction items (a check of the group version it was validated at, then
   * the offset puts), to run in the same transaction as the records.
   */
  async commitItems(input: OffsetCommitInput & { group: string }): Promise<GroupOffsetCommit> {
    const group = input.group;
    validateOffsetCommit(group, input);
    const current = (await this.store.get(group)) ?? { state: emptyGroup(group), version: 0 };
    const offsets = await this.validateCommit(current, input);
    return { group, groupVersion: current.version, offsets };
  }

  /** The read-free part of `commitItems`, for a produce to run before it reads anything. */
  validateCommitItems(input: OffsetCommitInput & { group: string }): void {
    validateOffsetCommit(input.group, input);
  }

  async fetchOffsets(group: string) {
    validateGroupName(group);
    const committed = await this.store.offsets(group);
    const rows = [];
    for (const c of committed) {
      // A topic deleted (or deleted and re-created) since the commit: its offsets do not leak.
      const topic = await this.topics.get(c.topic).catch(() => undefined);
      if (!topic || topic.topicId !== c.topicId || c.partition >= topic.partitions) continue;
      const view = await this.partitions.view({ topicId: topic.topicId, partition: c.partition });
      rows.push({
        topic: c.topic,
        partition: c.partition,
        offset: c.offset,
        metadata: c.metadata,
        highWatermark: view.highWatermark,
        lag: Math.max(0, view.highWatermark - c.offset),
      });
    }
    rows.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    return { offsets: rows };
  }

  /** Admin reset of one topic's committed offsets; only while the group has no live members. */
  async resetOffsets(group: string, topicName: string, to: ResetTarget) {
    validateGroupName(group);
    const topic = await this.topics.get(topicName);
    return retryOnConflict(`group '${group}'`, async () => {
      const current = await this.liveView(group);
      if (Object.keys(current.state.members).length > 0) throw new NonEmptyGroupError(group);
      const offsets = [];
      for (let p = 0; p < topic.partitions; p++) {
        offsets.push({ topic: topic.name, topicId: topic.topicId, partition: p, offset: await this.resolveReset(topic, p, to), metadata: '' });
      }
      for (let i = 0; i < offsets.length; i += LIMITS.maxCommitOffsetsPerRequest) {
        await this.store.commitOffsets(group, current.version, offsets.slice(i, i + LIMITS.maxCommitOffsetsPerRequest), this.clock.now());
      }
      return { offsets: offsets.map(({ topic: t, partition, offset }) => ({ topic: t, partition, offset })) };
    }, this.conflicts);
  }

  async list() {
    const now = this.clock.now();
    const groups = await this.store.list();
    return {
      groups: groups
        .map(({ state }) => {
          const live = expireMembers(state, now);
          return { group: state.group, state: groupStateName(live), members: Object.keys(live.members).length };
        })
        .sort((a, b) => (a.group < b.group ? -1 : 1)),
    };
  }

  /**
   * A group that only has committed offsets (no member ever joined) is described as Kafka
   * does, Empty with no members: commits write its group item (group-store.ts). Offsets left
   * without one (a DELETE cut short between the group item and its offsets) are described the
   * same way, so describe agrees with DELETE, which removes them.
   */
  async describe(group: string) {
    validateGroupName(group);
    const found =
      (await this.store.get(group)) ??
      ((await this.store.hasOffsets(group)) ? { state: emptyGroup(group), version: 0 } : undefined);
    if (!found) throw new GroupIdNotFoundError(group);
    const state = expireMembers(found.state, this.clock.now());
    return {
      group,
      state: groupStateName(state),
      groupEpoch: state.groupEpoch,
      assignmentEpoch: state.targetEpoch,
      members: Object.values(state.members)
        .sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
        .map((m) => ({
          memberId: m.memberId,
          memberEpoch: m.memberEpoch,
          topics: m.topics,
          sessionTimeoutMs: m.sessionTimeoutMs,
          assignment: groupByTopic(m.assigned),
          targetAssignment: groupByTopic(state.target[m.memberId] ?? []),
        })),
    };
  }

  async delete(group: string): Promise<void> {
    validateGroupName(group);
    return retryOnConflict(`group '${group}'`, async () => {
      const found = await this.store.get(group);
      const hasOffsets = found ? false : await this.store.hasOffsets(group);
      if (!found && !hasOffsets) throw new GroupIdNotFoundError(group);
      if (found && Object.keys(expireMembers(found.state, this.clock.now()).members).length > 0) {
        throw new NonEmptyGroupError(group);
      }
      if (found) await this.store.delete(group, found.version);
      else await this.store.deleteOffsetsOnly(group);
    }, this.conflicts);
  }

  // ---- internals -------------------------------------------------------------------------

  /** Read-modify-write with optimistic concurrency, retried with jitter on lost races. */
  private async update<T>(group: string, fn: (state: GroupState) => Promise<{ state: GroupState; result: T }>): Promise<T> {
    return retryOnConflict(`group '${group}'`, async () => {
      const current: VersionedGroup = (await this.store.get(group)) ?? { state: emptyGroup(group), version: 0 };
      const { state, result } = await fn(current.state);
      await this.store.put(state, current.version, Object.keys(state.members).length);
      return result;
    }, this.conflicts);
  }

  /** The group with expired members removed (written, so their removal is durable). */
  private async liveView(group: string): Promise<VersionedGroup> {
    const found = (await this.store.get(group)) ?? { state: emptyGroup(group), version: 0 };
    const live = expireMembers(found.state, this.clock.now());
    if (live === found.state) return found;
    const version = await this.store.put(live, found.version, Object.keys(live.members).length);
    return { state: live, version };
  }

  private async validateCommit(current: VersionedGroup, input: OffsetCommitInput) {
    const now = this.clock.now();
    const live = expireMembers(current.state, now);
    const memberId = input.memberId ?? null;
    let assigned: Set<string> | undefined;
    if (memberId === null) {
      if (Object.keys(live.members).length > 0) throw new NonEmptyGroupError(current.state.group);
    } else {
      const member = live.members[memberId];
      if (!member) throw new UnknownMemberIdError(`member '${memberId}' is not in group '${current.state.group}'`);
      const epoch = input.memberEpoch;
      if (epoch === undefined) throw new InvalidRequestError('memberEpoch is required with memberId');
      if (epoch < member.memberEpoch) {
        throw new StaleMemberEpochError(`epoch ${epoch} is older than the member's current epoch ${member.memberEpoch}`, { memberEpoch: member.memberEpoch });
      }
      if (epoch > member.memberEpoch) {
        throw new FencedMemberEpochError(`epoch ${epoch} is newer than the member's current epoch ${member.memberEpoch}`, { memberEpoch: member.memberEpoch });
      }
      assigned = new Set(member.assigned.map(tpKey));
    }
    const resolved = [];
    for (const o of input.offsets) {
      const topic = await this.topics.withPartition(o.topic, o.partition);
      if (assigned && !assigned.has(tpKey(o))) {
        throw new FencedMemberEpochError(`partition ${o.topic}-${o.partition} is not assigned to member '${memberId}'`, { topic: o.topic, partition: o.partition });
      }
      resolved.push({ topic: o.topic, topicId: topic.topicId, partition: o.partition, offset: o.offset, metadata: o.metadata ?? '' });
    }
    return resolved;
  }

  private async resolveReset(topic: TopicRecord, partition: number, to: ResetTarget): Promise<number> {
    const view = await this.partitions.view({ topicId: topic.topicId, partition });
    if (to === 'earliest') return view.logStartOffset;
    if (to === 'latest') return view.highWatermark;
    if ('offset' in to) return Math.min(Math.max(to.offset, view.logStartOffset), view.highWatermark);
    return (await this.offsetsService.lookup(topic.name, partition, { timestamp: to.timestamp })).offset;
  }

  private async partitionCounts(names: readonly string[]): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    await Promise.all(
      names.map(async (name) => {
        try {
          counts[name] = (await this.topics.get(name)).partitions;
        } catch (err) {
          if (!(err instanceof UnknownTopicOrPartitionError)) throw err;
        }
      }),
    );
    return counts;
  }

}
