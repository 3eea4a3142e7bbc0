// The old names kept for one version map to the new ones: TrainOptions.engine → kernel,
// status().engine → runsIn, the replay variant 'hybrid' → 'mix' (README, Development:
// the glossary says what each word means now).
import { describe, expect, it } from 'vitest';
import { replayVariantName } from '../../cli/commands/eval';
import { DEFAULT_REPLAY_VARIANTS, replayVariants } from '../../cli/replay';
import { createRecommender } from '../../src/api/recommender';
import { aloneElection } from '../../src/runtime/leader';
import { resolveTrainOptions } from '../../src/train/options';
import type { BackendStatus } from '../../src/worker/protocol';
import { fakeHandle } from '../runtime/fakes';

describe('deprecated names', () => {
  it("TrainOptions.engine is read as kernel; kernel wins; the result names only 'kernel'", () => {
    const viaOld = resolveTrainOptions({ engine: 'device' });
    expect(viaOld.kernel).toBe('device');
    expect('engine' in viaOld).toBe(false);
    expect(resolveTrainOptions({ engine: 'device', kernel: 'hybrid' }).kernel).toBe('hybrid');
    expect(resolveTrainOptions({}).kernel).toBe('auto');
    expect(() => resolveTrainOptions({ engine: 'gpu' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', details: { field: 'kernel' } }),
    );
  });

  it('status().engine says what status().runsIn says', async () => {
    const status = { backend: 'wasm', key: 'k', reason: 'forced' } as unknown as BackendStatus;
    const rec = await createRecommender(
      { namespace: 'deprecated', indexedDB: null, broadcast: false, training: { auto: false } },
      {
        startEngine: async () =>
          fakeHandle({
            init: async () => status,
            info: async () => ({ model: null, backend: status, numTensors: 0 }),
          }),
        electLeader: aloneElection,
      },
    );
    try {
      const before = await rec.status();
      expect(before).toMatchObject({ runsIn: 'not-started', engine: 'not-started' });
      const after = await rec.warmUp();
      expect(after).toMatchObject({ runsIn: 'worker', engine: 'worker' });
    } finally {
      rec.close();
    }
  });

  it("the replay variant 'hybrid' is read as 'mix', with a note", () => {
    const notes: string[] = [];
    expect(replayVariantName('hybrid', { stderr: (t) => notes.push(t) })).toBe('mix');
    expect(notes.join('')).toMatch(/'hybrid' is now called 'mix'/);
    expect(replayVariantName('served')).toBe('served');
    const known = replayVariants({});
    expect(Object.hasOwn(known, 'mix')).toBe(true);
    expect(Object.hasOwn(known, 'hybrid')).toBe(false);
    expect(DEFAULT_REPLAY_VARIANTS).toContain('mix');
  });
});
