/**
 * `npm run demo:data` (= `npx tsx scripts/demo-data.ts`): builds the demo's data files
 * from MovieLens latest-small (data/movielens-small/) into demo/assets/:
 *
 * - catalog.json    the items that survive the offline protocol's filtering (3,496), with
 *                   title, year, genres and popularity (interactions after filtering)
 * - visitors.json   20 MovieLens users held back from everything the page is fitted on,
 *                   chosen deterministically, with their ordered histories (movie ids)
 * - sessions.bin    the other users' ordered histories as catalog indices: what the page
 *                   fits its baselines on (the GRU's pretraining users, the same data)
 * - model.bin       the GRU pretrained by `localrec pretrain --all` on every rating of
 *                   every user except the held-back visitors
 * - results.json    `localrec eval --json` on the whole data set (the offline table)
 * - replay.json     `localrec eval --protocol replay --json`: what held-out visitors are
 *                   served event by event, beside the untouched model and the baselines
 * - manifest.json   provenance: held-back user ids, pretraining row count, settings,
 *                   sizes, times (test/demo/demo-data.test.ts checks it)
 * - NOTICE.md       the MovieLens license notice
 *
 * Options: --skip-model, --skip-eval, --skip-replay (reuse the existing files; for quick
 * iterations); --replay-json FILE takes a replay report already written by that command.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { forEachCsvRecord, parseInteractionsCsv } from '../src/eval/csv';
import { prepareDataset } from '../src/eval/protocol';

const ROOT = join(import.meta.dirname, '..');
const DATA = join(ROOT, 'data', 'movielens-small');
const OUT = join(ROOT, 'demo', 'assets');

/** How many MovieLens users are held back as the page's simulated visitors. */
const VISITORS = 20;
/** Visitors need a history long enough to watch adapt, short enough to replay. */
const VISITOR_MIN = 20;
const VISITOR_MAX = 80;
/** GRU settings of the shipped model (and of the `gru` rows of results.json); the rest are
 * the eval defaults (src/train/eval-factory.ts). */
// lrEnd=1 (constant rate): at 64 units it beat the eval default's decay on validation
// (NDCG@10 0.0738 / 0.0731 vs 0.0689 / 0.0669, seeds 0 / 1; docs/experiments/2026-11-27-gru-tuning.md)
const GRU_PARAMS = 'hiddenSize=64,lrEnd=1';
/** Baselines of the offline table. */
const EVAL_MODELS = 'pop,sr,itemknn,sknn,vsknn,sr+itemknn,gru,gru+sr+itemknn';

const args = new Set(process.argv.slice(2));
const started = performance.now();
const wrote: { file: string; bytes: number; note: string }[] = [];

function gunzipText(file: string): string {
  return gunzipSync(readFileSync(file)).toString('utf8');
}

function write(name: string, content: string | Uint8Array, note: string): void {
  writeFileSync(join(OUT, name), content);
  wrote.push({ file: `demo/assets/${name}`, bytes: statSync(join(OUT, name)).size, note });
}

function tsx(cliArgs: string[]): string {
  return execFileSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['cli/localrec.ts', ...cliArgs], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
}

