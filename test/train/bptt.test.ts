import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GruConfig } from '../../src/model/config';
import { transposeJs } from '../../src/model/matmul';
import type { GruArrays } from '../../src/model/params';
import { Rng } from '../../src/model/rng';
import { SimdKernels } from '../../src/model/simd';
import type { BatchStep } from '../../src/train/batcher';
import { createKernel, type PreparedStep } from '../../src/train/kernels';
import { maxAbsDiff, useBackend } from '../model/helpers';
import { type RefStep, unrolledLoss } from './reference-bptt';

// Gradient check of truncated BPTT: each kernel's `runWindow` against tf.grads of the
// GRU unrolled over the window (test/train/reference-bptt.ts), with a session restart
// (reset) and, in the shrinking case, rows dropped (keep) inside the window, dropout on
// (hidden dropout on the carried state, GRU4Rec, and on the scores' input only), and a
// carried state entering the window.
const H = 4;
const E = 3; // a separate input embedding, so E ≠ H catches transposition slips
const N = 12;
const config: GruConfig = { numItems: N, hiddenSize: H, embedding: 'separate', embeddingSize: E };

function batch(B: number, over: Partial<BatchStep> = {}): BatchStep {
  return {
    inputs: new Int32Array(B),
    targets: new Int32Array(B),
    keep: null,
    resets: null,
    ...over,
  };
}

/** A window's steps: B rows (3, then 2 after `keep` in the shrinking case), M columns 5. */
function windowSteps(rng: Rng, T: number, shrink: boolean, maskHOnState = true): RefStep[] {
  const arr = (n: number, s = 0.5) => rng.fillUniform(new Float32Array(n), s);
  const M = 5;
  const steps: RefStep[] = [];
  for (let t = 0; t < T; t++) {
    const B = shrink && t >= 2 ? 2 : 3;
    let b = batch(B);
    if (t === 1) b = batch(B, { resets: Int32Array.from([1]) });
    if (shrink && t === 2)
      b = batch(B, { keep: Int32Array.from([0, 2]), resets: Int32Array.from([0]) });
    steps.push({
      batch: b,
      x: arr(B * E),
      colW: arr(M * (H + 1), 1),
      maskIn: rng.fillDropoutMask(new Float32Array(B * E), 0.25),
      maskH: rng.fillDropoutMask(new Float32Array(B * H), 0.25),
      maskHOnState,
      B,
      M,
      G: arr(B * M, 1),
    });
  }
  return steps;
}

/** Kernel inputs for reference steps; the loss gives dL/dS = G + S. */
function prepared(steps: readonly RefStep[]): PreparedStep[] {
  return steps.map((s) => ({
    batch: s.batch,
    xRows: s.x,
    colRows: s.colW,
    maskIn: s.maskIn,
    maskH: s.maskH,
    maskHOnState: s.maskHOnState,
    B: s.B,
    M: s.M,
    loss: {
      rows: (S: Float32Array) => S.map((v, k) => v + s.G[k]),
      transposed: async (ST: Float32Array) => {
        const S = transposeJs(ST, s.M, s.B);
        const dS = S.map((v, k) => v + s.G[k]);
        return { dS, dST: transposeJs(dS, s.B, s.M) };
      },
    },
  }));
}

/** GRU weights for the gradient checks: item rows zero, the rest random. */
function randomInit(rng: Rng): GruArrays {
  return {
    items: new Float32Array(N * (H + 1)),
    emb: new Float32Array(N * E),
    wx: rng.fillUniform(new Float32Array(E * 3 * H), 0.6),
    wh: rng.fillUniform(new Float32Array(H * 3 * H), 0.6),
    b: rng.fillUniform(new Float32Array(3 * H), 0.2),
  };
}

/** A kernel of the test's config: the hybrid one on the SIMD kernels (`simd`) or its fallback. */
function kernelFor(engine: 'hybrid' | 'device', simd: boolean, init: GruArrays) {
  return createKernel(engine, config, init, { products: 0 }, simd ? SimdKernels.get() : null, null);
}

