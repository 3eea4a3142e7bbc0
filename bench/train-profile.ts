// Where a training step's time goes (JS prep / device forward / JS loss / device backward / JS update).
// npx tsx bench/train-profile.ts '{"batchSize":64,"negatives":512}' [steps]

import { GruModel } from '../src/model/model';
import { Rng } from '../src/model/rng';
import { ensureNodeBackend } from '../src/train/backend-node';
import { sessionParallelSteps } from '../src/train/batcher';
import { resolveTrainOptions } from '../src/train/options';
import { NegativeSampler } from '../src/train/sampler';
import { StepRunner } from '../src/train/step';
import { loadDataset } from './train-data';

const o = resolveTrainOptions(JSON.parse(process.argv[2] ?? '{}'));
const steps = Number(process.argv[3] ?? 300);
const hidden = Number(process.env.HIDDEN ?? 100);
console.log('backend', await ensureNodeBackend());
const ds = loadDataset('data/movielens-small/ratings.csv.gz');
const m = GruModel.create({ numItems: ds.numItems, hiddenSize: hidden });
const counts = new Float64Array(ds.numItems);
for (const v of ds.train.items) counts[v]++;
const sampler = new NegativeSampler(counts, o.sampleAlpha, new Rng(1));
const runner = new StepRunner(m.config, m.toArrays(), o, null);
let k = 0;
let ev = 0;
let t0 = 0;
for (const b of sessionParallelSteps(ds.train, o.batchSize)) {
  if (k === 20) {
    t0 = performance.now();
    ev = 0;
    Object.assign(runner.timing, { prep: 0, compute: 0, update: 0, products: 0, loss: 0 });
  }
  await runner.step(b, o.negatives ? sampler.next(o.negatives) : null);
  ev += b.inputs.length;
  if (++k >= steps + 20) break;
}
await runner.takeLoss(); // (the resident kernel: waits for its queued steps)
const ms = performance.now() - t0;
const per = (v: number) => (v / steps).toFixed(2);
console.log(
  JSON.stringify(o.batchSize),
  'neg',
  o.negatives,
  'ms/step',
  per(ms),
  'ev/s',
  Math.round((ev / ms) * 1000),
  Object.entries(runner.timing)
    .map(([k, v]) => `${k} ${per(v)}`)
    .join(' '),
);
runner.dispose();
