// Benchmark of GRU training speed in headless Chromium, per TF.js backend, on the real
// protocol data: the training sequences of `localrec bench train` (ml-small-last5 training
// parts of data/movielens-small/ratings.csv.gz) at the same settings (the eval defaults,
// 1 epoch, a fresh model), trained by the library's own worker (dist/localrec.worker.js)
// with the backend forced through the engine's init. Each backend gets a fresh page and
// worker: GPU backends initialised in the same worker slowed WASM and broke WebGL shader
// compiles. Events/s is the engine's (events / seconds of its training loop); the wall time
// of the train call in the page is printed beside it (it adds the transfer to the worker,
// the model's creation and the checkpoint's serialisation).
//
// On a machine without a GPU, WebGL and WebGPU run on SwiftShader (CPU emulation) and are
// slow: a run stops after --max-seconds (default 180) or --max-steps through the engine's
// abortTraining(), and reports events/s up to its last progress report (the trainer
// reports every syncEvery steps, so --max-steps is rounded up to that).
//
// Usage: npx tsx bench/train-browser.ts [--backends wasm,cpu,webgl,webgpu] [--epochs 1]
//   [--params 'batchSize=128,negatives=256'] [--max-steps N] [--max-seconds 180]
//   [--cpu-profile FILE] [--profile-seconds 4]   (a V8 CPU profile of the worker, started
//   when it attaches and stopped after --profile-seconds, written as FILE.<backend>.cpuprofile
//   for Chrome DevTools; build the worker unminified to read its function names)
//   [--kernel auto|hybrid|device|resident]   (--engine: the deprecated name of --kernel)
// Needs `npm run build` (dist/). Prints numbers, one line per backend; not a pass/fail test.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { gruParams, loadProtocolData, settingsText, stepTimingText } from '../cli/commands/bench';
import { processIO } from '../cli/io';
import { CHROMIUM_ARGS, findChromium, howToPoint } from '../scripts/lib/chromium.mjs';
import { startServer } from '../scripts/lib/serve.mjs';
import { trainOptionsFrom } from '../src/train/eval-factory';
import type { StepTiming } from '../src/train/fit';
import { kernelFor } from '../src/train/kernels/select';
import { DEFAULT_TRAIN_OPTIONS } from '../src/train/options';
import type { BackendStatus, TrainProgressMessage, TrainResponse } from '../src/worker/protocol';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const backends = (opt('--backends') ?? 'wasm,cpu,webgl,webgpu').split(',').map((s) => s.trim());
const maxSteps = Number(opt('--max-steps') ?? '0');
const maxSeconds = Number(opt('--max-seconds') ?? '180');
const cpuProfile = opt('--cpu-profile');
const profileSeconds = Number(opt('--profile-seconds') ?? '4');
// --engine is the deprecated name of --kernel (one version).
const kernelFlag = opt('--kernel') ?? opt('--engine');
// Budget of the engine's init trial (a few synthetic steps) per backend: generous, since a
// forced backend whose trial runs over it is refused (SwiftShader compiles shaders slowly).
const trialBudgetMs = 60_000;

// Settings: the eval defaults (read at run time), --params over them, --epochs over both.
const params = gruParams(opt('--params'));
const epochsFlag = opt('--epochs');
if (epochsFlag !== undefined) params.epochs = Number(epochsFlag);
else if (!/(^|,)\s*epochs\s*=/.test(opt('--params') ?? '')) params.epochs = 1;
const options: Record<string, number | string | boolean> = {};
// trainOptionsFrom gives plain numbers, strings and booleans only (what the worker takes).
for (const [k, v] of Object.entries(trainOptionsFrom(params))) {
  if (v !== undefined) options[k] = v as number | string | boolean;
}
// The tail rule is not an eval parameter: the Node bench gets src's default. Send that
// default explicitly, so a dist/ built before a change of it trains the same way.
options.tail = DEFAULT_TRAIN_OPTIONS.tail;
if (kernelFlag) options.kernel = kernelFlag;
const model = {
  hiddenSize: params.hiddenSize,
  embedding: params.separate === 1 ? ('separate' as const) : ('tied' as const),
  embeddingSize: params.hiddenSize,
};

