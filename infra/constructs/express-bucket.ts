/**
 * The optional hot write tier: an S3 Express One Zone directory bucket in one Availability
 * Zone. Produce writes its segment objects there (single-digit-millisecond PUTs); maintenance
 * copies them into the Standard segment bucket within minutes and deletes them here, so the
 * directory bucket only ever holds the recent tail of each partition.
 *
 * - Zonal: DataRedundancy SingleAvailabilityZone in the AZ given by its ID (`use1-az4`), not
 *   its name (`us-east-1a`): AZ names map to different physical zones in different accounts.
 * - Named by CloudFormation (`<generated>--<azid>--x-s3`): directory bucket names must be
 *   unique in their zone, so a fixed name could collide or block a replacement.
 * - Encryption: SSE-KMS with the deployment's customer managed key when there is one (S3 Bucket
 *   Keys are always on for directory buckets, so BucketKeyEnabled must be true), else SSE-S3.
 * - Access is authorised per bucket, not per object action: a function's role gets
 *   `s3express:CreateSession` on the bucket ARN (SluiceFunction.bindDirectoryBucket); the
 *   session mode (ReadOnly, ReadWrite) is the finest grain IAM offers on a directory bucket.
 * - No lifecycle rules: only maintenance knows when an object has been copied and is no longer
 *   referenced (an expiry rule could delete the only copy), and produce uses single PUTs, so
 *   there are no multipart uploads to abort. No server access logs: directory buckets do not
 *   support them (CloudTrail data events cover them instead).
 * - CloudFormation deletes only empty directory buckets, and the auto-delete custom resource
 *   of the Standard bucket does not support them: with DESTROY, stack deletion needs the bucket
 *   emptied first (docs/DEPLOY.md, Teardown).
 */
import { RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3express from 'aws-cdk-lib/aws-s3express';
import type { Construct } from 'constructs';
import { OPTIONAL_RESOURCE_ENV } from '../../lib/storage/tables.ts';

/** The variable both functions read the directory bucket's name from (lib: unset = Standard only). */
export const EXPRESS_BUCKET_ENV = OPTIONAL_RESOURCE_ENV.expressBucket;

/** Where produce writes segment objects: the Standard bucket, or an S3 Express One Zone bucket first. */
export const SLUICE_WRITE_TIERS = ['standard', 'express'] as const;
export type SluiceWriteTier = (typeof SLUICE_WRITE_TIERS)[number];

/**
 * An Availability Zone ID: the region's short code (`use1`, `euw1`, `apne1`, `usgw1`, ...),
 * `-az` and a number. Local Zone IDs (`usw2-lax1-az1`) are not accepted: the bucket is created
 * with DataRedundancy SingleAvailabilityZone.
 */
const AZ_ID = /^[a-z]{2,6}[0-9]{1,2}-az[0-9]{1,2}$/;
/** An Availability Zone *name* (`us-east-1a`, `us-gov-west-1a`): the usual mistake. */
const AZ_NAME = /^[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]$/;

export function writeTier(value: unknown): SluiceWriteTier {
  if ((SLUICE_WRITE_TIERS as readonly unknown[]).includes(value)) return value as SluiceWriteTier;
  throw new Error(
    `writeTier must be one of ${SLUICE_WRITE_TIERS.join(', ')}, got ${JSON.stringify(value)}`,
  );
}

/**
 * Checks an Availability Zone ID at synth (a token, e.g. a CfnParameter, is passed through).
 * An AZ name gets its own message, with the command that maps names to IDs.
 */
export function expressAvailabilityZoneId(value: unknown): string {
  if (typeof value === 'string' && Token.isUnresolved(value)) return value;
  if (typeof value === 'string' && AZ_ID.test(value)) return value;
  if (typeof value === 'string' && AZ_NAME.test(value)) {
    throw new Error(
      `expressAvailabilityZoneId must be an Availability Zone ID such as 'use1-az4', not the ` +
        `AZ name ${JSON.stringify(value)} (names map to different zones in each account; ` +
        `aws ec2 describe-availability-zones --query "AvailabilityZones[].[ZoneName,ZoneId]" ` +
        `lists the IDs)`,
    );
  }
  throw new Error(
    `expressAvailabilityZoneId must be an Availability Zone ID such as 'use1-az4' or ` +
      `'euw1-az1', got ${JSON.stringify(value)}`,
  );
}

export interface ExpressBucketProps {
  /** Availability Zone ID of the bucket (checked by expressAvailabilityZoneId). */
  readonly availabilityZoneId: string;
  /** Customer managed key: SSE-KMS. @default SSE-S3 */
  readonly encryptionKey?: kms.IKey;
  /** @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** The directory bucket of the express write tier (see the file comment). */
export function createExpressBucket(
  scope: Construct,
  id: string,
  props: ExpressBucketProps,
): s3express.CfnDirectoryBucket {
  const bucket = new s3express.CfnDirectoryBucket(scope, id, {
    dataRedundancy: 'SingleAvailabilityZone',
    locationName: expressAvailabilityZoneId(props.availabilityZoneId),
    bucketEncryption: {
      serverSideEncryptionConfiguration: [
        props.encryptionKey
          ? {
              // Bucket Keys cannot be turned off on directory buckets; only `true` is accepted.
              bucketKeyEnabled: true,
              serverSideEncryptionByDefault: {
                sseAlgorithm: 'aws:kms',
                // A key ARN: directory buckets accept no alias, and only customer managed keys.
                kmsMasterKeyId: props.encryptionKey.keyArn,
              },
            }
          : { serverSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
      ],
    },
  });
  bucket.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
  return bucket;
}
