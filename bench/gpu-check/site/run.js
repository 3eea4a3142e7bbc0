// Part of bench/gpu-check (see its README.md); copied to .gpu/site/ by bench/gpu-check/pack.sh.
// localrec GPU check page. Trains the library's own worker (dist/localrec.worker.js) on the
// protocol training data (data.json.gz, precomputed by bench/gpu-check/prep.ts with the settings of
// bench/train-browser.ts), reports the environment (WebGPU adapter, WebGL renderer) and
// posts one JSON result to /result, then sets document.title = 'done'.
import * as Comlink from './comlink/comlink.mjs';

const q = new URLSearchParams(location.search);
const requested = q.get('backend') || 'auto';
const key = q.get('key') || requested;
const maxSeconds = Number(q.get('maxSeconds') || 60);
const trialBudgetMs = Number(q.get('trialBudgetMs') || 60000);
const budgetSeconds = Number(q.get('budget') || maxSeconds + 40);
const wantRecommend = q.get('recommend') !== '0';
const wantProbe = q.has('probe') ? q.get('probe') === '1' : requested === 'auto';
const T0 = performance.now();
const secs = () => Number(((performance.now() - T0) / 1000).toFixed(2));

const out = { key, requested, url: location.href, startedAt: new Date().toISOString(), log: [] };
const logEl = document.getElementById('log');
function log(msg) {
  out.log.push(`${secs()}s ${msg}`);
  logEl.textContent += `${secs()}s ${msg}\n`;
}

const describe = (e) =>
  e && typeof e === 'object' && 'code' in e
    ? `${e.code}: ${e.message}`
    : e instanceof Error
      ? `${e.name}: ${e.message}`
      : typeof e === 'object'
        ? JSON.stringify(e)
        : String(e);

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

