import { describe, expect, it } from 'vitest';
import { meanSE, metricsFromRanks, pairedDifference } from '../../src/eval/metrics';

describe('paired difference of two models on the same positions', () => {
  it('is the mean per-position difference with its own (small) standard error', () => {
    // position difficulty varies a lot; A is one rank better than B everywhere
    const b = Int32Array.from({ length: 400 }, (_, j) => 1 + (j % 12));
    const a = b.map((r) => Math.max(1, r - 1));
    const d = pairedDifference('NDCG@10', a, b);
    const ma = metricsFromRanks(a)['NDCG@10'];
    const mb = metricsFromRanks(b)['NDCG@10'];
    expect(d.mean).toBeCloseTo(ma.mean - mb.mean, 12);
    expect(d.mean).toBeGreaterThan(0);
    // the per-model SEs are dominated by position difficulty; the paired one is not
    expect(d.se).toBeLessThan(Math.min(ma.se, mb.se) / 2);
    const manual = meanSE(
      Array.from(a, (r, j) => {
        const v = (x: number) => (x <= 10 ? 1 / Math.log2(x + 1) : 0);
        return v(r) - v(b[j]);
      }),
    );
    expect(d.se).toBeCloseTo(manual.se, 12);
  });

  it('refuses ranks of different positions', () => {
    expect(() => pairedDifference('HR@10', new Int32Array(3), new Int32Array(4))).toThrow(
      RangeError,
    );
  });
});
