import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { hasCode } from '../../src/core/errors';
import { GruModel } from '../../src/model/model';
import { sessionParallelSteps } from '../../src/train/batcher';
import { trainGru } from '../../src/train/fit';
import { resolveTrainOptions, type TrainOptions } from '../../src/train/options';
import { StepRunner } from '../../src/train/step';
import { useBackend } from '../model/helpers';
import { plantedData } from './fixtures';

const small: Partial<TrainOptions> = {
  epochs: 2,
  batchSize: 8,
  negatives: 8,
  dropoutHidden: 0.2,
  seed: 5,
};
const cfg = { config: { hiddenSize: 8 } };

describe('trainGru', () => {
  beforeAll(() => useBackend('wasm'));

  it('is deterministic for a seed (same backend, same data)', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const a = await trainGru(data, small, cfg);
    const b = await trainGru(data, small, cfg);
    const c = await trainGru(data, { ...small, seed: 6 }, cfg);
    expect(Array.from(a.model.toArrays().items)).toEqual(Array.from(b.model.toArrays().items));
    expect(Array.from(a.model.toArrays().wh)).toEqual(Array.from(b.model.toArrays().wh));
    expect(Array.from(a.model.toArrays().wh)).not.toEqual(Array.from(c.model.toArrays().wh));
    for (const r of [a, b, c]) r.model.dispose();
  });

  it('the hybrid kernel (transposed GRU weights) trains to the same weights as the device kernel', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const opts = { ...small, dropoutEmbedding: 0.1, logQ: 1 };
    const a = (await trainGru(data, { ...opts, kernel: 'hybrid' }, cfg)).model.toArrays();
    const b = (await trainGru(data, { ...opts, kernel: 'device' }, cfg)).model.toArrays();
    const init = GruModel.create({ numItems: 20, hiddenSize: 8 }, { seed: 5 }).toArrays();
    for (const k of ['items', 'wx', 'wh', 'b'] as const) {
      let diff = 0;
      let moved = 0;
      for (let i = 0; i < a[k].length; i++) {
        diff = Math.max(diff, Math.abs(a[k][i] - b[k][i]));
        moved = Math.max(moved, Math.abs(a[k][i] - init[k][i]));
      }
      expect(diff, k).toBeLessThan(1e-4);
      expect(moved, k).toBeGreaterThan(1e-3); // training changed them
    }
  });

  it('lr = 1e6 diverges with TRAINING_DIVERGED, returns nothing and leaks nothing', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const before = tf.memory().numTensors;
    const base = GruModel.create({ numItems: 20, hiddenSize: 8 }, { seed: 1 });
    const baseItems = Array.from(base.toArrays().items);
    let err: unknown;
    let result: unknown;
    try {
      result = await trainGru(
        data,
        { ...small, lr: 1e6, epochs: 3, syncEvery: 4 },
        { model: base },
      );
    } catch (e) {
      err = e;
    }
    expect(result).toBeUndefined();
    expect(hasCode(err, 'TRAINING_DIVERGED')).toBe(true);
    // the model we started from is untouched and still usable
    expect(Array.from(base.toArrays().items)).toEqual(baseItems);
    expect(Number.isFinite(base.scorer().scores(Int32Array.from([1, 2]))[0])).toBe(true);
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('also diverges with bpr-max and full softmax', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    for (const extra of [{ loss: 'bpr-max' as const }, { fullSoftmaxMaxItems: 100 }]) {
      await expect(
        trainGru(data, { ...small, ...extra, lr: 1e6, epochs: 3 }, cfg),
      ).rejects.toMatchObject({
        code: 'TRAINING_DIVERGED',
      });
    }
  });

  it('stops with TRAINING_ABORTED on an aborted signal, without leaks', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    const p = trainGru(
      data,
      {
        ...small,
        epochs: 50,
        onProgress: (q) => {
          if (q.epoch === 2) ac.abort();
        },
        signal: ac.signal,
      },
      cfg,
    );
    await expect(p).rejects.toMatchObject({ code: 'TRAINING_ABORTED' });
    expect(tf.memory().numTensors).toBe(before);
  });

  for (const via of ['setImmediate', 'MessageChannel']) {
    it(`yields to the event loop (${via}): an abort sent by message from a timer stops training`, async () => {
      if (via === 'MessageChannel') vi.stubGlobal('setImmediate', undefined);
      try {
        const data = plantedData(20, 12, 15, 2, 3);
        const ac = new AbortController();
        // a worker learns of an abort by a message; a page may use a timer
        const port = new MessageChannel();
        port.port1.onmessage = () => ac.abort();
        setTimeout(() => port.port2.postMessage(null), 30);
        const p = trainGru(
          data,
          { ...small, epochs: 3000, yieldEveryMs: 5, signal: ac.signal },
          cfg,
        );
        await expect(p).rejects.toMatchObject({ code: 'TRAINING_ABORTED' });
      } finally {
        vi.unstubAllGlobals();
      }
    });
  }

  it('reports progress with epoch, step, loss and events/s', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const seen: { epoch: number; step: number; loss: number; eventsPerSecond: number }[] = [];
    const r = await trainGru(
      data,
      { ...small, tail: 'shrink', syncEvery: 5, onProgress: (q) => seen.push(q) },
      cfg,
    );
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((q) => Number.isFinite(q.loss) && q.eventsPerSecond > 0)).toBe(true);
    expect(seen.at(-1)!.epoch).toBe(2);
    expect(r.events).toBe(2 * (data.items.length - 12));
    r.model.dispose();
  });

  it('early-stops on the validation hook and returns the best epoch', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const scores = [0.1, 0.3, 0.2, 0.2, 0.25, 0.9];
    const r = await trainGru(
      data,
      { ...small, epochs: 6, patience: 2, validate: (_s, e) => scores[e - 1] },
      cfg,
    );
    expect(r.stoppedEarly).toBe(true);
    expect(r.bestEpoch).toBe(2);
    expect(r.history.length).toBe(4);
    r.model.dispose();
  });

  it('events/s counts training time only: time spent in validate is left out', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
      return 0.5;
    };
    const r = await trainGru(data, { ...small, epochs: 2, validate: () => busy(400) }, cfg);
    expect(r.validationSeconds).toBeGreaterThanOrEqual(0.8);
    expect(r.seconds).toBeGreaterThan(r.validationSeconds);
    const trainOnly = r.events / (r.seconds - r.validationSeconds);
    expect(Math.abs(r.eventsPerSecond - trainOnly)).toBeLessThan(1e-6 * trainOnly);
    expect(r.eventsPerSecond).toBeGreaterThan(1.5 * (r.events / r.seconds));
    r.model.dispose();
  });

  it('lrEnd decays the learning rate linearly over the run and reaches the optimiser', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const spy = vi.spyOn(StepRunner.prototype, 'setLrScale');
    const r = await trainGru(data, { ...small, epochs: 3, lrEnd: 0.2 }, cfg);
    const scales = spy.mock.calls.map((c) => c[0]);
    const steps = scales.length;
    expect(steps).toBeGreaterThan(10);
    expect(scales[0]).toBe(1);
    for (let k = 1; k < steps; k++) expect(scales[k]).toBeLessThan(scales[k - 1]);
    // linear: equal decrements, last step one decrement above lrEnd
    const d = (1 - 0.2) / steps;
    expect(scales[steps - 1]).toBeCloseTo(0.2 + d, 6);
    expect(scales[Math.floor(steps / 2)]).toBeCloseTo(1 - d * Math.floor(steps / 2), 6);
    spy.mockClear();
    const c = await trainGru(data, { ...small, epochs: 1, lrEnd: 1 }, cfg);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    for (const m of [r, c]) m.model.dispose();

    // a zero rate (no momentum) leaves the weights untouched; the full rate moves them
    const model = GruModel.create({ numItems: 20, hiddenSize: 8 }, { seed: 5 });
    const o = resolveTrainOptions({ ...small, momentum: 0, dropoutHidden: 0 });
    const batch = sessionParallelSteps(data, 8)[Symbol.iterator]().next().value!;
    const neg = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const run = async (scale: number) => {
      const runner = new StepRunner(model.config, model.toArrays(), o, null);
      runner.setLrScale(scale);
      await runner.step(batch, neg);
      const w = await runner.arrays();
      runner.dispose();
      return w;
    };
    const init = model.toArrays();
    const still = await run(0);
    const moved = await run(1);
    // (first step: the hidden state is zero, so Wh has no gradient yet; Wx and items do)
    expect(Array.from(still.wx)).toEqual(Array.from(init.wx));
    expect(Array.from(still.items)).toEqual(Array.from(init.items));
    expect(Array.from(moved.wx)).not.toEqual(Array.from(init.wx));
    expect(Array.from(moved.items)).not.toEqual(Array.from(init.items));
    model.dispose();
  });

  it('device kernel: a read that fails mid-step (a lost GPU context) frees the step and keeps the state', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const model = GruModel.create({ numItems: 20, hiddenSize: 8 }, { seed: 5 });
    const o = resolveTrainOptions({ ...small, kernel: 'device' });
    const batches = [...sessionParallelSteps(data, 8)];
    const neg = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const start = tf.memory().numTensors;
    const runner = new StepRunner(model.config, model.toArrays(), o, null);
    await runner.step(batches[0], neg);
    const carried = tf.memory().numTensors;
    expect(carried).toBeGreaterThan(start); // the hidden state lives on the backend
    const spy = vi.spyOn(tf.Tensor.prototype, 'dataSync').mockImplementationOnce(() => {
      throw new Error('context lost');
    });
    await expect(runner.step(batches[1], neg)).rejects.toThrow('context lost');
    spy.mockRestore();
    expect(tf.memory().numTensors).toBe(carried);
    await runner.step(batches[1], neg); // the carried state is still there to step from
    expect(await runner.weightsFinite()).toBe(true);
    runner.dispose();
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  });

  it('tensor count stays flat over many steps, scoring and failed calls', async () => {
    const data = plantedData(30, 40, 40, 2, 3);
    const r0 = await trainGru(data, { ...small, epochs: 1 }, cfg);
    const start = tf.memory().numTensors;
    // ~2,000 steps of training (continued from r0), for each variant
    let m = r0.model;
    for (const extra of [
      { epochs: 4, batchSize: 4 },
      { epochs: 2, batchSize: 4, loss: 'bpr-max' as const, elu: true, dropoutEmbedding: 0.1 },
      { epochs: 2, batchSize: 4, fullSoftmaxMaxItems: 100, optimizer: 'adam' as const },
    ]) {
      const r = await trainGru(data, { ...small, ...extra }, { model: m });
      m.dispose();
      m = r.model;
    }
    const sc = m.scorer();
    for (let i = 0; i < 500; i++) sc.topK(Int32Array.from([i % 30, (i * 7) % 30]), 5, [1, 2]);
    for (let i = 0; i < 20; i++) {
      await expect(
        trainGru(data, { ...small, lr: 1e6, epochs: 2 }, { model: m }),
      ).rejects.toBeTruthy();
      await expect(trainGru(data, { ...small, batchSize: -1 }, { model: m })).rejects.toBeTruthy();
    }
    m.dispose();
    expect(tf.memory().numTensors).toBe(start);
  }, 60_000);

  it('continues training from existing weights and grows the vocabulary', async () => {
    const data = plantedData(20, 12, 15, 2, 3);
    const r1 = await trainGru(data, small, {
      ...cfg,
      vocab: Array.from({ length: 20 }, (_, i) => `i${i}`),
    });
    const old = r1.model.toArrays();
    // new data with 5 new items
    const more = plantedData(25, 6, 15, 21, 24, 9);
    const grown = r1.model.grow(25, { newIds: ['n0', 'n1', 'n2', 'n3', 'n4'] });
    const ga = grown.toArrays();
    expect(Array.from(ga.items.subarray(0, old.items.length))).toEqual(Array.from(old.items));
    expect(ga.items.subarray(old.items.length).some((v) => v !== 0)).toBe(true);
    expect(grown.vocab?.[22]).toBe('n2');
    const r2 = await trainGru(
      more,
      { ...small, epochs: 1 },
      { model: r1.model, vocab: ['n0', 'n1', 'n2', 'n3', 'n4'] },
    );
    expect(r2.model.numItems).toBe(25);
    expect(r2.model.vocab?.[24]).toBe('n4');
    expect(r2.model.meta.epochs).toBe(3);
    expect(r2.model.scorer().scores(Int32Array.from([21])).length).toBe(25);
    for (const m of [r1.model, grown, r2.model]) m.dispose();
  });
});