describe('truncated BPTT gradients equal tf.grad of the unrolled GRU (CPU backend)', () => {
  beforeAll(() => useBackend('cpu'));

  // the hybrid kernel on the library's WebAssembly SIMD kernels, and on its fallback
  // (TF.js products, JS gates)
  for (const [engine, simd] of [
    ['hybrid', true],
    ['hybrid', false],
    ['device', false],
  ] as const) {
    for (const [T, shrink, onState] of [
      [3, false, true],
      [5, false, true],
      [4, true, true],
      [3, false, false],
      [5, false, false],
      [4, true, false],
    ] as const) {
      const on = onState ? 'state' : 'scores';
      it(`${engine}${simd ? ' (SIMD)' : ''}, T=${T}${shrink ? ', rows dropped' : ''}, hidden dropout on the ${on}`, async () => {
        if (simd) expect(SimdKernels.get()).not.toBeNull();
        const rng = new Rng(7 + T);
        const init = randomInit(rng);
        const kernel = kernelFor(engine, simd, init);
        // a first window leaves a carried state (a constant for the next window)
        const warm = windowSteps(rng, 2, false, onState);
        await kernel.runWindow(prepared(warm));
        const steps = windowSteps(rng, T, shrink, onState);
        const got = await kernel.runWindow(prepared(steps));
        kernel.dispose();

        const reference = (warm: RefStep[], steps: RefStep[]) =>
          tf.tidy(() => {
            const wx = tf.tensor2d(init.wx, [E, 3 * H]);
            const wh = tf.tensor2d(init.wh, [H, 3 * H]);
            const b = tf.tensor1d(init.b);
            const xw = warm.map((s) => tf.tensor2d(s.x, [s.B, E]));
            const cw = warm.map((s) => tf.tensor2d(s.colW, [s.M, H + 1]));
            // the state after the warm-up window: run it and keep the last output
            let h0: tf.Tensor2D | null = null;
            unrolledLoss(warm, null, H, E, wx, wh, b, xw, cw, (o) => {
              h0 = o;
            });
            const xs = steps.map((s) => tf.tensor2d(s.x, [s.B, E]));
            const cols = steps.map((s) => tf.tensor2d(s.colW, [s.M, H + 1]));
            const f = (...a: tf.Tensor[]) =>
              unrolledLoss(
                steps,
                h0,
                H,
                E,
                a[0] as tf.Tensor2D,
                a[1] as tf.Tensor2D,
                a[2] as tf.Tensor1D,
                a.slice(3, 3 + T) as tf.Tensor2D[],
                a.slice(3 + T) as tf.Tensor2D[],
              );
            const g = tf.grads(f)([wx, wh, b, ...xs, ...cols]);
            return g.map((t) => t.dataSync() as Float32Array);
          });
        const ref = reference(warm, steps);
        const dwx = engine === 'hybrid' ? transposeJs(got.dwx, 3 * H, E) : got.dwx;
        const dwh = engine === 'hybrid' ? transposeJs(got.dwh, 3 * H, H) : got.dwh;
        const tol = 1e-4;
        expect(maxAbsDiff(dwx, ref[0])).toBeLessThan(tol);
        expect(maxAbsDiff(dwh, ref[1])).toBeLessThan(tol);
        expect(maxAbsDiff(got.db, ref[2])).toBeLessThan(tol);
        for (let t = 0; t < T; t++) {
          expect(maxAbsDiff(got.steps[t].dx, ref[3 + t])).toBeLessThan(tol);
          expect(maxAbsDiff(got.steps[t].dColW, ref[3 + T + t])).toBeLessThan(tol);
        }
        // the check can fail: the first step's input gets gradient from later steps' losses
        const oneStep = tf.tidy(() => {
          const f = (x0: tf.Tensor) =>
            unrolledLoss(
              steps.slice(0, 1),
              null,
              H,
              E,
              tf.tensor2d(init.wx, [E, 3 * H]),
              tf.tensor2d(init.wh, [H, 3 * H]),
              tf.tensor1d(init.b),
              [x0 as tf.Tensor2D],
              [tf.tensor2d(steps[0].colW, [steps[0].M, H + 1])],
            );
          return tf
            .grad(f)(tf.tensor2d(steps[0].x, [steps[0].B, E]))
            .dataSync();
        });
        expect(maxAbsDiff(got.steps[0].dx, oneStep)).toBeGreaterThan(1e-3);
        // ... and tells the two placements of the hidden dropout apart
        const flip = (w: RefStep[]) => w.map((s) => ({ ...s, maskHOnState: !onState }));
        const other = reference(flip(warm), flip(steps));
        expect(maxAbsDiff(dwh, other[1])).toBeGreaterThan(1e-3);
        expect(maxAbsDiff(got.steps[0].dx, other[3])).toBeGreaterThan(1e-3);
      });
    }
  }
});

