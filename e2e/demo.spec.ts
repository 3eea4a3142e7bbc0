// The demo page (dist-demo/, served at /demo/) in a real Chromium: it loads the built
// library from ./lib/ as a site would, recommends with the pretrained GRU from the first
// click, keeps the visitor's state across a reload, forgets it on request, requests
// nothing beyond its own files, logs no console errors, and fits desktop and phone
// widths. Screenshots go to test-results/ (gitignored).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, launchBrowser, openPage } from './harness';

const SHOTS = join(import.meta.dirname, '..', 'test-results');

let browser: Browser;
let context: BrowserContext;
beforeAll(async () => {
  if (!existsSync(join(import.meta.dirname, '..', 'dist-demo', 'index.html'))) {
    throw new Error('e2e: the demo is not built. Run `node scripts/build.mjs --demo`.');
  }
  browser = await launchBrowser();
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', undefined, {
    timeout: 60_000,
  });
  expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
}

/** The "Recommended for you" list once it reflects `events` interactions. */
async function recsAfter(page: Page, events: number) {
  await page.waitForSelector(`#recs[data-events="${events}"] #recs-list li`, { timeout: 30_000 });
  return page.$$eval('#recs-list li', (lis) =>
    lis.map((li) => ({
      id: (li as HTMLElement).dataset.id as string,
      scorer: (li as HTMLElement).dataset.scorer as string,
      why: li.querySelector('.rec-why')?.textContent ?? '',
    })),
  );
}

/** Parts of the served mix, and the words each explains itself with. */
const SERVED = ['gru', 'sr', 'itemknn'];
const EXPLAINED =
  /(Because you (viewed|clicked|bought|added)|Because of your interest in|Often chosen after|Similar to) /;

async function noOverflow(page: Page): Promise<void> {
  const [scrollWidth, innerWidth] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    window.innerWidth,
  ]);
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}

