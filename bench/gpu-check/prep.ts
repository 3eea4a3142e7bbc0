// Part of bench/gpu-check (see its README.md); not copied: bench/gpu-check/pack.sh runs it here.
// Precomputes what bench/train-browser.ts builds in Node (the protocol training data and the
// train settings) into .gpu/site/data.json.gz, so a page can train without Node.
// Run from the repo root: npx tsx bench/gpu-check/prep.ts [OUT_FILE] (default .gpu/site/data.json.gz)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { gruParams, loadProtocolData, settingsText } from '../../cli/commands/bench';
import { processIO } from '../../cli/io';
import { trainOptionsFrom } from '../../src/train/eval-factory';
import { kernelFor } from '../../src/train/kernels/select';
import { DEFAULT_TRAIN_OPTIONS } from '../../src/train/options';
import { BACKEND_NAMES } from '../../src/worker/protocol';

const target = process.argv[2] ?? '.gpu/site/data.json.gz';
const params = gruParams(undefined);
params.epochs = 1;
const options: Record<string, number | string | boolean> = {};
for (const [k, v] of Object.entries(trainOptionsFrom(params))) {
  if (v !== undefined) options[k] = v as number | string | boolean;
}
options.tail = DEFAULT_TRAIN_OPTIONS.tail;
const model = {
  hiddenSize: params.hiddenSize,
  embedding: params.separate === 1 ? 'separate' : 'tied',
  embeddingSize: params.hiddenSize,
};
const data = loadProtocolData('data/movielens-small/ratings.csv.gz', processIO());
const fit = data.train;
const out = {
  settings: settingsText(params),
  syncEvery: DEFAULT_TRAIN_OPTIONS.syncEvery,
  defaultEngine: DEFAULT_TRAIN_OPTIONS.engine,
  // the step kernel of each backend, from the one place that decides it
  kernels: Object.fromEntries(BACKEND_NAMES.map((b) => [b, kernelFor(b)])),
  options,
  model,
  numItems: data.numItems,
  events: fit.items.length,
  sessions: fit.offsets.length - 1,
  items: Array.from(fit.items),
  offsets: Array.from(fit.offsets),
  itemIds: Array.from(data.itemIds, (id) => String(id)),
};
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, gzipSync(JSON.stringify(out), { level: 9 }));
console.log(
  `wrote ${target}: ${out.sessions} sequences, ${out.events} events, ${out.numItems} items; ${out.settings}; options ${JSON.stringify(options)}; model ${JSON.stringify(model)}`,
);
