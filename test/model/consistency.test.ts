import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gruForward } from '../../src/model/gru';
import { GruModel } from '../../src/model/model';
import { maxAbsDiff, useBackend } from './helpers';

describe('JS scorer matches the TF.js forward pass', () => {
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
        const p = m.params;
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