async function post(path, body) {
  try {
    await fetch(`${path}?key=${encodeURIComponent(key)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    console.error('post failed', e);
  }
}

let finished = false;
async function finish(why) {
  if (finished) return;
  finished = true;
  out.finishedAt = new Date().toISOString();
  out.pageSeconds = secs();
  if (why) out.finishReason = why;
  await post('/result', out);
  document.title = 'done';
}

// ---- environment ---------------------------------------------------------------------

async function webgpuReport() {
  if (!('gpu' in navigator)) return { available: false, why: 'navigator.gpu missing' };
  const r = { available: true, adapters: {} };
  try {
    r.preferredCanvasFormat = navigator.gpu.getPreferredCanvasFormat?.();
  } catch {}
  try {
    r.wgslLanguageFeatures = [...(navigator.gpu.wgslLanguageFeatures ?? [])];
  } catch {}
  for (const pref of ['default', 'high-performance']) {
    const a = {};
    try {
      const adapter = await withTimeout(
        navigator.gpu.requestAdapter(pref === 'default' ? undefined : { powerPreference: pref }),
        8000,
        'requestAdapter',
      );
      if (!adapter) {
        a.adapter = null;
      } else {
        const info = adapter.info ?? (await adapter.requestAdapterInfo?.());
        a.info = info
          ? {
              vendor: info.vendor,
              architecture: info.architecture,
              device: info.device,
              description: info.description,
              isFallbackAdapter: info.isFallbackAdapter,
              subgroupMinSize: info.subgroupMinSize,
              subgroupMaxSize: info.subgroupMaxSize,
            }
          : null;
        a.isFallbackAdapter = adapter.isFallbackAdapter ?? info?.isFallbackAdapter;
        a.features = [...adapter.features].sort();
        const L = adapter.limits;
        a.limits = {};
        for (const k of [
          'maxBufferSize',
          'maxStorageBufferBindingSize',
          'maxComputeWorkgroupStorageSize',
          'maxComputeInvocationsPerWorkgroup',
          'maxComputeWorkgroupSizeX',
          'maxStorageBuffersPerShaderStage',
        ]) {
          a.limits[k] = L[k];
        }
      }
    } catch (e) {
      a.error = describe(e);
    }
    r.adapters[pref] = a;
  }
  return r;
}

function webglReport(kind) {
  const r = { kind };
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext(kind, { powerPreference: 'high-performance' });
    if (!gl) return { kind, available: false };
    r.available = true;
    r.renderer = gl.getParameter(gl.RENDERER);
    r.vendor = gl.getParameter(gl.VENDOR);
    r.version = gl.getParameter(gl.VERSION);
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    if (ext) {
      r.unmaskedRenderer = gl.getParameter(ext.UNMASKED_RENDERER_WEBGL);
      r.unmaskedVendor = gl.getParameter(ext.UNMASKED_VENDOR_WEBGL);
    }
    r.maxTextureSize = gl.getParameter(gl.MAX_TEXTURE_SIZE);
    r.colorBufferFloat = !!gl.getExtension('EXT_color_buffer_float');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    // TF.js asks for failIfMajorPerformanceCaveat: a fallback (software) context refuses it.
    const strict = document
      .createElement('canvas')
      .getContext(kind, { failIfMajorPerformanceCaveat: true });
    r.noMajorPerformanceCaveat = !!strict;
    strict?.getExtension('WEBGL_lose_context')?.loseContext();
  } catch (e) {
    r.error = describe(e);
  }
  return r;
}

async function envReport() {
  const env = {
    userAgent: navigator.userAgent,
    platform: navigator.platform,
    hardwareConcurrency: navigator.hardwareConcurrency,
    deviceMemory: navigator.deviceMemory,
    crossOriginIsolated: globalThis.crossOriginIsolated,
  };
  env.webgpu = await webgpuReport();
  env.webgl2 = webglReport('webgl2');
  env.webgl = webglReport('webgl');
  const a = env.webgpu.adapters?.['high-performance']?.info ?? env.webgpu.adapters?.default?.info;
  env.summary =
    `webgpu: ${a ? `${a.vendor}/${a.architecture}/${a.device || '-'} "${a.description || ''}" fallback=${a.isFallbackAdapter}` : env.webgpu.adapters?.default?.error || 'no adapter'}` +
    ` | webgl2: ${env.webgl2.unmaskedRenderer ?? env.webgl2.renderer ?? 'none'}` +
    ` (caveat-free context: ${env.webgl2.noMajorPerformanceCaveat ? 'yes' : 'no'})`;
  return env;
}

// ---- data ----------------------------------------------------------------------------

// ?opts=batchSize:256,negatives:2048 and ?model=hiddenSize:256 override the settings
const kv = (text) =>
  Object.fromEntries(
    (text || '')
      .split(',')
      .filter(Boolean)
      .map((p) => {
        const [k, v] = p.split(':');
        return [k, Number.isFinite(Number(v)) ? Number(v) : v];
      }),
  );
async function loadData() {
  const res = await fetch('./data.json.gz');
  if (!res.ok) throw new Error(`data.json.gz: HTTP ${res.status}`);
  const stream = res.body.pipeThrough(new DecompressionStream('gzip'));
  const d = JSON.parse(await new Response(stream).text());
  Object.assign(d.options, kv(q.get('opts')));
  Object.assign(d.model, kv(q.get('model')));
  return d;
}

// ---- worker --------------------------------------------------------------------------

function openWorker() {
  const worker = new Worker('./dist/localrec.worker.js', { type: 'module' });
  const crashed = new Promise((_, reject) => {
    worker.addEventListener('error', (e) =>
      reject(new Error(`worker error: ${e.message || 'failed to load'}`)),
    );
  });
  crashed.catch(() => {});
  const api = Comlink.wrap(worker);
  const call = (p) => Promise.race([p, crashed]);
  const close = () => {
    try {
      api[Comlink.releaseProxy]();
    } catch {}
    worker.terminate();
  };
  return { api, call, close };
}

async function probe() {
  const w = openWorker();
  try {
    return await withTimeout(w.call(w.api.probe({ backendTimeoutMs: 20000 })), 90000, 'probe');
  } finally {
    w.close();
  }
}

/** Like bench/train-browser.html's runTrainBench, with a stop after maxSeconds. */
async function trainRun(w, data, items, offsets, seconds, partial) {
  const r = {};
  let last = null;
  let lastAt = 0;
  let stopped = null;
  const stop = (why) => {
    if (stopped) return;
    stopped = why;
    w.api.abortTraining();
  };
  const onProgress = Comlink.proxy((p) => {
    last = p;
    lastAt = performance.now();
    if (partial) {
      partial.last = p;
      partial.lastAtSeconds = (lastAt - t1) / 1000;
    }
  });
  const timer = setTimeout(() => stop(`maxSeconds ${seconds}`), seconds * 1000);
  const t1 = performance.now();
  try {
    const res = await w.call(
      w.api.train(
        {
          items: Int32Array.from(items),
          offsets: Int32Array.from(offsets),
          itemIds: data.itemIds,
          mode: 'fresh',
          options: data.options,
          model: data.model,
        },
        onProgress,
      ),
    );
    r.result = {
      events: res.events,
      seconds: res.seconds,
      eventsPerSecond: res.eventsPerSecond,
      loss: res.loss,
      backend: res.backend,
      fellBackFrom: res.fellBackFrom,
      info: res.info,
    };
  } catch (e) {
    if (!stopped) throw e;
    r.stopped = stopped;
    r.abortError = describe(e);
  } finally {
    clearTimeout(timer);
  }
  r.wallSeconds = (performance.now() - t1) / 1000;
  r.last = last;
  r.lastAtSeconds = last ? (lastAt - t1) / 1000 : null;
  return r;
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function summaryLine(data, r) {
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const status = r.backendAfter ?? r.status;
  const used = r.train?.result?.backend ?? status?.backend ?? '?';
  const trial = r.status?.trials?.find((t) => t.name === used);
  const software = trial?.software ? 'software=yes' : trial ? 'software=no' : 'software=?';
  const t = r.train;
  if (!t) return `${requested} -> ${used}: no training`;
  const last = t.last;
  if (!t.result && !last) {
    return `${requested} -> ${used} · ${software} · STOPPED at ${t.stopped} before the first progress report`;
  }
  const steps = last ? (last.epoch - 1) * last.stepsPerEpoch + last.step : 0;
  const events = t.result?.events ?? last?.events ?? 0;
  const eps = t.result?.eventsPerSecond ?? last?.eventsPerSecond ?? 0;
  const wallFor = t.result ? t.wallSeconds : (t.lastAtSeconds ?? 0);
  // (`engine` is the deprecated name of the `kernel` option.)
  const asked = data.options.kernel ?? data.options.engine;
  const kernel = asked && asked !== 'auto' ? asked : (data.kernels?.[used] ?? trial?.kernel ?? '?');
  return [
    `${requested} -> ${used}${requested !== 'auto' && used !== requested ? ' (FELL BACK)' : ''}`,
    software,
    `${fmt(eps)} events/s (engine)`,
    `${fmt(wallFor > 0 ? events / wallFor : 0)} events/s (wall)`,
    `${steps}${last ? `/${last.stepsPerEpoch * Number(data.options.epochs)}` : ''} steps`,
    `${fmt(events)} events`,
    `train ${t.wallSeconds.toFixed(1)} s wall${t.result ? ` (engine ${t.result.seconds.toFixed(1)} s)` : ''}`,
    `init+trial ${(r.initSeconds ?? 0).toFixed(1)} s`,
    `loss ${(t.result?.loss ?? last?.loss ?? Number.NaN).toFixed(3)}`,
    `kernel=${kernel}`,
    ...((t.result?.backendWork ?? last?.backendWork)
      ? [workText(t.result?.backendWork ?? last.backendWork)]
      : []),
    ...(t.stopped ? [`STOPPED at ${t.stopped}`] : []),
    ...(t.result?.fellBackFrom?.length
      ? [`fell back from ${t.result.fellBackFrom.join(',')}`]
      : []),
  ].join(' · ');
}

/** The backend work of a finished run, per step (the worker's `backendWork`). */
function workText(w) {
  const per = (n) => (w.steps ? n / w.steps : 0).toFixed(2);
  return (
    `${((w.reads / Math.max(w.steps, 1)) * 100).toFixed(2)} reads/100 steps, ${per(w.dispatches)} dispatches/step` +
    `${w.programs === null ? '' : ` (${per(w.programs)} GPU programs)`}, ${per(w.uploads)} uploads/step`
  );
}

async function main() {
  log(`start backend=${requested} key=${key} maxSeconds=${maxSeconds} budget=${budgetSeconds}`);
  out.env = await envReport();
  log(`env: ${out.env.summary}`);
  if (requested === 'none') return;

  const data = await loadData();
  out.data = {
    sessions: data.sessions,
    events: data.events,
    numItems: data.numItems,
    settings: data.settings,
    options: data.options,
    model: data.model,
    trialBudgetMs,
  };
  log(`data: ${data.sessions} sequences, ${data.events} events, ${data.numItems} items`);

  if (wantProbe) {
    try {
      out.probe = await probe();
      log(
        `probe: ${out.probe.backends.map((b) => `${b.name}=${b.ok ? 'ok' : 'no'}${b.software ? '(sw)' : ''}${b.initMs !== undefined ? ` ${Math.round(b.initMs)}ms` : ''}`).join(' ')}`,
      );
    } catch (e) {
      out.probeError = describe(e);
      log(`probe failed: ${out.probeError}`);
    }
  }

  const w = openWorker();
  try {
    out.version = await withTimeout(w.call(w.api.ping()), 30000, 'ping');
    const t0 = performance.now();
    out.status = await w.call(
      w.api.init({
        ...(requested === 'auto' ? {} : { force: requested }),
        hiddenSize: data.model.hiddenSize,
        numItems: data.itemIds.length,
        // the trial at the training's batch and negatives (the library's init takes them)
        batchSize: data.options.batchSize,
        negatives: data.options.negatives,
        trialBudgetMs,
      }),
    );
    out.initSeconds = (performance.now() - t0) / 1000;
    log(`init ${out.initSeconds.toFixed(1)} s: ${out.status.backend}: ${out.status.reason}`);

    const remaining = budgetSeconds - secs() - 8;
    const seconds = Math.max(5, Math.min(maxSeconds, remaining));
    out.train = { running: true };
    out.train = await trainRun(w, data, data.items, data.offsets, seconds, out.train);
    const info = await w.call(w.api.info());
    out.backendAfter = info.backend;
    out.modelAfter = info.model;
    out.numTensors = info.numTensors;
    out.summary = summaryLine(data, out);
    log(`train: ${out.summary}`);

    if (wantRecommend && budgetSeconds - secs() > 12) {
      out.recommend = {};
      try {
        if (!info.model) {
          // The timed run was stopped, so no model was kept: a short run on a few
          // sequences gives one to score with.
          const n = 40;
          const sub = data.offsets.slice(0, n + 1);
          const items = data.items.slice(0, sub[n]);
          const s = Math.max(3, Math.min(20, budgetSeconds - secs() - 10));
          out.recommend.shortTrain = await trainRun(w, data, items, sub, s, null);
          delete out.recommend.shortTrain.last;
        }
        const times = [];
        let top = null;
        for (let i = 0; i < 20; i++) {
          const s = (i * 7) % data.sessions;
          const a = data.offsets[s];
          const b = Math.min(data.offsets[s + 1], a + 10);
          const prefix = Array.from(data.items.slice(a, b), (x) => data.itemIds[x]);
          const t = performance.now();
          const r = await w.call(w.api.recommend({ prefix, k: 20, exclude: [] }));
          times.push(performance.now() - t);
          if (i === 0) top = { prefix, items: r.slice(0, 10) };
        }
        out.recommend.top = top;
        out.recommend.msMedian = median(times);
        out.recommend.msFirst = times[0];
        out.recommend.calls = times.length;
        log(
          `recommend: median ${out.recommend.msMedian.toFixed(2)} ms (20 calls, k=20, round trip)`,
        );
      } catch (e) {
        out.recommend.error = describe(e);
        log(`recommend failed: ${out.recommend.error}`);
      }
    }
  } finally {
    w.close();
  }
}

// Partial results, so a page killed from outside still leaves numbers behind.
const partialTimer = setInterval(() => {
  if (!finished) post('/partial', { ...out, partial: true, pageSeconds: secs() });
}, 10000);
// Watchdog: a call that never answers (a hung GPU process) still ends in a result.
setTimeout(() => {
  out.error = out.error ?? `page budget of ${budgetSeconds} s exceeded`;
  finish('watchdog');
}, budgetSeconds * 1000);
addEventListener('unhandledrejection', (e) => log(`unhandledrejection: ${describe(e.reason)}`));
addEventListener('error', (e) => log(`error event: ${e.message}`));

main()
  .catch((e) => {
    out.error = describe(e);
    out.stack = e?.stack ?? null;
    log(`FAILED: ${out.error}`);
  })
  .finally(() => {
    clearInterval(partialTimer);
    finish('completed');
  });
