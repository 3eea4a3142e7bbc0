/**
 * The baselines by name, with the REFERENCE.md settings as defaults and a small
 * validation grid each (for `tune` in src/eval). `createBaseline('sr', fit, { w: 5 })`.
 */

import { LocalRecError } from '../core/errors';
import type { Sequences } from '../core/scorer';
import type { FitCache } from './cache';
import { ITEMKNN_DEFAULTS, ItemKNN } from './itemknn';
import { SR_ITEMKNN_DEFAULTS, SRItemKNN } from './mix';
import { MostPop } from './pop';
import type { BaselineScorer } from './scorer-base';
import { SKNN, SKNN_DEFAULTS, VSKNN, VSKNN_DEFAULTS } from './sknn';
import { SequentialRules, SR_DEFAULTS } from './sr';

export type BaselineName = 'pop' | 'sr' | 'itemknn' | 'sknn' | 'vsknn' | 'sr+itemknn';

export interface BaselineSpec {
  name: BaselineName;
  /** Human name for tables. */
  label: string;
  /** REFERENCE.md settings (ml-small-last5). */
  defaults: Readonly<Record<string, number>>;
  /** Values tried by `--tune` (on validation positions only). */
  grid: Readonly<Record<string, readonly number[]>>;
  /** `cache` lets repeated fits on the same data share counts (grid search). */
  fit(fit: Sequences, params?: Record<string, number>, cache?: FitCache): BaselineScorer;
}

export const BASELINES: Readonly<Record<BaselineName, BaselineSpec>> = {
  pop: {
    name: 'pop',
    label: 'MostPop',
    defaults: {},
    grid: {},
    fit: (fit) => new MostPop(fit),
  },
  sr: {
    name: 'sr',
    label: 'SR',
    defaults: { ...SR_DEFAULTS },
    grid: { w: [1, 2, 5, 10, 20, 50] },
    fit: (fit, p = {}, cache) => new SequentialRules(fit, p, cache),
  },
  itemknn: {
    name: 'itemknn',
    label: 'ItemKNN',
    defaults: { ...ITEMKNN_DEFAULTS },
    grid: { shrink: [0, 5, 20], L: [1, 5, 10, 20] },
    fit: (fit, p = {}, cache) => new ItemKNN(fit, p, cache),
  },
  sknn: {
    name: 'sknn',
    label: 'SKNN',
    defaults: { ...SKNN_DEFAULTS },
    grid: { k: [10, 20, 50, 100, 200] },
    fit: (fit, p = {}) => new SKNN(fit, p),
  },
  vsknn: {
    name: 'vsknn',
    label: 'V-SKNN',
    defaults: { ...VSKNN_DEFAULTS },
    grid: { k: [20, 50, 100, 200] },
    fit: (fit, p = {}) => new VSKNN(fit, p),
  },
  'sr+itemknn': {
    name: 'sr+itemknn',
    label: 'SR+ItemKNN',
    defaults: { ...SR_ITEMKNN_DEFAULTS },
    grid: { alpha: [0, 0.1, 0.2, 0.3, 0.5, 1] },
    fit: (fit, p = {}, cache) => new SRItemKNN(fit, p, cache),
  },
};

export function isBaselineName(name: string): name is BaselineName {
  return Object.hasOwn(BASELINES, name);
}

/** Fit a baseline by name; unknown names and bad params throw INVALID_INPUT. */
export function createBaseline(
  name: string,
  fit: Sequences,
  params: Record<string, number> = {},
  cache?: FitCache,
): BaselineScorer {
  if (!isBaselineName(name)) {
    throw new LocalRecError(
      'INVALID_INPUT',
      `unknown baseline '${name}' (known: ${Object.keys(BASELINES).join(', ')})`,
    );
  }
  const spec = BASELINES[name];
  for (const key of Object.keys(params)) {
    if (!Object.hasOwn(spec.defaults, key)) {
      throw new LocalRecError(
        'INVALID_INPUT',
        `${name} has no parameter '${key}' (parameters: ${Object.keys(spec.defaults).join(', ') || 'none'})`,
      );
    }
  }
  return spec.fit(fit, { ...spec.defaults, ...params }, cache);
}
