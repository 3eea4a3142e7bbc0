// The core scenarios on every engine (Chromium, Firefox ESR, WebKitGTK; see harness.ts):
// the capability probe, track → train → recommend finding a planted pattern, the model
// kept across a reload, the script tag with <localrec-recommendations> under a strict
// CSP; in each, no request leaves the test server and no console error or warning.
// The other specs cover Chromium in depth; these are what must hold everywhere.
//
// Prints one line per engine (version, backends, training speed) and writes them to
// .cache/test-reports/browsers.json: the README's browser table comes from there.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityReport } from '../../src/index';
import { startE2eServer } from '../server';
import { ENGINES, type Engine, type EnginePage, launchEngine } from './harness';

// biome-ignore lint/suspicious/noExplicitAny: page globals in evaluate callbacks
type W = any;

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** A host no request may reach; the request-log check asks for it on purpose. */
const CANARY = 'http://192.0.2.1/localrec-proxy-check';

let server: Awaited<ReturnType<typeof startE2eServer>>;
const seen: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = await startE2eServer();
});
afterAll(async () => {
  await server?.close();
  const dir = join(root, '.cache', 'test-reports');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'browsers.json'), `${JSON.stringify(seen, null, 2)}\n`);
});

describe.each(ENGINES)('%s', (name) => {
  let engine: Engine;
  const facts: Record<string, unknown> = { engine: name };

  beforeAll(async () => {
    engine = await launchEngine(name, { origin: server.url, serverLog: server.urls });
    facts.version = engine.version;
    seen.push(facts);
  });
  afterAll(async () => {
    await engine?.close();
  });

  /** Runs `body` on a page, then checks what every scenario must: no problem, no request elsewhere. */
  async function scenario(
    path: string,
    body: (page: EnginePage) => Promise<void>,
  ): Promise<EnginePage> {
    const page = await engine.open(path);
    await body(page);
    const problems = await page.problems();
    const urls = page.requests().filter((u) => u !== CANARY);
    // Only the test server, only the library and the test pages.
    const allowed = [`${server.url}/dist/`, `${server.url}/e2e/`, `${server.url}/favicon.ico`];
    expect(urls.filter((u) => !allowed.some((a) => u.startsWith(a)))).toEqual([]);
    expect(problems).toEqual([]);
    return page;
  }

  it('capability probe: a working backend, plain reasons for the missing ones; requests are seen', async () => {
    const page = await scenario('/e2e/browsers/probe.html', async (page) => {
      const result = (await page.evaluate(() => (window as W).probeResult)) as {
        version: string;
        report: CapabilityReport;
        page: { gpu: boolean; sharedArrayBuffer: boolean; offscreenCanvas: boolean };
      };
      expect(result).toHaveProperty('report');
      const { report } = result;
      expect(result.version).toBe(pkg.version);
      expect(report.version).toBe(pkg.version);
      expect(report.backends.map((b) => b.name)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
      const byName = Object.fromEntries(report.backends.map((b) => [b.name, b]));
      expect(byName.wasm.ok).toBe(true);
      expect(byName.cpu.ok).toBe(true);
      // WebGPU missing from the browser is said so, not blamed on the bundle.
      if (!result.page.gpu) {
        expect(byName.webgpu).toMatchObject({
          ok: false,
          error: 'WebGPU not available in this browser',
        });
      }
      for (const b of report.backends) {
        if (!b.ok)
          expect(b.error).not.toMatch(/not registered in this bundle|setBackend returned false/);
      }
      // The report never claims WASM threads where SharedArrayBuffer is missing.
      if (!result.page.sharedArrayBuffer) expect(byName.wasm.info?.threads).toBe(false);
      expect(report.crossOriginIsolated).toBe(true);
      facts.backends = Object.fromEntries(
        report.backends.map((b) => [b.name, b.ok ? 'ok' : b.error]),
      );
      facts.wasm = byName.wasm.info;
      facts.sharedArrayBuffer = result.page.sharedArrayBuffer;
      facts.hardwareConcurrency = report.hardwareConcurrency;
      facts.userAgent = report.userAgent;
    });
    // The request log sees a request to another host (WebKit: through the proxy, refused),
    // so an empty list of foreign requests means there were none. Asked after the
    // scenario's checks: the browser logs the refusal as a console error.
    await page.evaluate(
      (url) =>
        fetch(url).then(
          () => 'answered',
          () => 'refused',
        ),
      CANARY,
    );
    expect(page.requests()).toContain(CANARY);
  });

  it('tracks, trains in the worker and recommends the planted next item; the model survives a reload', async () => {
    await scenario('/e2e/browsers/runtime.html', async (page) => {
      await page.waitFor(() => (window as W).libReady === true);
      const result = await page.evaluate(async () => {
        const L = (window as W).LocalRec;
        const rec = await L.createRecommender({
          namespace: 'browsers-planted',
          workerUrl: '/e2e/browsers/worker.js',
          training: { auto: false },
        });
        // Planted pattern: in every session containing i5, i17 follows it.
        const events = [];
        let t = Date.now() - 1e8;
        for (let s = 0; s < 60; s++) {
          for (let j = 0; j < 6; j++) {
            const x = `i${(s * 7 + j * 3) % 30}`;
            events.push({ itemId: x, type: 'view', sessionId: `s${s}`, timestamp: t++ });
            if (x === 'i5')
              events.push({ itemId: 'i17', type: 'view', sessionId: `s${s}`, timestamp: t++ });
          }
        }
        await rec.trackMany(events);
        const train = await rec.train({ epochs: 20 });
        await rec.track({ itemId: 'i5', type: 'view' });
        const top = await rec.recommend({ k: 3 });
        const status = await rec.status();
        await rec.close?.();
        return {
          train,
          top,
          runsIn: status.runsIn,
          backend: status.backend,
          scoring: status.model?.scoring,
        };
      });
      expect(result.runsIn).toBe('worker');
      // the WebAssembly SIMD scoring pass, or the JS loop where it cannot run: same scores
      expect(['wasm-simd', 'js']).toContain(result.scoring);
      facts.scoring = result.scoring;
      expect(result.train.trained).toBe(true);
      // a browser that runs the SIMD scoring module runs the SIMD training step too
      // (relaxed SIMD where it validates, plain SIMD otherwise), whatever the backend
      if (result.train.kernel === 'hybrid' && result.scoring === 'wasm-simd')
        expect(['relaxed-simd', 'simd']).toContain(result.train.stepSimd);
      facts.stepSimd = result.train.stepSimd;
      expect(result.top[0]).toMatchObject({ itemId: 'i17', scorer: 'gru', rank: 1 });
      facts.backend = result.backend.backend;
      facts.backendReason = result.backend.reason;
      facts.training = {
        events: result.train.events,
        processedEvents: result.train.processedEvents,
        epochs: 20,
        seconds: Number(result.train.seconds.toFixed(2)),
        eventsPerSecond: Math.round(result.train.eventsPerSecond),
      };
      console.log(
        `[browsers] ${engine.version}: backend ${result.backend.reason}; scoring ${result.scoring}; training ${result.train.events} ` +
          `events × 20 epochs in ${result.train.seconds.toFixed(2)} s = ` +
          `${Math.round(result.train.eventsPerSecond)} events/s, ${result.train.kernel} kernel, step SIMD ${result.train.stepSimd}`,
      );

      await page.reload();
      await page.waitFor(() => (window as W).libReady === true);
      const after = await page.evaluate(async () => {
        const rec = await (window as W).LocalRec.createRecommender({
          namespace: 'browsers-planted',
          workerUrl: '/e2e/browsers/worker.js',
          training: { auto: false },
        });
        const status = await rec.warmUp();
        await rec.track({ itemId: 'i5', type: 'view' });
        return { status, top: await rec.recommend({ k: 1 }), events: (await rec.stats()).events };
      });
      expect(after.status.model).toMatchObject({ source: 'device', numItems: 30 });
      expect(after.status.lastTraining).toBeNull();
      expect(after.top[0]).toMatchObject({ itemId: 'i17', scorer: 'gru' });
      expect(after.events).toBeGreaterThan(360);
    });
  });

  it('script tag and <localrec-recommendations> under a strict CSP: tracks, trains, renders', async () => {
    await scenario('/e2e/csp/browsers.html', async (page) => {
      await page.waitFor(() => (window as W).LocalRec?.ready);
      const result = await page.evaluate(async () => {
        const w = window as W;
        const rec = await w.LocalRec.ready;
        const summary = await rec.train({ epochs: 6 });
        await rec.track({ itemId: 'i5', type: 'view' });
        const status = await rec.status();
        return {
          summary,
          top: await rec.recommend({ k: 3 }),
          backend: status.backend?.backend,
          events: (await rec.stats()).events,
          violations: w.cspViolations,
        };
      });
      expect(result.summary.trained).toBe(true);
      expect(result.top[0]).toMatchObject({ itemId: 'i17', scorer: 'gru' });
      expect(result.events).toBeGreaterThan(200); // the queued trackMany arrived
      facts.cspBackend = result.backend;
      // The element renders the trained model's recommendations.
      await page.waitFor(() => document.querySelector('#recs li[data-scorer="gru"]') !== null);
      const shown = await page.evaluate(() =>
        [...document.querySelectorAll('#recs li')].map((li) => ({
          item: li.getAttribute('data-localrec-item'),
          title: li.querySelector('.title')?.textContent,
        })),
      );
      expect(shown.length).toBeGreaterThan(0);
      expect(shown.every((s) => typeof s.item === 'string' && s.item.length > 0)).toBe(true);
      expect(result.violations).toEqual([]);
    });
  });
});
