/**
 * DynamoDB Local as lib/local/dynamodb-local.ts runs it: the JVM works in the data directory
 * (in memory: a temp dir of its own), so the `dynamodb-local-metadata.json` it writes into its
 * working directory never lands in the caller's.
 */
import { existsSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../lib/local/dynamodb-local.ts';

const METADATA = 'dynamodb-local-metadata.json';
const hasProc = existsSync('/proc/self/cwd');
const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('DynamoDB Local working directory', () => {
  it('with -dbPath, writes its metadata file into the data directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-ddb-cwd-'));
    tempDirs.push(dir);
    const dbPath = join(realpathSync(dir), 'dynamodb');
    const db = await startDynamoDbLocal({ dbPath });
    try {
      await expect.poll(async () => (await readdir(dbPath)).includes(METADATA), { timeout: 5_000 }).toBe(true);
      if (hasProc) expect(readlinkSync(`/proc/${db.pid}/cwd`)).toBe(dbPath);
    } finally {
      await db.stop();
    }
  });

  it.skipIf(!hasProc)('in memory, runs in a temp dir of its own, removed when it stops', async () => {
    const db = await startDynamoDbLocal();
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${db.pid}/cwd`);
      expect(cwd).not.toBe(process.cwd());
      expect(cwd.startsWith(realpathSync(tmpdir()))).toBe(true);
      await expect.poll(async () => (await readdir(cwd)).includes(METADATA), { timeout: 5_000 }).toBe(true);
    } finally {
      await db.stop();
    }
    expect(existsSync(cwd)).toBe(false);
  });
});