if (!existsSync(join(root, 'dist', 'localrec.worker.js'))) {
  console.error('bench: dist/localrec.worker.js is missing: run `npm run build` first');
  process.exit(1);
}
// The worker is dist/'s, the data and settings are src/'s: say so when dist/ is older.
const built = statSync(join(root, 'dist', 'localrec.worker.js')).mtimeMs;
const newer = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter(
  (f) => f.endsWith('.ts') && statSync(join(root, 'src', f)).mtimeMs > built,
);
if (newer.length) {
  console.error(
    `bench: warning: dist/ is older than ${newer.length} file(s) of src/ (${newer.slice(0, 3).join(', ')}` +
      `${newer.length > 3 ? ', …' : ''}): run \`npm run build\` to measure the current code`,
  );
}
const executablePath = findChromium();
if (!executablePath) {
  console.error(`bench: ${howToPoint()}`);
  process.exit(1);
}
// CHROMIUM_ARGS should carry the WebGPU flag; add it here if a later edit drops it.
const chromiumArgs = CHROMIUM_ARGS.includes('--enable-unsafe-webgpu')
  ? CHROMIUM_ARGS
  : [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'];

// The training sequences of `localrec bench train`, sent to the page as plain arrays.
const data = loadProtocolData('data/movielens-small/ratings.csv.gz', processIO());
const fit = data.train;
const payload = {
  items: Array.from(fit.items),
  offsets: Array.from(fit.offsets),
  itemIds: Array.from(data.itemIds, (id) => String(id)),
};
const events = fit.items.length;
const sessions = fit.offsets.length - 1;

interface PageResult {
  requested: string;
  version?: string;
  status?: BackendStatus;
  initSeconds?: number;
  result?: {
    events: number;
    seconds: number;
    eventsPerSecond: number;
    loss: number;
    backend: string;
    fellBackFrom: string[];
    stepSimd?: string;
    stepMs?: StepTiming;
    kernel?: string;
    backendWork?: TrainResponse['backendWork'];
  };
  stopped?: string;
  wallSeconds?: number;
  last?: TrainProgressMessage | null;
  lastAtSeconds?: number;
  backendAfter?: BackendStatus | null;
  error?: string;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function line(r: PageResult): string {
  if (r.error) return `${r.requested}: FAILED ${r.error.replace(/\s+/g, ' ')}`;
  const status = r.backendAfter ?? r.status;
  const used = r.result?.backend ?? status?.backend ?? '?';
  const trial = r.status?.trials.find((t) => t.name === used);
  const software = trial?.software ? 'software=yes (emulated GPU, SwiftShader)' : 'software=no';
  const last = r.last;
  if (!r.result && !last) {
    return (
      `${r.requested} -> ${used} · ${software} · STOPPED at ${r.stopped} before the first ` +
      `progress report (every ${DEFAULT_TRAIN_OPTIONS.syncEvery} steps): no numbers, raise it`
    );
  }
  const steps = last ? (last.epoch - 1) * last.stepsPerEpoch + last.step : 0;
  const engineEvents = r.result?.events ?? last?.events ?? 0;
  const eps = r.result?.eventsPerSecond ?? last?.eventsPerSecond ?? 0;
  // Wall events/s: up to the end of the call, or to the last progress report when stopped.
  const wallFor = r.result ? (r.wallSeconds ?? 0) : (r.lastAtSeconds ?? 0);
  const wallEps = wallFor > 0 ? engineEvents / wallFor : 0;
  const kernel =
    options.kernel && options.kernel !== 'auto' ? options.kernel : kernelFor(String(used));
  const parts = [
    `${r.requested} -> ${used}${used !== r.requested ? ' (FELL BACK)' : ''}`,
    software,
    `${fmt(eps)} events/s (engine)`,
    `${fmt(wallEps)} events/s (wall)`,
    `${steps}${last ? `/${last.stepsPerEpoch * Number(options.epochs)}` : ''} steps`,
    `${fmt(engineEvents)} events`,
    `train ${(r.wallSeconds ?? 0).toFixed(1)} s wall` +
      (r.result ? ` (engine ${r.result.seconds.toFixed(1)} s)` : ''),
    `init+trial ${(r.initSeconds ?? 0).toFixed(1)} s`,
    `loss ${(r.result?.loss ?? last?.loss ?? Number.NaN).toFixed(3)}`,
    `batchSize=${options.batchSize} negatives=${options.negatives} hiddenSize=${model.hiddenSize} ` +
      `tail=${options.tail} kernel=${kernel}` +
      (r.result?.stepSimd ? ` step-simd=${r.result.stepSimd}` : '') +
      (r.result?.stepMs ? ` · per step: ${stepTimingText(r.result.stepMs)}` : '') +
      `${options.kernel ? '' : ` (kernelFor the backend; its trial ran ${trial?.kernel ?? '?'})`}`,
  ];
  // (a stopped run: up to its last progress report)
  const w = r.result?.backendWork ?? last?.backendWork;
  if (w) {
    const per = (n: number) => (n / Math.max(w.steps, 1)).toFixed(2);
    parts.push(
      `kernel ${r.result?.kernel ?? kernel} ran: ${((w.reads / Math.max(w.steps, 1)) * 100).toFixed(2)} reads/100 steps, ` +
        `${per(w.dispatches)} dispatches/step` +
        `${w.programs === null ? '' : ` (${per(w.programs)} GPU programs)`}, ${per(w.uploads)} uploads/step`,
    );
  }
  if (r.stopped) parts.push(`STOPPED at ${r.stopped} (numbers up to the last progress report)`);
  if (r.result?.fellBackFrom.length)
    parts.push(`fell back from ${r.result.fellBackFrom.join(',')}`);
  return parts.join(' · ');
}

/**
 * A CPU profile of the page's (first) dedicated worker over `profileSeconds` from when it
 * starts, through the page's DevTools session (non-flat auto-attach: the worker's
 * Profiler is driven with Target.sendMessageToTarget). Resolves to a line saying where
 * the profile went, or why there is none.
 */
async function profileWorker(page: Page, file: string): Promise<string> {
  const cdp = await page.context().newCDPSession(page);
  let next = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  let sessionId: string | null = null;
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      void cdp.send('Target.sendMessageToTarget', {
        sessionId: sessionId!,
        message: JSON.stringify({ id, method, params }),
      });
    });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message) as { id?: number; result?: unknown };
    if (m.id !== undefined) waiting.get(m.id)?.(m.result);
  });
  const attached = new Promise<void>((resolve) => {
    cdp.on('Target.attachedToTarget', (e) => {
      if (sessionId || e.targetInfo.type !== 'worker') return;
      sessionId = e.sessionId;
      resolve();
    });
  });
  await cdp.send('Target.setAutoAttach', {
    autoAttach: true,
    waitForDebuggerOnStart: false,
    flatten: false,
  });
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000));
  if ((await Promise.race([attached, timeout])) === 'timeout')
    return 'cpu profile: no worker attached';
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 200 });
  await send('Profiler.start');
  await new Promise((r) => setTimeout(r, profileSeconds * 1000));
  const result = (await Promise.race([send('Profiler.stop'), timeout])) as
    | { profile?: object }
    | 'timeout';
  if (result === 'timeout' || !result.profile) return 'cpu profile: the worker did not answer';
  writeFileSync(file, JSON.stringify(result.profile));
  return `cpu profile of the worker (${profileSeconds} s): ${file}`;
}

