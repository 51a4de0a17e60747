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

export async function* listSegmentObjects(clients: AwsClients, bucket: string): AsyncGenerator<ListedObject> {
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await withRetries('list segments', () =>
      clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: SEGMENT_PREFIX, ContinuationToken: token })),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key) yield { key: o.Key, lastModified: o.LastModified?.getTime() ?? 0, size: o.Size ?? 0 };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}
