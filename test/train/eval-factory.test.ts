import { describe, expect, it, vi } from 'vitest';
import { plantedData } from './fixtures';

// count the trainings behind the eval factories (the real trainer still runs)
vi.mock('../../src/train/fit', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/train/fit')>();
  return { ...real, trainGru: vi.fn(real.trainGru) };
});

describe('eval factories: gru and gru+sr+itemknn share one GRU per fit data', () => {
  it('trains once on training data and once on training + validation (--refit)', async () => {
    const { trainGru } = await import('../../src/train/fit');
    const { gruFactory, gruMixFactory } = await import('../../src/train/eval-factory');
    const train = plantedData(12, 8, 10, 3, 7);
    const trainValid = plantedData(12, 8, 12, 3, 7);
    const params = { epochs: 1, hiddenSize: 4, batchSize: 4, negatives: 4, beta: 0.5 };
    // the order of `localrec eval --refit`: each model fit on train, then refit
    await gruFactory.create(train, params, { phase: 'train' });
    await gruFactory.create(trainValid, params, { phase: 'refit' });
    await gruMixFactory.create(train, params, { phase: 'train' });
    await gruMixFactory.create(trainValid, params, { phase: 'refit' });
    expect(vi.mocked(trainGru)).toHaveBeenCalledTimes(2);
    // other settings are another model: trained anew
    await gruFactory.create(train, { ...params, seed: 1 }, { phase: 'train' });
    expect(vi.mocked(trainGru)).toHaveBeenCalledTimes(3);
  });
});
