/**
 * Rank -> metric maps of PROTOCOL.md step 8 and their means with standard errors.
 *
 * Standard error = sample std (divide by n - 1, numpy `std(ddof=1)`) / sqrt(n). That is
 * what REFERENCE.md's harness uses: at k = 1 (n = 671) the population std gives 0.0119
 * where REFERENCE.md prints 0.0120 (SR HR@10), the sample std gives 0.0120.
 */

export const METRICS = ['HR@10', 'HR@20', 'MRR@20', 'NDCG@10'] as const;
export type MetricName = (typeof METRICS)[number];

export interface MeanSE {
  mean: number;
  se: number;
}

export type MetricTable = Record<MetricName, MeanSE>;

/** Value of one metric for a 1-based rank. */
export function metricValue(metric: MetricName, rank: number): number {
  switch (metric) {
    case 'HR@10':
      return rank <= 10 ? 1 : 0;
    case 'HR@20':
      return rank <= 20 ? 1 : 0;
    case 'MRR@20':
      return rank <= 20 ? 1 / rank : 0;
    case 'NDCG@10':
      return rank <= 10 ? 1 / Math.log2(rank + 1) : 0;
  }
}

/** Mean and standard error (sample std / sqrt(n)); n = 0 gives NaN, n = 1 an SE of 0. */
export function meanSE(values: ArrayLike<number>): MeanSE {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, se: Number.NaN };
  let sum = 0;
  for (let j = 0; j < n; j++) sum += values[j];
  const mean = sum / n;
  let ss = 0;
  for (let j = 0; j < n; j++) {
    const d = values[j] - mean;
    ss += d * d;
  }
  return { mean, se: n > 1 ? Math.sqrt(ss / (n - 1)) / Math.sqrt(n) : 0 };
}

/** All metrics of PROTOCOL.md from the ranks of the evaluated positions. */
export function metricsFromRanks(ranks: ArrayLike<number>): MetricTable {
  const values = new Float64Array(ranks.length);
  const out = {} as MetricTable;
  for (const m of METRICS) {
    for (let j = 0; j < ranks.length; j++) values[j] = metricValue(m, ranks[j]);
    out[m] = meanSE(values);
  }
  return out;
}

/**
 * Paired difference of two models scored on the same positions: mean of
 * `metric(ranksA[j]) − metric(ranksB[j])` with its standard error. Because both models
 * meet the same (hard and easy) positions, this SE is much smaller than either model's
 * own SE, and it is the right yardstick for "A beats B" on one test set.
 */
export function pairedDifference(
  metric: MetricName,
  ranksA: ArrayLike<number>,
  ranksB: ArrayLike<number>,
): MeanSE {
  if (ranksA.length !== ranksB.length) {
    throw new RangeError(`paired ranks differ in length (${ranksA.length} vs ${ranksB.length})`);
  }
  const d = new Float64Array(ranksA.length);
  for (let j = 0; j < d.length; j++)
    d[j] = metricValue(metric, ranksA[j]) - metricValue(metric, ranksB[j]);
  return meanSE(d);
}
