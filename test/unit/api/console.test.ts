/**
 * The web console's static assets (lib/api/console.ts): index.html no-cache, hashed assets
 * immutable, a strict CSP, no inline script, public even with a token set; and the build
 * script's staleness rule that `sluice dev` relies on.
 */
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../lib/api/app.ts';
import { IMMUTABLE } from '../../../lib/api/console.ts';
import { randomIds, systemClock, type SluiceDeps } from '../../../lib/deps.ts';
import { createAwsClients } from '../../../lib/storage/clients.ts';
import { resourceNames } from '../../../lib/storage/tables.ts';
import { quietLogger } from '../../support/logger.ts';
// @ts-expect-error: a plain .mjs script without declarations
import { buildConsole, consoleIsStale } from '../../../scripts/build-console.mjs';

const deps: SluiceDeps = {
  clients: createAwsClients({ dynamoEndpoint: 'http://127.0.0.1:9', s3Endpoint: 'http://127.0.0.1:9', region: 'us-east-1', dummyCredentials: true }),
  names: resourceNames('unit'),
  clock: systemClock,
  ids: randomIds,
  backend: 'local',
  authToken: 'admin-secret',
  logger: quietLogger,
};

let dir: string;
let built: { js: string; css: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-console-'));
  built = (await buildConsole(dir)) as { js: string; css: string };
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('console assets', () => {
  it('serves index.html at /console and /console/ with no-cache, a strict CSP and no inline script, without a token', async () => {
    const app = createApp(deps, undefined, { consoleDir: dir });
    for (const path of ['/console', '/console/']) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      const html = await res.text();
      expect(html).toContain(`<script type="module" src="/console/${built.js}"></script>`);
      expect(html).toContain(`href="/console/${built.css}"`);
      expect(html).not.toMatch(/<script>|<script(?![^>]*src=)[^>]*>|style=/);
    }
  });

  it('serves the hashed assets as immutable, with their types; anything else is 404', async () => {
    const app = createApp(deps, undefined, { consoleDir: dir });
    expect(built.js).toMatch(/^app-[A-Z0-9]+\.js$/);
    const js = await app.request(`/console/${built.js}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    const css = await app.request(`/console/${built.css}`);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(css.headers.get('cache-control')).toBe(IMMUTABLE);
    expect((await app.request('/console/app-NOPE.js')).status).toBe(404);
    expect((await app.request('/console/secret.txt')).status).toBe(404);
    // /v1 still wants the token
    expect((await app.request('/v1/cluster')).status).toBe(401);
  });

  it('answers 404 with what to do when the console is not built', async () => {
    const res = await createApp(deps, undefined, { consoleDir: join(dir, 'missing') }).request('/console');
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('npm run build:console');
  });

  it('a build is stale when missing or older than a source file', () => {
    expect(consoleIsStale(join(dir, 'missing'))).toBe(true);
    expect(consoleIsStale(dir)).toBe(false);
    utimesSync(join(dir, 'index.html'), new Date(0), new Date(0));
    expect(consoleIsStale(dir)).toBe(true);
  });
});
