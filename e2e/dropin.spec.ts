// Drop-in use in a real Chromium, on the built script-tag bundle: a plain page with only
// the stub and a configured <script> tag; calls queued before the async script loaded are
// replayed in order; data-localrec-item elements are tracked (views after a dwell, clicks,
// action types, an ignored region, elements added later); <localrec-recommendations>
// renders from a template with item text escaped; without consent nothing is recorded and
// nothing is logged; under a strict CSP (no 'unsafe-eval') it tracks, trains and recommends.
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openPage, type TrackedPage, useBrowser } from './harness';

const chrome = useBrowser();
let context: BrowserContext;

// biome-ignore lint/suspicious/noExplicitAny: page globals in evaluate callbacks
type W = any;

async function open(path: string): Promise<TrackedPage> {
  context = await chrome.newContext({ viewport: { width: 1000, height: 700 } });
  const tracked = await openPage(context, path);
  // Worker console messages (a CSP refusal inside the worker lands there).
  tracked.page.on('worker', (worker) => {
    worker.on('console', (msg) => {
      tracked.logs.push(`[worker ${msg.type()}] ${msg.text()}`);
      if (msg.type() === 'error') tracked.errors.push(`worker: ${msg.text()}`);
    });
  });
  await tracked.page.waitForFunction(() => (window as W).LocalRec?.ready);
  await tracked.page.evaluate(() => (window as W).LocalRec.ready.then(() => true));
  return tracked;
}

/** What the page stored, as `itemId type` strings in time order. */
async function stored(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const data = await (window as W).LocalRec.recommender.exportData();
    return data.events.map((e: W) => `${e.itemId} ${e.type}`);
  });
}

async function waitStored(page: Page, event: string, timeout = 10_000): Promise<string[]> {
  const until = Date.now() + timeout;
  for (;;) {
    const events = await stored(page);
    if (events.includes(event)) return events;
    if (Date.now() > until)
      throw new Error(`"${event}" not stored within ${timeout} ms: ${events.join(', ')}`);
    await page.waitForTimeout(100);
  }
}

const count = (events: string[], e: string) => events.filter((x) => x === e).length;

