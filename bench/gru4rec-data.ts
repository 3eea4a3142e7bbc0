// The ml-small-last5 training split (what `localrec bench train` trains on) as the
// TAB-separated file the official GRU4Rec's run.py reads: SessionId (the user), ItemId
// (the dense item index), Time (the event's position, so GRU4Rec keeps our order).
//
//   npx tsx bench/gru4rec-data.ts OUT.tsv [--data data/movielens-small/ratings.csv.gz]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadProtocolData } from '../cli/commands/bench';
import { processIO } from '../cli/io';

const { values, positionals } = parseArgs({
  options: { data: { type: 'string', default: 'data/movielens-small/ratings.csv.gz' } },
  allowPositionals: true,
});
if (positionals.length !== 1) throw new Error('usage: bench/gru4rec-data.ts OUT.tsv');
const train = loadProtocolData(values.data as string, processIO()).train;
const lines = ['SessionId\tItemId\tTime'];
for (let u = 0; u + 1 < train.offsets.length; u++)
  for (let i = train.offsets[u]; i < train.offsets[u + 1]; i++)
    lines.push(`${u}\t${train.items[i]}\t${i}`);
writeFileSync(positionals[0], `${lines.join('\n')}\n`);
console.log(`${positionals[0]}: ${lines.length - 1} events, ${train.offsets.length - 1} users`);
