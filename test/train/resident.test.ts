import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GruModel } from '../../src/model/model';
import { sessionParallelSteps } from '../../src/train/batcher';
import { trainGru } from '../../src/train/fit';
import { countBackendWork } from '../../src/train/kernels/counters';
import { kernelFor } from '../../src/train/kernels/select';
import { resolveTrainOptions, type TrainOptions } from '../../src/train/options';
import { StepRunner } from '../../src/train/step';
import { useBackend } from '../model/helpers';
import { kernelLosses, RUN_BASE, sessions } from './resident-run';

// kernelFor as it is, but replaceable: `auto` on a GPU backend is pretended below
vi.mock('../../src/train/kernels/select', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/train/kernels/select')>();
  return { kernelFor: vi.fn(real.kernelFor) };
});

// The resident kernel (src/train/kernels/resident.ts) against the hybrid kernel, the
// step WASM and CPU train with: the same data, seed, initial weights and negatives, side
// by side for 200 steps, the loss read every 10 steps. Equal within 1e-4, relative.

const base = RUN_BASE;

/** Mean losses of 200 steps read every 10 steps, for the hybrid and the resident kernel. */
async function sideBySide(
  options: Partial<TrainOptions>,
  embedding: 'tied' | 'separate',
): Promise<{ hybrid: number[]; resident: number[]; kernels: string[] }> {
  const h = await kernelLosses({ kernel: 'hybrid', options, embedding });
  const r = await kernelLosses({ kernel: 'resident', options, embedding });
  return { hybrid: h.losses, resident: r.losses, kernels: [h.kernel, r.kernel] };
}

