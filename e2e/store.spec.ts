// The interaction store in a real Chromium, on the built ES module: persistence across
// a reload, two pages of one origin seeing each other's events (BroadcastChannel),
// forget() leaving no database, a CDP quota override making track fail with
// QUOTA_EXCEEDED while earlier events stay, and the private-mode fallback.
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type * as LocalRec from '../src/index';
import { openPage, type TrackedPage, useBrowser } from './harness';

declare global {
  interface Window {
    localrec: typeof LocalRec;
    changes: unknown[];
    storeReady: boolean;
    store?: LocalRec.LocalRecStore;
  }
}

const PAGE = '/e2e/store.html';
const READY = 'window.storeReady === true';

const chrome = useBrowser();
let context: BrowserContext;

async function newContext(): Promise<BrowserContext> {
  context = await chrome.newContext();
  return context;
}

async function open(ctx: BrowserContext): Promise<TrackedPage> {
  return openPage(ctx, PAGE, { waitFor: READY });
}

/** Opens the store of `namespace` in the page as `window.store`. */
function createStore(page: Page, namespace: string, extra: Record<string, unknown> = {}) {
  return page.evaluate(
    async ({ namespace, extra }) => {
      window.store = await window.localrec.createStore({ namespace, ...extra });
      return { persistent: window.store.persistent };
    },
    { namespace, extra },
  );
}

function itemIds(page: Page): Promise<string[]> {
  return page.evaluate(async () => (await window.store!.exportData()).events.map((e) => e.itemId));
}

function databases(page: Page): Promise<string[]> {
  return page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? ''));
}

