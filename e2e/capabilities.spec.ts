// First end-to-end check: both builds load in a real Chromium, expose the version, and
// report which TF.js backends initialise here. Prints the report; assumes no GPU.
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityReport } from '../src/index';
import { launchBrowser, openPage } from './harness';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

type ProbeResult = { version: string; report: CapabilityReport } | { error: string; code?: string };

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

function printReport(label: string, report: CapabilityReport) {
  const lines = report.backends.map(
    (b) =>
      `  ${b.name.padEnd(7)} ${b.ok ? 'ok  ' : 'FAIL'} ${String(b.initMs ?? '').padStart(6)} ms` +
      `${b.software ? ' (software)' : ''}${b.info ? ` ${JSON.stringify(b.info)}` : ''}${b.error ? ` — ${b.error}` : ''}`,
  );
  console.log(
    `[${label}] backends in ${report.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0]}, ` +
      `crossOriginIsolated=${report.crossOriginIsolated}, cores=${report.hardwareConcurrency}, ` +
      `tfjs-core ${report.tfjsVersion}\n  WebGL renderer: ${report.webglRenderer ?? 'none'}\n${lines.join('\n')}`,
  );
}

describe.each([
  ['script tag', 'e2e/script-tag.html'],
  ['ES module', 'e2e/esm.html'],
])('%s build', (label, path) => {
  it('exposes the version and a backend report with at least one working backend', async () => {
    const { page, errors, requests } = await openPage(browser, `/${path}`);
    const result = (await page.evaluate(
      () => (window as unknown as { probeResult: Promise<unknown> }).probeResult,
    )) as ProbeResult;
    if ('error' in result)
      throw new Error(`probe failed in the page: ${result.code} ${result.error}`);
    printReport(label, result.report);
    expect(result.version).toBe(pkg.version);
    expect(result.report.version).toBe(pkg.version);
    expect(result.report.backends.map((b) => b.name)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    const working = result.report.backends.filter((b) => b.ok);
    expect(working.length).toBeGreaterThan(0);
    // The pages are served cross-origin isolated (COOP/COEP), as WASM threads need.
    expect(result.report.crossOriginIsolated).toBe(true);
    // Every request stays on the test server (no CDN, no telemetry).
    const origin = new URL(page.url()).origin;
    expect(requests.filter((u) => !u.startsWith(origin))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
