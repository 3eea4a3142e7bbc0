// The classical baselines beside the GRU: the library's own classes (from the built
// module), fitted in the page on the other MovieLens users' histories (sessions.bin).
import type * as LocalRecModule from '../src/index';
import type { TrainingSequences } from './data';

export interface Baseline {
  key: string;
  label: string;
  /** What it was fitted on, for the column's caption. */
  fit: string;
  /** Top-k catalog ids after `prefix` (catalog indices, oldest first), without `exclude`. */
  top(prefix: Int32Array, k: number, exclude: ReadonlySet<string>): string[];
  fitMs: number;
}

export function fitBaselines(
  lib: typeof LocalRecModule,
  seqs: TrainingSequences,
  ids: readonly string[],
): Baseline[] {
  const fit = { items: seqs.items, offsets: seqs.offsets, numItems: seqs.numItems };
  const on = `fitted here on ${seqs.users} other users`;
  const specs: [string, string, () => LocalRecModule.Scorer][] = [
    ['sr+itemknn', 'SR + item-kNN', () => lib.fitSRItemKNN(fit)],
    ['sr', 'Sequential rules', () => lib.fitSR(fit)],
    ['itemknn', 'Item-kNN', () => lib.fitItemKNN(fit)],
    ['pop', 'Most popular', () => lib.fitMostPop(fit)],
  ];
  return specs.map(([key, label, make]) => {
    const t = performance.now();
    const scorer = make();
    const fitMs = performance.now() - t;
    return {
      key,
      label,
      fit: `${on} (${fitMs < 1 ? '<1' : Math.round(fitMs)} ms)`,
      fitMs,
      top(prefix, k, exclude) {
        const scores = scorer.scores(prefix);
        const order: number[] = [];
        for (let i = 0; i < scores.length; i++) {
          if (scores[i] > 0 && !exclude.has(ids[i])) order.push(i);
        }
        order.sort((a, b) => scores[b] - scores[a] || a - b);
        return order.slice(0, k).map((i) => ids[i]);
      },
    };
  });
}
