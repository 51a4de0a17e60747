/**
 * Finishing topic deletions: DELETE /v1/topics/{t} removes the topic item and leaves a marker
 * `deleted-topic#<topicId>` (TopicStore.delete); this job removes the data of that topic
 * incarnation, a bounded step at a time, and then forgets the marker.
 *
 * What a step deletes, for each marker (oldest deletion first), and nothing else:
 *  D1 the committed offsets `group#<g>` / `offset#<topicId>#<p>` of every group the byKind
 *     index lists (GroupStore.deleteTopicOffsets);
 *  D2 every item of the log table collections `<topicId>#<p>`, p < the marker's partition
 *     count (PartitionPurge.purge): first the entries, then the head and hint last.
 *     In that order (offsets, then entries, then head and hint, partition by partition), so a
 *     crash leaves at worst a head over missing entries of a topic the API already answers
 *     404 for; the next step goes on from what is left (each step re-reads, nothing is
 *     remembered in between).
 *  D3 the marker itself (TopicStore.forgetDeletedTopic), only when a step found nothing at all
 *     left for it (no offset, no item) AND the deletion is older than `graceMs` when that
 *     step began. Within the grace period a producer that resolved the topic before the
 *     delete may still reserve and publish, and a reader with a cached topic (5 s) may fill
 *     holes or rewrite the hint: such late items are removed by a later step, because the
 *     marker is kept until a sweep after the grace finds the partitions empty.
 *
 * What it never touches:
 *  N1 anything keyed by another topicId. The data of an incarnation is keyed by its topicId,
 *     never by name, and a topic re-created under the same name gets a new topicId: it is
 *     never touched, however its deletion and re-creation interleave with steps. A marker is
 *     written in the same transaction that removes its topic item, and topicIds are never
 *     reused, so no live topic has a marker. Offsets are matched on the parsed topicId, not
 *     only on the sk prefix (topic ids may contain '#').
 *  N2 segment objects in S3: garbage collection deletes an object once no index entry
 *     references it (byObject) and its grace has passed, so an object shared with other
 *     topics' entries stays while they point into it.
 *  N3 producer state (per producer id, no per-topic data; TTL expires it) and group items.
 *
 * Bounds and concurrency:
 *  - A step deletes at most `itemsPerStep` items (offsets and log items together); `more`
 *    says a step now would find work (items to delete, or a marker to forget). A marker
 *    still within its grace with nothing left gives `more: false`: call again later.
 *    Reads are not bounded by the budget: every visited partition costs one Query and every
 *    group one Query per marker, even when they are already empty.
 *  - Steps may run concurrently (several schedules, an operator's CLI): deleting an absent
 *    item succeeds, so they only repeat work, and forgetting a marker twice is harmless.
 *  - Dry run: the same reads and the same bound, no write; the counts are what a step would
 *    delete, `finished` whether it would forget the marker.
 *
 * Known residue: a writer to the hint item that outlives the marker (a maintenance pass or a
 * reader with a cached topic that began before the delete and ends after the marker was
 * forgotten) can re-create a hint item: hint updates create a missing item. It is a few bytes
 * under a topicId nobody uses again and references no object.
 */
import { MAINTENANCE_DEFAULTS } from '../config.ts';
import type { Clock } from '../deps.ts';
import type { GroupStore } from '../storage/group-store.ts';
import type { PartitionPurge } from '../storage/partition-purge.ts';
import type { DeletedTopicMarker, TopicStore } from '../storage/topic-store.ts';

export interface TopicDeletionOptions {
  /** How old a deletion must be before its marker may be forgotten. */
  readonly graceMs: number;
  /** Deletes (offsets and log items together) one step does at most. */
  readonly itemsPerStep: number;
}

/** Defaults: the grace of maintenance's garbage collection (15 minutes), 500 deletes a step. */
export const TOPIC_DELETION_DEFAULTS: TopicDeletionOptions = {
  graceMs: MAINTENANCE_DEFAULTS.gcGraceMs,
  itemsPerStep: MAINTENANCE_DEFAULTS.deletionItemsPerStep,
};

export interface TopicDeletionStepOptions {
  /** Count what would be deleted, write nothing. */
  readonly dryRun?: boolean;
  /** Only this topic incarnation's marker (the CLI maps a name to markers with `markers()`). */
  readonly topicId?: string;
  /**
   * Called once before the step deletes its first log item: deleting entries may leave their
   * objects unreferenced, and garbage collection must hear of it before, not after (a crash
   * in between would otherwise leave them unswept).
   */
  readonly beforeEntriesDeleted?: () => Promise<void>;
}

