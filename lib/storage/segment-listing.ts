/** Lists segment objects (for garbage collection), page by page, with their age. */
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import type { AwsClients } from './clients.ts';
import { SEGMENT_PREFIX } from './keys/segment.ts';
import { withRetries } from './retry.ts';

export interface ListedObject {
  readonly key: string;
  readonly lastModified: number;
  readonly size: number;
}

export interface ListedPage {
  readonly objects: ListedObject[];
  /** Where the next page starts (a key for StartAfter; a continuation token for the hot tier); undefined when the listing is complete. */
  readonly next: string | undefined;
}

/** An object listed without LastModified counts as never old enough: garbage collection keeps it (G4). */
function listedObjects(page: ListObjectsV2CommandOutput): ListedObject[] {
  const objects: ListedObject[] = [];
  for (const o of page.Contents ?? []) {
    if (o.Key) objects.push({ key: o.Key, lastModified: o.LastModified?.getTime() ?? Number.POSITIVE_INFINITY, size: o.Size ?? 0 });
  }
  return objects;
}

/**
 * One page of segment objects after `startAfter`, in key order. Paged by StartAfter (the last
 * key seen), not by continuation token: a cursor that is a key can be stored between ticks and
 * stays valid however long a sweep takes.
 */
export async function listSegmentPage(clients: AwsClients, bucket: string, startAfter: string | undefined, maxKeys = 1000): Promise<ListedPage> {
  const page: ListObjectsV2CommandOutput = await withRetries('list segments', () =>
    clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: SEGMENT_PREFIX, MaxKeys: maxKeys, ...(startAfter ? { StartAfter: startAfter } : {}) }),
    ),
  );
  const objects = listedObjects(page);
  const last = objects[objects.length - 1];
  return { objects, next: page.IsTruncated && last ? last.key : undefined };
}

/**
 * One page of a directory bucket's objects under `prefix`, paged by continuation token
 * (directory buckets take no StartAfter and list in no fixed order). `next` is the token.
 */
export async function listHotPage(clients: AwsClients, bucket: string, prefix: string, token: string | undefined, maxKeys = 1000): Promise<ListedPage> {
  const page: ListObjectsV2CommandOutput = await withRetries('list hot segments', () =>
    clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: maxKeys, ...(token ? { ContinuationToken: token } : {}) }),
    ),
  );
  return { objects: listedObjects(page), next: page.IsTruncated ? page.NextContinuationToken : undefined };
}

export async function* listSegmentObjects(clients: AwsClients, bucket: string): AsyncGenerator<ListedObject> {
  let after: string | undefined;
  do {
    const page = await listSegmentPage(clients, bucket, after);
    yield* page.objects;
    after = page.next;
  } while (after);
}
