// A short timed trial of REAL training steps on one backend: a throw-away GRU of the
// size the site will train, on synthetic sessions, run by the step kernel that training
// on that backend runs (`kernelFor`, through trainGru's default engine: the resident
// kernel on WebGL/WebGPU). Its best-of-two step time (or, for a fast resident kernel, the
// step time of one longer run: LONG_TRIAL_STEPS) is what the backend choice compares
// (src/worker/backend-choice.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { GruConfig } from '../../model/config';
import { Rng } from '../../model/rng';
import { trainGru } from '../../train/fit';
import { type KernelName, markSoftwareBackend } from '../../train/kernels';
import type { TrainOptions } from '../../train/options';
import type { BackendTrial } from '../backend-choice';
import type { BackendName } from '../protocol';
import { probeBackendsHere } from './probe';

export interface TrialSpec {
  numItems: number;
  hiddenSize: number;
  batchSize: number;
  negatives: number;
  /** Give up on a backend whose warm-up plus trial exceed this, ms. */
  budgetMs: number;
}

function syntheticSessions(numItems: number, sessions: number, length: number, seed: number) {
  const items = new Int32Array(sessions * length);
  const offsets = new Int32Array(sessions + 1);
  const rng = new Rng(seed);
  for (let s = 0; s < sessions; s++) {
    offsets[s + 1] = (s + 1) * length;
    for (let j = 0; j < length; j++) items[s * length + j] = rng.int(numItems);
  }
  return { items, offsets, numItems };
}

/**
 * How long the trial times the resident kernel (GPU backends) when its short run shows a
 * fast step. A run's time is a fixed part (the two reads at its end: the summed loss and
 * the weights, each a wait for the GPU's queue to drain, ~1-5 ms on WebGPU) plus its
 * steps, which the resident kernel queues without waiting. Over the CPU backends' 8 steps
 * at ~1 ms a step the fixed part is a third of the time or more and a GPU looks up to 2×
 * slower than it trains; over 40 steps it is ≤ ~12%. The long run costs ≤ 0.4 s where it
 * runs: only when the short run's step is under LONG_TRIAL_BELOW_MS, which a GPU's is and
 * the CPU backends' (hybrid kernel, never extended) and SwiftShader's (30-150 ms a step
 * here) are not, so a page on a machine without a GPU starts no slower.
 */
const LONG_TRIAL_STEPS = 40;
const LONG_TRIAL_BELOW_MS = 10;

/** One timed training run of `steps` steps; the step time and the kernel that ran it. */
async function timedRun(
  spec: TrialSpec,
  signal: AbortSignal,
  steps = 8,
): Promise<{ ms: number; kernel: KernelName }> {
  const length = steps + 1;
  const data = syntheticSessions(spec.numItems, spec.batchSize, length, 7);
  // engine 'auto' (the default), as training: the kernel `kernelFor` picks for the backend
  const options: Partial<TrainOptions> = {
    epochs: 1,
    batchSize: spec.batchSize,
    negatives: Math.min(spec.negatives, spec.numItems),
    syncEvery: 1_000_000,
    signal,
  };
  const config: Partial<GruConfig> = { hiddenSize: spec.hiddenSize };
  const started = performance.now();
  const result = await trainGru(data, options, { config });
  const ms = performance.now() - started;
  result.model.dispose();
  // One step per position after the first of each session.
  return { ms: ms / (length - 1), kernel: result.kernel };
}

function trialRank(name: BackendName): number {
  return ['wasm', 'cpu', 'webgl', 'webgpu'].indexOf(name);
}

/** Probe + trial for each named backend, in order. Leaves the last one active. */
export async function runTrials(
  names: readonly BackendName[],
  spec: TrialSpec,
): Promise<BackendTrial[]> {
  // Order matters on a GPU-less machine. The CPU-bound backends go first, before any
  // SwiftShader work threads exist to compete with them (measured here: wasm 136 ms/step
  // right after the WebGL/WebGPU trials vs 16 ms before). WebGL goes before WebGPU: in
  // Chromium 156 on SwiftShader, WebGL shaders fail to compile ("Failed to compile
  // fragment shader", empty info log) once WebGPU was initialised in the same worker.
  const order = [...names].sort((a, b) => trialRank(a) - trialRank(b));
  const report = await probeBackendsHere({ backends: order, backendTimeoutMs: spec.budgetMs });
  const trials: BackendTrial[] = [];
  for (const probe of report.backends) {
    if (!probe.ok) {
      trials.push({ name: probe.name, ok: false, software: probe.software, error: probe.error });
      continue;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), spec.budgetMs);
    markSoftwareBackend(probe.name, probe.software === true);
    try {
      await tf.setBackend(probe.name);
      await timedRun(spec, abort.signal); // warm-up: shader compilation, WASM tiering
      const a = await timedRun(spec, abort.signal);
      // the resident kernel with a fast step: one long run instead (LONG_TRIAL_STEPS)
      const long = a.kernel === 'resident' && a.ms < LONG_TRIAL_BELOW_MS;
      const b = await timedRun(spec, abort.signal, long ? LONG_TRIAL_STEPS : 8);
      trials.push({
        name: probe.name,
        ok: true,
        software: probe.software,
        stepMs: long ? b.ms : Math.min(a.ms, b.ms),
        kernel: b.kernel,
      });
    } catch (error) {
      const message = abort.signal.aborted
        ? `trial exceeded ${spec.budgetMs} ms`
        : error instanceof Error
          ? error.message
          : String(error);
      trials.push({ name: probe.name, ok: false, software: probe.software, error: message });
    } finally {
      clearTimeout(timer);
    }
  }
  return trials;
}
