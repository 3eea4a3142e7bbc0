/**
 * Grid search on validation positions only (PROTOCOL.md step 9): every candidate is fit
 * on `data.train` and scored on the `valid` split; the test split is never touched.
 */
import type { Scorer, Sequences } from '../core/scorer';
import { evaluate } from './evaluate';
import type { MetricName } from './metrics';
import type { EvalDataset } from './protocol';

export type Params = Record<string, number>;

/** Every combination of a grid (keys in insertion order), merged over `base`. */
export function gridPoints(
  grid: Readonly<Record<string, readonly number[]>>,
  base: Params = {},
): Params[] {
  let points: Params[] = [{ ...base }];
  for (const [key, values] of Object.entries(grid)) {
    if (values.length === 0) continue;
    const next: Params[] = [];
    for (const p of points) for (const v of values) next.push({ ...p, [key]: v });
    points = next;
  }
  return points;
}

export interface TuneOptions {
  /** Metric to maximise; default NDCG@10. */
  metric?: MetricName;
  /** Fixed values the grid varies around (e.g. the defaults). */
  base?: Params;
  /** Called after each grid point. */
  onPoint?: (done: number, total: number, params: Params, value: number) => void;
}

export interface TuneResult {
  best: Params;
  bestValue: number;
  metric: MetricName;
  /** Every grid point with its validation value, in grid order. */
  points: { params: Params; value: number }[];
}

/**
 * Fit `create` at every grid point on the training part, score validation positions,
 * return the best point (first one on ties, so a grid listing defaults first keeps them).
 */
export async function tune(
  create: (fit: Sequences, params: Params) => Scorer | Promise<Scorer>,
  data: EvalDataset,
  grid: Readonly<Record<string, readonly number[]>>,
  options: TuneOptions = {},
): Promise<TuneResult> {
  const metric = options.metric ?? 'NDCG@10';
  const pts = gridPoints(grid, options.base);
  const points: TuneResult['points'] = [];
  let best = pts[0];
  let bestValue = Number.NEGATIVE_INFINITY;
  for (const params of pts) {
    const scorer = await create(data.train, params);
    const value = evaluate(scorer, data, 'valid').metrics[metric].mean;
    points.push({ params, value });
    if (value > bestValue) {
      bestValue = value;
      best = params;
    }
    options.onPoint?.(points.length, pts.length, params, value);
  }
  return { best, bestValue, metric, points };
}
