/**
 * The web console's static assets (docs/CONSOLE.md), built by scripts/build-console.mjs:
 *
 *   GET /console, /console/      index.html, `Cache-Control: no-cache`
 *   GET /console/app-<hash>.js   hashed assets, `Cache-Control: public, max-age=31536000, immutable`
 *   GET /console/app-<hash>.css
 *
 * Public, like /healthz: the page is static content and holds no data; every API call it makes
 * carries the user's bearer token. Every answer carries a strict Content-Security-Policy (no
 * inline script or style; connections to this origin only).
 *
 * Where the assets are: `consoleDir` if given, else the first of `<bundle dir>/console` (the
 * Lambda asset, infra/constructs/bundling.ts) and `<repo>/dist/console` (`sluice dev`, which
 * builds it at start). Files are read once and kept in memory (a few hundred KB).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const IMMUTABLE = 'public, max-age=31536000, immutable';

const ASSET = /^app-[A-Za-z0-9]+\.(js|css)$/;
const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** The built console's directory: the Lambda asset's, else the checkout's dist/console. */
export function defaultConsoleDir(): string | undefined {
  const candidates = [fileURLToPath(new URL('./console/', import.meta.url)), fileURLToPath(new URL('../../dist/console/', import.meta.url))];
  return candidates.find((d) => existsSync(join(d, 'index.html')));
}

interface Assets {
  readonly index: string;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

function load(dir: string): Assets | undefined {
  let index: string;
  try {
    index = readFileSync(join(dir, 'index.html'), 'utf8');
  } catch {
    return undefined;
  }
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(dir)) if (ASSET.test(name)) files.set(name, readFileSync(join(dir, name)));
  return { index, files };
}

/** The routes, with their full paths (mount with `app.route('/', …)`). */
export function consoleRoutes(consoleDir?: string): Hono {
  const routes = new Hono();
  let assets: Assets | undefined;
  // Loaded on first use, and again while missing or after a rebuild (the dev server's index changes).
  const current = (): Assets | undefined => {
    const dir = consoleDir ?? defaultConsoleDir();
    if (dir === undefined) return undefined;
    if (assets === undefined || !assets.files.has(assetOf(assets.index) ?? '')) assets = load(dir);
    return assets;
  };
  routes.use('/console/*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CONSOLE_CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
  });
  const index = (c: Context) => {
    const a = current();
    if (a === undefined) {
      return c.text('The console is not built: run `npm run build:console` (npm start builds it).\n', 404, { 'Cache-Control': 'no-cache' });
    }
    return c.html(a.index, 200, { 'Cache-Control': 'no-cache' });
  };
  routes.get('/console', index);
  routes.get('/console/', index);
  routes.get('/console/index.html', index);
  routes.get('/console/:file', (c) => {
    const file = c.req.param('file');
    let body = ASSET.test(file) ? current()?.files.get(file) : undefined;
    if (body === undefined && ASSET.test(file) && consoleDir === undefined) {
      assets = undefined; // rebuilt since it was read
      body = current()?.files.get(file);
    }
    if (body === undefined) return c.text(`no console asset ${file}\n`, 404, { 'Cache-Control': 'no-cache' });
    const type = TYPES[file.slice(file.lastIndexOf('.') + 1)]!;
    return c.body(body as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': type, 'Cache-Control': IMMUTABLE });
  });
  return routes;
}

/** The first hashed asset index.html names (to notice a rebuild). */
function assetOf(index: string): string | undefined {
  return /\/console\/(app-[A-Za-z0-9]+\.js)/.exec(index)?.[1];
}
