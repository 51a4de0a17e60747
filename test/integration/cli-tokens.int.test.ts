/**
 * `sluice tokens create|list|revoke` as a user runs them: the real bin/sluice.js as a child
 * process against the app served over HTTP on the shared stack, with a bootstrap admin token.
 * A created token works for what its ACL allows and nothing else; revoked, it answers 401.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { stackApp } from '../support/stack.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO, 'bin', 'sluice.js');
const ADMIN = `cli-tokens-admin-${randomUUID()}`;
const run = randomUUID().slice(0, 8);

let served: ServedApp;
beforeAll(async () => {
  served = await serveApp(stackApp({ authToken: ADMIN }));
});
afterAll(async () => {
  await served?.close();
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `token` null: no token at all. */
function sluice(args: readonly string[], token: string | null = ADMIN): Promise<Run> {
  const { SLUICE_TOKEN: _t, SLUICE_URL: _u, ...env } = process.env;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env: { ...env, SLUICE_URL: served.base, ...(token === null ? {} : { SLUICE_TOKEN: token }), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sluice tokens', () => {
  it('creates a token (printed alone on stdout), lists it without the token, revokes it', async () => {
    const name = `cli-${run}-reader`;
    const created = await sluice(['tokens', 'create', '--name', name, '--allow', `fetch:cli-${run}-*`, '--allow', `group:cli-${run}-*`]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^slc_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('shown only now');

    const listed = await sluice(['tokens', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^NAME +CREATED +ALLOW/);
    const row = listed.stdout.split('\n').find((l) => l.startsWith(name));
    expect(row).toContain(`fetch:cli-${run}-* group:cli-${run}-*`);
    expect(listed.stdout).not.toContain(token);

    const json = await sluice(['tokens', 'list', '--json']);
    const mine = (JSON.parse(json.stdout) as { tokens: { name: string }[] }).tokens.find((t) => t.name === name);
    expect(mine).toMatchObject({ name, allow: [`fetch:cli-${run}-*`, `group:cli-${run}-*`] });

    // The new token works for what it allows (any token may read the cluster) and not beyond.
    expect((await sluice(['cluster', '--json'], token)).code).toBe(0);
    const refused = await sluice(['topics', 'create', `cli-${run}-t`], token);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^sluice: TOPIC_AUTHORIZATION_FAILED: /);
    const notAdmin = await sluice(['tokens', 'list'], token);
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toMatch(/^sluice: CLUSTER_AUTHORIZATION_FAILED: /);

    const revoked = await sluice(['tokens', 'revoke', name]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout.trim()).toBe(`revoked token ${name}`);
    const after = await sluice(['cluster'], token);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^sluice: UNAUTHENTICATED: /);
  });

  it('answers --json on create, and one line with exit 1 for a duplicate, an unknown name, a bad entry', async () => {
    const name = `cli-${run}-ops`;
    const created = await sluice(['tokens', 'create', '--name', name, '--allow', 'admin', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name, token: expect.stringMatching(/^slc_/) });

    const dup = await sluice(['tokens', 'create', '--name', name, '--allow', 'admin']);
    expect(dup.code).toBe(1);
    expect(dup.stderr.trim()).toMatch(/^sluice: DUPLICATE_RESOURCE: token .* already exists$/);

    const unknown = await sluice(['tokens', 'revoke', `cli-${run}-nobody`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toMatch(/^sluice: DELEGATION_TOKEN_NOT_FOUND: /);

    const bad = await sluice(['tokens', 'create', '--name', `cli-${run}-bad`, '--allow', 'write:x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^sluice: INVALID_REQUEST: allow entry "write:x"/);

    const usage = await sluice(['tokens', 'create', '--name', `cli-${run}-none`]);
    expect(usage.code).toBe(2);

    expect((await sluice(['tokens', 'revoke', name])).code).toBe(0);
  });

  it('needs a token: without one, 401', async () => {
    const res = await sluice(['tokens', 'list'], null);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^sluice: UNAUTHENTICATED: /);
  });
});
