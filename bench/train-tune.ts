// Dev tool: train the GRU on the protocol's training data and evaluate on VALIDATION
// positions (never test). Usage: npx tsx bench/train-tune.ts '{"epochs":5}' ['{"hiddenSize":100}']
// DATA=file.csv reads another log (e.g. a `localrec synth` one) instead of MovieLens.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { evaluate } from '../src/eval/evaluate';
import { trainGru } from '../src/train/fit';
import { loadDataset } from './train-data';

const opts = JSON.parse(process.argv[2] ?? '{}');
const config = JSON.parse(process.argv[3] ?? '{}');
const split = (process.env.SPLIT ?? 'valid') as 'valid' | 'test';
await tf.setBackend(process.env.BACKEND ?? 'wasm');
await tf.ready();
const ds = loadDataset(process.env.DATA ?? 'data/movielens-small/ratings.csv.gz');
const every = Number(process.env.EVAL_EVERY ?? 0);
const r = await trainGru(
  ds.train,
  {
    ...opts,
    ...(every
      ? {
          validate: (s, epoch) => {
            if (epoch % every !== 0) return 0;
            const v = evaluate(s, ds, 'valid', { maxUsers: Number(process.env.EVAL_USERS ?? 1e9) });
            console.log(
              `  epoch ${epoch} valid NDCG@10 ${v.metrics['NDCG@10'].mean.toFixed(4)} HR@20 ${v.metrics['HR@20'].mean.toFixed(4)}`,
            );
            return epoch;
          },
        }
      : {}),
    onProgress: (p) => {
      if (p.epochEnd)
        console.log(
          `epoch ${p.epoch} loss ${p.loss.toFixed(4)} ev/s ${p.eventsPerSecond.toFixed(0)}`,
        );
    },
  },
  { config },
);
const scorer = r.model.scorer();
const v = evaluate(scorer, ds, split);
const m = v.metrics;
console.log(
  JSON.stringify({
    split,
    opts,
    config,
    evs: Math.round(r.eventsPerSecond),
    sec: r.seconds.toFixed(1),
    NDCG10: m['NDCG@10'].mean.toFixed(4),
    HR20: m['HR@20'].mean.toFixed(4),
    HR10: m['HR@10'].mean.toFixed(4),
    MRR20: m['MRR@20'].mean.toFixed(4),
    evalSec: v.seconds.toFixed(1),
  }),
);
r.model.dispose();
