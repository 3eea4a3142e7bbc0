// Fit and scoring time of each baseline on MovieLens (numbers, not pass/fail):
//   npx tsx bench/eval-speed.ts [k]
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { BASELINES, createBaseline } from '../src/baselines/registry';
import { parseInteractionsCsv } from '../src/eval/csv';
import { evaluate } from '../src/eval/evaluate';
import { prepareDataset } from '../src/eval/protocol';

const k = Number(process.argv[2] ?? 5);
let t = performance.now();
const text = gunzipSync(readFileSync('data/movielens-small/ratings.csv.gz')).toString('utf8');
const log = parseInteractionsCsv(text);
console.log(`read+parse ${(performance.now() - t).toFixed(0)} ms`);
t = performance.now();
const d = prepareDataset(log, { k });
console.log(`protocol ${(performance.now() - t).toFixed(0)} ms`);
for (const name of Object.keys(BASELINES)) {
  t = performance.now();
  const m = createBaseline(name, d.trainValid);
  const fit = performance.now() - t;
  t = performance.now();
  const r = evaluate(m, d, 'test');
  const ev = performance.now() - t;
  console.log(
    `${name.padEnd(11)} fit ${fit.toFixed(0).padStart(5)} ms  score ${ev.toFixed(0).padStart(5)} ms (${((ev * 1000) / r.n).toFixed(0)} µs/position)  NDCG@10 ${r.metrics['NDCG@10'].mean.toFixed(4)}`,
  );
}