describe('one-step training carries the state of the dropout placement (CPU backend)', () => {
  beforeAll(() => useBackend('cpu'));

  for (const engine of ['hybrid', 'device'] as const) {
    for (const onState of [true, false]) {
      it(`${engine}, hidden dropout on the ${onState ? 'state' : 'scores'}`, async () => {
        const rng = new Rng(3);
        const init = randomInit(rng);
        const kernel = kernelFor(engine, engine === 'hybrid', init);
        const steps = windowSteps(rng, 2, false, onState);
        steps[1].batch = batch(3); // no reset: the whole state is carried
        const [p0, p1] = prepared(steps);
        await kernel.run(p0);
        const got = await kernel.run(p1);
        kernel.dispose();
        // the second step alone from the state the first one carried (a constant)
        const ref = (hOnState: boolean) =>
          tf.tidy(() => {
            const wx = tf.tensor2d(init.wx, [E, 3 * H]);
            const wh = tf.tensor2d(init.wh, [H, 3 * H]);
            const b = tf.tensor1d(init.b);
            const first = [{ ...steps[0], maskHOnState: hOnState }];
            let h0: tf.Tensor2D | null = null;
            const x0 = [tf.tensor2d(steps[0].x, [3, E])];
            const c0 = [tf.tensor2d(steps[0].colW, [steps[0].M, H + 1])];
            unrolledLoss(first, null, H, E, wx, wh, b, x0, c0, (o) => {
              h0 = o;
            });
            const f = (x: tf.Tensor, c: tf.Tensor, whv: tf.Tensor) =>
              unrolledLoss(
                steps.slice(1),
                h0,
                H,
                E,
                wx,
                whv as tf.Tensor2D,
                b,
                [x as tf.Tensor2D],
                [c as tf.Tensor2D],
              );
            const g = tf.grads(f)([
              tf.tensor2d(steps[1].x, [3, E]),
              tf.tensor2d(steps[1].colW, [steps[1].M, H + 1]),
              wh,
            ]);
            return g.map((t) => t.dataSync() as Float32Array);
          });
        const want = ref(onState);
        const dwh = engine === 'hybrid' ? transposeJs(got.dwh, 3 * H, H) : got.dwh;
        expect(maxAbsDiff(got.dx, want[0])).toBeLessThan(1e-4);
        expect(maxAbsDiff(got.dColW, want[1])).toBeLessThan(1e-4);
        expect(maxAbsDiff(dwh, want[2])).toBeLessThan(1e-4);
        // the other placement carries another state
        expect(maxAbsDiff(dwh, ref(!onState)[2])).toBeGreaterThan(1e-3);
      });
    }
  }
});

