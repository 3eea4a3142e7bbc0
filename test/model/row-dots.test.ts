import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/rng';
import { GruJsScorer } from '../../src/model/js-scorer';
import { GruModel } from '../../src/model/model';
import {
  itemRows,
  RowDots,
  resetRowDotsModule,
  rowDotsModule,
  type WasmApi,
} from '../../src/model/row-dots';
import { deserializeGru, serializeGru } from '../../src/model/serialize';

afterEach(() => resetRowDotsModule());

function randomRows(n: number, h: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const x = new Float32Array(n * (h + 1));
  for (let i = 0; i < x.length; i++) x[i] = (r() - 0.5) * 4;
  return x;
}

describe('the WebAssembly SIMD scoring pass (row-dots.ts)', () => {
  it('compiles here (Node has WebAssembly SIMD)', () => {
    expect(rowDotsModule()).not.toBeNull();
  });

  // odd N, H below, at and past multiples of 4 (the tail), H 1 (no SIMD column at all)
  for (const [n, h] of [
    [1, 1],
    [2, 3],
    [7, 4],
    [33, 5],
    [257, 64],
    [64, 101],
    [500, 100],
  ]) {
    it(`gives the JS loop's scores bit for bit at N ${n}, H ${h}`, () => {
      const config = GruModel.create({ numItems: n, hiddenSize: h }).config;
      const arrays = { ...GruModel.create(config).toArrays(), items: randomRows(n, h, n * 31 + h) };
      const scorer = new GruJsScorer(config, arrays);
      expect(scorer.scoringPass).toBe('wasm-simd');
      const r = mulberry32(h);
      for (const scale of [1, 1e-3, 1e3]) {
        const state = new Float32Array(h);
        for (let j = 0; j < h; j++) state[j] = j % 7 === 3 ? 0 : (r() - 0.5) * scale;
        const js = scorer.scoresFromStateJs(state, new Float32Array(n));
        const wasm = scorer.scoresFromState(state);
        expect(Array.from(wasm)).toEqual(Array.from(js));
        for (let k = 0; k < n; k++) expect(wasm[k]).toBe(Math.fround(scorer.logit(state, k)));
      }
    });
  }

  it('scores a matrix from itemRows in place, and copies any other matrix once', () => {
    const n = 40;
    const h = 8;
    const own = itemRows(n, h);
    own.set(randomRows(n, h, 1));
    const inPlace = RowDots.of(own, n, h);
    expect(inPlace?.reads(own)).toBe(true);
    const plain = randomRows(n, h, 1);
    const copied = RowDots.of(plain, n, h);
    expect(copied?.reads(plain)).toBe(false);
    const state = new Float32Array(h).fill(0.5);
    expect(Array.from(copied!.scores(state).slice())).toEqual(
      Array.from(inPlace!.scores(state).slice()),
    );
    // a copy does not see later writes; the in-place pass does
    own[h] += 1;
    plain[h] += 1;
    expect(inPlace!.scores(state)[0]).not.toBe(copied!.scores(state)[0]);
    // `out` gets a copy of the scores
    const out = new Float32Array(n);
    expect(copied!.scores(state, out)).toBe(out);
    expect(RowDots.of(own, n + 1, h)).toBeNull(); // wrong shape: no pass
  });

  it('decodes a model file straight into the pass memory (f32 and i8), same scores', () => {
    const model = GruModel.create({ numItems: 300, hiddenSize: 16 }, { seed: 5 });
    for (const precision of ['f32', 'i8'] as const) {
      const back = deserializeGru(serializeGru(model, null, { precision }));
      const items = back.toArrays().items;
      expect(RowDots.of(items, 300, 16)?.reads(items)).toBe(true);
      const scorer = back.scorer();
      const state = scorer.initialState();
      scorer.step(state, 7);
      expect(Array.from(scorer.scoresFromState(state))).toEqual(
        Array.from(scorer.scoresFromStateJs(state, new Float32Array(300))),
      );
    }
  });

  it('falls back to the JS loop where WebAssembly SIMD does not validate or compiling is refused', () => {
    const noSimd = { ...WebAssembly, validate: () => false } as unknown as WasmApi;
    const refused = {
      ...WebAssembly,
      validate: () => true,
      Module: class {
        constructor() {
          // what a CSP without 'wasm-unsafe-eval' does
          throw new WebAssembly.CompileError('Wasm code generation disallowed by embedder');
        }
      },
    } as unknown as WasmApi;
    for (const api of [noSimd, refused]) {
      resetRowDotsModule();
      expect(rowDotsModule(api)).toBeNull();
      // cached: later callers get the JS loop too
      expect(itemRows(4, 2)).toBeInstanceOf(Float32Array);
      const model = GruModel.create({ numItems: 50, hiddenSize: 6 }, { seed: 1 });
      const scorer = model.scorer();
      expect(scorer.scoringPass).toBe('js');
      const state = scorer.initialState();
      scorer.step(state, 3);
      const s = scorer.scoresFromState(state);
      for (let k = 0; k < 50; k++) expect(s[k]).toBe(Math.fround(scorer.logit(state, k)));
    }
  });
});
