// planTraining: which sessions a run trains on (by the store's sequence numbers), fresh or
// continued, from the pretrained model or the last one, with which trainer settings.
import { describe, expect, it } from 'vitest';
import { FINE_TUNE_DEFAULTS } from '../../src/runtime/fine-tune';
import type { HistorySessions } from '../../src/runtime/history';
import { type PlanInput, planTraining, runSummary } from '../../src/runtime/training-plan';
import { ON_DEVICE_WORKLOAD } from '../../src/worker/backend-choice';
import type { TrainResponse } from '../../src/worker/protocol';

// Three sessions: [1 2 3] (keys 1-3, t 10-12), [4] (key 4), [5 6 7 8] (keys 5-8, t 30-33).
const data: HistorySessions = {
  sequences: {
    items: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
    offsets: Int32Array.from([0, 3, 4, 8]),
    times: Float64Array.from([10, 11, 12, 20, 30, 31, 32, 33]),
    keys: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
    numItems: 9,
  },
  itemIds: Array.from({ length: 9 }, (_, i) => `i${i}`),
};

function plan(over: Partial<PlanInput> = {}) {
  return planTraining({
    data,
    lastId: 8,
    seen: null,
    request: {},
    settings: {},
    hasPretrained: false,
    architecture: { hiddenSize: 64 },
    ...over,
  });
}

describe('planTraining', () => {
  it('without a model: a fresh run on every session with a next-item pair, 10 epochs', () => {
    const p = plan();
    if (!p.run) throw new Error('expected a run');
    expect(p.mode).toBe('fresh');
    expect([...p.request.items]).toEqual([1, 2, 3, 5, 6, 7, 8]);
    expect(p.sessions).toBe(2);
    expect(p.events).toBe(7);
    expect(p.request.options).toMatchObject({
      epochs: 10,
      batchSize: 2,
      negatives: 8, // the visitor's own other items
      tail: 'shrink',
    });
    expect(p.request.fineTune).toBeUndefined();
    expect(p.trainedThrough).toBe(8);
    expect(p.trainedUntil).toBe(33);
  });

  it('continues a device model on what it has not trained through (3 epochs)', () => {
    const p = plan({ seen: { trainedThrough: 3, trainedUntil: 12 } });
    if (!p.run) throw new Error('expected a run');
    expect(p.mode).toBe('continue');
    expect([...p.request.items]).toEqual([5, 6, 7, 8]);
    expect(p.request.options.epochs).toBe(3);
  });

  it('a model saved without trainedThrough trains on everything once', () => {
    const p = plan({ seen: { trainedThrough: null, trainedUntil: null } });
    if (!p.run) throw new Error('expected a run');
    expect([...p.request.items]).toEqual([1, 2, 3, 5, 6, 7, 8]);
  });

  it('nothing new: no run, and the summary says why', () => {
    const p = plan({ seen: { trainedThrough: 8, trainedUntil: 33 } });
    expect(p).toMatchObject({
      run: false,
      summary: { trained: false, events: 0, sessions: 0, mode: 'continue' },
    });
    if (p.run) throw new Error('expected no run');
    expect(p.summary.reason).toMatch(/no new sessions/);
  });

  it('from the pretrained model: again from its weights on the recent history, capped', () => {
    const p = plan({
      seen: { trainedThrough: 8, trainedUntil: 33 },
      hasPretrained: true,
      settings: { fineTune: { maxEvents: 6, blend: 0.5 } },
    });
    if (!p.run) throw new Error('expected a run');
    // Everything again (the run starts from the pretrained weights, whatever it trained
    // through), the newest 6 events: the older session cut at its front.
    expect([...p.request.items]).toEqual([2, 3, 5, 6, 7, 8]);
    expect(p.request.fineTune).toEqual({
      base: 'pretrained',
      blend: 0.5,
      populationNegatives: FINE_TUNE_DEFAULTS.populationNegatives,
    });
    expect(p.request.options).toMatchObject({
      epochs: 1,
      lr: 0.01,
      negatives: ON_DEVICE_WORKLOAD.negatives, // population negatives: the whole catalogue
    });
  });

  it("base 'current' continues from the last model even with a pretrained one", () => {
    const p = plan({
      seen: { trainedThrough: 3, trainedUntil: 12 },
      hasPretrained: true,
      settings: { fineTune: { base: 'current' } },
    });
    if (!p.run) throw new Error('expected a run');
    expect([...p.request.items]).toEqual([5, 6, 7, 8]);
    expect(p.request.fineTune).toBeUndefined();
  });

  it("the site's settings and train()'s epochs win; trainedUntil never goes back", () => {
    const p = plan({
      request: { epochs: 7, mode: 'fresh' },
      settings: { epochs: 4, options: { lr: 0.5, kernel: 'device' } },
      seen: { trainedThrough: 8, trainedUntil: 1e12 },
    });
    if (!p.run) throw new Error('expected a run');
    expect(p.mode).toBe('fresh');
    expect(p.request.options).toMatchObject({ epochs: 7, lr: 0.5, kernel: 'device' });
    expect(p.trainedUntil).toBe(1e12);
    const q = plan({ settings: { epochs: 4 } });
    expect(q.run && q.request.options.epochs).toBe(4);
  });

  it("runSummary: the run's counts from the plan, its speed and backend from the engine", () => {
    const p = plan({ request: { epochs: 2 } });
    if (!p.run) throw new Error('expected a run');
    const response = {
      events: 14,
      seconds: 2,
      eventsPerSecond: 7,
      loss: 0.5,
      backend: 'wasm',
      fellBackFrom: ['webgl'],
    } as TrainResponse;
    expect(runSummary(p, response)).toEqual({
      trained: true,
      events: 7,
      epochs: 2,
      processedEvents: 14,
      sessions: 2,
      seconds: 2,
      eventsPerSecond: 7,
      loss: 0.5,
      backend: 'wasm',
      mode: 'fresh',
      fellBackFrom: ['webgl'],
    });
    expect(runSummary(p, { ...response, skipped: 'nothing new' })).toMatchObject({
      trained: false,
      reason: 'nothing new',
      events: 0,
      sessions: 2,
      backend: 'wasm',
    });
  });
});
