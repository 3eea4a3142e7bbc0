/**
 * `localrec bench train`: training speed (events/s) of the GRU on the protocol's
 * training interactions, and top-20 scoring latency over the catalog. Numbers, not a
 * pass/fail test; the backend and every setting are printed beside them.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import { parseInteractionsCsv } from '../../src/eval/csv';
import { type EvalDataset, prepareDataset } from '../../src/eval/protocol';
import { SimdKernels, setSimdKernelsEnabled } from '../../src/model/simd';
import { ensureNodeBackend } from '../../src/train/backend-node';
import { GRU_EVAL_DEFAULTS, trainOptionsFrom } from '../../src/train/eval-factory';
import { type StepTiming, trainGru } from '../../src/train/fit';
import { countBackendWork } from '../../src/train/kernels/counters';
import { LOSS_NAMES } from '../../src/train/losses';
import type { TrainOptions } from '../../src/train/options';
import { type FlagSpec, intFlag, parseFlags, usageLines } from '../args';
import { CliError, type CliIO } from '../io';
import type { Command } from '../subcommands';

// ─── shared with `localrec pretrain` ───

export const GRU_FLAGS: Record<string, FlagSpec> = {
  data: { help: 'interaction log, .csv or .csv.gz (default data/movielens-small/ratings.csv.gz)' },
  params: {
    help: `GRU settings, e.g. 'epochs=10,batchSize=64' (keys: ${Object.keys(GRU_EVAL_DEFAULTS).join(', ')}; loss: ${LOSS_NAMES.map((name, code) => `${code} = ${name}`).join(', ')})`,
  },
  backend: { help: 'TF.js backend: wasm (default) or cpu' },
};

export function loadProtocolData(path: string, io: CliIO): EvalDataset {
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(io.cwd, path));
  } catch (error) {
    throw new CliError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString(
    'utf8',
  );
  return prepareDataset(parseInteractionsCsv(text));
}

/**
 * `--params 'k=v,…'` over the GRU eval defaults; `extra` adds keys (with their defaults)
 * a command understands beside the GRU's own. Unknown keys are refused.
 */
export function gruParams(
  text: string | undefined,
  extra: Readonly<Record<string, number>> = {},
): Record<string, number> {
  const p: Record<string, number> = { ...GRU_EVAL_DEFAULTS, ...extra };
  if (!text) return p;
  for (const part of text.split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (!Object.hasOwn(p, k)) {
      throw new CliError(`unknown GRU parameter '${k}' (${Object.keys(p).join(', ')})`);
    }
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n))
      throw new CliError(`GRU parameter ${k} needs a number`);
    p[k] = n;
  }
  return p;
}

/** `ms/step` breakdown of a training run (TrainResult.stepMs), one line. */
export function stepTimingText(t: StepTiming): string {
  const f = (v: number) => v.toFixed(3);
  return (
    `${f(t.prep + t.compute + t.update)} ms: prep ${f(t.prep)}, compute ${f(t.compute)} ` +
    `(products ${f(t.products)}, loss ${f(t.loss)}), update ${f(t.update)} (${t.steps} steps)`
  );
}

