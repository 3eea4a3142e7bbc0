import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { stepBackward, stepForward } from '../../src/model/grads';
import { gruForward } from '../../src/model/gru';
import { bprMaxForward, crossEntropyForward } from '../../src/model/loss';
import { crossEntropyT, crossEntropyTDevice, lossJs } from '../../src/model/loss-js';
import { transposeJs } from '../../src/model/matmul';
import { Rng } from '../../src/model/rng';
import { maxAbsDiff, useBackend } from './helpers';

function rand(shape: number[], rng: Rng, scale = 0.5): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fillUniform(new Float32Array(n), scale), shape);
}

const B = 4;
const H = 6;
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
    it(`${c.loss} elu=${c.elu} logQ=${c.logQ} hits=${c.hits}`, () => {
      const rng = new Rng(7);
      const S = rng.fillUniform(new Float32Array(B * M), 3);
      const targets = [2, 0, 7, 4];
      const logQ = c.logQ ? rng.fillUniform(new Float32Array(M), 2) : null;
      const hits = c.hits ? new Float32Array(B * M) : null;
      if (hits) {
        hits[0 * M + 5] = -1e9;
        hits[2 * M + 1] = -1e9;
      }
      const js = lossJs(
        S,
        B,
        M,
        (b) => targets[b],
        { kind: c.loss, bprReg: 0.7, elu: c.elu },
        logQ,
        hits,
      );
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

describe('cross-entropy over transposed scores (the hybrid step) equals lossJs', () => {
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
      const mask = hits ? new Float32Array(B * M) : null;
      if (mask && pairs)
        for (let k = 0; k < pairs.length; k += 2) mask[pairs[k] * M + pairs[k + 1]] = -1e9;
      const ref = lossJs(
        S,
        B,
        M,
        (b) => targets[b],
        { kind: 'cross-entropy', bprReg: 0, elu: false },
        q,
        mask,
      );
      // the JS version and the one with the softmax on the backend
      for (const ce of [crossEntropyT, crossEntropyTDevice]) {
        const dS = new Float32Array(B * M);
        const got = await ce(transposeJs(S, B, M), B, M, targets, q, pairs, dS);
        expect(Math.abs(got.lossSum - ref.lossSum), ce.name).toBeLessThan(1e-4);
        expect(maxAbsDiff(got.dS, ref.dS), ce.name).toBeLessThan(1e-6);
        expect(maxAbsDiff(got.dST, transposeJs(ref.dS, B, M)), ce.name).toBeLessThan(1e-6);
        if (pairs) expect(got.dS[0 * M + 5], ce.name).toBe(0);
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
    const dev = await crossEntropyTDevice(
      transposeJs(S, B, M),
      B,
      M,
      targets,
      null,
      null,
      new Float32Array(B * M),
    );
    expect(ref.lossSum / B).toBeGreaterThan(600);
    expect(Math.abs(dev.lossSum - ref.lossSum)).toBeLessThan(1e-3);
    expect(maxAbsDiff(dev.dS, ref.dS)).toBeLessThan(1e-6);
  });
});

describe('manual step backward equals tf.grad (CPU backend)', () => {
  beforeAll(() => useBackend('cpu'));

  for (const masks of [false, true]) {
    it(`GRU + scores, dropout=${masks}`, () => {
      const rng = new Rng(11);
      const x = rand([B, H], rng) as tf.Tensor2D;
      const h = rand([B, H], rng) as tf.Tensor2D;
      const wx = rand([H, 3 * H], rng) as tf.Tensor2D;
      const wh = rand([H, 3 * H], rng) as tf.Tensor2D;
      const b = rand([3 * H], rng, 0.1) as tf.Tensor1D;
      const colW = rand([M, H + 1], rng, 1) as tf.Tensor2D;
      const maskIn = masks
        ? tf.tensor2d(rng.fillDropoutMask(new Float32Array(B * H), 0.3), [B, H])
        : null;
      const maskH = masks
        ? tf.tensor2d(rng.fillDropoutMask(new Float32Array(B * H), 0.3), [B, H])
        : null;
      // an arbitrary upstream gradient dL/dS: L = sum(S ⊙ G)
      const G = rand([B, M], rng, 1) as tf.Tensor2D;
      const fwd = stepForward({ x, h, wx, wh, b, colW, maskIn, maskH });
      const manual = stepBackward(fwd, G);
      const f = (xx: tf.Tensor, wxx: tf.Tensor, whh: tf.Tensor, bb: tf.Tensor, cw: tf.Tensor) => {
        const xin = maskIn ? tf.mul(xx, maskIn) : xx;
        const st = gruForward(
          xin as tf.Tensor2D,
          h,
          wxx as tf.Tensor2D,
          whh as tf.Tensor2D,
          bb as tf.Tensor1D,
        );
        const o = maskH ? tf.mul(st.hNew, maskH) : st.hNew;
        const S = tf.matMul(tf.concat([o, tf.ones([B, 1])], 1), tf.transpose(cw));
        return tf.sum(tf.mul(S, G)) as tf.Scalar;
      };
      const [gx, gwx, gwh, gb, gcw] = tf.grads(f)([x, wx, wh, b, colW]);
      const tol = 1e-5;
      expect(maxAbsDiff(manual.dx.dataSync(), gx.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(manual.dwx.dataSync(), gwx.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(manual.dwh.dataSync(), gwh.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(manual.db.dataSync(), gb.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(manual.dColW.dataSync(), gcw.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(gwh.dataSync(), new Float32Array(gwh.size))).toBeGreaterThan(1e-4);
      // forward scores match a plain evaluation
      expect(
        maxAbsDiff(
          fwd.S.dataSync(),
          tf.matMul(tf.concat([fwd.out, tf.ones([B, 1])], 1), tf.transpose(colW)).dataSync(),
        ),
      ).toBeLessThan(1e-6);
    });
  }
});

describe('hybrid engine (JS elementwise + backend matMul) equals the op-by-op step', () => {
  beforeAll(() => useBackend('cpu'));

  for (const masks of [false, true]) {
    it(`dropout=${masks}`, async () => {
      const { forwardJs, backwardJs } = await import('../../src/model/step-js');
      const { tfMatMuls, jsMatMuls, transposeJs } = await import('../../src/model/matmul');
      const rng = new Rng(5);
      const E = 5;
      const arr = (n: number, s = 0.5) => rng.fillUniform(new Float32Array(n), s);
      const p = {
        x: arr(B * E),
        h: arr(B * H),
        wx: arr(E * 3 * H),
        wh: arr(H * 3 * H),
        b: arr(3 * H, 0.1),
        colW: arr(M * (H + 1), 1),
        maskIn: masks ? rng.fillDropoutMask(new Float32Array(B * E), 0.3) : null,
        maskH: masks ? rng.fillDropoutMask(new Float32Array(B * H), 0.3) : null,
      };
      const G = arr(B * M, 1);
      const ref = tf.tidy(() => {
        const f = stepForward({
          x: tf.tensor2d(p.x, [B, E]),
          h: tf.tensor2d(p.h, [B, H]),
          wx: tf.tensor2d(p.wx, [E, 3 * H]),
          wh: tf.tensor2d(p.wh, [H, 3 * H]),
          b: tf.tensor1d(p.b),
          colW: tf.tensor2d(p.colW, [M, H + 1]),
          maskIn: p.maskIn ? tf.tensor2d(p.maskIn, [B, E]) : null,
          maskH: p.maskH ? tf.tensor2d(p.maskH, [B, H]) : null,
        });
        const g = stepBackward(f, tf.tensor2d(G, [B, M]));
        return [f.S, f.out, g.dColW, g.dx, g.dwx, g.dwh, g.db].map((t) => t.dataSync());
      });
      for (const mm of [tfMatMuls, jsMatMuls]) {
        const pT = { ...p, wxT: transposeJs(p.wx, E, 3 * H), whT: transposeJs(p.wh, H, 3 * H) };
        const f = await forwardJs(mm, pT, B, E, H, M);
        const g = await backwardJs(mm, f, G, transposeJs(G, B, M));
        const got = [
          transposeJs(f.ST, M, B),
          f.out,
          g.dColW,
          g.dx,
          transposeJs(g.dwxT, 3 * H, E),
          transposeJs(g.dwhT, 3 * H, H),
          g.db,
        ];
        for (let i = 0; i < got.length; i++) expect(maxAbsDiff(got[i], ref[i])).toBeLessThan(1e-5);
      }
    });
  }
});
