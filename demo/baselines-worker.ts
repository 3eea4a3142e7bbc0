// The demo's classical baselines, fitted and queried in a worker of their own: fitting
// them on 650 users' histories takes about a second of CPU (four on a phone), which on
// the page's main thread froze the grid and delayed the library's own worker.
import type * as LocalRecEval from '../src/eval-entry';
import type { BaselineFit, BaselineRequest, BaselineResponse } from './baselines';

type Scorer = LocalRecEval.Scorer;
let scorers: { key: string; scorer: Scorer }[] = [];
let ids: readonly string[] = [];

function top(
  scorer: Scorer,
  prefix: Int32Array,
  k: number,
  exclude: ReadonlySet<string>,
): string[] {
  const scores = scorer.scores(prefix);
  const order: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] > 0 && !exclude.has(ids[i])) order.push(i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order.slice(0, k).map((i) => ids[i]);
}

self.onmessage = async (event: MessageEvent<BaselineRequest>) => {
  const msg = event.data;
  let reply: BaselineResponse;
  try {
    if (msg.type === 'fit') {
      const lib = (await import(/* @vite-ignore */ msg.libUrl)) as typeof LocalRecEval;
      const fit = { items: msg.items, offsets: msg.offsets, numItems: msg.numItems };
      ids = msg.ids;
      // SR and item-kNN are fitted once; the mix reuses both fits through the cache.
      const cache = new lib.FitCache();
      const timed = (key: string, make: () => Scorer): BaselineFit & { scorer: Scorer } => {
        const t = performance.now();
        const scorer = make();
        return { key, scorer, fitMs: performance.now() - t };
      };
      const fits = [
        timed('sr+itemknn', () => lib.fitSRItemKNN(fit, {}, cache)),
        timed('sr', () => lib.fitSR(fit, {}, cache)),
        timed('itemknn', () => lib.fitItemKNN(fit, {}, cache)),
        timed('pop', () => lib.fitMostPop(fit)),
      ];
      scorers = fits.map(({ key, scorer }) => ({ key, scorer }));
      reply = { type: 'fitted', id: msg.id, fits: fits.map(({ key, fitMs }) => ({ key, fitMs })) };
    } else {
      const exclude = new Set(msg.exclude);
      reply = {
        type: 'top',
        id: msg.id,
        lists: scorers.map(({ key, scorer }) => [key, top(scorer, msg.prefix, msg.k, exclude)]),
      };
    }
  } catch (error) {
    reply = { type: 'error', id: msg.id, message: String((error as Error)?.message ?? error) };
  }
  (self as unknown as Worker).postMessage(reply);
};