export function settingsText(p: Record<string, number>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

// ─── bench train ───

const FLAGS = {
  ...GRU_FLAGS,
  'score-reps': { help: 'top-20 scoring calls to time (default 2000)' },
  repeat: {
    help: 'training runs to time (default 3); the median is the headline, every run is printed',
  },
  kernel: {
    help: 'training-step kernel: auto (default: the one the backend gets), hybrid, device or resident',
  },
  json: { boolean: true, help: 'print one JSON line instead of text' },
  'no-simd': {
    boolean: true,
    help: "train without the library's WebAssembly SIMD step kernels (TF.js products, JS gates and loss), to compare",
  },
  help: { boolean: true, help: 'show this help' },
};

const USAGE = `usage: localrec bench train [options]\n\n${usageLines(FLAGS)}\n\nDefault GRU settings are the eval defaults with epochs=1.\n`;

/** Median (mean of the two middle values for an even count). */
export function medianOf(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function run(args: string[], io: CliIO): Promise<number> {
  const { values, booleans, positionals } = parseFlags('bench', args, FLAGS);
  if (booleans.has('help')) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals[0] !== 'train' || positionals.length > 1) {
    throw new CliError("bench: the only benchmark is 'train' (localrec bench train --help)");
  }
  const p = gruParams(`epochs=1${values.params ? `,${values.params}` : ''}`);
  const repeat = intFlag('bench', 'repeat', values.repeat, 3);
  const kernel = (values.kernel ?? 'auto') as TrainOptions['kernel'];
  const backend = await ensureNodeBackend(values.backend ?? process.env.LOCALREC_BACKEND ?? 'wasm');
  setSimdKernelsEnabled(!booleans.has('no-simd'));
  const data = loadProtocolData(values.data ?? 'data/movielens-small/ratings.csv.gz', io);
  const fit = data.train;
  // Several identical runs: a shared or throttled CPU moves single runs by ±25%.
  const runs: {
    events: number;
    seconds: number;
    eventsPerSecond: number;
    stepMs: StepTiming;
  }[] = [];
  let r: Awaited<ReturnType<typeof trainGru>> | null = null;
  // what the runs asked of the backend (every run, whole runs: the end-of-run reads of
  // the loss and the weights included)
  const work = countBackendWork();
  let steps = 0;
  for (let k = 0; k < repeat; k++) {
    r?.model.dispose();
    r = await trainGru(
      fit,
      { ...trainOptionsFrom(p), kernel },
      {
        config: {
          hiddenSize: p.hiddenSize,
          embedding: p.separate === 1 ? 'separate' : 'tied',
          embeddingSize: p.hiddenSize,
        },
      },
    );
    runs.push({
      events: r.events,
      seconds: r.seconds,
      eventsPerSecond: r.eventsPerSecond,
      stepMs: r.stepMs,
    });
    steps += r.steps;
  }
  work.stop();
  if (!r) throw new CliError('bench: no training run');
  const per = (n: number, k = 1) => Number(((n / Math.max(steps, 1)) * k).toFixed(2));
  const backendWork = {
    kernel: r.kernel,
    steps,
    readsPer100Steps: per(work.counts.reads, 100),
    dispatchesPerStep: per(work.counts.dispatches),
    programsPerStep: work.counts.programs === null ? null : per(work.counts.programs),
    uploadsPerStep: per(work.counts.uploads),
  };
  const median = medianOf(runs.map((x) => x.eventsPerSecond));
  const scorer = r.model.scorer();
  // top-20 after a 10-item prefix, excluding the prefix (what recommend() does)
  const reps = Number(values['score-reps'] ?? 2000);
  const times: number[] = [];
  const seq = data.full.items;
  for (let i = 0; i < reps + 50; i++) {
    const u = i % (data.full.offsets.length - 1);
    const o = data.full.offsets[u];
    const prefix = seq.subarray(o, o + 10);
    const t = performance.now();
    scorer.topK(prefix, 20, prefix);
    if (i >= 50) times.push(performance.now() - t);
  }
  // scoring from a kept state (cursor): the per-event cost once the state is cached
  const stateTimes: number[] = [];
  const c = scorer.cursor();
  for (let i = 0; i < 10; i++) c.push(seq[i]);
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    scorer.topKFromScores(c.scores(), 20, seq.subarray(0, 10));
    stateTimes.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  stateTimes.sort((a, b) => a - b);
  const out = {
    backend,
    simd: backend === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : undefined,
    threads: backend === 'wasm' ? tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') : undefined,
    /**
     * The hybrid kernel's products, gates and loss: the library's WebAssembly kernels
     * (their variant) or 'off' (TF.js products, JS gates and loss).
     */
    stepSimd: SimdKernels.get()?.variant ?? 'off',
    settings: settingsText(p),
    items: fit.numItems,
    events: r.events,
    trainSeconds: Number(r.seconds.toFixed(2)),
    /** Backend work of the kernel that ran, per step over every run (counters.ts). */
    backendWork,
    /** Median over the runs. */
    eventsPerSecond: Math.round(median),
    runs: runs.map((x) => ({
      seconds: Number(x.seconds.toFixed(2)),
      eventsPerSecond: Math.round(x.eventsPerSecond),
      stepMs: x.stepMs,
    })),
    top20PrefixMs: {
      median: Number(quantile(times, 0.5).toFixed(3)),
      p95: Number(quantile(times, 0.95).toFixed(3)),
    },
    /** The scoring pass that ran: WebAssembly SIMD where it can, else the JS loop. */
    scoringPass: scorer.scoringPass,
    top20StateMs: {
      median: Number(quantile(stateTimes, 0.5).toFixed(3)),
      p95: Number(quantile(stateTimes, 0.95).toFixed(3)),
    },
  };
  r.model.dispose();
  if (booleans.has('json')) {
    io.stdout(`${JSON.stringify(out)}\n`);
    return 0;
  }
  io.stdout(
    `localrec bench train · backend ${backend}${out.simd ? ' (SIMD)' : ''}${out.threads ? ' (threads)' : ''} · ${fit.numItems} items · ${r.events} events\n` +
      `settings: ${out.settings}\n` +
      `step kernels: ${out.stepSimd === 'off' ? 'off (TF.js products, JS gates and loss)' : `WebAssembly ${out.stepSimd}`}\n` +
      `training: ${out.eventsPerSecond} events/s, median of ${runs.length} run${runs.length > 1 ? 's' : ''} (${out.runs.map((x) => `${x.eventsPerSecond} in ${x.seconds} s`).join(', ')})\n` +
      `per step (last run): ${stepTimingText(runs[runs.length - 1].stepMs)}\n` +
      `kernel ${backendWork.kernel}: ${backendWork.readsPer100Steps} reads back per 100 steps, ${backendWork.dispatchesPerStep} dispatches per step${backendWork.programsPerStep === null ? '' : ` (${backendWork.programsPerStep} GPU programs)`}, ${backendWork.uploadsPerStep} uploads per step (${steps} steps)\n` +
      `top-20 with a 10-item prefix (GRU steps + scores + top-k): median ${out.top20PrefixMs.median} ms, p95 ${out.top20PrefixMs.p95} ms\n` +
      `top-20 from a kept hidden state (scores + top-k, ${out.scoringPass} pass): median ${out.top20StateMs.median} ms, p95 ${out.top20StateMs.p95} ms\n`,
  );
  return 0;
}

export const command: Command = {
  summary: 'benchmark GRU training speed (events/s) and top-20 scoring latency',
  run,
};