/** What one step did for one deleted topic. */
export interface TopicDeletionProgress {
  readonly topicId: string;
  readonly name: string;
  /** Log table items deleted (dry run: that would be). */
  readonly itemsDeleted: number;
  /** Committed offsets deleted (dry run: that would be). */
  readonly offsetsDeleted: number;
  /** The step reached the end of every group's offsets and every partition within its budget. */
  readonly swept: boolean;
  /** Done: nothing of the topic was left and the marker was forgotten (dry run: would be). */
  readonly finished: boolean;
}

export interface TopicDeletionReport {
  readonly dryRun: boolean;
  /** The markers this step worked on, in order; markers it had no budget left for are not listed. */
  readonly topics: readonly TopicDeletionProgress[];
  /** A step now would find work (items to delete or a marker to forget): call again. */
  readonly more: boolean;
}

export type TopicDeletionTopics = Pick<TopicStore, 'deletedTopics' | 'deletedTopic' | 'forgetDeletedTopic'>;
export type TopicDeletionPartitions = Pick<PartitionPurge, 'purge'>;
export type TopicDeletionGroups = Pick<GroupStore, 'deleteTopicOffsets'>;

export class TopicDeletion {
  private readonly opts: TopicDeletionOptions;

  constructor(
    private readonly topics: TopicDeletionTopics,
    private readonly partitions: TopicDeletionPartitions,
    private readonly groups: TopicDeletionGroups,
    private readonly clock: Clock,
    opts: Partial<TopicDeletionOptions> = {},
  ) {
    this.opts = { ...TOPIC_DELETION_DEFAULTS, ...opts };
    if (!(this.opts.itemsPerStep >= 1)) throw new RangeError(`itemsPerStep must be at least 1, not ${this.opts.itemsPerStep}`);
    if (!(this.opts.graceMs >= 0)) throw new RangeError(`graceMs must not be negative, not ${this.opts.graceMs}`);
  }

  /** Every deleted-topic marker with its name (oldest deletion first): the CLI filters by name. */
  markers(): Promise<DeletedTopicMarker[]> {
    return this.topics.deletedTopics();
  }

  /** One bounded step over the markers (or the one marker of `topicId`). */
  async step(opts: TopicDeletionStepOptions = {}): Promise<TopicDeletionReport> {
    const dryRun = opts.dryRun ?? false;
    const markers = opts.topicId === undefined ? await this.topics.deletedTopics() : await this.one(opts.topicId);
    let budget = this.opts.itemsPerStep;
    let more = false;
    const topics: TopicDeletionProgress[] = [];
    let announced: Promise<void> | undefined;
    const announce = () => (announced ??= opts.beforeEntriesDeleted?.() ?? Promise.resolve());
    for (const marker of markers) {
      if (budget <= 0) {
        more = true;
        break;
      }
      // Taken before the sweep: forgetting needs a sweep that began after the grace ended.
      const pastGrace = this.clock.now() - marker.deletedAt >= this.opts.graceMs;
      const done = await this.sweep(marker, budget, dryRun, announce);
      budget -= done.offsetsDeleted + done.itemsDeleted;
      const found = done.offsetsDeleted + done.itemsDeleted > 0;
      const finished = done.swept && !found && pastGrace;
      if (finished && !dryRun) await this.topics.forgetDeletedTopic(marker.topicId);
      topics.push({ topicId: marker.topicId, name: marker.name, ...done, finished });
      // Work left: a partial sweep; or (past the grace) a sweep that still found items, which
      // the next step must confirm empty before forgetting. A dry run changed nothing, so
      // whatever it found or would forget is still to do.
      more ||= !done.swept || (pastGrace && found) || (dryRun && (found || finished));
    }
    return { dryRun, topics, more };
  }

  private async one(topicId: string): Promise<DeletedTopicMarker[]> {
    const marker = await this.topics.deletedTopic(topicId);
    return marker ? [marker] : [];
  }

  /** D1 then D2, within `budget` deletes. */
  private async sweep(
    marker: DeletedTopicMarker,
    budget: number,
    dryRun: boolean,
    beforeEntriesDeleted: () => Promise<void>,
  ): Promise<Omit<TopicDeletionProgress, 'topicId' | 'name' | 'finished'>> {
    const offsets = await this.groups.deleteTopicOffsets(marker.topicId, budget, { dryRun });
    let left = budget - offsets.deleted;
    let itemsDeleted = 0;
    let swept = !offsets.more;
    for (let partition = 0; swept && partition < marker.partitions; partition++) {
      if (left <= 0) {
        swept = false;
        break;
      }
      if (!dryRun) await beforeEntriesDeleted();
      const purged = await this.partitions.purge({ topicId: marker.topicId, partition }, left, { dryRun });
      itemsDeleted += purged.deleted;
      left -= purged.deleted;
      if (purged.more) swept = false;
    }
    return { itemsDeleted, offsetsDeleted: offsets.deleted, swept };
  }
}
