/**
 * Admin operations over the REST API (docs/API.md): cluster, topics, partitions, configs,
 * delete-records, offsets, groups and their lag. Each method is one request, except the two
 * that combine answers: `groupLag` (kafka-consumer-groups --describe: committed offsets, high
 * watermarks and owners, with uncommitted partitions shown too) and `resetOffsets` with
 * `dryRun` (computes what a reset would commit and writes nothing, since the API has no
 * dry-run of its own). Tokens (createToken, listTokens, revokeToken) need an admin token.
 */
import { GroupIdNotFoundError, NonEmptyGroupError } from './errors.ts';
import type { Transport } from './transport.ts';
import type {
  ClusterInfo, CommittedOffset, GroupDescription, GroupListing, OffsetAt, OffsetCommit, PartitionLag, ResetTo,
  TopicConfig, TopicDescription, TopicInfo, TopicListing,
} from './types.ts';

const seg = encodeURIComponent;

export interface CreateTopic {
  readonly name: string;
  readonly partitions?: number;
  readonly config?: Readonly<Record<string, string | number>>;
}

export interface AlterTopic {
  readonly partitions?: number;
  /** Merged into the current config; a null value resets that key to its default. */
  readonly config?: Readonly<Record<string, string | number | null>>;
}

export interface CreateToken {
  readonly name: string;
  /** ACL entries: `produce:P`, `fetch:P`, `group:P` (P a name, or a prefix ending in `*`), `admin`. */
  readonly allow: readonly string[];
}

export interface TokenListing {
  readonly name: string;
  readonly allow: readonly string[];
  readonly createdAt: number;
}

export class Admin {
  constructor(private readonly http: Transport) {}

  cluster(): Promise<ClusterInfo> {
    return this.http.request('GET', '/v1/cluster');
  }

  // ---- topics -------------------------------------------------------------------------------

  createTopic(topic: CreateTopic): Promise<TopicInfo> {
    return this.http.request('POST', '/v1/topics', { body: topic });
  }

  async listTopics(): Promise<TopicListing[]> {
    return (await this.http.request<{ topics: TopicListing[] }>('GET', '/v1/topics')).topics;
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.http.request('GET', `/v1/topics/${seg(name)}`);
  }

  alterTopic(name: string, change: AlterTopic): Promise<TopicInfo> {
    return this.http.request('PATCH', `/v1/topics/${seg(name)}`, { body: change });
  }

  /** Sets `partitions` as the new count (it may only grow). */
  createPartitions(name: string, partitions: number): Promise<TopicInfo> {
    return this.alterTopic(name, { partitions });
  }

  async describeConfigs(name: string): Promise<TopicConfig> {
    return (await this.describeTopic(name)).config;
  }

  async deleteTopic(name: string): Promise<void> {
    await this.http.request('DELETE', `/v1/topics/${seg(name)}`);
  }

  /** Kafka's DeleteRecords: records below `beforeOffset` (-1: the high watermark) stop being readable. */
  deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<{ logStartOffset: number }> {
    return this.http.request('POST', `/v1/topics/${seg(topic)}/partitions/${partition}/delete-records`, { body: { beforeOffset } });
  }

  /** Kafka's ListOffsets: `earliest`, `latest`, or the first offset with a timestamp ≥ `at` ms. */
  offsetAt(topic: string, partition: number, at: 'earliest' | 'latest' | number): Promise<OffsetAt> {
    return this.http.request('GET', `/v1/topics/${seg(topic)}/partitions/${partition}/offsets`, { query: { at } });
  }

  // ---- groups -------------------------------------------------------------------------------

  async listGroups(): Promise<GroupListing[]> {
    return (await this.http.request<{ groups: GroupListing[] }>('GET', '/v1/groups')).groups;
  }

  describeGroup(group: string): Promise<GroupDescription> {
    return this.http.request('GET', `/v1/groups/${seg(group)}`);
  }

  async deleteGroup(group: string): Promise<void> {
    await this.http.request('DELETE', `/v1/groups/${seg(group)}`);
  }

  async fetchOffsets(group: string): Promise<CommittedOffset[]> {
    return (await this.http.request<{ offsets: CommittedOffset[] }>('GET', `/v1/groups/${seg(group)}/offsets`)).offsets;
  }

