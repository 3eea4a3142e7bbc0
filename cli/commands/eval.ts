/**
 * `localrec eval`: run the offline protocol of shared/eval/PROTOCOL.md on a CSV log and
 * print one row per model (test metrics ± SE, validation NDCG@10, fit time, params).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FitCache } from '../../src/baselines/cache';
import { LocalRecError } from '../../src/core/errors';
import type { Scorer } from '../../src/core/scorer';
import { type CsvLog, parseInteractionsCsv } from '../../src/eval/csv';
import { type EvalResult, evaluate } from '../../src/eval/evaluate';
import { METRICS, type MeanSE, type MetricTable, pairedDifference } from '../../src/eval/metrics';
import { type EvalDataset, prepareDataset } from '../../src/eval/protocol';
import {
  generateSynthetic,
  matchesSynthetic,
  SyntheticOracle,
  type SyntheticWorld,
} from '../../src/eval/synthetic';
import { type Params, tune } from '../../src/eval/tune';
import { type FlagSpec, intFlag, parseFlags, usageLines } from '../args';
import { CliError, type CliIO, Progress } from '../io';
import {
  DEFAULT_MODELS,
  isRegistered,
  KNOWN_MODELS,
  loadModel,
  type ModelFactory,
} from '../models';
import type { Command } from '../subcommands';
import { parseSyntheticSpec } from './synth';

const FLAGS: Record<string, FlagSpec> = {
  data: { help: 'interaction log, .csv or .csv.gz (required)' },
  'user-col': { help: "user id column (default 'userId')" },
  'item-col': { help: "item id column (default 'itemId', else 'movieId')" },
  'time-col': { help: "time column, numeric (default 'timestamp')" },
  k: { help: 'test (and validation) positions per user; 1 = loo (default 5)' },
  models: { help: `comma-separated (default ${DEFAULT_MODELS.join(',')}; also gru)` },
  params: { help: "overrides, e.g. 'sr.w=5,itemknn.shrink=5,sr+itemknn.alpha=0.1'" },
  refit: { boolean: true, help: 'refit on train + validation before scoring test positions' },
  tune: { boolean: true, help: 'grid-search parameters on validation positions first' },
  'min-item': { help: 'drop items with fewer interactions (default 5)' },
  'min-user': { help: 'then drop users with fewer interactions (default 3)' },
  json: { help: 'also write the results as JSON to this file' },
  protocol: { help: "'last' (default: the last k positions of every user) or 'replay'" },
  users: { help: 'replay: held-out users (default 100)' },
  'validation-users': { help: 'replay: validation users, for tuning (default 100)' },
  split: { help: "replay: 'test' (held-out users, default) or 'validation'" },
  seed: { help: 'replay: seed of the user order (default 0)' },
  'max-events': { help: 'replay: replay at most the first M events of each user (default all)' },
  variants: {
    help: "replay: comma-separated (default served,pretrained,mix,finetuned,continued,cold,pop,sr,itemknn,sr+itemknn,sr+itemknn-lists; 'hybrid' is the deprecated name of 'mix')",
  },
  model: {
    help: "a model file (`localrec pretrain` or pretrain/'s PyTorch job) scored as model 'gru-file' beside --models; several, comma-separated, are 'gru-file', 'gru-file-2', … and each later one is also paired against the first (e.g. the f16 / i8 encodings of an f32 file); replay: the pretrained model (default: pretrain on the population first)",
  },
  oracle: {
    help: "a spec from `localrec synth`: the data's Bayes-optimal scorer is evaluated as model 'oracle' beside --models, and each model's share of it is printed",
  },
  'save-model': { help: 'replay: write the model pretrained on the population here' },
  'pretrain-params': { help: 'replay: pretraining settings as `localrec pretrain --params`' },
  served: {
    help: "replay: settings of 'served' (and 'finetuned', 'mix'): mix share beta; fine-tuning blend, populationNegatives, base, maxEvents; trainer lr, epochs, …; e.g. 'beta=0.2,blend=0.5,lr=0.01'",
  },
  help: { boolean: true, help: 'show this help' },
};

const USAGE = `usage: localrec eval --data FILE.csv[.gz] [options]\n\n${usageLines(FLAGS)}\n`;

export interface ModelReport {
  label: string;
  params: Params;
  fit: 'refit' | 'train only';
  /** Fit time of the model scored on test positions. */
  fitSeconds: number;
  /** Fit time on training data (the model scored on validation positions). */
  trainFitSeconds: number;
  evalSeconds: number;
  valid: MetricTable;
  test: MetricTable;
  tuning?: { metric: string; points: { params: Params; value: number }[] };
}

