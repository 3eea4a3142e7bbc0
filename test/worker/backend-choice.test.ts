import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/core/errors';
import {
  type BackendTrial,
  candidateBackends,
  chooseBackend,
  decisionKey,
} from '../../src/worker/backend-choice';

const cpuOnlyMachine: BackendTrial[] = [
  { name: 'webgpu', ok: true, software: true, stepMs: 95 },
  { name: 'webgl', ok: true, software: true, stepMs: 60 },
  { name: 'wasm', ok: true, stepMs: 4.2 },
  { name: 'cpu', ok: true, stepMs: 51 },
];

describe('chooseBackend', () => {
  it('picks the fastest trial, not a fixed order', () => {
    const d = chooseBackend(cpuOnlyMachine, 'k', 1);
    expect(d.backend).toBe('wasm');
    expect(d.reason).toContain('wasm: fastest trial step 4.20 ms');
    expect(d.reason).toContain('webgl 60.0 ms software');
    expect(d.key).toBe('k');
  });

  it('does not let the static order beat a clearly faster backend', () => {
    const slowGpu: BackendTrial[] = [
      { name: 'webgpu', ok: true, stepMs: 12 },
      { name: 'webgl', ok: true, stepMs: 10 },
      { name: 'wasm', ok: true, stepMs: 4 },
    ];
    expect(chooseBackend(slowGpu, 'k').backend).toBe('wasm');
  });

  it('lets a real GPU win when it is faster', () => {
    const gpu: BackendTrial[] = [
      { name: 'webgpu', ok: true, stepMs: 1.5 },
      { name: 'webgl', ok: true, stepMs: 2.5 },
      { name: 'wasm', ok: true, stepMs: 4.2 },
    ];
    expect(chooseBackend(gpu, 'k').backend).toBe('webgpu');
  });

  it('breaks near-ties towards hardware, then the static order', () => {
    const near: BackendTrial[] = [
      { name: 'webgl', ok: true, software: true, stepMs: 4.0 },
      { name: 'wasm', ok: true, stepMs: 4.3 },
    ];
    expect(chooseBackend(near, 'k').backend).toBe('wasm');
    const bothHardware: BackendTrial[] = [
      { name: 'webgl', ok: true, software: false, stepMs: 4.3 },
      { name: 'wasm', ok: true, stepMs: 4.0 },
    ];
    expect(chooseBackend(bothHardware, 'k').backend).toBe('webgl');
    // the reason says a near-tie decided, not that webgl was fastest
    const r = chooseBackend(bothHardware, 'k').reason;
    expect(r).toContain('webgl: trial step within 10% of the fastest');
    expect(r).not.toContain('fastest trial step');
    expect(r).toContain('wasm 4.00 ms');
  });

  it('gives no GPU preference to a renderer it cannot identify (masked, e.g. "Apple GPU")', () => {
    // WebKitGTK under Xvfb: software WebGL behind the masked name "Apple GPU", within 10%
    // of WASM in a short trial, about 20 times slower in real training.
    const masked: BackendTrial[] = [
      { name: 'webgl', ok: true, stepMs: 4.0 },
      { name: 'wasm', ok: true, stepMs: 4.3 },
      { name: 'cpu', ok: true, stepMs: 40 },
    ];
    const d = chooseBackend(masked, 'k');
    expect(d.backend).toBe('wasm');
    expect(d.reason).toContain('webgl 4.00 ms renderer unknown');
    // Clearly faster, it still wins: the trial decides.
    const fast: BackendTrial[] = [
      { name: 'webgl', ok: true, stepMs: 2.0 },
      { name: 'wasm', ok: true, stepMs: 4.3 },
    ];
    expect(chooseBackend(fast, 'k').backend).toBe('webgl');
    expect(chooseBackend(fast, 'k').reason).toMatch(
      /^webgl: fastest trial step 2\.00 ms \(renderer unknown\)/,
    );
  });

  it('skips failed backends and fails with BACKEND_UNAVAILABLE when none works', () => {
    const d = chooseBackend(
      [
        { name: 'webgpu', ok: false, error: 'no adapter' },
        { name: 'cpu', ok: true, stepMs: 80 },
      ],
      'k',
    );
    expect(d.backend).toBe('cpu');
    expect(d.reason).toContain('webgpu failed');
    let caught: unknown;
    try {
      chooseBackend([{ name: 'webgl', ok: false, error: 'context lost' }], 'k');
    } catch (e) {
      caught = e;
    }
    expect(hasCode(caught, 'BACKEND_UNAVAILABLE')).toBe(true);
    expect(String((caught as Error).message)).toContain('webgl: context lost');
  });
});

describe('preferences', () => {
  it('a preferred backend that passed its trial wins even when slower; else the fastest', () => {
    const d = chooseBackend(cpuOnlyMachine, 'k', 1, ['webgl']);
    expect(d.backend).toBe('webgl');
    expect(d.reason).toMatch(/^webgl: preferred by the site/);
    const failed: BackendTrial[] = [
      { name: 'webgl', ok: false, error: 'x' },
      ...cpuOnlyMachine.slice(2),
    ];
    expect(chooseBackend(failed, 'k', 1, ['webgl']).backend).toBe('wasm');
  });
});

describe('candidateBackends', () => {
  it('honours force and exclude', () => {
    expect(candidateBackends()).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(candidateBackends({ force: 'webgl' })).toEqual(['webgl']);
    expect(candidateBackends({ exclude: ['webgpu', 'cpu'] })).toEqual(['webgl', 'wasm']);
    expect(() => candidateBackends({ exclude: ['webgpu', 'webgl', 'wasm', 'cpu'] })).toThrow(
      /every backend/,
    );
    expect(() => candidateBackends({ force: 'metal' as never })).toThrow(/unknown backend/);
    expect(() => candidateBackends({ prefer: ['metal' as never] })).toThrow(/unknown backend/);
  });
});

describe('decisionKey', () => {
  it('changes with version, hidden size and catalog size class, not with a few items', () => {
    const base = { version: '1', hidden: 64, numItems: 3000, userAgent: 'UA' };
    expect(decisionKey(base)).toBe(decisionKey({ ...base, numItems: 3100 }));
    expect(decisionKey(base)).not.toBe(decisionKey({ ...base, numItems: 5000 }));
    expect(decisionKey(base)).not.toBe(decisionKey({ ...base, hidden: 128 }));
    expect(decisionKey(base)).not.toBe(decisionKey({ ...base, version: '2' }));
    expect(decisionKey(base)).not.toBe(decisionKey({ ...base, userAgent: 'other' }));
    expect(decisionKey(base)).not.toBe(decisionKey({ ...base, prefer: ['webgl'] }));
  });

  it("changes with the trial's batch size and negatives; the defaults (32 / 256) keep older keys", () => {
    const base = { version: '1', hidden: 64, numItems: 3000, userAgent: 'UA' };
    expect(decisionKey({ ...base, batchSize: 32, negatives: 256 })).toBe(decisionKey(base));
    expect(decisionKey({ ...base, batchSize: 256, negatives: 256 })).not.toBe(decisionKey(base));
    expect(decisionKey({ ...base, batchSize: 32, negatives: 2048 })).not.toBe(decisionKey(base));
  });
});