describe('store in Chromium', () => {
  it('events survive a reload', async () => {
    const { page, errors } = await open(await newContext());
    expect((await createStore(page, 'reload')).persistent).toBe(true);
    await page.evaluate(async () => {
      const now = Date.now();
      await window.store!.trackMany([
        { itemId: 'a', type: 'view', timestamp: now - 2 },
        { itemId: 'b', type: 'add_to_cart', timestamp: now - 1, properties: { qty: 2 } },
      ]);
      await window.store!.track({ itemId: 'a', type: 'purchase', timestamp: now });
    });
    await page.reload();
    await page.waitForFunction(READY);
    await createStore(page, 'reload');
    expect(await itemIds(page)).toEqual(['a', 'b', 'a']);
    const read = await page.evaluate(async () => {
      const r = await window.store!.readSequences();
      return {
        items: [...r.sequences.items],
        offsets: [...r.sequences.offsets],
        itemIds: r.itemIds,
      };
    });
    expect(read).toEqual({ items: [0, 1, 0], offsets: [0, 3], itemIds: ['a', 'b'] });
    expect(errors).toEqual([]);
  });

  it("two pages of one origin see each other's events, announced on the BroadcastChannel", async () => {
    const ctx = await newContext();
    const a = await open(ctx);
    const b = await open(ctx);
    await createStore(a.page, 'tabs');
    await createStore(b.page, 'tabs');
    await a.page.evaluate(() => {
      window.store!.subscribe((change, origin) => window.changes.push({ change, origin }));
    });
    // Also listen on the raw channel, as a trainer in another tab would.
    await a.page.evaluate(() => {
      const channel = new BroadcastChannel('localrec:tabs');
      channel.onmessage = (e) => window.changes.push({ raw: e.data });
    });
    await b.page.evaluate(() => window.store!.track({ itemId: 'from-b', type: 'view' }));
    await a.page.waitForFunction(() => window.changes.length >= 2);
    const changes = await a.page.evaluate(() => window.changes);
    expect(changes).toContainEqual({
      change: expect.objectContaining({ kind: 'events', count: 1 }),
      origin: 'remote',
    });
    expect(changes).toContainEqual({ raw: expect.objectContaining({ source: 'localrec' }) });
    expect(await itemIds(a.page)).toEqual(['from-b']);
    await a.page.evaluate(() => window.store!.track({ itemId: 'from-a', type: 'view' }));
    expect(await itemIds(b.page)).toEqual(['from-b', 'from-a']);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('forget() leaves no database behind, even with a second page connected', async () => {
    const ctx = await newContext();
    const a = await open(ctx);
    const b = await open(ctx);
    await createStore(a.page, 'forget');
    await createStore(b.page, 'forget');
    await a.page.evaluate(async () => {
      await window.store!.track({ itemId: 'x', type: 'view' });
      await window.store!.setCatalog([{ id: 'x', title: 'X' }]);
      await window.store!.putCheckpoint('gru', {
        metadata: { epoch: 1 },
        data: new ArrayBuffer(64),
      });
    });
    expect(await databases(a.page)).toContain('localrec:forget');
    await a.page.evaluate(() => window.store!.forget());
    expect(await databases(a.page)).not.toContain('localrec:forget');
    expect(await databases(b.page)).not.toContain('localrec:forget');
  });

  /** Incompressible padding: Chromium compresses IndexedDB values, so 'xxx…' costs nothing. */
  const RANDOM_PAD = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(700)), (b) => b.toString(36))
      .join('')
      .slice(0, 1000);

  async function quotaRun(page: Page) {
    return page.evaluate(async (padSource) => {
      const pad = new Function(`return (${padSource})()`) as () => string;
      const store = window.store!;
      await store.trackMany(
        Array.from({ length: 20 }, (_, i) => ({ itemId: `early-${i}`, type: 'view' })),
      );
      let failure: { code?: string; batch: number } | undefined;
      // Batches of ~20 KB until the quota bites (or 4 MB went in).
      for (let batch = 0; batch < 200 && failure === undefined; batch++) {
        try {
          await store.trackMany(
            Array.from({ length: 20 }, (_, i) => ({
              itemId: `late-${batch}-${i}`,
              type: 'view',
              properties: { pad: pad() },
            })),
          );
        } catch (error) {
          failure = { code: (error as { code?: string }).code, batch };
        }
      }
      const ids = (await store.exportData()).events.map((e) => e.itemId);
      return { failure, ids };
    }, RANDOM_PAD.toString());
  }

  it('a quota that bites makes trackMany fail with QUOTA_EXCEEDED; earlier events and batches stay intact', async () => {
    // A Storage Bucket with a 300 kB quota, its factory injected: Chromium enforces
    // bucket quotas on IndexedDB commits, so this is the browser's own
    // QuotaExceededError going through the store's mapping.
    const { page } = await open(await newContext());
    const hasBuckets = await page.evaluate(async () => {
      const buckets = (
        navigator as unknown as {
          storageBuckets?: { open(n: string, o: object): Promise<{ indexedDB: IDBFactory }> };
        }
      ).storageBuckets;
      if (!buckets) return false;
      const bucket = await buckets.open('tiny', { quota: 300_000 });
      window.store = await window.localrec.createStore({
        namespace: 'quota',
        indexedDB: bucket.indexedDB,
      });
      return true;
    });
    expect(hasBuckets).toBe(true);
    const { failure, ids } = await quotaRun(page);
    expect(failure?.code).toBe('QUOTA_EXCEEDED');
    expect(failure!.batch).toBeGreaterThan(0);
    // Exactly the 20 early events and every batch before the failing one: the failing
    // batch left nothing behind (one transaction).
    expect(ids).toHaveLength(20 + 20 * failure!.batch);
    expect(ids.slice(0, 20).every((id) => id.startsWith('early-'))).toBe(true);
    expect(ids.some((id) => id.startsWith(`late-${failure!.batch}-`))).toBe(false);
  });

  // Storage.overrideQuotaForOrigin is accepted (Storage.getUsageAndQuota then reports
  // the override as active) but Chromium 156 did not enforce it on IndexedDB commits:
  // 4 MB of incompressible events went into an origin overridden to 1 MB, in an
  // incognito and in a persistent profile alike. Kept, skipped, so it can be switched
  // on where a Chromium enforces it; the bucket-quota test above covers the behaviour.
  it.skip('a quota override via CDP makes track fail with QUOTA_EXCEEDED; earlier events stay', async () => {
    const ctx = await newContext();
    const { page } = await open(ctx);
    await createStore(page, 'quota-cdp');
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', {
      origin: new URL(page.url()).origin,
      quotaSize: 200_000,
    });
    const { failure, ids } = await quotaRun(page);
    expect(failure?.code).toBe('QUOTA_EXCEEDED');
    expect(ids).toHaveLength(20 + 20 * failure!.batch);
  });

  it('storage cleared under an open connection (CDP Storage.clearDataForOrigin): the next call reopens', async () => {
    const ctx = await newContext();
    const { page } = await open(ctx);
    await createStore(page, 'cleared');
    await page.evaluate(() => window.store!.track({ itemId: 'before', type: 'view' }));
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', {
      origin: new URL(page.url()).origin,
      storageTypes: 'indexeddb',
    });
    const result = await page.evaluate(async () => {
      const attempts: string[] = [];
      for (let i = 0; i < 3; i++) {
        try {
          await window.store!.track({ itemId: 'after', type: 'view' });
          attempts.push('ok');
          break;
        } catch (error) {
          attempts.push((error as { code?: string }).code ?? String(error));
        }
      }
      return attempts;
    });
    // At most the call caught mid-close reports DB_CLOSED; then it works on a new database.
    expect(result.at(-1)).toBe('ok');
    expect(result.slice(0, -1).every((c) => c === 'DB_CLOSED')).toBe(true);
    expect(await itemIds(page)).toEqual(['after']);
  });

  it('private mode: an indexedDB getter that throws gives the in-memory store (persistent: false)', async () => {
    const ctx = await newContext();
    await ctx.addInitScript(() => {
      Object.defineProperty(window, 'indexedDB', {
        configurable: true,
        get() {
          throw new DOMException('IndexedDB is disabled', 'SecurityError');
        },
      });
    });
    const { page } = await open(ctx);
    expect((await createStore(page, 'private')).persistent).toBe(false);
    await page.evaluate(() => window.store!.track({ itemId: 'm', type: 'view' }));
    const stats = await page.evaluate(() => window.store!.stats());
    expect(stats).toMatchObject({ persistent: false, events: 1 });
  });

  it('canary: awaiting a timer inside a transaction kills it (TransactionInactiveError)', async () => {
    const { page } = await open(await newContext());
    const name = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('canary', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('s');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const store = db.transaction('s', 'readwrite').objectStore('s');
      store.put(1, 'a');
      await new Promise((r) => setTimeout(r, 0));
      try {
        store.put(2, 'b');
        return 'no error';
      } catch (error) {
        return (error as DOMException).name;
      } finally {
        db.close();
      }
    });
    expect(name).toBe('TransactionInactiveError');
  });
});
