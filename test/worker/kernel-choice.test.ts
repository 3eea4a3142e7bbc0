// The backend trial must time the step kernel that training then runs on that backend:
// both ask `kernelFor`, and nothing else decides. Here `kernelFor` is replaced so that the
// CPU backend gets each kernel in turn (as a GPU backend gets the resident kernel), and the
// trial (worker/tf/trial.ts), trainGru and the worker's Engine must all follow it.
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trainGru } from '../../src/train/fit';
import type { KernelName } from '../../src/train/kernels';
import { kernelFor } from '../../src/train/kernels/select';
import { createWorkerApi } from '../../src/worker/api';
import { runTrials } from '../../src/worker/tf/trial';

vi.mock('../../src/train/kernels/select', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/train/kernels/select')>();
  return { kernelFor: vi.fn(real.kernelFor), markSoftwareBackend: real.markSoftwareBackend };
});

const spec = { numItems: 40, hiddenSize: 8, batchSize: 8, negatives: 8, budgetMs: 30_000 };

function sessions(n: number, length: number, numItems: number) {
  const items = new Int32Array(n * length);
  const offsets = new Int32Array(n + 1);
  for (let s = 0; s < n; s++) {
    offsets[s + 1] = (s + 1) * length;
    for (let j = 0; j < length; j++) items[s * length + j] = (s * 7 + j * 3) % numItems;
  }
  return { items, offsets, numItems };
}

afterEach(() => {
  vi.mocked(kernelFor).mockReset();
});

describe('kernelFor', () => {
  it('keeps GPU backends on the device kernel and CPU-bound ones on the hybrid', async () => {
    const real = await vi.importActual<typeof import('../../src/train/kernels/select')>(
      '../../src/train/kernels/select',
    );
    expect(real.kernelFor('wasm')).toBe('hybrid');
    expect(real.kernelFor('cpu')).toBe('hybrid');
    expect(real.kernelFor('webgl')).toBe('resident');
    expect(real.kernelFor('webgpu')).toBe('resident');
  });

  it('gives an emulated GPU (its probe said software) the device kernel', async () => {
    const real = await vi.importActual<typeof import('../../src/train/kernels/select')>(
      '../../src/train/kernels/select',
    );
    real.markSoftwareBackend('webgl', true);
    try {
      expect(real.kernelFor('webgl')).toBe('device');
      expect(real.kernelFor('webgpu')).toBe('resident');
      expect(real.kernelFor('wasm')).toBe('hybrid');
    } finally {
      real.markSoftwareBackend('webgl', false);
    }
    expect(real.kernelFor('webgl')).toBe('resident');
  });
});

describe('the backend trial and training run the same kernel', () => {
  for (const kernel of ['hybrid', 'device', 'resident'] as KernelName[]) {
    it(`${kernel} on the CPU backend`, async () => {
      vi.mocked(kernelFor).mockImplementation(() => kernel);
      const [trial] = await runTrials(['cpu'], spec);
      expect(trial.ok).toBe(true);
      expect(trial.kernel).toBe(kernel);

      const result = await trainGru(sessions(8, 6, 40), { epochs: 1, batchSize: 4, negatives: 4 });
      expect(result.backend).toBe('cpu');
      expect(result.kernel).toBe(kernel);
      result.model.dispose();

      // the worker's Engine: its init trial and its training
      const api = createWorkerApi();
      const status = await api.init({ force: 'cpu', hiddenSize: 8, numItems: 40 });
      expect(status.backend).toBe('cpu');
      expect(status.trials.find((t) => t.name === 'cpu')?.kernel).toBe(kernel);
      const data = sessions(8, 6, 40);
      const trained = await api.train({
        items: data.items,
        offsets: data.offsets,
        itemIds: Array.from({ length: 40 }, (_, i) => `i${i}`),
        mode: 'fresh',
        options: { epochs: 1, batchSize: 4, negatives: 4 },
        model: { hiddenSize: 8 },
      });
      expect(trained.kernel).toBe(kernel);
      // the run's backend work comes with it; the resident kernel read the loss and the
      // weights once each at the end of this short run, the device kernel reads every
      // step, and the hybrid kernel on the library's WebAssembly SIMD kernels does not
      // touch the TF.js backend at all (on its fallback it reads every step)
      const work = trained.backendWork!;
      expect(work.steps).toBeGreaterThan(0);
      if (kernel === 'resident') expect(work.reads).toBe(2);
      else if (kernel === 'hybrid' && trained.stepSimd !== 'off') expect(work.reads).toBe(0);
      else expect(work.reads).toBeGreaterThanOrEqual(2 * work.steps);
      for (const call of vi.mocked(kernelFor).mock.calls) expect(call[0]).toBe('cpu');
    }, 60_000);
  }
});
