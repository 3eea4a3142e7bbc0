// The resident training step (src/train/kernels/resident.ts) in Chromium on WebGL and
// WebGPU: 200 steps of a fixed small run against the hybrid kernel on the CPU backend,
// the loss read every 20 steps and equal within 1e-4 (relative) at every read. Here both
// GPU backends run on SwiftShader (no GPU): this checks the maths and counts the backend
// work, it says nothing about GPU speed. A backend that does not initialise is reported
// and skipped; at least one of the two must run. The same for truncated BPTT windows on
// the device and resident kernels (issue 17: the window's gradients on every engine
// that trains).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, useBrowser } from './harness';
import type { BpttCheck, ResidentCheck } from './resident/entry';

const STEPS = 200;
const EVERY = 20;

describe('resident kernel on GPU backends (SwiftShader here)', () => {
  const browser = useBrowser();
  let bundle = '';
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'localrec-resident-'));
    await build({
      configFile: false,
      logLevel: 'silent',
      build: {
        outDir: dir,
        emptyOutDir: true,
        minify: false,
        lib: {
          entry: join(import.meta.dirname, 'resident', 'entry.ts'),
          formats: ['es'],
          fileName: 'entry',
        },
      },
    });
    bundle = readFileSync(join(dir, 'entry.js'), 'utf8');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * `call(backend)` evaluated in a fresh page per backend (WebGL shaders failed to compile
   * once WebGPU was initialised in the same page: src/worker/tf/trial.ts), each result
   * logged as `report` words it; the pages must log no errors.
   */
  async function perBackend<R extends { backend: string | null }>(
    call: (backend: string) => string,
    report: (requested: string, r: R) => string,
  ): Promise<R[]> {
    const results: R[] = [];
    for (const requested of ['webgl', 'webgpu']) {
      const { page, errors } = await openPage(await browser.newContext(), '/e2e/index.html');
      await page.addScriptTag({ content: bundle, type: 'module' });
      await page.waitForFunction('window.residentReady === true');
      const r = (await page.evaluate(call(JSON.stringify(requested)))) as R;
      results.push(r);
      console.log(report(requested, r));
      expect(errors.filter((e) => !/GPU stall|powerPreference/i.test(e))).toEqual([]);
      await page.close();
    }
    const ran = results.filter((r) => r.backend);
    expect(ran.length, 'neither WebGL nor WebGPU initialised').toBeGreaterThan(0);
    return ran;
  }

  it('loss equal to the CPU kernel at every read over 200 steps; ≤ 2 reads per 100 steps', async () => {
    const ran = await perBackend<ResidentCheck>(
      (backend) => `window.residentCheck(${backend}, ${STEPS}, ${EVERY})`,
      (requested, r) =>
        `resident e2e: ${requested} -> ${r.backend ?? `not initialised (${r.error})`}` +
        (r.adapter ? `, adapter ${r.adapter}` : '') +
        (r.backend
          ? `; kernel ${r.kernel}, max relative loss difference ${r.maxRelDiff?.toExponential(2)} over ${r.resident?.length} reads; ` +
            `per step ${r.perStep?.dispatches} dispatches, ${r.perStep?.programs} GPU programs, ${r.perStep?.uploads} uploads; ` +
            `${r.readsPer100Steps} reads per 100 steps; ${r.seconds?.toFixed(1)} s`
          : ''),
    );
    for (const r of ran) {
      expect(r.kernel).toBe('resident');
      expect(r.resident).toHaveLength(STEPS / EVERY);
      expect(r.maxRelDiff, `${r.backend}: ${r.reference} vs ${r.resident}`).toBeLessThan(1e-4);
      // a read every 20 steps here (the test's choice); trainGru reads every 100
      expect(r.readsPer100Steps).toBeLessThanOrEqual(100 / EVERY);
      // one int32 upload per step, plus once-only constants (weights, scalars, a target
      // one-hot per batch shape) spread over the 200 steps
      expect(r.perStep!.uploads).toBeLessThanOrEqual(1.25);
    }
  });

  it('BPTT windows on the device and resident kernels: the CPU kernel loss at every read', async () => {
    const steps = 60;
    const every = 10;
    const ran = await perBackend<BpttCheck>(
      (backend) => `window.bpttCheck(${backend}, ${steps}, ${every})`,
      (requested, r) =>
        `bptt e2e: ${requested} -> ${r.backend ?? `not initialised (${r.error})`}` +
        Object.entries(r.kernels ?? {})
          .map(
            ([k, v]) =>
              `; ${k} (ran ${v.kernel}) max relative loss difference ${v.maxRelDiff.toExponential(2)}`,
          )
          .join(''),
    );
    for (const r of ran) {
      expect(r.reference).toHaveLength(steps / every);
      // the check can fail: the window changes the run
      expect(r.windowEffect).toBeGreaterThan(1e-3);
      for (const kernel of ['device', 'resident']) {
        const k = r.kernels![kernel];
        expect(k.kernel).toBe(kernel);
        expect(k.maxRelDiff, `${r.backend} ${kernel}: ${r.reference} vs ${k.losses}`).toBeLessThan(
          1e-4,
        );
      }
    }
  });
});
