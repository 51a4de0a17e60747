/** Builds the log's services from injected deps: one place wires storage into the rules. */
import { GROUP_COMMIT_MAX_BYTES, TUNING_DEFAULTS } from './config.ts';
import { consoleLogger, type LogTuning, type SluiceDeps } from './deps.ts';
import { noopMetrics } from './metrics.ts';
import { CommitSignal } from './log/commit-signal.ts';
import { DeleteRecordsService } from './log/delete-records.ts';
import { FetchService } from './log/fetch.ts';
import { OffsetsService } from './log/offsets.ts';
import { DEFAULT_PARTITION_INDEX_OPTIONS, PartitionIndex } from './log/partition-index.ts';
import { partitionSize } from './log/partition-size.ts';
import { ProduceService } from './log/produce.ts';
import { GroupCommitter } from './log/group-commit.ts';
import { DEFAULT_STAMPER_OPTIONS, TimeIndexStamper } from './log/time-index-stamper.ts';
import { stickySeedFromId } from './partition/partitioner.ts';
import { GroupService } from './groups/groups.ts';
import { GroupStore } from './storage/group-store.ts';
import { ProducerService } from './log/producers.ts';
import { ProducerStore } from './storage/producer-store.ts';
import { TopicCache } from './log/topic-cache.ts';
import { TopicService, type PartitionBoundsReader } from './log/topics.ts';
import { IndexStore } from './storage/index-store.ts';
import { PublishTransaction } from './storage/publish-transaction.ts';
import { SegmentStore } from './storage/segment-store.ts';
import { TopicStore } from './storage/topic-store.ts';
import { MAINTENANCE_DEFAULTS, type MaintenanceSettings } from './config.ts';
import { Maintenance } from './maintenance/maintenance.ts';
import { TopicDeletion } from './maintenance/topic-deletion.ts';
import { MaintenanceStore } from './storage/maintenance-store.ts';
import { PartitionPurge } from './storage/partition-purge.ts';
import { Authenticator, TokenService } from './auth/tokens.ts';
import { readSecretString } from './storage/secrets.ts';
import { TokenStore } from './storage/token-store.ts';
import { DS_DEFAULTS, DsStreams } from './ds/streams.ts';


export interface Services {
  readonly topics: TopicService;
  readonly produce: ProduceService;
  readonly fetch: FetchService;
  readonly offsets: OffsetsService;
  /** DeleteRecords: moves a partition's log start offset forward. */
  readonly deleteRecords: DeleteRecordsService;
  /** Time-index stamping (maintenance calls it on each partition pass). */
  readonly stamper: TimeIndexStamper;
  readonly groups: GroupService;
  readonly producers: ProducerService;
  readonly partitions: PartitionIndex;
  readonly index: IndexStore;
  readonly publisher: PublishTransaction;
  readonly segments: SegmentStore;
  /**
   * Who a bearer token is: set iff a bootstrap admin token is configured (SLUICE_AUTH_TOKEN,
   * else SLUICE_AUTH_SECRET_ARN); without one the API is open and there is no authenticator.
   */
  readonly authenticator: Authenticator | undefined;
  readonly tokens: TokenService;
  /** The Durable Streams protocol's streams, on the topics, produce and fetch above. */
  readonly ds: DsStreams;
}

/**
 * Describe reads the stable view of every partition (states in batches, walks only where
 * needed) and its stored size (partition-size.ts: maintenance's summary plus the newer entries).
 */
function boundsFrom(partitions: PartitionIndex, index: IndexStore): PartitionBoundsReader {
  return {
    async bounds(topic) {
      const tps = Array.from({ length: topic.partitions }, (_, partition) => ({ topicId: topic.topicId, partition }));
      const views = await partitions.views(tps);
      const sizes = await Promise.all(views.map((view) => partitionSize(index, view)));
      return views.map((view, partition) => ({
        partition,
        logStartOffset: view.logStartOffset,
        highWatermark: view.highWatermark,
        sizeBytes: sizes[partition]!.sizeBytes,
        segments: sizes[partition]!.segments,
      }));
    },
  };
}

