/**
 * s3rver on a persistent directory after a crash: an upload cut short by a kill leaves a
 * metadata file that does not parse, which makes s3rver answer 500 to every listing of the
 * bucket and to HeadBucket (so `sluice dev` could not start again). startS3Server removes such
 * objects, unless the previous run stopped cleanly (then there is nothing to check).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { removeIncompleteObjects, startS3Server, type S3Server } from '../../lib/local/s3-server.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function client(server: S3Server): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const repairs: string[] = [];

async function withServer<T>(directory: string, fn: (s3: S3Client) => Promise<T>): Promise<T> {
  const server = await startS3Server({ directory, onRepair: (m) => void repairs.push(m) });
  const s3 = client(server);
  try {
    return await fn(s3);
  } finally {
    s3.destroy();
    await server.stop();
  }
}

const BUCKET = 'crash-test';
const MARKER = '.sluice-clean-stop';

/** s3rver itself on `directory`, without startS3Server's check. */
async function rawS3rver(directory: string): Promise<S3Server> {
  const S3rver = createRequire(import.meta.url)('s3rver') as new (o: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = await server.run();
  return { endpoint: `http://127.0.0.1:${port}`, port, directory, stop: () => server.close() };
}

describe('s3rver data dir after a crash', () => {
  it('removes an object whose metadata file was cut short, so the bucket answers again', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sluice-s3-crash-'));
    dirs.push(directory);
    await withServer(directory, async (s3) => {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'seg/a.seg', Body: Buffer.from('complete') }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'seg/b.seg', Body: Buffer.from('cut short') }));
    });
    // A clean stop leaves the marker: the next start has nothing to check.
    expect(existsSync(join(directory, MARKER))).toBe(true);

    // What a kill in the middle of b's PUT leaves: its metadata file created but empty, no marker.
    await truncate(join(directory, BUCKET, 'seg', 'b.seg._S3rver_metadata.json'), 0);
    await rm(join(directory, MARKER));
    const raw = await rawS3rver(directory);
    const rawClient = client(raw);
    const failed = await rawClient.send(new HeadBucketCommand({ Bucket: BUCKET })).catch((err: unknown) => err);
    expect((failed as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(500);
    rawClient.destroy();
    await raw.stop();

    repairs.length = 0;
    await withServer(directory, async (s3) => {
      expect(repairs).toEqual([expect.stringContaining('removed 1 object(s)')]);
      expect(existsSync(join(directory, MARKER))).toBe(false);
      await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      expect((listed.Contents ?? []).map((o) => o.Key)).toEqual(['seg/a.seg']);
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'seg/a.seg' }));
      expect(await got.Body?.transformToString()).toBe('complete');
    });
    expect(await readdir(join(directory, BUCKET, 'seg'))).not.toContain('b.seg._S3rver_object');
  });

  it('removes an object without metadata (a kill before it was written) and keeps the rest', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sluice-s3-crash-'));
    dirs.push(directory);
    await withServer(directory, async (s3) => {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep.seg', Body: Buffer.from('kept') }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'partial.seg', Body: Buffer.from('par') }));
    });
    await rm(join(directory, BUCKET, 'partial.seg._S3rver_metadata.json'));
    await rm(join(directory, MARKER));
    expect((await removeIncompleteObjects(directory)).map((p) => p.slice(directory.length))).toEqual([`/${BUCKET}/partial.seg`]);
    expect(await removeIncompleteObjects(directory)).toEqual([]);
    await withServer(directory, async (s3) => {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      expect((listed.Contents ?? []).map((o) => o.Key)).toEqual(['keep.seg']);
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'keep.seg' }));
      expect(await got.Body?.transformToString()).toBe('kept');
    });
  });
});