export interface EvalReport {
  protocol: string;
  k: number;
  data: string;
  fit: 'refit' | 'train only';
  counts: EvalDataset['counts'];
  models: Record<string, ModelReport>;
  /**
   * Paired test differences (same positions) of each GRU-based model against the best
   * other model of the run by test NDCG@10, and of each later `--model` file against
   * the first: `model − reference`.
   */
  paired?: { model: string; reference: string; metrics: Record<string, MeanSE> }[];
  /** With `--oracle`: each model's test metric as a fraction of the oracle's. */
  oracleShare?: Record<string, Record<string, number>>;
  wallSeconds: number;
}

function readBytes(path: string, io: CliIO): Buffer {
  try {
    return readFileSync(resolve(io.cwd, path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new CliError(`cannot read ${path}${code ? ` (${code})` : ''}`);
  }
}

function readLog(path: string, io: CliIO, flags: Record<string, string>): CsvLog {
  const bytes = readBytes(path, io);
  let text: string;
  try {
    text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch {
    throw new CliError(`${path}: not a valid gzip file`);
  }
  try {
    return parseInteractionsCsv(text, {
      user: flags['user-col'],
      item: flags['item-col'],
      time: flags['time-col'],
    });
  } catch (error) {
    if (error instanceof LocalRecError) throw new CliError(`${path}: ${error.message}`);
    throw error;
  }
}

/** `sr.w=5,itemknn.shrink=5` -> { sr: { w: 5 }, itemknn: { shrink: 5 } }. */
export function parseParamOverrides(text: string | undefined): Record<string, Params> {
  const out: Record<string, Params> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    const m = /^\s*([^.=\s]+(?:\+[^.=\s]+)*)\.([A-Za-z_][\w]*)\s*=\s*(\S+)\s*$/.exec(part);
    const value = m ? Number(m[3]) : Number.NaN;
    if (!m || !Number.isFinite(value)) {
      throw new CliError(`--params: cannot read '${part}' (want model.param=number)`);
    }
    const model = m[1];
    out[model] ??= {};
    out[model][m[2]] = value;
  }
  return out;
}

function fmt(v: number, digits = 4): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

function paramText(p: Params): string {
  const entries = Object.entries(p);
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(' ') : '-';
}

export function formatTable(report: EvalReport): string {
  const head = ['model', 'params', 'fit s', 'valid NDCG@10', ...METRICS.map((m) => `test ${m}`)];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, j) => (j < 2 ? '---' : '---:')).join('|')}|`,
  ];
  for (const [name, r] of Object.entries(report.models)) {
    const cells = [
      name,
      paramText(r.params),
      fmt(r.fitSeconds, 2),
      fmt(r.valid['NDCG@10'].mean),
      ...METRICS.map((m) => `${fmt(r.test[m].mean)} ± ${fmt(r.test[m].se)}`),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

function describeCounts(c: EvalDataset['counts']): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return (
    `users ${n(c.users)} (${n(c.evalUsers)} evaluated, ${n(c.trainOnlyUsers)} training only) · ` +
    `items ${n(c.items)} · interactions ${n(c.interactions)} · train ${n(c.train)} · ` +
    `valid ${n(c.valid)} · test ${n(c.test)}`
  );
}

async function runEval(args: string[], io: CliIO): Promise<number> {
  const t0 = performance.now();
  const { values, booleans, positionals } = parseFlags('eval', args, FLAGS);
  if (booleans.has('help')) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length)
    throw new CliError(`eval: unexpected argument '${positionals[0]}' (see --help)`);
  if (!values.data) throw new CliError('eval: --data FILE.csv is required (see --help)');
  if (values.protocol !== undefined && values.protocol !== 'last' && values.protocol !== 'replay')
    throw new CliError(`eval: unknown --protocol '${values.protocol}' (last, replay)`);
  if (values.protocol === 'replay') return runReplayCommand(values, io, t0);
  const k = intFlag('eval', 'k', values.k, 5);
  const minItemCount = intFlag('eval', 'min-item', values['min-item'], 5);
  const minUserCount = intFlag('eval', 'min-user', values['min-user'], 3);
  const refit = booleans.has('refit');
  const fitMode = refit ? 'refit' : 'train only';

  // Models first: a typo should not cost a data load.
  const names = [
    ...new Set((values.models ?? DEFAULT_MODELS.join(',')).split(',').map((s) => s.trim())),
  ].filter(Boolean);
  if (names.length === 0) throw new CliError('eval: --models is empty');
  const factories: ModelFactory[] = [];
  for (const name of names) {
    if (!isRegistered(name)) {
      if (name === 'gru') {
        throw new CliError(
          "eval: model 'gru' is not available: no GRU factory is registered in this build (see HOOK(gru) in cli/models.ts)",
        );
      }
      throw new CliError(`eval: unknown model '${name}' (known: ${KNOWN_MODELS.join(', ')})`);
    }
    factories.push((await loadModel(name)) as ModelFactory);
  }
  const modelFiles = values.model
    ? values.model
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  modelFiles.forEach((path, j) => {
    factories.push(modelFileFactory(readBytes(path, io), path, modelFileName(j)));
  });
  const oracleOptions = values.oracle
    ? parseSyntheticSpec(readBytes(values.oracle, io).toString('utf8'), values.oracle)
    : undefined;
  const overrides = parseParamOverrides(values.params);
  for (const [model, params] of Object.entries(overrides)) {
    const f = factories.find((x) => x.name === model);
    if (!f) throw new CliError(`--params: '${model}' is not among the evaluated models`);
    for (const key of Object.keys(params)) {
      if (!Object.hasOwn(f.defaults, key)) {
        throw new CliError(
          `--params: ${model} has no parameter '${key}' (parameters: ${Object.keys(f.defaults).join(', ') || 'none'})`,
        );
      }
    }
  }

  const log = readLog(values.data, io, values);
  if (log.mappedIdColumns.length) {
    io.stderr(
      `note: non-numeric ids in ${log.mappedIdColumns.join(', ')} were mapped to sorted codes\n`,
    );
  }
  if (oracleOptions) {
    const generated = generateSynthetic(oracleOptions);
    if (!matchesSynthetic(log, generated)) {
      throw new CliError(
        `--oracle ${values.oracle}: ${values.data} is not the log this spec generates (regenerate both with 'localrec synth')`,
      );
    }
    factories.push(oracleFactory(generated.world));
  }
  const data = prepareDataset(log, { k, minItemCount, minUserCount });
  if (data.counts.evalUsers === 0) {
    throw new CliError(
      `${values.data}: no user has ${2 * k + 1} or more interactions after filtering: nothing to evaluate`,
    );
  }
  io.stdout(
    `localrec eval · ${values.data} · protocol ${data.protocol} (k=${k}) · test rows: ${fitMode === 'refit' ? 'refit on train + valid' : 'fit on train only'}\n`,
  );
  io.stdout(`${describeCounts(data.counts)}\n`);

  const progress = new Progress(io);
  const report: EvalReport = {
    protocol: data.protocol,
    k,
    data: values.data,
    fit: fitMode,
    counts: data.counts,
    models: {},
    wallSeconds: 0,
  };
  const scoreSplit = (name: string, scorer: Scorer, split: 'valid' | 'test'): EvalResult => {
    progress.begin(`${name} ${split}`);
    try {
      return evaluate(scorer, data, split, {
        onProgress: (done, total) => progress.update(done / total, `${done}/${total}`),
      });
    } finally {
      progress.end();
    }
  };
  const fitModel = async (f: ModelFactory, params: Params, phase: 'train' | 'refit') => {
    progress.begin(`${f.name} fit (${phase})`);
    const t = performance.now();
    try {
      const scorer = await f.create(phase === 'train' ? data.train : data.trainValid, params, {
        phase,
        data,
        onProgress: (fraction, note) => progress.update(fraction, note),
      });
      return { scorer, seconds: (performance.now() - t) / 1000 };
    } finally {
      progress.end();
    }
  };

  const testRanks = new Map<string, Int32Array>();
  for (const f of factories) {
    let params: Params = { ...f.defaults, ...(overrides[f.name] ?? {}) };
    let tuning: ModelReport['tuning'];
    if (booleans.has('tune') && Object.keys(f.grid).length) {
      // Parameters fixed on the command line are not searched.
      const grid = Object.fromEntries(
        Object.entries(f.grid).filter(([key]) => !(key in (overrides[f.name] ?? {}))),
      );
      progress.begin(`${f.name} tune`);
      try {
        const cache = new FitCache();
        const result = await tune(
          async (fit, p) => (await f.create(fit, p, { phase: 'train', data, cache })) as Scorer,
          data,
          grid,
          {
            base: params,
            onPoint: (done, total) => progress.update(done / total, `${done}/${total}`),
          },
        );
        params = result.best;
        tuning = { metric: result.metric, points: result.points };
      } finally {
        progress.end();
      }
      io.stdout(
        `tuned ${f.name} on valid ${tuning.metric}: ${paramText(params)} (${fmt(bestOf(tuning))})\n`,
      );
    }
    const trained = await fitModel(f, params, 'train');
    const tEval = performance.now();
    const valid = scoreSplit(f.name, trained.scorer, 'valid');
    let testModel = trained;
    if (refit) {
      f.release?.(trained.scorer);
      testModel = await fitModel(f, params, 'refit');
    }
    const test = scoreSplit(f.name, testModel.scorer, 'test');
    testRanks.set(f.name, test.ranks);
    f.release?.(testModel.scorer);
    const evalSeconds = (performance.now() - tEval) / 1000 - (refit ? testModel.seconds : 0);
    report.models[f.name] = {
      label: f.label,
      params,
      fit: fitMode,
      fitSeconds: testModel.seconds,
      trainFitSeconds: trained.seconds,
      evalSeconds,
      valid: valid.metrics,
      test: test.metrics,
      ...(tuning ? { tuning } : {}),
    };
  }
  report.paired = [
    ...pairedAgainstBest(report, testRanks),
    ...pairedAgainstFirstFile(modelFiles.length, testRanks),
  ];
  if (oracleOptions) report.oracleShare = oracleShares(report);
  report.wallSeconds = (performance.now() - t0) / 1000;
  io.stdout(`\n${formatTable(report)}\n`);
  if (report.oracleShare) io.stdout(`${formatOracleShare(report.oracleShare)}\n`);
  io.stdout(
    `test metrics ± standard error (sample std / sqrt(n), n = ${data.counts.test}); fit s = fit time of the model scored on test; wall ${fmt(report.wallSeconds, 1)} s\n`,
  );
  for (const p of report.paired) {
    io.stdout(
      `paired on test (same positions): ${p.model} − ${p.reference} = ${METRICS.map((m) => `${m} ${signed(p.metrics[m].mean)} ± ${fmt(p.metrics[m].se)}`).join(', ')}\n`,
    );
  }
  if (values.json) {
    try {
      writeFileSync(resolve(io.cwd, values.json), `${JSON.stringify(report, null, 2)}\n`);
    } catch (error) {
      throw new CliError(
        `cannot write ${values.json} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  return 0;
}