describe('trainGru with bptt > 1', () => {
  beforeAll(() => useBackend('wasm'));

  it('trains to the same weights on both kernels (window not a divisor of the epoch), leaks no tensors, and bptt 1 is the one-step default', async () => {
    const { trainGru } = await import('../../src/train/fit');
    const { GruModel } = await import('../../src/model/model');
    const { plantedData } = await import('./fixtures');
    const data = plantedData(20, 12, 15, 2, 3);
    const opts = { epochs: 2, batchSize: 8, negatives: 8, dropoutHidden: 0.2, seed: 5, bptt: 5 };
    const cfg = { config: { hiddenSize: 8 } };
    const before = tf.memory().numTensors;
    const a = await trainGru(data, { ...opts, engine: 'hybrid' }, cfg);
    const b = await trainGru(data, { ...opts, engine: 'device' }, cfg);
    const one = await trainGru(data, { ...opts, bptt: 1 }, cfg);
    const dflt = await trainGru(data, { ...opts, bptt: undefined }, cfg);
    const [wa, wb, w1, wd] = [a, b, one, dflt].map((r) => r.model.toArrays());
    for (const r of [a, b, one, dflt]) r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const init = GruModel.create({ numItems: 20, hiddenSize: 8 }, { seed: 5 });
    const w0 = init.toArrays();
    init.dispose();
    for (const k of ['items', 'wx', 'wh', 'b'] as const) {
      expect(maxAbsDiff(wa[k], wb[k]), k).toBeLessThan(1e-4);
      expect(maxAbsDiff(wa[k], w0[k]), k).toBeGreaterThan(1e-3); // it trained
      expect(maxAbsDiff(wa[k], w1[k]), k).toBeGreaterThan(1e-4); // not the one-step run
      expect(Array.from(wd[k]), k).toEqual(Array.from(w1[k]));
    }
    expect(a.history.every((e) => Number.isFinite(e.loss))).toBe(true);
  });

  it('trains to the same weights on both kernels with the hidden dropout on the scores only, and not to those of the GRU4Rec placement', async () => {
    const { trainGru } = await import('../../src/train/fit');
    const { plantedData } = await import('./fixtures');
    const data = plantedData(20, 12, 15, 2, 3);
    const opts = { epochs: 2, batchSize: 8, negatives: 8, dropoutHidden: 0.3, seed: 5, bptt: 3 };
    const cfg = { config: { hiddenSize: 8 } };
    const before = tf.memory().numTensors;
    const scores = { ...opts, dropoutHiddenOn: 'scores' as const };
    const runs = [
      await trainGru(data, { ...scores, kernel: 'hybrid' }, cfg),
      await trainGru(data, { ...scores, kernel: 'device' }, cfg),
      await trainGru(data, { ...opts, kernel: 'hybrid' }, cfg),
      await trainGru(data, { ...scores, bptt: 1, kernel: 'hybrid' }, cfg),
      await trainGru(data, { ...scores, bptt: 1, kernel: 'device' }, cfg),
      await trainGru(data, { ...opts, bptt: 1, kernel: 'hybrid' }, cfg),
    ];
    const [wa, wb, ws, w1a, w1b, w1s] = runs.map((r) => r.model.toArrays());
    for (const r of runs) r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const k of ['items', 'wx', 'wh', 'b'] as const) {
      expect(maxAbsDiff(wa[k], wb[k]), k).toBeLessThan(1e-4);
      expect(maxAbsDiff(w1a[k], w1b[k]), k).toBeLessThan(1e-4);
      expect(maxAbsDiff(wa[k], ws[k]), k).toBeGreaterThan(1e-4);
      expect(maxAbsDiff(w1a[k], w1s[k]), k).toBeGreaterThan(1e-4);
    }
  });

  it('refuses an unknown dropout placement with INVALID_INPUT', async () => {
    const { resolveTrainOptions } = await import('../../src/train/options');
    expect(resolveTrainOptions({ dropoutHiddenOn: 'scores' }).dropoutHiddenOn).toBe('scores');
    expect(resolveTrainOptions({}).dropoutHiddenOn).toBe('state');
    expect(() => resolveTrainOptions({ dropoutHiddenOn: 'carried' as unknown as 'state' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('refuses a bad window with INVALID_INPUT', async () => {
    const { resolveTrainOptions } = await import('../../src/train/options');
    for (const bptt of [0, 1.5, 1e6]) {
      expect(() => resolveTrainOptions({ bptt })).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
    }
  });
});

describe('a planted long-memory pattern', () => {
  beforeAll(() => useBackend('wasm'));

  // Sequences [cue, 8 random fillers, answer(cue)]: 4 cues, 10 fillers, 4 answers. The
  // answer is predictable only from an item 9 steps back. One-step training never
  // passes the answer's gradient back to where the cue was read, so it is left with
  // whatever the random recurrence happens to carry (measured: 0.435 of test sequences
  // at 40 epochs, chance 0.25); BPTT over 16 steps learns it (measured 1.0).
  const K = 4;
  const F = 10;
  const GAP = 8;
  const N = 2 * K + F;
  function data(seed: number, n: number) {
    const rng = new Rng(seed);
    const items: number[] = [];
    const offsets = [0];
    const cues: number[] = [];
    for (let s = 0; s < n; s++) {
      const a = rng.int(K);
      cues.push(a);
      items.push(a);
      for (let g = 0; g < GAP; g++) items.push(K + rng.int(F));
      items.push(K + F + a);
      offsets.push(items.length);
    }
    return {
      seq: { items: Int32Array.from(items), offsets: Int32Array.from(offsets), numItems: N },
      cues,
    };
  }

  it('is learnt with bptt 16 and not with one-step training', async () => {
    const { trainGru } = await import('../../src/train/fit');
    const train = data(1, 200);
    const test = data(2, 200);
    const acc: Record<number, number> = {};
    for (const bptt of [1, 16]) {
      const r = await trainGru(
        train.seq,
        {
          epochs: 40,
          batchSize: 16,
          negatives: 0,
          fullSoftmaxMaxItems: 100,
          dropoutHidden: 0,
          dropoutEmbedding: 0,
          lr: 0.1,
          bptt,
          seed: 3,
        },
        { config: { hiddenSize: 16 } },
      );
      const scorer = r.model.scorer();
      r.model.dispose();
      let hit = 0;
      for (let s = 0; s < 200; s++) {
        const o = test.seq.offsets[s];
        const row = scorer.scores(test.seq.items.subarray(o, o + GAP + 1));
        let best = K + F;
        for (let j = K + F; j < N; j++) if (row[j] > row[best]) best = j;
        if (best === K + F + test.cues[s]) hit++;
      }
      acc[bptt] = hit / 200;
    }
    expect(acc[16]).toBeGreaterThanOrEqual(0.95);
    expect(acc[1]).toBeLessThanOrEqual(0.6);
  });
});