/** A stable 32-bit mix of a user id (the order visitors are picked in). */
function userHash(u: number): number {
  let h = Math.imul(u ^ 0x5eed1234, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

mkdirSync(OUT, { recursive: true });
const ratingsText = gunzipText(join(DATA, 'ratings.csv.gz'));
const log = parseInteractionsCsv(ratingsText);
const data = prepareDataset(log);
const catalogIds = Array.from(data.itemIds);

// ---- catalog ------------------------------------------------------------------------
const movies = new Map<number, { title: string; year: number | null; genres: string[] }>();
let header = true;
forEachCsvRecord(gunzipText(join(DATA, 'movies.csv.gz')), (f) => {
  if (header) {
    header = false;
    return;
  }
  const year = Number(f[2]);
  movies.set(Number(f[0]), {
    title: f[1],
    year: f[2] !== '' && Number.isFinite(year) ? year : null,
    genres: f[3] && f[3] !== '(no genres listed)' ? f[3].split('|') : [],
  });
});
const popularity = new Int32Array(catalogIds.length);
for (const i of data.full.items) popularity[i]++;
const genreNames = [...new Set(catalogIds.flatMap((id) => movies.get(id)?.genres ?? []))].sort();
const genreIndex = new Map(genreNames.map((g, i) => [g, i]));
const catalog = {
  format: 'localrec-demo-catalog',
  source: 'MovieLens latest-small (GroupLens), see NOTICE.md',
  protocol: `${data.protocol}: items with >= 5 ratings, then users with >= 3 of them`,
  fields: ['id', 'title', 'year', 'genres (indices into genres)', 'popularity (ratings)'],
  genres: genreNames,
  items: catalogIds.map((id, i) => {
    const m = movies.get(id);
    return [
      id,
      m?.title ?? `Movie ${id}`,
      m?.year ?? null,
      (m?.genres ?? []).map((g) => genreIndex.get(g) as number),
      popularity[i],
    ];
  }),
};
write('catalog.json', JSON.stringify(catalog), `${catalogIds.length} items`);

// ---- held-back visitors ---------------------------------------------------------------
const users = Array.from(data.userIds.keys()).sort(
  (a, b) => userHash(data.userIds[a]) - userHash(data.userIds[b]) || a - b,
);
const picked: number[] = [];
for (const u of users) {
  const n = data.full.offsets[u + 1] - data.full.offsets[u];
  if (n >= VISITOR_MIN && n <= VISITOR_MAX) picked.push(u);
  if (picked.length === VISITORS) break;
}
const heldBack = new Set(picked.map((u) => data.userIds[u]));
const visitors = picked.map((u) => {
  const seq = data.full.items.subarray(data.full.offsets[u], data.full.offsets[u + 1]);
  return { user: data.userIds[u], history: Array.from(seq, (i) => catalogIds[i]) };
});
visitors.sort((a, b) => a.user - b.user);
write(
  'visitors.json',
  JSON.stringify({
    format: 'localrec-demo-visitors',
    note: 'MovieLens users held back: not in the pretraining data, not in sessions.bin. Histories in the protocol order (time, ties by hash).',
    visitors,
  }),
  `${visitors.length} users, ${visitors.reduce((s, v) => s + v.history.length, 0)} events`,
);

// ---- sessions.bin: everyone else's histories, for the page's baselines ------------------
const others = Array.from(data.userIds.keys()).filter((u) => !heldBack.has(data.userIds[u]));
let total = 0;
for (const u of others) total += data.full.offsets[u + 1] - data.full.offsets[u];
const sessBuf = new ArrayBuffer(16 + 4 * (others.length + 1) + 2 * total + ((2 * total) % 4));
const dv = new DataView(sessBuf);
new Uint8Array(sessBuf).set([0x4c, 0x52, 0x53, 0x51]); // magic LRSQ
dv.setUint32(4, others.length, true);
dv.setUint32(8, total, true);
dv.setUint32(12, catalogIds.length, true);
let at = 0;
others.forEach((u, s) => {
  dv.setUint32(16 + 4 * s, at, true);
  for (let j = data.full.offsets[u]; j < data.full.offsets[u + 1]; j++) {
    dv.setUint16(16 + 4 * (others.length + 1) + 2 * at, data.full.items[j], true);
    at++;
  }
});
dv.setUint32(16 + 4 * others.length, at, true);
write(
  'sessions.bin',
  new Uint8Array(sessBuf),
  `${others.length} users' histories, ${total} events (u16 catalog indices)`,
);

// ---- the pretraining log: every rating of every user but the held-back ones -------------
const tmp = mkdtempSync(join(tmpdir(), 'localrec-demo-data-'));
const lines = ratingsText.split(/\r?\n/);
const kept: string[] = [lines[0]];
for (let j = 1; j < lines.length; j++) {
  const line = lines[j];
  if (line === '') continue;
  const user = Number(line.slice(0, line.indexOf(',')));
  if (!heldBack.has(user)) kept.push(line);
}
const pretrainRows = kept.length - 1;
const pretrainCsv = join(tmp, 'pretrain-ratings.csv');
writeFileSync(pretrainCsv, `${kept.join('\n')}\n`);
const pretrainData = prepareDataset(parseInteractionsCsv(readFileSync(pretrainCsv, 'utf8')));

const timings: Record<string, number> = {};
let pretrainOut = '';
if (!args.has('--skip-model') || !existsSync(join(OUT, 'model.bin'))) {
  const t = performance.now();
  console.log(`pretraining the GRU (${GRU_PARAMS}) on ${pretrainRows} ratings…`);
  pretrainOut = tsx([
    'pretrain',
    '--data',
    pretrainCsv,
    '--out',
    'demo/assets/model.bin',
    '--all',
    '--params',
    GRU_PARAMS,
  ]).trim();
  timings.pretrainSeconds = Math.round(performance.now() - t) / 1000;
  console.log(pretrainOut);
}
wrote.push({
  file: 'demo/assets/model.bin',
  bytes: statSync(join(OUT, 'model.bin')).size,
  note: `GRU ${GRU_PARAMS}, ${pretrainData.counts.items} items`,
});

// ---- the offline results table ---------------------------------------------------------
if (!args.has('--skip-eval') || !existsSync(join(OUT, 'results.json'))) {
  const t = performance.now();
  const json = join(tmp, 'eval.json');
  const command = [
    'eval',
    '--data',
    'data/movielens-small/ratings.csv.gz',
    '--models',
    EVAL_MODELS,
    '--params',
    // both GRU rows use the shipped model's settings (one GRU trained, shared)
    ['gru', 'gru+sr+itemknn']
      .flatMap((m) => GRU_PARAMS.split(',').map((p) => `${m}.${p}`))
      .join(','),
    '--json',
    json,
  ];
  console.log(`localrec ${command.join(' ')}`);
  console.log(tsx(command).trim());
  const report = JSON.parse(readFileSync(json, 'utf8'));
  timings.evalSeconds = Math.round(performance.now() - t) / 1000;
  write(
    'results.json',
    JSON.stringify({
      format: 'localrec-demo-results',
      command: `npx tsx cli/localrec.ts ${command.slice(0, -1).join(' ')} <file>`,
      generatedAt: new Date().toISOString(),
      report,
    }),
    `localrec eval: ${Object.keys(report.models).join(', ')}`,
  );
} else {
  wrote.push({
    file: 'demo/assets/results.json',
    bytes: statSync(join(OUT, 'results.json')).size,
    note: 'kept (--skip-eval)',
  });
}
// ---- the replay table -------------------------------------------------------------------
const replayArg = process.argv.indexOf('--replay-json');
const replayCommand = [
  'eval',
  '--protocol',
  'replay',
  '--data',
  'data/movielens-small/ratings.csv.gz',
  '--json',
];
if (replayArg > 0 || !args.has('--skip-replay') || !existsSync(join(OUT, 'replay.json'))) {
  let json = process.argv[replayArg + 1];
  if (replayArg < 0) {
    const t = performance.now();
    json = join(tmp, 'replay.json');
    console.log(`localrec ${replayCommand.join(' ')} ${json}`);
    console.log(tsx([...replayCommand, json]).trim());
    timings.replaySeconds = Math.round(performance.now() - t) / 1000;
  }
  const report = JSON.parse(readFileSync(json, 'utf8'));
  write(
    'replay.json',
    JSON.stringify({
      format: 'localrec-demo-replay',
      command: `npx tsx cli/localrec.ts ${replayCommand.join(' ')} <file>`,
      generatedAt: new Date().toISOString(),
      report,
    }),
    `replay: ${Object.keys(report.models).join(', ')}`,
  );
} else {
  wrote.push({
    file: 'demo/assets/replay.json',
    bytes: statSync(join(OUT, 'replay.json')).size,
    note: 'kept (--skip-replay)',
  });
}
rmSync(tmp, { recursive: true, force: true });

// ---- notice and manifest --------------------------------------------------------------
const readme = readFileSync(join(DATA, 'README.md'), 'utf8');
const notice = readme.slice(0, readme.indexOf('These files are used by')).trim();
write(
  'NOTICE.md',
  `# Data notice\n\nThe files in this folder (catalog.json, visitors.json, sessions.bin, model.bin,\nresults.json, replay.json) are derived from MovieLens latest-small by scripts/demo-data.ts.\n\n${notice.replace(/^# .*\n/, '## MovieLens latest-small\n')}\n`,
  'MovieLens license notice',
);
const manifest = {
  format: 'localrec-demo-manifest',
  script: 'scripts/demo-data.ts',
  source: 'data/movielens-small/ratings.csv.gz, movies.csv.gz',
  catalogItems: catalogIds.length,
  heldBackUsers: [...heldBack].sort((a, b) => a - b),
  pretrain: {
    command: `localrec pretrain --data <ratings without the held-back users> --out demo/assets/model.bin --all --params ${GRU_PARAMS}`,
    rows: pretrainRows,
    users: pretrainData.counts.users,
    items: pretrainData.counts.items,
    interactions: pretrainData.counts.interactions,
    output: pretrainOut || undefined,
  },
  sessions: { users: others.length, events: total },
  timings,
};
write('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`, 'provenance');

// The repository lints JSON with biome: write what `biome format` would, so a
// regenerated folder is lint-clean (it costs ~25% over one-line JSON on the catalog).
execFileSync(
  join(ROOT, 'node_modules', '.bin', 'biome'),
  ['format', '--write', ...wrote.filter((w) => w.file.endsWith('.json')).map((w) => w.file)],
  { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
);
for (const w of wrote) w.bytes = statSync(join(ROOT, w.file)).size;
for (const w of wrote)
  console.log(`${w.file.padEnd(28)} ${(w.bytes / 1024).toFixed(1).padStart(8)} KiB  ${w.note}`);
console.log(`demo-data: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