  /** Commits offsets; without `member`, only while the group has no live members (admin commit). */
  async commitOffsets(group: string, offsets: readonly OffsetCommit[], member?: { memberId: string; memberEpoch: number }): Promise<void> {
    await this.http.request('POST', `/v1/groups/${seg(group)}/offsets`, { body: { ...member, offsets } });
  }

  /**
   * Resets every partition of `topic` for an empty group. With `dryRun`, answers the offsets the
   * reset would commit (resolved as the server does: earliest = log start, latest = high
   * watermark, a timestamp by ListOffsets, an offset clamped into [log start, high watermark])
   * and changes nothing; a group with live members still fails, as the reset would.
   */
  async resetOffsets(group: string, topic: string, to: ResetTo, opts: { dryRun?: boolean } = {}): Promise<OffsetCommit[]> {
    if (!opts.dryRun) {
      return (await this.http.request<{ offsets: OffsetCommit[] }>('POST', `/v1/groups/${seg(group)}/offsets/reset`, { body: { topic, to } })).offsets;
    }
    const group_ = await this.describeGroup(group).catch((e: unknown) => {
      if (e instanceof GroupIdNotFoundError) return undefined;
      throw e;
    });
    if (group_ && group_.members.length > 0) throw new NonEmptyGroupError(`group '${group}' has active members`, { status: 409, details: { group } });
    const described = await this.describeTopic(topic);
    return Promise.all(
      described.partitions.map(async (p) => {
        let offset: number;
        if (to === 'earliest') offset = p.logStartOffset;
        else if (to === 'latest') offset = p.highWatermark;
        else if ('offset' in to) offset = Math.min(Math.max(to.offset, p.logStartOffset), p.highWatermark);
        else offset = (await this.offsetAt(topic, p.partition, to.timestamp)).offset;
        return { topic, partition: p.partition, offset };
      }),
    );
  }

  /**
   * Lag per partition, as kafka-consumer-groups --describe shows it: every partition of every
   * topic the group has committed to or its members subscribe to, committed or not, with the
   * high watermark, the lag (null where nothing is committed) and the owning member.
   */
  async groupLag(group: string): Promise<PartitionLag[]> {
    const [description, committed] = await Promise.all([
      this.describeGroup(group).catch((e: unknown) => {
        if (e instanceof GroupIdNotFoundError) return undefined;
        throw e;
      }),
      this.fetchOffsets(group),
    ]);
    if (!description && committed.length === 0) throw new GroupIdNotFoundError(`group '${group}' does not exist`, { status: 404, details: { group } });
    const owner = new Map<string, string>();
    const topics = new Set(committed.map((c) => c.topic));
    for (const m of description?.members ?? []) {
      for (const t of m.topics) topics.add(t);
      for (const a of m.assignment) for (const p of a.partitions) owner.set(`${a.topic}\u0000${p}`, m.memberId);
    }
    const byKey = new Map(committed.map((c) => [`${c.topic}\u0000${c.partition}`, c]));
    const rows: PartitionLag[] = [];
    for (const topic of [...topics].sort()) {
      const described = await this.describeTopic(topic).catch(() => undefined); // deleted since: nothing to show
      for (const p of described?.partitions ?? []) {
        const key = `${topic}\u0000${p.partition}`;
        const c = byKey.get(key);
        rows.push({
          topic,
          partition: p.partition,
          offset: c?.offset ?? null,
          logStartOffset: p.logStartOffset,
          highWatermark: p.highWatermark,
          lag: c === undefined ? null : Math.max(0, p.highWatermark - c.offset),
          memberId: owner.get(key) ?? null,
        });
      }
    }
    return rows;
  }

  // ---- tokens (admin) -----------------------------------------------------------------------

  /** A new bearer token; `token` is shown only in this answer (the server keeps its hash). */
  createToken(token: CreateToken): Promise<{ name: string; token: string }> {
    return this.http.request('POST', '/v1/tokens', { body: token });
  }

  async listTokens(): Promise<TokenListing[]> {
    return (await this.http.request<{ tokens: TokenListing[] }>('GET', '/v1/tokens')).tokens;
  }

  /** Revokes the token `name`: it stops working within 5 s on every instance. */
  async revokeToken(name: string): Promise<void> {
    await this.http.request('DELETE', `/v1/tokens/${seg(name)}`);
  }
}
