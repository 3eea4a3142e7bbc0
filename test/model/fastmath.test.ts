import { describe, expect, it } from 'vitest';
import { fastExp, fastSigmoid, fastTanh } from '../../src/model/fastmath';
import { Rng } from '../../src/model/rng';

describe('fastExp / fastSigmoid / fastTanh', () => {
  const rng = new Rng(3);
  const draws = Array.from({ length: 200_000 }, () => (rng.next() - 0.5) * 60);

  it('e^x to a relative 1e-8 over [-30, 30], exact at 0', () => {
    let worst = 0;
    for (const x of draws)
      worst = Math.max(worst, Math.abs(fastExp(x) - Math.exp(x)) / Math.exp(x));
    expect(worst).toBeLessThan(1e-8);
    expect(fastExp(0)).toBe(1);
    expect(Math.abs(fastExp(1) - Math.E) / Math.E).toBeLessThan(1e-8);
  });

  it('NaN, infinities and the extremes as Math.exp', () => {
    expect(fastExp(Number.NaN)).toBeNaN();
    expect(fastExp(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(fastExp(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(fastExp(800)).toBe(Number.POSITIVE_INFINITY);
    expect(fastExp(-800)).toBe(0);
    expect(Math.abs(fastExp(699) / Math.exp(699) - 1)).toBeLessThan(1e-8); // table end
    expect(Math.abs(fastExp(-699) / Math.exp(-699) - 1)).toBeLessThan(1e-8);
    expect(fastTanh(Number.NaN)).toBeNaN();
    expect(fastSigmoid(Number.NaN)).toBeNaN();
  });

  it('σ and tanh within one float32 step of the exact values, saturating at the ends', () => {
    const ulp = 2 ** -23;
    for (const v of draws) {
      expect(
        Math.abs(Math.fround(fastSigmoid(v)) - Math.fround(1 / (1 + Math.exp(-v)))),
      ).toBeLessThanOrEqual(ulp);
      expect(Math.abs(Math.fround(fastTanh(v)) - Math.fround(Math.tanh(v)))).toBeLessThanOrEqual(
        ulp,
      );
    }
    expect(fastTanh(50)).toBe(1);
    expect(fastTanh(-50)).toBe(-1);
    expect(fastTanh(1e-3)).toBeCloseTo(Math.tanh(1e-3), 15);
    expect(fastSigmoid(-1000)).toBe(0);
    expect(fastSigmoid(1000)).toBe(1);
  });
});
