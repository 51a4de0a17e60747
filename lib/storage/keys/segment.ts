/**
 * S3 segment objects:
 *   "seg/<shard>/<yyyymmddHH>/<id>.seg"  shard = the first two hex digits of the random id, so
 *   writes spread over 256 prefixes (S3 scales request rates per prefix); the hour lets
 *   garbage collection list old objects of a shard with StartAfter without reading new ones.
 */
export const SEGMENT_PREFIX = 'seg/';

/**
 * Objects in the hot tier (the S3 Express One Zone directory bucket) are named
 * "hot/" + the segment key: the key alone says which bucket holds an object, so an index entry
 * needs no bucket attribute, and an entry repointed by a merge moves bucket with its key.
 */
export const HOT_PREFIX = 'hot/';

export function hotObjectKey(segmentKey: string): string {
  return HOT_PREFIX + segmentKey;
}

export function isHotObjectKey(key: string): boolean {
  return key.startsWith(HOT_PREFIX);
}

/** `id` must start with two hex digits (a random UUID does). */
export function segmentObjectKey(id: string, now: number): string {
  const shard = id.slice(0, 2).toLowerCase();
  if (!/^[0-9a-f]{2}$/.test(shard)) throw new Error(`segment id must start with two hex digits: ${id}`);
  const hour = new Date(now).toISOString().slice(0, 13).replace(/[-T]/g, '');
  return `${SEGMENT_PREFIX}${shard}/${hour}/${id}.seg`;
}

/**
 * The key a hedged copy of a PUT writes (lib/storage/hedge.ts): the same key with "-h" before
 * ".seg", still a segment key of the same shard and hour.
 */
export function hedgeCopyKey(key: string): string {
  return key.replace(/\.seg$/, '-h.seg');
}

/** Parses a segment key of either tier. */
export function parseSegmentObjectKey(key: string): { shard: string; hour: string; id: string } | undefined {
  const m = /^(?:hot\/)?seg\/([0-9a-f]{2})\/(\d{10})\/(.+)\.seg$/.exec(key);
  return m ? { shard: m[1]!, hour: m[2]!, id: m[3]! } : undefined;
}
