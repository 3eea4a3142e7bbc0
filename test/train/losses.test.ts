import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { transposeJs } from '../../src/model/matmul';
import { Rng } from '../../src/model/rng';
import { LOSSES } from '../../src/train/losses';
import { crossEntropy } from '../../src/train/losses/cross-entropy';
import { maxAbsDiff, useBackend } from '../model/helpers';
import { bprMaxForward, crossEntropyForward, crossEntropyT } from './reference-losses';

const B = 4;
const M = 9;

describe('loss gradients (JS) equal tf.grad of the reference losses (CPU backend)', () => {
  beforeAll(() => useBackend('cpu'));

  const cases = [
    { loss: 'cross-entropy', elu: false, logQ: false, hits: false },
    { loss: 'cross-entropy', elu: false, logQ: true, hits: true },
    { loss: 'bpr-max', elu: false, logQ: false, hits: false },
    { loss: 'bpr-max', elu: true, logQ: false, hits: true },
  ] as const;
  for (const c of cases) {
    it(`${c.loss} elu=${c.elu} logQ=${c.logQ} hits=${c.hits}`, async () => {
      const rng = new Rng(7);
      const S = rng.fillUniform(new Float32Array(B * M), 3);
      const targets = [2, 0, 7, 4];
      const logQ = c.logQ ? rng.fillUniform(new Float32Array(M), 2) : null;
      const pairs = c.hits ? Int32Array.from([0, 5, 2, 1]) : null;
      const hits = c.hits ? new Float32Array(B * M) : null;
      if (hits) {
        hits[0 * M + 5] = -1e9;
        hits[2 * M + 1] = -1e9;
      }
      const js = LOSSES[c.loss].rows(
        S,
        B,
        M,
        Int32Array.from(targets),
        { bprReg: 0.7, elu: c.elu },
        logQ,
        pairs,
      );
      // the transposed form (the hybrid kernel's) gives the same loss and gradient
      const jsT = await LOSSES[c.loss].transposed(
        transposeJs(S, B, M),
        B,
        M,
        Int32Array.from(targets),
        { bprReg: 0.7, elu: c.elu },
        logQ,
        pairs,
      );
      expect(Math.abs(jsT.lossSum - js.lossSum)).toBeLessThan(1e-4);
      expect(maxAbsDiff(jsT.dS, js.dS)).toBeLessThan(1e-6);
      expect(maxAbsDiff(jsT.dST, transposeJs(js.dS, B, M))).toBeLessThan(1e-6);
      const Y = tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), M), 'float32') as tf.Tensor2D;
      const hitT = hits ? (tf.tensor2d(hits, [B, M]) as tf.Tensor2D) : null;
      const f = (s: tf.Tensor) => {
        let z = s as tf.Tensor2D;
        if (logQ) z = tf.sub(z, tf.tensor2d(logQ, [1, M]));
        return c.loss === 'bpr-max'
          ? bprMaxForward(z, Y, 0.7, c.elu, hitT)
          : crossEntropyForward(z, Y, hitT);
      };
      const St = tf.tensor2d(S, [B, M]);
      const ref = f(St).dataSync()[0];
      const g = tf.grad(f)(St).dataSync();
      expect(Math.abs(js.lossSum / B - ref)).toBeLessThan(1e-4);
      expect(maxAbsDiff(js.dS, g)).toBeLessThan(1e-5);
      expect(maxAbsDiff(g, new Float32Array(g.length))).toBeGreaterThan(1e-3);
    });
  }
});

describe('cross-entropy over transposed scores (the hybrid kernel) equals the row form', () => {
  for (const [logQ, hits] of [
    [false, false],
    [true, true],
  ]) {
    it(`logQ=${logQ} hits=${hits}`, async () => {
      const rng = new Rng(3);
      const S = rng.fillUniform(new Float32Array(B * M), 3);
      const targets = Int32Array.from([2, 0, 7, 4]);
      const q = logQ ? rng.fillUniform(new Float32Array(M), 2) : null;
      const pairs = hits ? Int32Array.from([0, 5, 2, 1, 3, 8]) : null;
      const ref = crossEntropy.rows(S, B, M, targets, { bprReg: 0, elu: false }, q, pairs);
      // the JS reference and the product's form (softmax on the backend)
      const device = (ST: Float32Array) =>
        crossEntropy.transposed(ST, B, M, targets, { bprReg: 0, elu: false }, q, pairs);
      const js = (ST: Float32Array) =>
        crossEntropyT(ST, B, M, targets, q, pairs, new Float32Array(B * M));
      for (const [name, ce] of [
        ['crossEntropyT', js],
        ['crossEntropy.transposed', device],
      ] as const) {
        const got = await ce(transposeJs(S, B, M));
        expect(Math.abs(got.lossSum - ref.lossSum), name).toBeLessThan(1e-4);
        expect(maxAbsDiff(got.dS, ref.dS), name).toBeLessThan(1e-6);
        expect(maxAbsDiff(got.dST, transposeJs(ref.dS, B, M)), name).toBeLessThan(1e-6);
        if (pairs) expect(got.dS[0 * M + 5], name).toBe(0);
      }
    });
  }
});

describe('cross-entropy on the backend: a target probability that underflows float32', () => {
  it('still reports the exact (huge) loss, so divergence is seen', async () => {
    const S = new Float32Array(B * M).fill(300);
    const targets = Int32Array.from([2, 0, 7, 4]);
    for (let b = 0; b < B; b++) S[b * M + targets[b]] = -300; // p(target) = e^-600
    const ref = await crossEntropyT(
      transposeJs(S, B, M),
      B,
      M,
      targets,
      null,
      null,
      new Float32Array(B * M),
    );
    const dev = await crossEntropy.transposed(
      transposeJs(S, B, M),
      B,
      M,
      targets,
      { bprReg: 0, elu: false },
      null,
      null,
    );
    expect(ref.lossSum / B).toBeGreaterThan(600);
    expect(Math.abs(dev.lossSum - ref.lossSum)).toBeLessThan(1e-3);
    expect(maxAbsDiff(dev.dS, ref.dS)).toBeLessThan(1e-6);
  });
});