/** Each GRU-based model against the best other model of the run (by test NDCG@10). */
export function pairedAgainstBest(
  report: EvalReport,
  ranks: ReadonlyMap<string, Int32Array>,
): NonNullable<EvalReport['paired']> {
  const names = Object.keys(report.models);
  // The oracle (--oracle) is a ceiling, not a model to beat.
  const others = names.filter((n) => !n.includes('gru') && n !== 'oracle');
  if (!others.length) return [];
  const ref = others.reduce((a, b) =>
    report.models[b].test['NDCG@10'].mean > report.models[a].test['NDCG@10'].mean ? b : a,
  );
  const out: NonNullable<EvalReport['paired']> = [];
  for (const n of names) {
    const a = ranks.get(n);
    const b = ranks.get(ref);
    if (!n.includes('gru') || !a || !b) continue;
    const metrics: Record<string, MeanSE> = {};
    for (const m of METRICS) metrics[m] = pairedDifference(m, a, b);
    out.push({ model: n, reference: ref, metrics });
  }
  return out;
}

/** Each model's test metrics divided by the oracle's (the oracle's own row omitted). */
export function oracleShares(report: EvalReport): Record<string, Record<string, number>> {
  const oracle = report.models.oracle;
  const out: Record<string, Record<string, number>> = {};
  if (!oracle) return out;
  for (const [name, r] of Object.entries(report.models)) {
    if (name === 'oracle') continue;
    out[name] = Object.fromEntries(METRICS.map((m) => [m, r.test[m].mean / oracle.test[m].mean]));
  }
  return out;
}

