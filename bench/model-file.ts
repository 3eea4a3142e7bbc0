// Model file encodings (f32 / f16 / i8) at catalogue scale, in Node: file size, the
// population section's size for the same catalogue, load time (readModelFile: checksum,
// header, dequantize into float32), and the scoring pass over the dequantized rows (what
// the worker does with every file).
//
// A synthetic model (GruModel.create: random Glorot weights, ids "0".."N-1"): sizes and
// times do not depend on what the weights are. Accuracy is measured on real data with
// `localrec eval --model f32.bin,f16.bin,i8.bin` (docs/MODEL.md, "Compact weights").
//
// Usage: npx tsx bench/model-file.ts [--items 3496,100000] [--hidden 64] [--runs 7]
// Prints numbers; not a pass/fail test.
import { GruModel } from '../src/model/model';
import { readModelFile, serializeGru, type WeightPrecision } from '../src/model/serialize';

function benchArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const catalogues = benchArg('--items', '3496,100000').split(',').map(Number);
const hidden = Number(benchArg('--hidden', '64'));
const runs = Number(benchArg('--runs', '7'));
const PRECISIONS: WeightPrecision[] = ['f32', 'f16', 'i8'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const ms = (t: number) => `${t.toFixed(1)} ms`;

/** Bytes of the population section `localrec pretrain` writes (20 SR, 50 kNN per item). */
function populationBytes(n: number, sr = 20, knn = 50): number {
  const pad4 = (x: number) => Math.ceil(x / 4) * 4;
  const idBytes = n <= 0xffff ? 2 : 4;
  const lists = (w: number) => pad4(idBytes * n * w) + pad4(2 * n * w);
  return 4 * n + lists(sr) + lists(knn);
}

for (const n of catalogues) {
  const model = GruModel.create(
    { numItems: n, hiddenSize: hidden },
    { seed: 1, vocab: Array.from({ length: n }, (_, i) => String(i)) },
  );
  const vocabBytes = new TextEncoder().encode(JSON.stringify(model.vocab)).length;
  console.log(
    `\n${n.toLocaleString('en-US')} items, hidden ${hidden} (vocabulary in the header: ${mb(vocabBytes)}; a population section of 20 SR + 50 kNN per item would add ${mb(populationBytes(n))})`,
  );
  console.log('| precision | file | item matrix | readModelFile median (min) |');
  console.log('|---|---:|---:|---:|');
  const f32Bytes = serializeGru(model).byteLength;
  const itemBytes32 = 4 * n * (hidden + 1);
  for (const precision of PRECISIONS) {
    const buf = serializeGru(model, null, { precision });
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      readModelFile(buf).model.dispose();
      times.push(performance.now() - t);
    }
    const items = itemBytes32 - (f32Bytes - buf.byteLength);
    console.log(
      `| ${precision} | ${mb(buf.byteLength)} | ${mb(items)} | ${ms(median(times))} (${ms(Math.min(...times))}) |`,
    );
  }
  // Scoring every item from one state over the dequantized float32 rows (what the worker
  // does with any file; scoring straight from int8 rows measured slower: 3.4 vs 2.8 ms at
  // 100k items, H 64, once the float32 pass was unrolled).
  const { model: deq } = readModelFile(serializeGru(model, null, { precision: 'i8' }));
  const scorer = deq.scorer();
  const state = Float32Array.from({ length: hidden }, (_, j) => Math.tanh(Math.sin(j)));
  const out = new Float32Array(n);
  const t32: number[] = [];
  for (let r = 0; r < 3 * runs; r++) {
    const t = performance.now();
    scorer.scoresFromState(state, out);
    t32.push(performance.now() - t);
  }
  console.log(
    `scores of all items from one state (float32 rows): ${ms(median(t32))} (median of ${3 * runs})`,
  );
  deq.dispose();
  model.dispose();
}
