import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { generated } from '../../scripts/build-wasm.mjs';
import { StepBuffers } from '../../src/model/buffers';
import { OptimizedArray } from '../../src/model/optimizer';
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

  it('draw dropout masks bit for bit as the JS generator does, and leave it where it would be', () => {
    const k = SimdKernels.get()!;
    for (const [n, p] of [
      [1, 0.3],
      [7, 0.5],
      [12_800, 0.3],
      [1001, 0.1],
    ] as const) {
      const a = new Rng(42);
      const b = new Rng(42);
      const got = k.dropoutMask(a, n, p);
      const want = b.fillDropoutMask(new Float32Array(n), p);
      expect(Array.from(got), `n ${n} p ${p}`).toEqual(Array.from(want));
      expect(a.next()).toBe(b.next());
    }
  });

  it('update resident weights with Adagrad as the JS optimiser does (dense and rows, with and without momentum)', () => {
    const k = SimdKernels.get()!;
    for (const momentum of [0, 0.3]) {
      const hp = {
        kind: 'adagrad' as const,
        lr: 0.05,
        momentum,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-6,
      };
      const rng = new Rng(9);
      const width = 7; // rows that are not a multiple of four floats
      const init = rand(11 * width, rng, 0.5);
      const store = k.store(3 * init.length, 64)!;
      const w = store.alloc(init.length);
      w.set(init);
      const resident = new OptimizedArray(w, width, hp, store);
      const js = new OptimizedArray(init.slice(), width, hp);
      expect(store.holds(resident.s1)).toBe(true);
      for (let step = 1; step <= 5; step++) {
        const g = rand(init.length, rng, 1);
        resident.dense(g, step);
        js.dense(g, step);
        const ids = Int32Array.from([3, 0, 10]);
        const gr = rand(ids.length * width, rng, 1);
        resident.rows(ids, gr, step);
        js.rows(ids, gr, step);
      }
      // float32 against float64 arithmetic: a few float32 rounding steps apart
      let err = 0;
      for (let i = 0; i < w.length; i++) err = Math.max(err, Math.abs(w[i] - js.w[i]));
      expect(err, `momentum ${momentum}`).toBeLessThan(1e-6);
      expect(Math.max(...w.map((v, i) => Math.abs(v - init[i])))).toBeGreaterThan(0.01);
      // a gradient larger than the staging area is refused (the JS loop then runs)
      expect(
        store.adagrad(w, resident.s1, resident.s2, new Float32Array(65), 0.05, momentum, 1e-6),
      ).toBe(false);
    }
  });

  it('gather item rows from the store (any width, any take), refusing what does not fit', () => {
    const k = SimdKernels.get()!;
    const rng = new Rng(4);
    const store = k.store(9 * 7, 40)!;
    const m = store.alloc(9 * 7);
    m.set(rand(9 * 7, rng));
    const ids = Int32Array.from([8, 0, 3, 3]);
    for (const take of [7, 5, 1]) {
      const got = store.gatherRows(m, 7, take, ids)!;
      const want = Array.from(ids).flatMap((id) => Array.from(m.subarray(id * 7, id * 7 + take)));
      expect(Array.from(got)).toEqual(want);
    }
    expect(store.gatherRows(m, 7, 7, Int32Array.from([1, 2, 3, 4, 5, 6]))).toBeNull();
  });

  it('write their results into step buffers when given (one reused ArrayBuffer)', () => {
    const k = SimdKernels.get()!;
    const buf = new StepBuffers(1024);
    const a = Float32Array.from([1, 2, 3, 4]);
    const b = Float32Array.from([5, 6, 7, 8]);
    const p1 = k.matMul(a, 2, 2, b, 2, buf);
    const p2 = k.matMul(a, 2, 2, b, 2, buf);
    expect(Array.from(p1)).toEqual([19, 22, 43, 50]);
    expect(p1.buffer).toBe(p2.buffer);
    expect(p2.byteOffset).toBeGreaterThanOrEqual(p1.byteOffset + p1.byteLength);
    buf.reset();
    const p3 = k.matMul(a, 2, 2, b, 2, buf);
    expect(p3.byteOffset).toBe(p1.byteOffset);
  });

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
