// Top-20 from a kept hidden state: the scoring pass over every item (`[h, 1] · itemsᵀ`)
// then the top-k, as the worker runs it for recommend(). Prints one JSON line per pass
// (the WebAssembly SIMD pass the product uses where it can, and the JS loop it falls back
// to). Random weights: the cost does not depend on their values.
//
//   npx tsx bench/score.ts [--items 3496] [--hidden 100] [--reps 3000]
// Side by side with PyTorch's `h·Wᵀ + b` then topk: sh bench/score-vs-torch.sh
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/core/rng';
import { GruJsScorer, topKOf } from '../src/model/js-scorer';
import { GruModel } from '../src/model/model';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '3496' },
    hidden: { type: 'string', default: '100' },
    reps: { type: 'string', default: '3000' },
  },
});
const n = Number(values.items);
const h = Number(values.hidden);
const reps = Number(values.reps);
const model = GruModel.create({ numItems: n, hiddenSize: h }, { seed: 1 });
const scorer = new GruJsScorer(model.config, model.toArrays());
const r = mulberry32(2);
const state = new Float32Array(h);
for (let j = 0; j < h; j++) state[j] = r() - 0.5;
const exclude = Int32Array.from({ length: 10 }, (_, i) => i * 7);
const own = new Float32Array(n);

function median(f: () => void): { median: number; p95: number } {
  for (let i = 0; i < 100; i++) f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  const q = (p: number) => Number(t[Math.min(t.length - 1, Math.floor(p * t.length))].toFixed(4));
  return { median: q(0.5), p95: q(0.95) };
}

for (const pass of [scorer.scoringPass, 'js'] as const) {
  const run =
    pass === 'js'
      ? () => topKOf(scorer.scoresFromStateJs(state, own), 20, exclude)
      : () => topKOf(scorer.scoresFromState(state), 20, exclude);
  console.log(
    JSON.stringify({ system: 'localrec', pass, items: n, hidden: h, top20Ms: median(run) }),
  );
}
