/**
 * Segment objects in S3: one PUT per produce request, ranged GETs on fetch.
 *
 * Reads go through an LRU of immutable byte ranges keyed by (object, position, length): the
 * writer puts the chunks it just wrote (write-through), so a warm function serves tail reads of
 * what it produced with no GET, and a reader caches what it fetched. Adjacent ranges of one
 * object are merged into one GET (docs/ARCHITECTURE.md, "Read path"). Both paths cache views
 * (`subarray`s of a whole segment or of a merged GET); the LRU charges each for the buffer it
 * keeps alive, copying the small ones (byte-cache.ts), so its budget bounds real memory.
 *
 * Two tiers: with a hot tier (an S3 Express One Zone directory bucket), produce writes new
 * objects there under "hot/" keys (keys/segment.ts), and maintenance later copies their bytes
 * into the Standard bucket; an object's key says which bucket holds it, so reads route by key.
 */
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ByteLru } from './byte-cache.ts';
import type { AwsClients } from './clients.ts';
import { HOT_PREFIX, hedgeCopyKey, hotObjectKey, isHotObjectKey, parseSegmentObjectKey, segmentObjectKey } from './keys/segment.ts';
import { listHotPage, listSegmentPage, type ListedPage } from './segment-listing.ts';
import { withRetries } from './retry.ts';
import { HedgeBudget, hedgeDelay, hedged, NO_HEDGE, type HedgeAfter } from './hedge.ts';
import { MissingSegmentError, ShortReadError } from '../errors.ts';

export interface ByteRange {
  readonly object: string;
  readonly position: number;
  readonly length: number;
}

function cacheKey(r: ByteRange): string {
  return `${r.object}\u0000${r.position}\u0000${r.length}`;
}

export class SegmentStore {
  private readonly cache: ByteLru;
  /** At most about 10% of this process's segment requests are hedged. */
  private readonly hedgeBudget = new HedgeBudget();

  constructor(
    private readonly clients: AwsClients,
    private readonly bucket: string,
    cacheBytes: number,
    /** The hot tier's directory bucket; produce writes there when set. */
    private readonly expressBucket?: string | undefined,
    /** When a PUT or GET still unanswered is sent again (hedge.ts). */
    private readonly hedge: HedgeAfter = NO_HEDGE,
    private readonly onHedge?: () => void,
  ) {
    this.cache = new ByteLru(cacheBytes);
  }

  /** Is this object in the hot tier (by its key)? */
  isHot(object: string): boolean {
    return isHotObjectKey(object);
  }

  /** Does produce write to a hot tier? */
  get hasHotTier(): boolean {
    return this.expressBucket !== undefined;
  }

  /** The bucket an object's key places it in. */
  private bucketOf(object: string): string {
    if (!isHotObjectKey(object)) return this.bucket;
    // An entry pointing into a hot tier this deployment does not have: a configuration error
    // (the tier was turned off while its objects were still referenced), never silently a 404.
    if (this.expressBucket === undefined) {
      throw new Error(`segment object ${object} is in the hot tier, but no hot tier bucket is configured (SLUICE_EXPRESS_BUCKET)`);
    }
    return this.expressBucket;
  }