describe('demo page', () => {
  it('recommends with the pretrained GRU, keeps state over a reload, exports, forgets, simulates, respects consent, stays on its origin', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const tracked = await openPage(context, '/demo/');
    const { page } = tracked;
    const t0 = Date.now();
    const lap = (what: string) => console.log(`[demo] ${what}: ${Date.now() - t0} ms`);
    await ready(page);
    lap('ready');
    // The pretrained model is loaded before the first click.
    expect(await page.getAttribute('#status', 'data-model')).toBe('pretrained');
    expect(await page.locator('#grid .card').count()).toBeGreaterThan(10);
    expect(await page.locator('#results tbody tr').count()).toBeGreaterThanOrEqual(6);
    // The replay table: what a held-out visitor is served beside the untouched model.
    for (const row of ['served', 'pretrained', 'sr+itemknn']) {
      await page.waitForSelector(`#replay tbody tr[data-model="${row}"]`);
    }
    expect(await page.textContent('#replay-note')).toMatch(/held-out MovieLens users replayed/);

    // Click through three movies; the list follows every click and comes from the GRU.
    const cards = page.locator('#grid .card');
    const clicked: string[] = [];
    const lists: string[][] = [];
    for (const n of [0, 4, 9]) {
      const card = cards.nth(n);
      clicked.push((await card.getAttribute('data-id')) as string);
      await card.click();
      const recs = await recsAfter(page, clicked.length);
      expect(recs).toHaveLength(10);
      // The served mix of the pretrained model: each item names the part that drove it.
      expect(recs.every((r) => SERVED.includes(r.scorer))).toBe(true);
      expect(recs.some((r) => EXPLAINED.test(r.why))).toBe(true);
      // Viewed items are never recommended back.
      expect(recs.some((r) => clicked.includes(r.id))).toBe(false);
      lists.push(recs.map((r) => r.id));
    }
    expect(lists[1]).not.toEqual(lists[0]);
    expect(lists[2]).not.toEqual(lists[1]);
    expect(await page.textContent('#item h3')).toBeTruthy();
    // The baselines are fitted in the page and shown beside the GRU.
    await page.waitForSelector('#columns .column[data-key="sr+itemknn"] li');
    expect(await page.locator('#columns .column').count()).toBe(5);
    await page.waitForSelector('#stats[data-events="3"]');

    lap('three clicks');
    await page.screenshot({ path: join(mkdir(), 'demo-desktop.png'), fullPage: true });
    await noOverflow(page);

    // Export: a JSON download of exactly what is stored.
    const download = page.waitForEvent('download');
    await page.click('#export');
    const file = await (await download).path();
    const exported = JSON.parse(readFileSync(file, 'utf8'));
    expect(exported.format).toBe('localrec-export');
    expect(exported.events.map((e: { itemId: string }) => e.itemId)).toEqual(clicked);

    // Reload: the history, and so the recommendations' context, is still there.
    await page.reload();
    await ready(page);
    await page.waitForSelector('#stats[data-events="3"]');
    const kept = await recsAfter(page, 3);
    expect(kept.every((r) => SERVED.includes(r.scorer))).toBe(true);
    expect(kept.some((r) => clicked.includes(r.id))).toBe(false);
    for (const id of clicked) {
      expect(await page.locator(`#grid .card.seen[data-id="${id}"]`).count()).toBe(1);
    }
    lap('reloaded');

    // Phone width: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await noOverflow(page);
    await page.screenshot({ path: join(mkdir(), 'demo-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Forget: everything is gone, and the page starts over from the pretrained model.
    await page.click('#forget');
    await page.waitForSelector('#stats[data-events="0"]');
    await recsAfter(page, 0);
    expect(await page.locator('#grid .card.seen').count()).toBe(0);
    await page.waitForSelector('#status[data-model="pretrained"]', { timeout: 30_000 });
    // Forgotten for good: no error on the page, and nothing re-creates the database
    // (re-renders, status, the engine) until the visitor clicks again.
    await page.waitForTimeout(2000);
    expect(await page.locator('body').textContent()).not.toMatch(/Could not|DB_CLOSED/);
    const databases = await page.evaluate(async () =>
      (await indexedDB.databases()).map((d) => d.name ?? ''),
    );
    expect(databases.filter((n) => n.startsWith('localrec:'))).toEqual([]);
    lap('forgotten');

    // Simulate a held-back visitor for a few clicks: every column keeps score.
    await page.selectOption('#speed', '250');
    await page.uncheck('#sim-clean');
    await page.click('#sim-start');
    await page.waitForFunction(
      () => /click ([6-9]|\d\d+) of/.test(document.querySelector('#sim-status')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    // Five new events ran an on-device update: the page says what it changed, or why
    // there was nothing to change (the default keeps the pretrained weights of known items).
    await page.waitForFunction(
      () =>
        /^(Fine-tuned on \d+ of your events in \d+ ms: |No on-device update after )/.test(
          document.querySelector('#train-change')?.textContent ?? '',
        ),
      undefined,
      { timeout: 60_000 },
    );
    await page.click('#sim-stop');
    await page.waitForSelector('#sim-start:not([disabled])', { timeout: 30_000 });
    expect(await page.locator('#columns .hits').count()).toBe(5);
    lap('simulated');

    // Consent off: clicks are not recorded, and the page says so.
    const before = await page.getAttribute('#stats', 'data-events');
    await page.uncheck('#consent');
    await page.waitForFunction(
      () => document.querySelector('#stats dd:last-of-type')?.textContent === 'denied',
    );
    await cards.nth(1).click();
    await page.waitForFunction(() =>
      /Not recorded/.test(document.querySelector('#privacy-status')?.textContent ?? ''),
    );
    expect(await page.getAttribute('#stats', 'data-events')).toBe(before);
    await page.check('#consent');

    expect(tracked.errors).toEqual([]);
    const own = `${new URL(baseUrl()).origin}/demo/`;
    expect(tracked.requests.filter((u) => !u.startsWith(own))).toEqual([]);
  });
});

function mkdir(): string {
  mkdirSync(SHOTS, { recursive: true });
  return SHOTS;
}
