/**
 * The segment bucket: one object per produce request, immutable once written (docs/ARCHITECTURE.md, "Write path").
 *
 * - Private: every public-access block on, ACLs disabled, TLS-only (bucket policy denies
 *   `aws:SecureTransport = false`), S3-managed encryption by default (SSE-S3: no KMS key to
 *   grant, no per-request KMS cost on the hot fetch path), SSE-KMS with an S3 Bucket Key when
 *   a customer managed key is given (the Bucket Key keeps KMS calls per object rare).
 * - Server access logs go to a separate bucket (AccessLogBucket) when one is given.
 * - Versioning off: objects are never overwritten, and merge/GC delete objects on purpose;
 *   versions would only keep garbage alive and billable.
 * - Lifecycle: aborts incomplete multipart uploads (SEGMENT_BUCKET, shared with the local
 *   bootstrap). Expiry of whole objects is NOT a lifecycle rule: only GC knows whether an
 *   object is still referenced by the index.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { SEGMENT_BUCKET } from '../../lib/storage/tables.ts';

export interface SegmentBucketProps {
  /** RETAIN for anything holding real data; DESTROY (also empties the bucket) for dev stacks. */
  readonly removalPolicy?: RemovalPolicy;
  /** Customer managed key: SSE-KMS with a Bucket Key. @default SSE-S3 */
  readonly encryptionKey?: kms.IKey;
  /** Where S3 server access logs go. @default none */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** Key prefix of the access logs in that bucket. @default 'segments/' */
  readonly serverAccessLogsPrefix?: string;
}

/** What both buckets are: private (no ACLs, no public access) and reachable over TLS 1.2+ only. */
const PRIVATE_TLS_ONLY = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
} as const satisfies Partial<s3.BucketProps>;

/**
 * The bucket for S3 server access logs of the segment bucket: private, TLS-only, SSE-S3
 * (server access logging cannot write to an SSE-KMS bucket), logs expire after 90 days. It
 * logs nothing itself: logging the log bucket would recurse.
 */
export class AccessLogBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: { readonly removalPolicy?: RemovalPolicy } = {}) {
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    super(scope, id, {
      ...PRIVATE_TLS_ONLY,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: false,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(90) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
  }
}

export class SegmentBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: SegmentBucketProps = {}) {
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    super(scope, id, {
      ...PRIVATE_TLS_ONLY,
      ...(props.encryptionKey
        ? {
            encryption: s3.BucketEncryption.KMS,
            encryptionKey: props.encryptionKey,
            bucketKeyEnabled: true,
          }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      ...(props.serverAccessLogsBucket
        ? {
            serverAccessLogsBucket: props.serverAccessLogsBucket,
            serverAccessLogsPrefix: props.serverAccessLogsPrefix ?? 'segments/',
          }
        : {}),
      versioned: false,
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(
            SEGMENT_BUCKET.abortIncompleteMultipartUploadDays,
          ),
        },
      ],
      removalPolicy,
      // CloudFormation cannot delete a non-empty bucket; a destroyable dev stack empties it first.
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
  }
}
