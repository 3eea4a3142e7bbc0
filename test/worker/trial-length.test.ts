// How long the backend trial times each kernel (src/worker/tf/trial.ts): the CPU
// backends' 8-step runs, and for the resident kernel (GPU backends) with a fast step one
// 40-step run, so the two reads at the end of a run do not hide a GPU's speed.
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KernelName } from '../../src/train/kernels';
import { kernelFor } from '../../src/train/kernels/select';
import { runTrials } from '../../src/worker/tf/trial';

vi.mock('../../src/train/kernels/select', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/train/kernels/select')>();
  return { kernelFor: vi.fn(real.kernelFor), markSoftwareBackend: real.markSoftwareBackend };
});

// trainGru as it is, recording the steps of each run (sessions all of one length)
const stepsPerRun: number[] = [];
vi.mock('../../src/train/fit', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/train/fit')>();
  return {
    ...real,
    trainGru: vi.fn(async (...args: Parameters<typeof real.trainGru>) => {
      const r = await real.trainGru(...args);
      stepsPerRun.push(r.steps);
      return r;
    }),
  };
});

const spec = { numItems: 40, hiddenSize: 8, batchSize: 8, negatives: 8, budgetMs: 30_000 };

afterEach(() => {
  vi.mocked(kernelFor).mockReset();
  stepsPerRun.length = 0;
});

describe('backend trial length', () => {
  it('hybrid (CPU backends): warm-up and two timed runs of 8 steps', async () => {
    vi.mocked(kernelFor).mockImplementation(() => 'hybrid');
    const [trial] = await runTrials(['cpu'], spec);
    expect(trial.ok).toBe(true);
    expect(stepsPerRun).toEqual([8, 8, 8]);
  });

  it('resident with a fast step (as on a GPU): the second timed run is 40 steps', async () => {
    vi.mocked(kernelFor).mockImplementation((): KernelName => 'resident');
    // a clock running 1,000 times slow: every step appears to take well under 10 ms,
    // however loaded this machine is
    const real = performance.now.bind(performance);
    const t0 = real();
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => t0 + (real() - t0) / 1000);
    try {
      const [trial] = await runTrials(['cpu'], spec);
      expect(trial.ok).toBe(true);
      expect(trial.kernel).toBe('resident');
    } finally {
      spy.mockRestore();
    }
    expect(stepsPerRun).toEqual([8, 8, 40]);
  });

  it('resident with a slow step (SwiftShader): no longer run', async () => {
    vi.mocked(kernelFor).mockImplementation((): KernelName => 'resident');
    // every step appears to take 20 ms
    const real = performance.now.bind(performance);
    let skew = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => {
      skew += 2.5;
      return real() + skew;
    });
    try {
      const [trial] = await runTrials(['cpu'], spec);
      expect(trial.ok).toBe(true);
      expect(trial.stepMs).toBeGreaterThan(10);
    } finally {
      spy.mockRestore();
    }
    expect(stepsPerRun).toEqual([8, 8, 8]);
  });
});
