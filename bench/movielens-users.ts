// The MovieLens users' histories the browser benches replay as visitors (the repo's
// gzipped copy of MovieLens latest-small): user id → ratings as { item, t (epoch ms) }.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export function movieLensUsers(): Map<string, { item: string; t: number }[]> {
  const file = join(import.meta.dirname, '..', 'data/movielens-small/ratings.csv.gz');
  const csv = gunzipSync(readFileSync(file)).toString('utf8');
  const byUser = new Map<string, { item: string; t: number }[]>();
  for (const line of csv.split('\n').slice(1)) {
    if (!line) continue;
    const [u, i, , ts] = line.split(',');
    let list = byUser.get(u);
    if (!list) byUser.set(u, (list = []));
    list.push({ item: i, t: Number(ts) * 1000 });
  }
  return byUser;
}
