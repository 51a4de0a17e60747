/**
 * What the REST API answers (docs/API.md), as the client hands it out: the API's own field
 * names, so `--json` output and these types read alike. Answers may carry more fields.
 */
/** Record encodings on the wire (docs/API.md "Conventions"); the server's list is lib/wire's ENCODINGS. */
export type Encoding = 'json' | 'string' | 'base64';

export interface ClusterInfo {
  readonly version: string;
  readonly backend: string;
  readonly limits: {
    readonly maxRequestBytes: number;
    readonly maxFetchBytes: number;
    readonly maxPartitionsPerRequest: number;
    readonly maxCommitOffsetsPerRequest: number;
    readonly maxWaitMs: number;
    readonly maxPartitionsPerTopic: number;
    readonly maxRecordsPerFetch: number;
  };
}

export type TopicConfig = Readonly<Record<string, string | number>>;

export interface TopicInfo {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
  readonly config: TopicConfig;
}

export interface TopicListing {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
}

export interface PartitionInfo {
  readonly partition: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly sizeBytes: number;
  readonly segments: number;
}

export interface TopicDescription {
  readonly name: string;
  readonly topicId: string;
  readonly config: TopicConfig;
  readonly partitions: readonly PartitionInfo[];
}

export interface Header {
  readonly key: string;
  readonly value: string | null;
}

/** A record as fetch answers it (values decoded per the request's encoding). */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: unknown;
  readonly headers: readonly Header[];
  /** Present when a key (value) could not be read in the asked encoding and came as base64. */
  readonly keyEncoding?: 'base64';
  readonly valueEncoding?: 'base64';
}

export interface FetchedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumedRecord[];
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

export interface OffsetAt {
  readonly offset: number;
  readonly timestamp: number | null;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface OffsetCommit extends TopicPartition {
  readonly offset: number;
  readonly metadata?: string | null;
}

export interface CommittedOffset extends TopicPartition {
  readonly offset: number;
  readonly metadata: string;
  readonly highWatermark: number;
  readonly lag: number;
}

export interface GroupListing {
  readonly group: string;
  readonly state: string;
  readonly members: number;
}

export interface Assignment {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface GroupMember {
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly topics: readonly string[];
  readonly sessionTimeoutMs?: number;
  readonly assignment: readonly Assignment[];
  readonly targetAssignment?: readonly Assignment[];
}

export interface GroupDescription {
  readonly group: string;
  readonly state: string;
  readonly groupEpoch: number;
  readonly assignmentEpoch?: number;
  readonly members: readonly GroupMember[];
}

export type ResetTo = 'earliest' | 'latest' | { readonly timestamp: number } | { readonly offset: number };

export interface HeartbeatAnswer {
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly heartbeatIntervalMs: number;
  readonly assignment: readonly Assignment[];
}

/** One row of a group's lag report (kafka-consumer-groups --describe). */
export interface PartitionLag extends TopicPartition {
  /** null: the group has committed nothing for this partition. */
  readonly offset: number | null;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  /** null when nothing is committed. */
  readonly lag: number | null;
  /** The member the partition is assigned to, if any. */
  readonly memberId: string | null;
}
