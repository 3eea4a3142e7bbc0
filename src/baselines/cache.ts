/**
 * Optional memo of fit products (co-occurrence counts, sequential rules) keyed by the
 * fit data object, so a grid search refits ItemKNN over shrink × L, or the mix over
 * alpha, without recounting. Pass one to the baselines only where that reuse is wanted:
 * a cached fit reports a misleadingly small fit time, and the cache keeps its products
 * alive as long as the `Sequences` object lives (WeakMap).
 */
import type { Sequences } from '../core/scorer';

export class FitCache {
  private readonly store = new WeakMap<Sequences, Map<string, unknown>>();

  get<T>(fit: Sequences, key: string, make: () => T): T {
    let m = this.store.get(fit);
    if (!m) {
      m = new Map();
      this.store.set(fit, m);
    }
    if (!m.has(key)) m.set(key, make());
    return m.get(key) as T;
  }
}
