import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GruModel } from '../../src/model/model';
import { gruForward } from '../../src/train/kernels/device-ops';
import { maxAbsDiff, useBackend } from './helpers';

describe("JS scorer matches the TF.js forward pass (the device kernel's GRU ops)", () => {
  beforeAll(() => useBackend('cpu'));

  for (const embedding of ['tied', 'separate'] as const) {
    it(`${embedding} embedding`, () => {
      const m = GruModel.create(
        { numItems: 30, hiddenSize: 8, embedding, embeddingSize: 5 },
        { seed: 3 },
      );
      // give biases and items some non-zero values
      const prefix = Int32Array.from([3, 7, 7, 12, 29]);
      const js = m.scorer().scores(prefix).slice();
      const tfScores = tf.tidy(() => {
        const a = m.toArrays();
        const p = {
          items: tf.tensor2d(a.items, [30, 9]),
          emb: a.emb ? tf.tensor2d(a.emb, [30, 5]) : null,
          wx: tf.tensor2d(a.wx, [a.emb ? 5 : 8, 24]),
          wh: tf.tensor2d(a.wh, [8, 24]),
          b: tf.tensor1d(a.b),
        };
        let h = tf.zeros([1, 8]) as tf.Tensor2D;
        for (const it of prefix) {
          const src = p.emb ?? tf.slice(p.items, [0, 0], [-1, 8]);
          const x = tf.gather(src, tf.tensor1d([it], 'int32')) as tf.Tensor2D;
          h = gruForward(x, h, p.wx, p.wh, p.b).hNew;
        }
        const hAug = tf.concat([h, tf.ones([1, 1])], 1);
        return tf.matMul(hAug, tf.transpose(p.items)).dataSync();
      });
      expect(maxAbsDiff(js, tfScores)).toBeLessThan(1e-5);
      // cursor gives the same numbers
      const c = m.scorer().cursor();
      for (const it of prefix) c.push(it);
      expect(maxAbsDiff(c.scores(), js)).toBeLessThan(1e-6);
      c.dispose();
      m.dispose();
    });
  }
});
