// Loads data/movielens-small/ratings.csv.gz once per test file, through the same CSV
// reader and protocol the CLI uses, and holds REFERENCE.md's numbers (copied from
// shared/eval/REFERENCE.md: the independent numpy harness).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseInteractionsCsv } from '../../src/eval/csv';
import { type EvalDataset, prepareDataset } from '../../src/eval/protocol';

let log: ReturnType<typeof parseInteractionsCsv> | undefined;
const datasets = new Map<number, EvalDataset>();

/** The protocol's dataset for k (memoised: the same object on every call). */
export function movielens(k: number): EvalDataset {
  if (!log) {
    const file = resolve(__dirname, '../../data/movielens-small/ratings.csv.gz');
    log = parseInteractionsCsv(gunzipSync(readFileSync(file)).toString('utf8'));
  }
  let d = datasets.get(k);
  if (!d) {
    d = prepareDataset(log, { k });
    datasets.set(k, d);
  }
  return d;
}

/** [HR@10, HR@20, MRR@20, NDCG@10] as "mean ± se" strings, from REFERENCE.md. */
export const REFERENCE: Record<string, string[]> = {
  'k5 pop refit': ['0.0423 ± 0.0035', '0.0677 ± 0.0043', '0.0161 ± 0.0016', '0.0210 ± 0.0019'],
  'k5 pop train': ['0.0411 ± 0.0034', '0.0662 ± 0.0043', '0.0160 ± 0.0016', '0.0206 ± 0.0019'],
  'k5 sr refit': ['0.1106 ± 0.0054', '0.1577 ± 0.0063', '0.0507 ± 0.0030', '0.0621 ± 0.0034'],
  'k5 sr train': ['0.1097 ± 0.0054', '0.1538 ± 0.0062', '0.0497 ± 0.0030', '0.0612 ± 0.0034'],
  'k5 itemknn refit': ['0.1240 ± 0.0057', '0.1833 ± 0.0067', '0.0525 ± 0.0030', '0.0659 ± 0.0034'],
  'k5 itemknn train': ['0.1240 ± 0.0057', '0.1854 ± 0.0067', '0.0515 ± 0.0029', '0.0650 ± 0.0034'],
  'k5 sknn refit': ['0.0790 ± 0.0047', '0.1344 ± 0.0059', '0.0299 ± 0.0021', '0.0383 ± 0.0025'],
  'k5 vsknn refit': ['0.0766 ± 0.0046', '0.1264 ± 0.0057', '0.0294 ± 0.0021', '0.0376 ± 0.0025'],
  'k5 sr+itemknn refit': [
    '0.1401 ± 0.0060',
    '0.2036 ± 0.0070',
    '0.0630 ± 0.0033',
    '0.0775 ± 0.0037',
  ],
  'k5 sr+itemknn train': [
    '0.1377 ± 0.0060',
    '0.2042 ± 0.0070',
    '0.0627 ± 0.0033',
    '0.0766 ± 0.0037',
  ],
  'k1 pop refit': ['0.0462 ± 0.0081', '0.0700 ± 0.0099', '0.0154 ± 0.0033', '0.0213 ± 0.0041'],
  'k1 sr refit': ['0.1073 ± 0.0120', '0.1490 ± 0.0138', '0.0477 ± 0.0065', '0.0593 ± 0.0074'],
  'k1 itemknn refit': ['0.1192 ± 0.0125', '0.1624 ± 0.0143', '0.0518 ± 0.0070', '0.0649 ± 0.0078'],
  'k1 sr+itemknn refit': [
    '0.1207 ± 0.0126',
    '0.1788 ± 0.0148',
    '0.0571 ± 0.0072',
    '0.0688 ± 0.0080',
  ],
};

/** REFERENCE.md settings per row. */
export const SETTINGS: Record<string, Record<string, number>> = {
  'k5 sr': { w: 20 },
  'k5 itemknn': { shrink: 0, L: 10 },
  'k5 sknn': { k: 20 },
  'k5 vsknn': { k: 50 },
  'k5 sr+itemknn': { alpha: 0.2, w: 20, shrink: 0, L: 10 },
  'k1 sr': { w: 5 },
  'k1 itemknn': { shrink: 5, L: 5 },
  'k1 sr+itemknn': { alpha: 0.1, w: 5, shrink: 5, L: 5 },
};

export function parseRef(cell: string): { mean: number; se: number } {
  const [mean, se] = cell.split('±').map((s) => Number(s.trim()));
  return { mean, se };
}
