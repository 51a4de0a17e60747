/**
 * `npm run bench -- console [--loads N] [--partitions P]`: the web console (docs/CONSOLE.md).
 *
 *  - Bundle size: the built app-<hash>.js and .css (scripts/build-console.mjs), raw and gzip
 *    (level 9, what a CDN or a gzip-capable proxy would send; the app itself sends them as is).
 *  - Time to first render of the topic page in headless Chromium: navigation start → the
 *    partition table visible (its first row in the DOM), read from the page's own clock
 *    (performance.now() at the mutation that inserted it), median of N loads, against the app
 *    over real HTTP on a local stack, as `sluice dev` serves it. Cold: a new browser context per
 *    load (no cache); warm: one context, so the immutable hashed assets come from its cache.
 *
 * Needs /usr/bin/chromium (apt-get install -y chromium).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type BrowserContext } from 'playwright-core';
import { createApp } from '../lib/api/app.ts';
import { quietLogger } from '../test/support/logger.ts';
import { serveApp } from '../test/support/http-server.ts';
// @ts-expect-error: a plain .mjs script without declarations
import { buildConsole } from '../scripts/build-console.mjs';
import { BenchOptions, createTopic, fmtMs, log, machine, overHttp, startBenchStack, table, uniqueName } from './support.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Records, in the page, when the partition table's first row appears (navigation start = 0). */
const MARK_RENDER = `
  new MutationObserver((_, observer) => {
    if (document.querySelector('#partitions tbody tr')) {
      window.__sluiceRenderedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export async function run(args: string[]): Promise<void> {
  const opts = new BenchOptions(args, ['loads', 'partitions']);
  const loads = opts.number('loads', 15);
  const partitions = opts.number('partitions', 12);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);

  const dir = mkdtempSync(join(tmpdir(), 'sluice-console-bench-'));
  const bench = await startBenchStack();
  try {
    const started = performance.now();
    const built = (await buildConsole(dir)) as { js: string; css: string };
    const buildMs = performance.now() - started;
    const sizes = [built.js, built.css].map((f) => {
      const bytes = readFileSync(join(dir, f));
      return [f.endsWith('.js') ? 'app-<hash>.js' : 'app-<hash>.css', bytes.length, gzipSync(bytes, { level: 9 }).length] as const;
    });
    const total = sizes.reduce((s, [, raw, gz]) => [s[0]! + raw, s[1]! + gz], [0, 0]);

    const served = await serveApp(createApp({ ...bench.deps, logger: quietLogger }, undefined, { consoleDir: dir }));
    const topic = uniqueName('console');
    const req = overHttp(served.base);
    await createTopic(req, topic, partitions);
    const url = `${served.base}/console/#/topics/${topic}`;

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const version = browser.version();
    const once = async (context: BrowserContext): Promise<number> => {
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForFunction(() => (globalThis as unknown as { __sluiceRenderedAt?: number }).__sluiceRenderedAt !== undefined, undefined, { timeout: 30_000 });
      const at = await page.evaluate(() => (globalThis as unknown as { __sluiceRenderedAt: number }).__sluiceRenderedAt);
      await page.close();
      return at;
    };
    const cold: number[] = [];
    const warm: number[] = [];
    try {
      // One load first, not counted: Chromium's own start-up costs (first process, first compile).
      const first = await browser.newContext();
      await first.addInitScript(MARK_RENDER);
      await once(first);
      await first.close();
      for (let i = 0; i < loads; i++) {
        const ctx = await browser.newContext();
        await ctx.addInitScript(MARK_RENDER);
        cold.push(await once(ctx));
        await ctx.close();
      }
      const ctx = await browser.newContext();
      await ctx.addInitScript(MARK_RENDER);
      await once(ctx); // fills its cache
      for (let i = 0; i < loads; i++) warm.push(await once(ctx));
      await ctx.close();
    } finally {
      await browser.close();
      await served.close();
    }
    log(machine());
    log(`Chromium ${version}; console built in ${fmtMs(buildMs)} ms`);
    log('');
    log(table(['asset', 'raw:', 'gzip -9:'], [...sizes.map(([n, raw, gz]) => [n, kib(raw), kib(gz)]), ['total', kib(total[0]!), kib(total[1]!)]]));
    log('');
    log(
      table(
        ['topic page, first render', 'loads:', 'median ms:', 'min ms:', 'max ms:'],
        [
          [`cold (new context, ${partitions} partitions)`, String(loads), fmtMs(median(cold)), fmtMs(Math.min(...cold)), fmtMs(Math.max(...cold))],
          ['warm (cached assets)', String(loads), fmtMs(median(warm)), fmtMs(Math.min(...warm)), fmtMs(Math.max(...warm))],
        ],
      ),
    );
  } finally {
    await bench.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
