// Shared loader for the training benchmarks: MovieLens CSV(.gz) -> protocol dataset.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseInteractionsCsv } from '../src/eval/csv';
import { type EvalDataset, prepareDataset } from '../src/eval/protocol';

export function loadDataset(file: string, k = 5): EvalDataset {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return prepareDataset(parseInteractionsCsv(text), { k });
}