const server = await startServer({
  mounts: {
    '/dist/': join(root, 'dist'),
    '/bench/': join(root, 'bench'),
    '/comlink/': join(root, 'node_modules/comlink/dist/esm'),
  },
});
const browser = await chromium.launch({ executablePath, headless: true, args: chromiumArgs });
try {
  const ua = await (async () => {
    const page = await browser.newPage();
    const s = await page.evaluate(() => navigator.userAgent);
    await page.close();
    return s.match(/HeadlessChrome\/[\d.]+/)?.[0] ?? s;
  })();
  console.log(
    `bench train-browser: ${ua}, ${process.platform}/${process.arch} · ${data.numItems} items, ` +
      `${sessions} training sequences, ${events} events · settings: ${settingsText(params)}`,
  );
  for (const backend of backends) {
    const page = await browser.newPage();
    const profiled = cpuProfile ? profileWorker(page, `${cpuProfile}.${backend}.cpuprofile`) : null;
    try {
      await page.goto(`${server.url}/bench/train-browser.html`);
      await page.waitForFunction('window.benchReady === true');
      // Guard against a page that never answers (a hung GPU process): init + run + margin.
      const guardMs = trialBudgetMs * 2 + maxSeconds * 1000 + 120_000;
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        page.evaluate(
          (a) =>
            (window as unknown as { runTrainBench(a: object): Promise<PageResult> }).runTrainBench(
              a,
            ),
          { backend, ...payload, options, model, maxSteps, maxSeconds, trialBudgetMs },
        ),
        new Promise<PageResult>((resolve) => {
          timer = setTimeout(
            () => resolve({ requested: backend, error: `no answer within ${guardMs / 1000} s` }),
            guardMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      console.log(line(result));
      if (profiled) console.log(await profiled);
    } catch (error) {
      console.log(`${backend}: FAILED ${(error as Error).message.split('\n')[0]}`);
    } finally {
      await page.close().catch(() => {});
    }
  }
} finally {
  await browser.close();
  await server.close();
}