/** The model name of the j-th (0-based) `--model` file. */
function modelFileName(j: number): string {
  return j === 0 ? 'gru-file' : `gru-file-${j + 1}`;
}

/**
 * Each later `--model` file against the first (same positions): e.g. an f16 or i8
 * encoding of the same weights against the f32 file, `gru-file-2 − gru-file`.
 */
function pairedAgainstFirstFile(
  files: number,
  ranks: ReadonlyMap<string, Int32Array>,
): NonNullable<EvalReport['paired']> {
  const out: NonNullable<EvalReport['paired']> = [];
  const first = ranks.get(modelFileName(0));
  for (let j = 1; j < files && first; j++) {
    const a = ranks.get(modelFileName(j));
    if (!a) continue;
    const metrics: Record<string, MeanSE> = {};
    for (const m of METRICS) metrics[m] = pairedDifference(m, a, first);
    out.push({ model: modelFileName(j), reference: modelFileName(0), metrics });
  }
  return out;
}

function formatOracleShare(shares: Record<string, Record<string, number>>): string {
  const head = ['model', ...METRICS.map((m) => `${m} / oracle`)];
  const lines = [`| ${head.join(' | ')} |`, `|---|${METRICS.map(() => '---:').join('|')}|`];
  for (const [name, s] of Object.entries(shares))
    lines.push(`| ${name} | ${METRICS.map((m) => fmt(s[m], 3)).join(' | ')} |`);
  return `share of the oracle (test means):\n${lines.join('\n')}\n`;
}