export function createServices(deps: SluiceDeps): Services {
  const tuning: LogTuning = { ...TUNING_DEFAULTS, ...deps.tuning };
  const topicStore = new TopicStore(deps.clients, deps.names.tables.meta);
  const index = new IndexStore(deps.clients, deps.names.tables.log);
  const segments = new SegmentStore(deps.clients, deps.names.bucket, tuning.segmentCacheBytes, deps.names.expressBucket, {
    standard: tuning.s3HedgeAfterMs,
    express: tuning.expressHedgeAfterMs,
  }, () => metrics.count('HedgedRequests'));
  const topicCache = new TopicCache(topicStore, deps.clock, tuning.topicCacheTtlMs);
  const metrics = deps.metrics ?? noopMetrics;
  const partitions = new PartitionIndex(index, deps.clock, {
    ...DEFAULT_PARTITION_INDEX_OPTIONS,
    slotTimeoutMs: tuning.slotTimeoutMs,
  }, metrics);
  const signal = new CommitSignal();
  const topics = new TopicService(topicStore, deps.clock, deps.ids, boundsFrom(partitions, index), topicCache);
  const stamper = new TimeIndexStamper(index, DEFAULT_STAMPER_OPTIONS);
  const offsets = new OffsetsService(topicCache, index, partitions, segments);
  const groupStore = new GroupStore(deps.clients, deps.names.tables.meta);
  const producerStore = new ProducerStore(deps.clients, deps.names.tables.meta);
  const publisher = new PublishTransaction(deps.clients, deps.names.tables.log, producerStore, groupStore);
  const groups = new GroupService(
    groupStore,
    topicCache,
    partitions,
    offsets,
    deps.clock,
    deps.ids,
  );
  const producers = new ProducerService(producerStore, deps.clock, deps.ids);
  const tokenStore = new TokenStore(deps.clients, deps.names.tables.meta);
  const { authToken, authSecretArn } = deps;
  const bootstrap =
    authToken !== undefined ? () => Promise.resolve(authToken)
    : authSecretArn !== undefined ? () => readSecretString(deps.clients, authSecretArn)
    : undefined;
  const authenticator = bootstrap && new Authenticator(tokenStore, bootstrap, deps.clock);
  const tokens = new TokenService(tokenStore, deps.clock, authenticator);
  // Seeded per instance (from an injected id): cold instances start their sticky
  // round-robin at different partitions.
  const produce = new ProduceService(
      topicCache,
      new GroupCommitter(index, publisher, segments, deps.clock, deps.ids, signal, {
        maxRequests: tuning.groupCommitMaxRequests,
        maxBytes: GROUP_COMMIT_MAX_BYTES,
      }, metrics),
      deps.clock,
      producers,
      groups,
      stickySeedFromId(deps.ids.newId()),
    );
  const fetch = new FetchService(topicCache, index, partitions, segments, deps.clock, signal, { pollIntervalMs: tuning.pollIntervalMs });
  return {
    topics,
    groups,
    producers,
    produce,
    fetch,
    ds: new DsStreams(topics, produce, fetch, producerStore, deps.clock, deps.ids, { ...DS_DEFAULTS, longPollMs: tuning.dsLongPollMs }),
    offsets,
    deleteRecords: new DeleteRecordsService(topicCache, partitions, index, deps.clock),
    stamper,
    partitions,
    index,
    publisher,
    segments,
    authenticator,
    tokens,
  };
}

/**
 * Maintenance on the same deps. `services` shares a process's stable-prefix cache and stamper
 * (the dev server: entries it merges are followed by the API's cache at once); by default a
 * fresh set. Merge reads bypass the segment cache (they read each byte once).
 */
export function createMaintenance(deps: SluiceDeps, settings: Partial<MaintenanceSettings> = {}, services: Services = createServices(deps)): Maintenance {
  const full = { ...MAINTENANCE_DEFAULTS, ...settings };
  const topicStore = new TopicStore(deps.clients, deps.names.tables.meta);
  return new Maintenance(
    {
      topics: topicStore,
      index: services.index,
      segments: new SegmentStore(deps.clients, deps.names.bucket, 0, deps.names.expressBucket),
      partitions: services.partitions,
      stamper: services.stamper,
      store: new MaintenanceStore(deps.clients, deps.names.tables.meta),
      deletion: new TopicDeletion(
        topicStore,
        new PartitionPurge(deps.clients, deps.names.tables.log),
        new GroupStore(deps.clients, deps.names.tables.meta),
        deps.clock,
        { graceMs: full.gcGraceMs, itemsPerStep: full.deletionItemsPerStep },
      ),
      clock: deps.clock,
      ids: deps.ids,
      logger: deps.logger ?? consoleLogger,
      streams: services.ds,
    },
    full,
  );
}
