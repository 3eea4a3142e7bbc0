import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { generated } from '../../scripts/build-wasm.mjs';
import { Rng } from '../../src/model/rng';
import { SimdKernels, type SimdVariant, setSimdKernelsEnabled } from '../../src/model/simd';
import { PLAIN_SIMD } from '../../src/model/simd-kernels.gen';

// Node 20 validates relaxed SIMD only with this flag (on by default from V8 11.4)
setFlagsFromString('--experimental-wasm-relaxed-simd');

const rand = (n: number, rng: Rng, scale = 1) => rng.fillUniform(new Float32Array(n), scale);

describe('the WebAssembly SIMD kernels', () => {
  it('are what wasm/kernels.ts compiles to (scripts/build-wasm.mjs)', async () => {
    const { readFileSync } = await import('node:fs');
    const committed = readFileSync(
      new URL('../../src/model/simd-kernels.gen.ts', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(await generated());
  }, 60_000);

  for (const variant of ['relaxed-simd', 'simd'] as SimdVariant[]) {
    const k = SimdKernels.instantiate(variant);

    it(`${variant}: products equal plain JS ones for every block shape and tail`, async () => {
      expect(k).not.toBeNull();
      const rng = new Rng(3);
      // m: 4-row blocks and 1-3 leftover rows; n: 8- and 4-column blocks and 1-3 leftover
      for (const [m, kk, n] of [
        [1, 1, 1],
        [3, 7, 5],
        [4, 3, 8],
        [6, 17, 13],
        [13, 101, 129],
        [300, 100, 128],
        [128, 256, 101],
      ]) {
        const a = rand(m * kk, rng);
        const b = rand(kk * n, rng);
        const got = k!.matMul(a, m, kk, b, n);
        expect(got.length).toBe(m * n);
        // against float64 sums, within the error bound of float32 recursive summation
        // (k·2⁻²⁴·Σ|a·b| per element, plus the final rounding)
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let exact = 0;
            let mag = 0;
            for (let p = 0; p < kk; p++) {
              exact += a[i * kk + p] * b[p * n + j];
              mag += Math.abs(a[i * kk + p] * b[p * n + j]);
            }
            const bound = (kk + 1) * 2 ** -24 * mag;
            expect(
              Math.abs(got[i * n + j] - exact),
              `${m}x${kk}x${n} [${i}, ${j}]`,
            ).toBeLessThanOrEqual(bound);
          }
        }
      }
    });

    it(`${variant}: gate activations are σ and tanh to float32 precision, tails included`, () => {
      const rng = new Rng(5);
      for (const cols of [1, 3, 4, 7, 128]) {
        const rows = 5;
        const a = rand(rows * cols, rng, 30);
        const c = rand(rows * cols, rng, 2);
        const bias = rand(rows, rng, 1);
        for (const tanh of [false, true]) {
          const got = k!.gate(a, c, bias, rows, cols, tanh);
          for (let r = 0; r < rows; r++) {
            for (let i = 0; i < cols; i++) {
              // the argument as the kernel forms it, in float32
              const v = Math.fround(Math.fround(a[r * cols + i] + c[r * cols + i]) + bias[r]);
              const want = tanh ? Math.tanh(v) : 1 / (1 + Math.exp(-v));
              const err = Math.abs(got[r * cols + i] - want);
              // σ relative to its value (it spans 1e-13..1), tanh absolute
              expect(tanh ? err : err / want, `${tanh ? 'tanh' : 'σ'}(${v})`).toBeLessThan(1.5e-6);
            }
          }
        }
      }
    });

    it(`${variant}: column softmax with logQ equals float64, masked scores give exactly 0`, () => {
      const rng = new Rng(7);
      for (const cols of [1, 2, 3, 4, 5, 9, 128]) {
        const m = 23;
        const s = rand(m * cols, rng, 8);
        s[5 * cols + (cols - 1)] = -1e9; // a masked score in the last column
        const logQ = rand(m, rng, 3);
        for (const q of [null, logQ]) {
          const got = k!.softmaxCols(s, q, m, cols);
          for (let b = 0; b < cols; b++) {
            const z = Array.from({ length: m }, (_, j) => s[j * cols + b] - (q ? q[j] : 0));
            const mx = Math.max(...z);
            const sum = z.reduce((acc, v) => acc + Math.exp(v - mx), 0);
            for (let j = 0; j < m; j++) {
              const want = Math.exp(z[j] - mx) / sum;
              const g = got[j * cols + b];
              if (want === 0 || z[j] < -1e8) expect(g).toBe(0);
              else expect(Math.abs(g - want) / want, `col ${b} row ${j}`).toBeLessThan(2e-6);
            }
          }
        }
      }
    });
  }

  it('are null where WebAssembly SIMD does not validate, and when turned off', () => {
    const noSimd = { ...WebAssembly, validate: () => false } as typeof WebAssembly;
    expect(SimdKernels.get(noSimd)).toBeNull();
    const refused = {
      ...WebAssembly,
      Module: () => {
        throw new WebAssembly.CompileError("Refused: 'wasm-unsafe-eval' is not allowed");
      },
    } as unknown as typeof WebAssembly;
    expect(SimdKernels.get(refused)).toBeNull();
    expect(SimdKernels.get()).not.toBeNull();
    setSimdKernelsEnabled(false);
    try {
      expect(SimdKernels.get()).toBeNull();
    } finally {
      setSimdKernelsEnabled(true);
    }
    // the plain variant is the module every SIMD runtime accepts
    expect(WebAssembly.validate(Uint8Array.from(atob(PLAIN_SIMD), (ch) => ch.charCodeAt(0)))).toBe(
      true,
    );
  });
});