/** `--oracle SPEC`: the exact next-item probabilities of the synthetic world (no fitting). */
function oracleFactory(world: SyntheticWorld): ModelFactory {
  return {
    name: 'oracle',
    label: 'Bayes-optimal oracle of the synthetic log',
    defaults: {},
    grid: {},
    create(_fit, _params, ctx) {
      try {
        return new SyntheticOracle(world, ctx.data.itemIds);
      } catch (error) {
        if (error instanceof LocalRecError) throw new CliError(`--oracle: ${error.message}`);
        throw error;
      }
    },
  };
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${fmt(Math.abs(v))}`;
}

function bestOf(t: NonNullable<ModelReport['tuning']>): number {
  return Math.max(...t.points.map((p) => p.value));
}

/**
 * `--model FILE`: a trained model file scored like any model (fit data ignored: the same
 * weights for validation and test rows). Its vocabulary must name every item of the
 * prepared data; rows are reordered to the data's dense item order.
 */
function modelFileFactory(buffer: Uint8Array, path: string, name = 'gru-file'): ModelFactory {
  return {
    name,
    label: `GRU from ${path}`,
    defaults: {},
    grid: {},
    async create(_fit, _params, ctx) {
      const [{ deserializeGru }, { GruJsScorer }, { paramSizes }] = await Promise.all([
        import('../../src/model/serialize'),
        import('../../src/model/js-scorer'),
        import('../../src/model/params'),
      ]);
      let model: ReturnType<typeof deserializeGru>;
      try {
        model = deserializeGru(buffer);
      } catch (error) {
        if (error instanceof LocalRecError) throw new CliError(`${path}: ${error.message}`);
        throw error;
      }
      const ids = ctx.data.itemIds;
      const row = new Map((model.vocab ?? []).map((id, j) => [id, j]));
      const perm = Int32Array.from(ids, (id) => row.get(String(id)) ?? -1);
      const missing = perm.filter((j) => j < 0).length;
      if (!model.vocab || missing > 0) {
        throw new CliError(
          `${path}: the model's vocabulary lacks ${model.vocab ? missing : ids.length} of the data's ${ids.length} items`,
        );
      }
      const a = model.toArrays();
      const config = { ...model.config, numItems: ids.length };
      const take = (m: Float32Array | null, width: number) => {
        if (!m) return null;
        const out = new Float32Array(ids.length * width);
        for (let k = 0; k < ids.length; k++)
          out.set(m.subarray(perm[k] * width, perm[k] * width + width), k * width);
        return out;
      };
      const sizes = paramSizes(config);
      const scorer = new GruJsScorer(
        config,
        {
          ...a,
          items: take(a.items, sizes.items / ids.length) as Float32Array,
          emb: take(a.emb, sizes.emb / ids.length),
        },
        name,
      );
      model.dispose();
      return scorer;
    },
  };
}

export const command: Command = {
  summary: 'evaluate models with the offline protocol (PROTOCOL.md) on a CSV log',
  run: runEval,
};

/** Parses `a=1,b=x,c=true` (numbers, booleans, words). */
function parseSettings(
  flag: string,
  text: string | undefined,
): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z_]\w*)\s*=\s*(\S+)\s*$/.exec(part);
    if (!m) throw new CliError(`${flag}: cannot read '${part}' (want name=value)`);
    const v = m[2];
    out[m[1]] =
      v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return out;
}

/** `hybrid`: the deprecated name of the `mix` variant (one version); "hybrid" names a step kernel. */
export function replayVariantName(name: string, io?: Pick<CliIO, 'stderr'>): string {
  if (name !== 'hybrid') return name;
  io?.stderr(
    "eval: replay variant 'hybrid' is now called 'mix' (the old name goes in the next version)\n",
  );
  return 'mix';
}

async function runReplayCommand(
  values: Record<string, string>,
  io: CliIO,
  t0: number,
): Promise<number> {
  const { DEFAULT_REPLAY_VARIANTS, formatReplay, readModelArg, replayVariants, runReplay } =
    await import('../replay');
  const { gruParams } = await import('./bench');
  const fineTune = parseSettings('--served', values.served);
  const known = replayVariants(fineTune);
  const variants = (values.variants ?? DEFAULT_REPLAY_VARIANTS.join(','))
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => replayVariantName(v, io));
  for (const v of variants) {
    if (!Object.hasOwn(known, v))
      throw new CliError(
        `eval: unknown replay variant '${v}' (known: ${Object.keys(known).join(', ')})`,
      );
  }
  const split = values.split ?? 'test';
  if (split !== 'test' && split !== 'validation')
    throw new CliError(`eval: --split must be test or validation, got '${split}'`);
  const maxEvents =
    values['max-events'] === undefined
      ? null
      : intFlag('eval', 'max-events', values['max-events'], 0);
  const { POPULATION_DEFAULTS } = await import('../../src/baselines/population');
  // The GRU's settings as `localrec pretrain --params`, and the population lists' settings.
  const pretrainParams = gruParams(values['pretrain-params'], {
    beta: POPULATION_DEFAULTS.beta,
    mixAlpha: POPULATION_DEFAULTS.alpha,
    mixL: POPULATION_DEFAULTS.L,
    srWidth: POPULATION_DEFAULTS.srWidth,
    knnWidth: POPULATION_DEFAULTS.knnWidth,
  });
  const model = values.model ? readModelArg(values.model, io) : null;
  const log = readLog(values.data, io, values);
  const data = prepareDataset(log, {
    k: 5,
    minItemCount: intFlag('eval', 'min-item', values['min-item'], 5),
    minUserCount: intFlag('eval', 'min-user', values['min-user'], 3),
  });
  const report = await runReplay({
    data,
    dataLabel: values.data,
    users: intFlag('eval', 'users', values.users, 100),
    validationUsers: intFlag('eval', 'validation-users', values['validation-users'], 100),
    split,
    seed: intFlag('eval', 'seed', values.seed, 0),
    maxEvents: maxEvents || null,
    variants,
    model,
    modelSource: values.model ?? 'pretrained here on the population',
    pretrainParams,
    saveModel: values['save-model'] ? resolve(io.cwd, values['save-model']) : undefined,
    fineTune,
    io,
  });
  report.wallSeconds = (performance.now() - t0) / 1000;
  io.stdout(formatReplay(report));
  if (values.json)
    writeFileSync(resolve(io.cwd, values.json), `${JSON.stringify(report, null, 2)}\n`);
  return 0;
}