function expectClose(a: number[], b: number[]) {
  expect(a.length).toBeGreaterThan(0);
  expect(b.length).toBe(a.length);
  for (let i = 0; i < a.length; i++) {
    const rel = Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), 1e-6);
    expect(rel, `read ${i}: hybrid ${a[i]} resident ${b[i]}`).toBeLessThan(1e-4);
  }
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`resident kernel on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    afterAll(() => useBackend('wasm'));

    it('tied, Adagrad with momentum, logQ, accidental hits, keep/resets: the hybrid loss at every read (200 steps)', async () => {
      const r = await sideBySide({ optimizer: 'adagrad', momentum: 0.3, maskHits: true }, 'tied');
      expect(r.kernels).toEqual(['hybrid', 'resident']);
      expect(r.hybrid).toHaveLength(20);
      // the loss moves: a wrong update would show
      expect(r.hybrid[19]).toBeLessThan(r.hybrid[0]);
      expectClose(r.hybrid, r.resident);
    });

    it('separate embedding, Adam, no logQ, a learning-rate schedule: the hybrid loss at every read (200 steps)', async () => {
      const r = await sideBySide({ optimizer: 'adam', lr: 0.01, logQ: 0, lrEnd: 0 }, 'separate');
      expectClose(r.hybrid, r.resident);
    });

    it('BPTT windows of 3 (rows dropped and restarted inside windows): the hybrid loss (200 steps)', async () => {
      const r = await sideBySide({ bptt: 3, momentum: 0.3, lrEnd: 0.2 }, 'tied');
      expect(r.kernels).toEqual(['hybrid', 'resident']);
      expectClose(r.hybrid, r.resident);
    });

    it('plain Adagrad (no momentum state), hits not masked: the hybrid loss (200 steps)', async () => {
      const r = await sideBySide({ optimizer: 'adagrad', momentum: 0, maskHits: false }, 'tied');
      expectClose(r.hybrid, r.resident);
    });
  });
}

describe('resident kernel: sparse updates, reads, refusals', () => {
  beforeAll(() => useBackend('wasm'));

  it('rows no step touched keep their weights exactly; touched rows move', async () => {
    const numItems = 30;
    const model = GruModel.create({ numItems, hiddenSize: 8 }, { seed: 2 });
    const init = model.toArrays();
    const o = resolveTrainOptions({ ...base, kernel: 'resident', momentum: 0.5 });
    const runner = new StepRunner(model.config, init, o, null);
    const touched = new Set<number>();
    const data = sessions(20, 30, 5); // items 20..29 never appear
    let k = 0;
    for (const batch of sessionParallelSteps(data, 8)) {
      // negatives from 0..19 only, so rows 20..29 are never a column
      const neg = Int32Array.from({ length: 16 }, (_, i) => (k * 7 + i) % 20);
      for (const v of [...batch.inputs, ...batch.targets, ...neg]) touched.add(v);
      await runner.step(batch, neg);
      if (++k === 6) break;
    }
    const w = await runner.arrays();
    runner.dispose();
    model.dispose();
    const cw = 9;
    for (let row = 0; row < numItems; row++) {
      const before = init.items.subarray(row * cw, row * cw + cw);
      const after = w.items.subarray(row * cw, row * cw + cw);
      if (touched.has(row)) expect(Array.from(after)).not.toEqual(Array.from(before));
      else expect(Array.from(after), `row ${row}`).toEqual(Array.from(before));
    }
  });

  it('trainGru reads back at most twice per 100 steps and leaks no tensor', async () => {
    const data = sessions(40, 400, 8);
    const start = tf.memory().numTensors;
    const work = countBackendWork();
    const r = await trainGru(data, { ...base, kernel: 'resident', epochs: 1 });
    work.stop();
    expect(r.kernel).toBe('resident');
    expect(r.steps).toBeGreaterThan(200);
    // loss every 100 steps, at the epoch's end, and the weights once (one tensor)
    expect(work.counts.reads).toBe(Math.floor(r.steps / 100) + 2);
    expect((work.counts.reads / r.steps) * 100).toBeLessThanOrEqual(2);
    // one int32 upload per step (no dropout), and the once-only constants
    expect(work.counts.uploads / r.steps).toBeLessThan(1.2);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  for (const on of ['state', 'scores'] as const) {
    it(`trainGru with dropout (hidden dropout on the ${on}), BPTT 2 and a decaying rate: the same epoch losses and weights as the hybrid kernel`, async () => {
      // dropout masks come from the same JS stream on every kernel: the same run
      const data = sessions(40, 120, 8);
      const o: Partial<TrainOptions> = {
        ...base,
        epochs: 2,
        dropoutEmbedding: 0.1,
        dropoutHidden: 0.3,
        bptt: 2,
        lrEnd: 0,
        dropoutHiddenOn: on,
      };
      const h = await trainGru(data, { ...o, kernel: 'hybrid' }, { config: { hiddenSize: 12 } });
      const r = await trainGru(data, { ...o, kernel: 'resident' }, { config: { hiddenSize: 12 } });
      expect(r.kernel).toBe('resident');
      expect(r.history).toHaveLength(2);
      for (let e = 0; e < 2; e++) {
        const a = h.history[e].loss;
        expect(Math.abs(r.history[e].loss - a) / a).toBeLessThan(1e-4);
      }
      const wa = h.model.toArrays().items;
      const wb = r.model.toArrays().items;
      let d = 0;
      for (let i = 0; i < wa.length; i++) d = Math.max(d, Math.abs(wa[i] - wb[i]));
      expect(d).toBeLessThan(1e-3);
      h.model.dispose();
      r.model.dispose();
    });
  }

  it('a diverging run fails with TRAINING_DIVERGED at its first loss read', async () => {
    const data = sessions(40, 400, 8);
    const start = tf.memory().numTensors;
    await expect(
      trainGru(data, { ...base, kernel: 'resident', epochs: 1, lr: 1e6 }),
    ).rejects.toMatchObject({ code: 'TRAINING_DIVERGED', details: { step: 100 } });
    expect(tf.memory().numTensors).toBe(start);
  });

  it('refuses what it does not train when asked by name; auto falls back to the device kernel', async () => {
    const model = GruModel.create({ numItems: 10, hiddenSize: 4 }, { seed: 1 });
    for (const o of [{ loss: 'bpr-max' as const }, { fullSoftmaxMaxItems: 100 }]) {
      expect(
        () =>
          new StepRunner(
            model.config,
            model.toArrays(),
            resolveTrainOptions({ ...o, kernel: 'resident' }),
            null,
          ),
      ).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    // auto on a GPU backend asks for the resident kernel: pretend to be one
    vi.mocked(kernelFor).mockImplementationOnce(() => 'resident');
    const runner = new StepRunner(
      model.config,
      model.toArrays(),
      resolveTrainOptions({ loss: 'bpr-max' }),
      null,
    );
    expect(runner.kernelName).toBe('device');
    expect(runner.residentRefused).toMatch(/cross-entropy only/);
    runner.dispose();
    model.dispose();
  });
});
