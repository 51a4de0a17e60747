/**
 * The web console (console/, docs/CONSOLE.md) end to end in a real headless Chromium, against
 * the app over real HTTP on the shared stack: the page is built by scripts/build-console.mjs
 * into a temp dir and served by the app like `sluice dev` serves it.
 *
 * Checks: creating a topic in the UI; keyboard navigation; token entry against a server that
 * checks tokens (kept in localStorage, forgotten on request); an API error shown with its code
 * (creating the topic again: TOPIC_ALREADY_EXISTS); producing from the form (JSON checked as
 * you type) and seeing the record in the message browser (pretty JSON, hex and base64 toggles,
 * key, header); the live tail showing a record produced through the API within 2 s, and
 * pause/resume; browsing from a timestamp with paging; a group with lag (numbers per partition,
 * total, the chart sampling and following new records); reset offsets with a dry-run preview
 * that commits nothing, then the reset; a live member's assignment and a reset refused with
 * NON_EMPTY_GROUP; growing partitions and deleting a topic behind a confirmation; dark mode;
 * the topic page on a phone-sized viewport; no uncaught page error.
 * Screenshots of each page go to docs/screenshots/*.png (overwritten every run).
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it): without it the
 * file is skipped and says why.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/api/app.ts';
import { Sluice } from '../../lib/client/index.ts';
// @ts-expect-error: a plain .mjs script without declarations
import { buildConsole } from '../../scripts/build-console.mjs';
import { serveApp, type ServedApp } from '../support/http-server.ts';
import { stackDeps } from '../support/stack.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(`console.int.test.ts: SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(REPO, 'docs/screenshots');
/** Generous: a loaded 2-core machine runs the other integration files beside this one. */
const WAIT = { timeout: 20_000 };
const TEST_TIMEOUT = 120_000;

const run = randomBytes(3).toString('hex');
const topic = `console-${run}`;
const groupTopic = `console-lag-${run}`;
const group = `console-group-${run}`;

let assetsDir: string;
let served: ServedApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let sluice: Sluice;
const pageErrors: string[] = [];

async function produce(t: string, records: unknown[]): Promise<{ partition: number; offset: number }[]> {
  const answer = await sluice.transport.request<{ offsets: { partition: number; offset: number }[] }>('POST', `/v1/topics/${t}/records`, {
    body: { records },
  });
  return answer.offsets;
}

async function open(hash: string): Promise<void> {
  await page.goto(`${served.base}/console/${hash}`, { waitUntil: 'domcontentloaded' });
}

async function shot(name: string, p: Page = page): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

