// One kernel's losses over a fixed small training run, read every few steps: the
// resident kernel's equality check against the hybrid kernel, in Node
// (test/train/resident.test.ts) and in Chromium on WebGL/WebGPU (e2e/resident.spec.ts,
// which bundles this file). Deterministic: the same data, initial weights, negatives and
// dropout stream for every kernel and backend.
import type { Sequences } from '../../src/core/scorer';
import { GruModel } from '../../src/model/model';
import { Rng } from '../../src/model/rng';
import { sessionParallelSteps } from '../../src/train/batcher';
import type { KernelName } from '../../src/train/kernels';
import { resolveTrainOptions, type TrainOptions } from '../../src/train/options';
import { NegativeSampler } from '../../src/train/sampler';
import { StepRunner } from '../../src/train/step';

/** Sessions of 2-12 events over `numItems` items, with a few popular items. */
export function sessions(numItems: number, count: number, seed: number): Sequences {
  const rng = new Rng(seed);
  const items: number[] = [];
  const offsets = [0];
  for (let s = 0; s < count; s++) {
    const len = 2 + rng.int(11);
    for (let j = 0; j < len; j++) items.push(rng.int(4) === 0 ? rng.int(5) : rng.int(numItems));
    offsets.push(items.length);
  }
  return { items: Int32Array.from(items), offsets: Int32Array.from(offsets), numItems };
}

export const RUN_BASE: Partial<TrainOptions> = {
  batchSize: 8,
  negatives: 16,
  dropoutEmbedding: 0,
  dropoutHidden: 0,
  lr: 0.05,
  seed: 3,
};

export interface RunSpec {
  kernel: KernelName;
  options?: Partial<TrainOptions>;
  embedding?: 'tied' | 'separate';
  steps?: number;
  /** Read the loss every this many steps. */
  every?: number;
}

/** Mean loss per event of each read, and the kernel that ran. */
export async function kernelLosses(spec: RunSpec): Promise<{ losses: number[]; kernel: string }> {
  const { steps = 200, every = 10, embedding = 'tied' } = spec;
  const o = { ...RUN_BASE, ...spec.options };
  const numItems = 40;
  const data = sessions(numItems, 60, 11);
  const model = GruModel.create(
    { numItems, hiddenSize: 12, embedding, embeddingSize: 6 },
    { seed: 4 },
  );
  const counts = new Float64Array(numItems);
  for (const v of data.items) counts[v]++;
  const logQ = Float32Array.from(counts, (c) => Math.log((c + 1) / data.items.length));
  const sampler = new NegativeSampler(counts, 0.5, new Rng(9));
  const runner = new StepRunner(
    model.config,
    model.toArrays(),
    resolveTrainOptions({ ...o, kernel: spec.kernel }),
    logQ,
  );
  const losses: number[] = [];
  let k = 0;
  try {
    while (k < steps) {
      await runner.flush(); // an unfinished BPTT window
      runner.resetHidden();
      // tail 'shrink': steps whose rows drop (`keep`) and restart (`resets`)
      for (const batch of sessionParallelSteps(data, 8, undefined, 'shrink')) {
        // a learning-rate schedule (lrEnd < 1): a new rate every step, as trainGru sets it
        if (o.lrEnd !== undefined) runner.setLrScale(1 - ((1 - o.lrEnd) * k) / steps);
        await runner.step(batch, sampler.next(o.negatives ?? 16));
        if (++k % every === 0) {
          const { sum, events } = await runner.takeLoss();
          losses.push(sum / events);
        }
        if (k >= steps) break;
      }
    }
    return { losses, kernel: runner.kernelName };
  } finally {
    runner.dispose();
    model.dispose();
  }
}

/** The largest relative difference between two loss series (Infinity on a length mismatch). */
export function maxRelDiff(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), 1e-6);
    m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(m, d);
  }
  return m;
}