describe('drop-in: script tag, stub queue, auto-tracking, element', () => {
  it('replays calls queued before the async script loaded, in order, none lost', async () => {
    const { page, errors } = await open('/e2e/dropin.html');
    const events = await stored(page);
    expect(events.slice(0, 4)).toEqual(['q1 view', 'q2 click', 'q3 add_to_cart', 'q4 view']);
    const after = await page.evaluate(async () => {
      const w = window as W;
      // The stub object a page kept a reference to now runs commands too.
      await w.stubRef.push(['track', { itemId: 's1', type: 'view' }]);
      await w.LocalRec.push(['track', { itemId: 's2', type: 'view' }]);
      return {
        callback: w.queuedCallback,
        namespace: w.LocalRec.recommender.store.namespace,
        stubQueue: w.stubRef.q.length,
        api: typeof w.LocalRec.createRecommender === 'function' && typeof w.LocalRec.version,
      };
    });
    expect(after).toEqual({ callback: 'dropin', namespace: 'dropin', stubQueue: 0, api: 'string' });
    const later = await stored(page);
    expect(later.indexOf('s1 view')).toBeGreaterThan(later.indexOf('q4 view'));
    expect(later.indexOf('s2 view')).toBeGreaterThan(later.indexOf('s1 view'));
    expect(errors).toEqual([]);
  });

  it('the element renders only after the queued calls were replayed (LocalRec.ready)', async () => {
    const { page, errors } = await open('/e2e/dropin-queue.html');
    await page.waitForFunction(() => (window as W).firstRenderAt !== undefined);
    const r = await page.evaluate(async () => {
      const w = window as W;
      return {
        queueDoneAt: w.queueDoneAt,
        firstRenderAt: w.firstRenderAt,
        stored: (await w.LocalRec.recommender.stats()).events,
      };
    });
    expect(r.stored).toBe(300);
    expect(r.queueDoneAt).toBeGreaterThan(0);
    expect(r.firstRenderAt).toBeGreaterThanOrEqual(r.queueDoneAt);
    expect(errors).toEqual([]);
  });

  it('tracks views after a dwell, clicks, action types, late elements; never an ignored region', async () => {
    const { page, errors, logs } = await open('/e2e/dropin.html');
    // Visible at load: a1 (and a2) become views after the 500 ms dwell; ign1 never does.
    let events = await waitStored(page, 'a1 view');
    expect(events).toContain('a2 view');
    expect(events.some((e) => e.startsWith('far1'))).toBe(false); // below the fold
    expect(events.some((e) => e.startsWith('ign1'))).toBe(false);

    // Scrolled into view and held: a view; scrolling away and back: still one.
    await page.locator('#far').scrollIntoViewIfNeeded();
    events = await waitStored(page, 'far1 view');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(200);
    await page.locator('#far').scrollIntoViewIfNeeded();
    await page.waitForTimeout(900);
    await page.evaluate(() => window.scrollTo(0, 0));
    expect(count(await stored(page), 'far1 view')).toBe(1);

    // A quick pass below the dwell is not a view.
    await page.evaluate(() => {
      const el = document.createElement('article');
      el.id = 'flash';
      el.setAttribute('data-localrec-item', 'flash1');
      document.getElementById('late-slot')!.append(el);
      setTimeout(() => el.remove(), 150);
    });

    // Clicks: a link inside the item is a click, a button with data-localrec-event its type.
    await page.click('#a2-link');
    await waitStored(page, 'a2 click');
    await page.click('#a2-cart');
    await waitStored(page, 'a2 add_to_cart');
    await page.click('#ign1-btn');

    // A background tab shows nothing: no view while hidden; the dwell starts once back.
    await page.evaluate(() => {
      const setHidden = (hidden: boolean) => {
        Object.defineProperty(document, 'visibilityState', {
          configurable: true,
          get: () => (hidden ? 'hidden' : 'visible'),
        });
        document.dispatchEvent(new Event('visibilitychange'));
      };
      (window as W).setHidden = setHidden;
      setHidden(true);
      const el = document.createElement('article');
      el.setAttribute('data-localrec-item', 'bg1');
      document.getElementById('late-slot')!.append(el);
    });
    await page.waitForTimeout(900);
    expect((await stored(page)).some((e) => e.startsWith('bg1'))).toBe(false);
    await page.evaluate(() => (window as W).setHidden(false));
    await waitStored(page, 'bg1 view');

    // An element added later (SPA) is picked up: view after the dwell, click when clicked.
    await page.evaluate(() => {
      const el = document.createElement('article');
      el.id = 'late';
      el.setAttribute('data-localrec-item', 'late1');
      el.innerHTML = '<button type="button" id="late-btn">late</button>';
      document.getElementById('late-slot')!.append(el);
    });
    await waitStored(page, 'late1 view');
    await page.click('#late-btn');
    events = await waitStored(page, 'late1 click');
    expect(count(events, 'a2 click')).toBe(1);
    expect(events.some((e) => e.startsWith('ign1'))).toBe(false);
    expect(events.some((e) => e.startsWith('flash1'))).toBe(false);
    expect(errors).toEqual([]);
    expect(logs.filter((l) => l.includes('localrec:'))).toEqual([]);
  });

  it('renders recommendations from the template, escaped, accessible, refreshed after clicks', async () => {
    const { page, errors } = await open('/e2e/dropin.html');
    await page.waitForSelector('#recs li[data-localrec-item="x1"]');
    const view = await page.evaluate(() => {
      const host = document.getElementById('recs')!;
      const ul = host.querySelector('ul')!;
      const li = (id: string) => host.querySelector(`li[data-localrec-item="${id}"]`)!;
      return {
        hostLive: host.getAttribute('aria-live'),
        state: host.getAttribute('state'),
        role: ul.getAttribute('role'),
        label: ul.getAttribute('aria-label'),
        fallbackGone: !host.textContent!.includes('Loading recommendations'),
        templateKept: !!host.querySelector('template') || !!document.getElementById('tpl'),
        x1Title: li('x1').querySelector('.title')!.textContent,
        x1Href: li('x1').querySelector('a')!.getAttribute('href'),
        x2Href: li('x2').querySelector('a')!.getAttribute('href'),
        x3Href: li('x3').querySelector('a')!.getAttribute('href'),
        scorer: li('x2').querySelector('.scorer')!.textContent,
        images: host.querySelectorAll('img, b').length,
        pwned: (window as W).pwned ?? null,
        items: [...host.querySelectorAll('li')].map((l) => l.getAttribute('data-localrec-item')),
      };
    });
    expect(view).toMatchObject({
      hostLive: 'polite',
      state: 'ready',
      role: 'list',
      label: 'Recommended for you',
      fallbackGone: true,
      templateKept: true,
      // Markup in a title is shown as text; javascript: URLs are never written.
      x1Title: '<img src=x onerror="window.pwned=1">Lamp & <b>shade</b>',
      x1Href: '#recs', // the template's own value: the refused URL was not written
      x2Href: '/e2e/p/x2',
      x3Href: 'https://shop.example/p/x3',
      images: 0,
      pwned: null,
    });
    expect(['sr', 'pop', 'catalog']).toContain(view.scorer);
    // A click on a recommendation is tracked (a click, not a view: impressions are not views).
    await page.evaluate(() => {
      const w = window as W;
      w.renders = 0;
      document.getElementById('recs')!.addEventListener('localrec-render', () => w.renders++);
    });
    await page.click('#recs li[data-localrec-item="x1"] a');
    const events = await waitStored(page, 'x1 click');
    await page.waitForFunction(() => (window as W).renders > 0);
    // Keyboard focus survives a re-render (here forced by a new template selector).
    await page.focus('#recs li[data-localrec-item="x2"] a');
    const rendered = await page.evaluate(() => (window as W).renders);
    await page.evaluate(() =>
      document.getElementById('recs')!.setAttribute('template', 'template#tpl'),
    );
    await page.waitForFunction((n) => (window as W).renders > n, rendered);
    expect(
      await page.evaluate(() => ({
        item: document.activeElement?.closest('li')?.getAttribute('data-localrec-item'),
        fresh: document.activeElement?.closest('li')?.isConnected,
      })),
    ).toEqual({ item: 'x2', fresh: true });
    expect(events.filter((e) => /^x\d view$/.test(e))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a tag without data attributes creates nothing until init(); a second copy reuses the first', async () => {
    context = await chrome.newContext();
    const plain = await openPage(context, '/e2e/script-tag.html');
    await plain.page.waitForFunction(() => (window as W).LocalRec?.init);
    const before = await plain.page.evaluate(async () => ({
      recommender: (window as W).LocalRec.recommender,
      databases: (await indexedDB.databases()).map((d) => d.name),
    }));
    expect(before).toEqual({ recommender: null, databases: [] });
    const after = await plain.page.evaluate(async () => {
      const w = window as W;
      const rec = await w.LocalRec.init({ namespace: 'late-init', training: { auto: false } });
      await w.LocalRec.push(['track', { itemId: 'z1', type: 'view' }]);
      return {
        same: rec === w.LocalRec.recommender && rec === (await w.LocalRec.ready),
        again: (await w.LocalRec.init({ namespace: 'other' })) === rec,
        events: (await rec.exportData()).events.map((e: W) => e.itemId),
      };
    });
    expect(after).toEqual({ same: true, again: true, events: ['z1'] });
    await context.close();

    const { page, logs } = await open('/e2e/dropin-twice.html');
    const twice = await page.evaluate(async () => {
      const w = window as W;
      const rec = await w.LocalRec.ready;
      return {
        same: rec === (await w.firstReady),
        namespace: rec.store.namespace,
        events: (await rec.exportData()).events.map((e: W) => e.itemId),
      };
    });
    expect(twice).toEqual({ same: true, namespace: 'twice', events: ['t1'] });
    expect(logs.filter((l) => l.includes('loaded twice'))).toHaveLength(1);
  });

  it('data-pretrained: a first visit recommends from the site model at once', async () => {
    // The site's model: trained on the planted pattern by the CSP page, then served.
    const { page: trainer } = await open('/e2e/csp/dropin.html');
    const bytes = await trainer.evaluate(async () => {
      const rec = (window as W).LocalRec.recommender;
      await rec.train({ epochs: 6 });
      const checkpoint = await rec.store.getCheckpoint('gru');
      return Array.from(new Uint8Array(checkpoint.data));
    });
    await context.close();
    context = await chrome.newContext();
    const requests: string[] = [];
    await context.route('**/e2e/dropin-pretrained.bin', (route) => {
      requests.push(route.request().url());
      return route.fulfill({
        body: Buffer.from(bytes),
        headers: { 'content-type': 'application/octet-stream' },
      });
    });
    const { page, errors } = await openPage(context, '/e2e/dropin-pretrained.html');
    await page.waitForSelector('#recs li[data-scorer="gru"]');
    const result = await page.evaluate(async () => {
      const rec = await (window as W).LocalRec.ready;
      return {
        model: (await rec.status()).model?.source,
        first: document.querySelector('#recs li')!.getAttribute('data-localrec-item'),
        events: (await rec.stats()).events,
      };
    });
    // context-item="i5": what follows i5 in the site's data comes first.
    expect(result).toEqual({ model: 'pretrained', first: 'i17', events: 0 });
    expect(requests).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('records nothing without consent, and says nothing about it', async () => {
    const { page, errors, logs } = await open('/e2e/dropin-consent.html');
    await page.waitForTimeout(600); // past the 100 ms dwell of c1 and c2
    await page.click('#c2');
    await page.waitForTimeout(300);
    const result = await page.evaluate(async () => {
      const rec = (window as W).LocalRec.recommender;
      return { consent: rec.consent(), events: (await rec.exportData()).events.length };
    });
    expect(result).toEqual({ consent: 'denied', events: 0 });
    expect(errors).toEqual([]);
    expect(logs.filter((l) => /localrec|CONSENT/.test(l))).toEqual([]);
  });
});

describe('drop-in under a strict Content-Security-Policy', () => {
  for (const [page, expectBackend] of [
    ['/e2e/csp/dropin.html', 'wasm'],
    ['/e2e/csp/dropin-measured.html', undefined],
  ] as const) {
    it(`${page}: tracks, trains, recommends with no CSP violation`, async () => {
      const tracked = await open(page);
      const result = await tracked.page.evaluate(async () => {
        const w = window as W;
        const rec = w.LocalRec.recommender;
        const summary = await rec.train({ epochs: 4 });
        await rec.track({ itemId: 'i5', type: 'view' });
        const top = await rec.recommend({ k: 3 });
        const status = await rec.status();
        return {
          csp: document.querySelector('meta[http-equiv]') === null,
          summary,
          top,
          runsIn: status.runsIn,
          backend: status.backend?.backend,
          reason: status.backend?.reason,
          scoring: status.model?.scoring,
          events: (await rec.stats()).events,
          violations: w.cspViolations,
        };
      });
      console.log(
        `[dropin csp] ${page}: backend ${result.backend} (${result.reason}); trained ` +
          `${result.summary.events} events in ${result.summary.seconds.toFixed(2)} s; top ${result.top
            .map((r: W) => `${r.itemId}/${r.scorer}`)
            .join(' ')}`,
      );
      expect(result.runsIn).toBe('worker');
      if (expectBackend) expect(result.backend).toBe(expectBackend);
      // 'wasm-unsafe-eval' granted: the scoring pass runs in WebAssembly SIMD
      expect(result.scoring).toBe('wasm-simd');
      expect(result.summary.trained).toBe(true);
      expect(result.top[0].scorer).toBe('gru');
      expect(result.events).toBeGreaterThan(200); // the queued trackMany arrived
      // The element follows the new model, and its attributes.
      await tracked.page.waitForSelector('#recs li[data-scorer="gru"]');
      const similar = await tracked.page.evaluate(async () => {
        const recs = document.getElementById('recs')!;
        const rendered = new Promise<W>((resolve) =>
          recs.addEventListener('localrec-render', (e) => resolve((e as CustomEvent).detail), {
            once: true,
          }),
        );
        recs.setAttribute('similar-to', 'i5');
        const detail = await rendered;
        return {
          first: detail.recommendations[0],
          shown: recs.querySelector('li')!.getAttribute('data-localrec-item'),
        };
      });
      expect(similar.first).toMatchObject({ scorer: 'gru' });
      expect(similar.shown).toBe(similar.first.itemId);
      expect(result.violations).toEqual([]);
      expect(tracked.errors).toEqual([]);
      expect(tracked.logs.filter((l) => /Content.Security.Policy|unsafe-eval/i.test(l))).toEqual(
        [],
      );
    });
  }

  it("without 'wasm-unsafe-eval' only the WASM backend is refused: another one trains", async () => {
    const tracked = await open('/e2e/csp/no-wasm-eval/dropin.html');
    const result = await tracked.page.evaluate(async () => {
      const rec = (window as W).LocalRec.recommender;
      const summary = await rec.train({ epochs: 2 });
      const status = await rec.status();
      return {
        summary,
        backend: status.backend?.backend,
        wasmTrial: status.backend?.trials.find((t: W) => t.name === 'wasm'),
        top: await rec.recommend({ k: 1 }),
        scoring: (await rec.status()).model?.scoring,
      };
    });
    console.log(
      `[dropin csp] no 'wasm-unsafe-eval': backend ${result.backend}; wasm trial ${JSON.stringify(result.wasmTrial)}`,
    );
    expect(result.backend).not.toBe('wasm');
    expect(result.wasmTrial?.ok).toBe(false);
    expect(result.summary.trained).toBe(true);
    expect(result.top[0].scorer).toBe('gru');
    // Nor can the SIMD scoring pass compile there: the engine scores with the JS loop.
    expect(result.scoring).toBe('js');
    // The refusal is the browser's, for WebAssembly compilation, in the worker.
    expect(tracked.logs.some((l) => /WebAssembly/i.test(l))).toBe(true);
  });

  it("'wasm-unsafe-eval' counts in the worker's own policy, not the page's", async () => {
    const backend = async (path: string) => {
      const { page } = await open(path);
      const result = await page.evaluate(async () => {
        try {
          return (await (window as W).LocalRec.recommender.warmUp()).backend?.backend;
        } catch (error) {
          return (error as W).code;
        }
      });
      await context.close();
      return result;
    };
    // WASM forced: works when the worker's response allows it, though the page's does not…
    expect(await backend('/e2e/csp/no-wasm-eval/dropin-worker-allows.html')).toBe('wasm');
    // …and is refused when the page's policy allows it but the worker's does not.
    expect(await backend('/e2e/csp/dropin-worker-refuses.html')).toBe('BACKEND_UNAVAILABLE');
  });

  it('the CSP header is really applied (an inline script is refused)', async () => {
    const { page } = await open('/e2e/csp/dropin.html');
    const refused = await page.evaluate(async () => {
      const w = window as W;
      const before = w.cspViolations.length;
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true';
      document.head.append(s);
      await new Promise((r) => setTimeout(r, 50));
      return { ran: w.inlineRan ?? false, violations: w.cspViolations.length - before };
    });
    expect(refused).toEqual({ ran: false, violations: 1 });
  });
});
