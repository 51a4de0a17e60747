/**
 * The segment bucket: one object per produce request, immutable once written (docs/ARCHITECTURE.md, "Write path").
 *
 * - Private: every public-access block on, ACLs disabled, TLS-only (bucket policy denies
 *   `aws:SecureTransport = false`), S3-managed encryption (SSE-S3: no KMS key to grant, no
 *   per-request KMS cost on the hot fetch path).
 * - Versioning off: objects are never overwritten, and merge/GC delete objects on purpose;
 *   versions would only keep garbage alive and billable.
 * - Lifecycle: aborts incomplete multipart uploads (SEGMENT_BUCKET, shared with the local
 *   bootstrap). Expiry of whole objects is NOT a lifecycle rule: only GC knows whether an
 *   object is still referenced by the index.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { SEGMENT_BUCKET } from '../../lib/storage/tables.ts';

export interface SegmentBucketProps {
  /** RETAIN for anything holding real data; DESTROY (also empties the bucket) for dev stacks. */
  readonly removalPolicy?: RemovalPolicy;
}

export class SegmentBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: SegmentBucketProps = {}) {
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    super(scope, id, {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
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