  /**
   * Writes a new segment object; answers the key written: `object`, or its hedged copy's key
   * when the copy answered first (the caller points entries at the key answered).
   */
  async put(object: string, bytes: Buffer): Promise<string> {
    const bucket = this.bucketOf(object);
    const after = this.hedgeAfter(object, bytes.byteLength);
    return withRetries('write segment', () =>
      hedged(
        async (abortSignal, copy) => {
          const key = copy === 0 ? object : hedgeCopyKey(object);
          await this.clients.s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: bytes,
              ContentType: 'application/vnd.sluice.segment',
            }),
            { abortSignal },
          );
          return key;
        },
        after,
        this.onHedge,
        this.hedgeBudget,
      ),
    );
  }

  private hedgeAfter(object: string, bytes: number): number {
    return hedgeDelay(isHotObjectKey(object) ? this.hedge.express : this.hedge.standard, bytes);
  }

  /**
   * The key of a new segment object in the Standard bucket (merge and compaction write there;
   * the layout is keys/segment.ts's): `id` is a fresh UUID.
   */
  objectKeyFor(id: string, now: number): string {
    return segmentObjectKey(id, now);
  }

  /** The key of a new object a produce writes: in the hot tier when there is one. */
  produceKeyFor(id: string, now: number): string {
    const key = segmentObjectKey(id, now);
    return this.expressBucket === undefined ? key : hotObjectKey(key);
  }

  /** Is this a key of a segment object (keys/segment.ts's layout)? */
  isSegmentKey(key: string): boolean {
    return parseSegmentObjectKey(key) !== undefined;
  }

  /** One page of the bucket's segment objects after `startAfter` (garbage collection). */
  listPage(startAfter: string | undefined, maxKeys: number): Promise<ListedPage> {
    return listSegmentPage(this.clients, this.bucket, startAfter, maxKeys);
  }

  /**
   * One page of the hot tier's objects (garbage collection). Directory buckets list in no
   * particular order and take no StartAfter, so the cursor is a continuation token, good only
   * within one sweep. Empty when there is no hot tier.
   */
  listHotPage(token: string | undefined, maxKeys: number): Promise<ListedPage> {
    if (this.expressBucket === undefined) return Promise.resolve({ objects: [], next: undefined });
    return listHotPage(this.clients, this.expressBucket, HOT_PREFIX, token, maxKeys);
  }

  /** Deletes objects garbage collection judged unreferenced (of either tier, by key); returns the keys S3 failed on. */
  async deleteObjects(keys: readonly string[]): Promise<{ deleted: number; failed: string[] }> {
    const hot = keys.filter(isHotObjectKey);
    const standard = keys.filter((k) => !isHotObjectKey(k));
    const results = await Promise.all([
      standard.length > 0 ? deleteSegmentObjects(this.clients, this.bucket, standard) : { deleted: 0, failed: [] },
      hot.length > 0 ? deleteSegmentObjects(this.clients, this.bucketOf(hot[0]!), hot) : { deleted: 0, failed: [] },
    ]);
    return { deleted: results[0].deleted + results[1].deleted, failed: [...results[0].failed, ...results[1].failed] };
  }

  /** Remember bytes we wrote so tail reads in this process need no GET. */
  remember(range: ByteRange, bytes: Uint8Array): void {
    this.cache.set(cacheKey(range), bytes);
  }

  /**
   * Reads every range (cache first; the rest merged per object and fetched in parallel).
   * `ahead` ranges are read only to extend a GET that happens anyway (they touch a missing
   * range's run): they are cached for later reads, never returned, and never cost a request
   * of their own.
   */
  async read(ranges: readonly ByteRange[], ahead: readonly ByteRange[] = []): Promise<Uint8Array[]> {
    const result: (Uint8Array | undefined)[] = ranges.map((r) => this.cache.get(cacheKey(r)));
    const missing = ranges.map((r, i) => ({ r, i })).filter(({ i }) => result[i] === undefined);
    const extra = missing.length === 0 ? [] : ahead.filter((r) => this.cache.get(cacheKey(r)) === undefined).map((r) => ({ r, i: -1 }));
    const runs = mergeAdjacent([...missing, ...extra]).filter((run) => run.some(({ i }) => i >= 0));
    await Promise.all(
      runs.map(async (run) => {
        const first = run[0]!.r;
        const last = run[run.length - 1]!.r;
        const start = first.position;
        const endExclusive = last.position + last.length;
        const bytes = await this.getRange(first.object, start, endExclusive);
        for (const { r, i } of run) {
          const slice = bytes.subarray(r.position - start, r.position - start + r.length);
          this.cache.set(cacheKey(r), slice);
          if (i >= 0) result[i] = slice;
        }
      }),
    );
    return result as Uint8Array[];
  }

  /** Throws MissingSegmentError when the object is gone (garbage collection removed it). */
  async getRange(object: string, start: number, endExclusive: number): Promise<Uint8Array> {
    const bucket = this.bucketOf(object);
    const after = this.hedgeAfter(object, endExclusive - start);
    return withRetries('read segment', () =>
      hedged(
        async (abortSignal) => {
          const out = await this.clients.s3
            .send(new GetObjectCommand({ Bucket: bucket, Key: object, Range: `bytes=${start}-${endExclusive - 1}` }), { abortSignal })
            .catch((err: unknown) => {
              throw isNoSuchKey(err) ? new MissingSegmentError(object, err) : err;
            });
          const bytes = await out.Body!.transformToByteArray();
          if (bytes.byteLength !== endExclusive - start) throw new ShortReadError(object, endExclusive - start, bytes.byteLength);
          return bytes;
        },
        after,
        this.onHedge,
        this.hedgeBudget,
      ),
    );
  }
}

/** S3 DeleteObjects takes at most 1,000 keys. */
export const DELETE_BATCH = 1000;

function isNoSuchKey(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || (e?.name !== 'AccessDenied' && e?.$metadata?.httpStatusCode === 404);
}

/**
 * Deletes segment objects, 1,000 per DeleteObjects request (garbage collection: the caller
 * decided each key may go). Keys S3 reports as failed are returned; deleting a key that is
 * already gone is a success (a concurrent collector, or a retry).
 */
export async function deleteSegmentObjects(clients: AwsClients, bucket: string, keys: readonly string[]): Promise<{ deleted: number; failed: string[] }> {
  let deleted = 0;
  const failed: string[] = [];
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const out = await withRetries('delete segments', () =>
      clients.s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      ),
    );
    const errors = (out.Errors ?? []).map((e) => e.Key).filter((k): k is string => k !== undefined);
    failed.push(...errors);
    deleted += batch.length - errors.length;
  }
  return { deleted, failed };
}

/** Groups ranges of the same object that touch end-to-start into runs, each sorted by position. */
export function mergeAdjacent<T extends { r: ByteRange }>(items: readonly T[]): T[][] {
  const sorted = [...items].sort((a, b) =>
    a.r.object === b.r.object ? a.r.position - b.r.position : a.r.object < b.r.object ? -1 : 1,
  );
  const runs: T[][] = [];
  for (const item of sorted) {
    const run = runs[runs.length - 1];
    const prev = run?.[run.length - 1];
    if (run && prev && prev.r.object === item.r.object && prev.r.position + prev.r.length === item.r.position) {
      run.push(item);
    } else {
      runs.push([item]);
    }
  }
  return runs;
}
