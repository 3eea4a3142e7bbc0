import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/model/rng';
import { gruForward, stepBackward, stepForward } from '../../src/train/kernels/device-ops';
import { maxAbsDiff, useBackend } from '../model/helpers';

function rand(shape: number[], rng: Rng, scale = 0.5): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fillUniform(new Float32Array(n), scale), shape);
}

const B = 4;
const H = 6;
const M = 9;

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

describe('hybrid kernel maths (JS elementwise + backend matMul) equals the device kernel op-by-op step', () => {
  beforeAll(() => useBackend('cpu'));

  for (const [masks, maskHOnState] of [
    [false, true],
    [true, true],
    [true, false],
  ] as const) {
    it(`dropout=${masks}${masks ? `, hidden dropout on the ${maskHOnState ? 'state' : 'scores'}` : ''}`, async () => {
      const { forwardJs, backwardJs } = await import('../../src/model/step-js');
      const { jsMatMuls, transposeJs } = await import('../../src/model/matmul');
      const { tfMatMuls } = await import('../../src/train/kernels/backend-io');
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
        maskHOnState,
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
          maskHOnState,
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
