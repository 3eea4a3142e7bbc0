import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { stepForwardBackward } from '../../src/model/grads';
import { gruForward } from '../../src/model/gru';
import { bprMaxForward, crossEntropyForward } from '../../src/model/loss';
import { Rng } from '../../src/model/rng';
import { maxAbsDiff, useBackend } from './helpers';

function rand(shape: number[], rng: Rng, scale = 0.5): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fillUniform(new Float32Array(n), scale), shape);
}

describe('manual step gradients equal tf.grad (CPU backend)', () => {
  beforeAll(() => useBackend('cpu'));

  const B = 4;
  const H = 6;
  const M = 9;
  const cases = [
    { loss: 'cross-entropy', elu: false, logQ: false, masks: false },
    { loss: 'cross-entropy', elu: false, logQ: true, masks: true },
    { loss: 'bpr-max', elu: false, logQ: false, masks: false },
    { loss: 'bpr-max', elu: true, logQ: false, masks: true },
  ] as const;

  for (const c of cases) {
    it(`${c.loss} elu=${c.elu} logQ=${c.logQ} dropout=${c.masks}`, () => {
      const before = tf.memory().numTensors;
      const rng = new Rng(11);
      const x = rand([B, H], rng) as tf.Tensor2D;
      const h = rand([B, H], rng) as tf.Tensor2D;
      const wx = rand([H, 3 * H], rng) as tf.Tensor2D;
      const wh = rand([H, 3 * H], rng) as tf.Tensor2D;
      const b = rand([3 * H], rng, 0.1) as tf.Tensor1D;
      const colW = rand([M, H + 1], rng, 1) as tf.Tensor2D;
      const Y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), M, 1, 0, 'float32') as tf.Tensor2D;
      const logQ = c.logQ ? (rand([1, M], rng, 2) as tf.Tensor2D) : null;
      const maskIn = c.masks
        ? tf.tensor2d(rng.fillDropoutMask(new Float32Array(B * H), 0.3), [B, H])
        : null;
      const maskH = c.masks
        ? tf.tensor2d(rng.fillDropoutMask(new Float32Array(B * H), 0.3), [B, H])
        : null;
      const opts = { loss: c.loss, bprReg: 0.7, elu: c.elu };
      // accidental-hit mask on a few cells when dropout is on
      const hm = new Float32Array(B * M);
      hm[0 * M + 5] = -1e9;
      hm[2 * M + 1] = -1e9;
      const hitMask = c.masks ? tf.tensor2d(hm, [B, M]) : null;

      const manual = stepForwardBackward(
        { x, h, wx, wh, b, colW, Y, logQ, maskIn, maskH, hitMask },
        opts,
      );

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
        let S = tf.matMul(tf.concat([o, tf.ones([B, 1])], 1), tf.transpose(cw)) as tf.Tensor2D;
        if (logQ) S = tf.sub(S, logQ);
        return c.loss === 'bpr-max'
          ? bprMaxForward(S, Y, 0.7, c.elu, hitMask)
          : crossEntropyForward(S, Y, hitMask);
      };
      const [gx, gwx, gwh, gb, gcw] = tf.grads(f)([x, wx, wh, b, colW]);
      const ref = f(x, wx, wh, b, colW);
      expect(Math.abs(manual.loss.dataSync()[0] - ref.dataSync()[0])).toBeLessThan(1e-5);
      const tol = 1e-5;
      expect(maxAbsDiff(manual.dx.dataSync(), gx.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(manual.dwx.dataSync(), gwx.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(manual.dwh.dataSync(), gwh.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(manual.db.dataSync(), gb.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(manual.dColW.dataSync(), gcw.dataSync())).toBeLessThan(tol);
      // gradients are not trivially zero
      expect(maxAbsDiff(gwh.dataSync(), new Float32Array(gwh.size))).toBeGreaterThan(1e-4);
      tf.dispose([x, h, wx, wh, b, colW, Y, gx, gwx, gwh, gb, gcw, ref]);
      if (logQ) logQ.dispose();
      if (maskIn) maskIn.dispose();
      if (maskH) maskH.dispose();
      if (hitMask) hitMask.dispose();
      void before;
    });
  }
});