describe.skipIf(!HAVE_CHROMIUM)('web console in headless Chromium', () => {
  beforeAll(async () => {
    assetsDir = mkdtempSync(join(tmpdir(), 'sluice-console-e2e-'));
    await buildConsole(assetsDir);
    served = await serveApp(createApp(stackDeps(), undefined, { consoleDir: assetsDir }));
    sluice = new Sluice({ url: served.base });
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    // UTC, so datetime-local values typed by the test mean the same instant to Node and the page.
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, timezoneId: 'UTC', colorScheme: 'light' });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
  }, TEST_TIMEOUT);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await served?.close();
    if (assetsDir) rmSync(assetsDir, { recursive: true, force: true });
  }, TEST_TIMEOUT);

  it('creates a topic from the Topics page, and shows the overview', async () => {
    await open('#/topics');
    const form = page.locator('#create-topic');
    await form.getByLabel('Name').fill(topic);
    await form.getByLabel('Partitions').fill('2');
    await form.getByRole('button', { name: 'Create topic' }).click();
    await page.locator(`#topics-table tr[data-topic="${topic}"]`).waitFor(WAIT);
    expect(await page.locator(`#topics-table tr[data-topic="${topic}"] td`).nth(1).textContent()).toBe('2');
    expect((await sluice.admin.describeTopic(topic)).partitions).toHaveLength(2);
    await shot('topics');

    await open('#/');
    await page.locator('[data-stat="topics"] .stat-value').waitFor(WAIT);
    await page.locator('td[data-field="version"]').waitFor(WAIT);
    expect(Number(await page.locator('[data-stat="topics"] .stat-value').textContent())).toBeGreaterThanOrEqual(1);
    expect(await page.locator('td[data-field="version"]').textContent()).toBe((await sluice.admin.cluster()).version);
    await shot('overview');

    // Dark mode follows prefers-color-scheme
    const dark = await browser.newContext({ viewport: { width: 1280, height: 860 }, timezoneId: 'UTC', colorScheme: 'dark' });
    const darkPage = await dark.newPage();
    await darkPage.goto(`${served.base}/console/#/topics/${topic}`, { waitUntil: 'domcontentloaded' });
    await darkPage.locator('#partitions tbody tr').first().waitFor(WAIT);
    expect(await darkPage.locator('body').evaluate((body) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(body).backgroundColor)).toBe('rgb(13, 17, 23)');
    await shot('topics-dark', darkPage);
    await dark.close();
  }, TEST_TIMEOUT);

  it('is keyboard-navigable: Tab reaches the navigation links, Enter follows them', async () => {
    await open('#/');
    await page.reload({ waitUntil: 'domcontentloaded' }); // a new document: focus starts at the top
    await page.locator('td[data-field="version"]').waitFor(WAIT);
    const focused = async () => (await page.locator(':focus').textContent())?.trim();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Sluice');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Overview');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Topics');
    await page.keyboard.press('Enter');
    await page.locator('#create-topic').waitFor(WAIT);
    expect(new URL(page.url()).hash).toBe('#/topics');
  }, TEST_TIMEOUT);

  it('with a server that checks tokens: UNAUTHENTICATED until a token is entered, which is kept in localStorage', async () => {
    const token = `console-admin-${run}`;
    const secured = await serveApp(createApp(stackDeps({ authToken: token }), undefined, { consoleDir: assetsDir }));
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const p = await ctx.newPage();
      p.on('pageerror', (err) => pageErrors.push(String(err)));
      await p.goto(`${secured.base}/console/#/`, { waitUntil: 'domcontentloaded' });
      await p.locator('.error[data-code="UNAUTHENTICATED"]').first().waitFor(WAIT);
      await p.getByText('Enter a token at the top of the page').first().waitFor(WAIT);
      await p.getByLabel('Token', { exact: true }).fill(token);
      await p.getByRole('button', { name: 'Save' }).click();
      await p.locator('td[data-field="version"]').waitFor(WAIT);
      expect(await p.locator('.error').count()).toBe(0);
      await p.reload({ waitUntil: 'domcontentloaded' });
      await p.locator('td[data-field="version"]').waitFor(WAIT); // the token survived the reload
      await p.getByRole('button', { name: 'Forget' }).click();
      await p.locator('.error[data-code="UNAUTHENTICATED"]').first().waitFor(WAIT);
    } finally {
      await ctx.close();
      await secured.close();
    }
  }, TEST_TIMEOUT);

  it('shows an API error with its Kafka code: creating a topic that exists is TOPIC_ALREADY_EXISTS', async () => {
    await open('#/topics');
    const form = page.locator('#create-topic');
    await form.getByLabel('Name').fill(topic);
    await form.getByRole('button', { name: 'Create topic' }).click();
    const error = form.locator('.error[data-code="TOPIC_ALREADY_EXISTS"]');
    await error.waitFor(WAIT);
    expect(await error.locator('.code').textContent()).toBe('TOPIC_ALREADY_EXISTS');
    expect(await error.locator('.message').textContent()).toContain(topic);
    await shot('error');
  }, TEST_TIMEOUT);

  it('produces from the form (JSON checked as you type) and shows the record in the message browser', async () => {
    await open(`#/topics/${topic}/produce`);
    const form = page.locator('#produce');
    await form.getByLabel('Key', { exact: true }).fill('alice');
    await form.getByLabel('Partition', { exact: true }).selectOption('0');
    await form.getByLabel('Value', { exact: true }).fill('{"amount": ');
    await page.getByText('Not JSON:').waitFor(WAIT);
    expect(await form.getByRole('button', { name: 'Produce' }).isDisabled()).toBe(true);
    await form.getByLabel('Value', { exact: true }).fill('{"amount": 200, "currency": "EUR"}');
    await page.getByText('Valid JSON.').waitFor(WAIT);
    await form.getByLabel(/^Headers/).fill('source=console');
    await shot('produce');
    await form.getByRole('button', { name: 'Produce' }).click();
    await page.locator('#produce-result').waitFor(WAIT);
    expect(await page.locator('#produce-result').textContent()).toBe('Produced to partition 0 at offset 0.');

    await open(`#/topics/${topic}/messages`);
    const record = page.locator('#messages li.record[data-offset="0"]');
    await record.waitFor(WAIT);
    expect(await record.locator('pre.value').textContent()).toBe(JSON.stringify({ amount: 200, currency: 'EUR' }, null, 2));
    expect(await record.locator('code.key').textContent()).toBe('alice');
    expect(await record.locator('.headers').textContent()).toContain('source: console');
    expect(await page.locator('#partitions tr[data-partition="0"] td[data-field="hwm"]').textContent()).toBe('1');
    await shot('topic');
    await page.getByLabel('hex').check();
    expect((await record.locator('pre.value').textContent())?.startsWith('7b 22 61 6d')).toBe(true); // {"am
    await page.getByLabel('base64').check();
    expect(await record.locator('pre.value').textContent()).toBe(Buffer.from('{"amount":200,"currency":"EUR"}').toString('base64'));

    // The same page on a phone
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${served.base}/console/#/topics/${topic}/messages`, { waitUntil: 'domcontentloaded' });
    await phone.locator('#messages li.record').first().waitFor(WAIT);
    await shot('topic-phone', phone);
    await phone.close();
  }, TEST_TIMEOUT);

  it('the live tail shows a record produced through the API within 2 s, and pauses', async () => {
    await open(`#/topics/${topic}/tail`);
    await page.locator('#tail-status', { hasText: 'following' }).waitFor(WAIT);
    // 'following' is shown once the tail holds its start positions: a record produced from now on is after them.
    const [at] = await produce(topic, [{ key: 'bob', value: { tail: 1 }, partition: 1 }]);
    const acked = Date.now();
    const tailed = page.locator(`#tail li.record[data-partition="1"][data-offset="${at!.offset}"]`);
    await tailed.waitFor(WAIT);
    const seenAfterMs = Date.now() - acked;
    expect(seenAfterMs).toBeLessThan(2_000);
    expect(await tailed.locator('pre.value').textContent()).toContain('"tail": 1');
    await shot('tail');

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#tail-status', { hasText: 'paused' }).waitFor(WAIT);
    const [later] = await produce(topic, [{ key: 'carol', value: { tail: 2 }, partition: 1 }]);
    expect(await page.locator(`#tail li.record[data-offset="${later!.offset}"]`).count()).toBe(0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator(`#tail li.record[data-partition="1"][data-offset="${later!.offset}"]`).waitFor(WAIT); // picked up where it paused
  }, TEST_TIMEOUT);

  it('browses from a timestamp and pages forward and back', async () => {
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
    await sluice.admin.createTopic({ name: `${topic}-ts`, partitions: 1 });
    await produce(`${topic}-ts`, [0, 1, 2, 3].map((i) => ({ value: { i }, timestamp: t0 + i * 10_000, partition: 0 })));
    await open(`#/topics/${topic}-ts/messages`);
    await page.locator('#messages li.record').first().waitFor(WAIT); // latest N by default
    const form = page.locator('#browse');
    await form.getByLabel('From', { exact: true }).selectOption('timestamp');
    await form.getByLabel('Time (local)').fill(new Date(t0 + 10_000).toISOString().slice(0, 19));
    await form.getByLabel('N', { exact: true }).fill('2');
    await form.getByRole('button', { name: 'Show' }).click();
    await page.locator('#page-range', { hasText: 'offsets 1–2' }).waitFor(WAIT);
    const offsets = async () => page.locator('#messages li.record').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-offset'))));
    expect(await offsets()).toEqual([1, 2]);
    expect(await page.locator('#messages li.record time').first().getAttribute('datetime')).toBe(new Date(t0 + 10_000).toISOString());
    await page.locator('#page-forward').click();
    await page.locator('#page-range', { hasText: 'offsets 3–3' }).waitFor(WAIT);
    await page.locator('#page-back').click();
    await page.locator('#page-range', { hasText: 'offsets 1–2' }).waitFor(WAIT);
    await page.locator('#page-back').click();
    await page.locator('#page-range', { hasText: 'offsets 0–1' }).waitFor(WAIT);
    expect(await page.locator('#page-back').isDisabled()).toBe(true);
  }, TEST_TIMEOUT);

  it('shows a group with lag: per-partition numbers, the total and the chart', async () => {
    await sluice.admin.createTopic({ name: groupTopic, partitions: 2 });
    await produce(groupTopic, [...Array(5).keys()].map((i) => ({ value: { i }, partition: 0 })));
    await produce(groupTopic, [...Array(3).keys()].map((i) => ({ value: { i }, partition: 1 })));
    await sluice.admin.commitOffsets(group, [
      { topic: groupTopic, partition: 0, offset: 2 },
      { topic: groupTopic, partition: 1, offset: 3 },
    ]);

    await open('#/groups');
    await page.locator(`#groups-table tr[data-group="${group}"] td[data-field="lag"]`, { hasText: '3' }).waitFor(WAIT);
    await shot('groups');

    await open(`#/groups/${group}`);
    await page.locator('[data-stat="total-lag"] .stat-value', { hasText: '3' }).waitFor(WAIT);
    const row = (p: number) => page.locator(`#lag tr[data-topic="${groupTopic}"][data-partition="${p}"]`);
    const cells = async (p: number) => [
      await row(p).locator('[data-field="committed"]').textContent(),
      await row(p).locator('[data-field="hwm"]').textContent(),
      await row(p).locator('[data-field="lag"]').textContent(),
    ];
    expect(await cells(0)).toEqual(['2', '5', '3']);
    expect(await cells(1)).toEqual(['3', '3', '0']);
    await page.locator('#lag-chart canvas').waitFor(WAIT);
    // Sampled while open: a point every 2 s; the page follows new records
    const samples = async () => Number(await page.locator('#lag-chart').getAttribute('data-samples'));
    await expect.poll(samples, WAIT).toBeGreaterThanOrEqual(2);
    await produce(groupTopic, [...Array(4).keys()].map((i) => ({ value: { i }, partition: 0 })));
    await page.locator('[data-stat="total-lag"] .stat-value', { hasText: /^7$/ }).waitFor(WAIT);
    expect(await cells(0)).toEqual(['2', '9', '7']);
    const seen = await samples();
    await expect.poll(samples, WAIT).toBeGreaterThan(seen);
    await shot('group');
  }, TEST_TIMEOUT);

  it('resets offsets of the empty group: a dry-run preview that commits nothing, then the reset', async () => {
    await open(`#/groups/${group}`);
    const form = page.locator('#reset');
    await form.waitFor(WAIT);
    await form.getByLabel('To', { exact: true }).selectOption('latest');
    await form.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.locator('#reset-plan').waitFor(WAIT);
    const plan = await page.locator('#reset-plan tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(plan).toEqual([
      ['0', '2', '9'],
      ['1', '3', '3'],
    ]);
    await shot('reset-preview');
    expect((await sluice.admin.fetchOffsets(group)).map((o) => o.offset)).toEqual([2, 3]); // the dry run wrote nothing

    await page.locator('#reset-apply').click();
    await page.locator('#reset-done').waitFor(WAIT);
    expect((await sluice.admin.fetchOffsets(group)).map((o) => o.offset)).toEqual([9, 3]);
    await page.locator('[data-stat="total-lag"] .stat-value', { hasText: /^0$/ }).waitFor(WAIT);
  }, TEST_TIMEOUT);

  it('a group with a live member: its assignment, and a reset refused with NON_EMPTY_GROUP', async () => {
    const liveGroup = `${group}-live`;
    const consumer = sluice.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 1_000 });
    try {
      await consumer.subscribe(liveGroup, [groupTopic]);
      await expect.poll(() => consumer.assignment().length, WAIT).toBe(2);
      await open(`#/groups/${liveGroup}`);
      const member = page.locator('#members tbody tr');
      await member.first().waitFor(WAIT);
      expect(await member.count()).toBe(1);
      await page.locator('#members tbody tr td', { hasText: `${groupTopic} [0, 1]` }).waitFor(WAIT);
      expect(await page.locator('[data-stat="members"] .stat-value').textContent()).toBe('1');
      const form = page.locator('#reset');
      await form.getByText('live member(s)').waitFor(WAIT);
      await form.getByRole('button', { name: 'Preview (dry run)' }).click();
      await form.locator('.error[data-code="NON_EMPTY_GROUP"]').waitFor(WAIT);
      await shot('group-live');
    } finally {
      await consumer.close();
    }
  }, TEST_TIMEOUT);

  it('alters partitions and deletes a topic behind a confirmation', async () => {
    const doomed = `${topic}-ts`;
    await open(`#/topics/${doomed}/settings`);
    await page.getByLabel('Partitions (may only grow)').fill('3');
    await page.getByRole('button', { name: 'Set partitions' }).click();
    await page.locator('#partitions tr[data-partition="2"]').waitFor(WAIT);
    await shot('settings');
    await page.locator('#delete-topic').click();
    await page.locator('#confirm-delete').click();
    await page.getByText(`Deleted ${doomed}.`).waitFor(WAIT);
    expect((await sluice.admin.listTopics()).map((t) => t.name)).not.toContain(doomed);
    expect(pageErrors).toEqual([]);
  }, TEST_TIMEOUT);
});
