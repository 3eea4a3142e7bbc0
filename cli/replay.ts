/**
 * `localrec eval --protocol replay`: the replay protocol of docs/PROTOCOL.md. Held-out
 * users are replayed event by event through the product itself — `createRecommender`
 * with its store (in memory), sessionisation, training trigger, fine-tuning options and
 * `recommend()` with its exclusions and fallbacks, over the same Engine the browser's
 * worker runs (here in-process on TF.js WASM) — and every next event is scored before it
 * is revealed. The baselines are fit on the pretraining population and queried with the
 * same prefixes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRecommender, type RecommenderOptions } from '../src/api/recommender';
import { fitItemKNN } from '../src/baselines/itemknn';
import { fitSRItemKNN } from '../src/baselines/mix';
import { fitMostPop } from '../src/baselines/pop';
import { buildPopulation, PopulationMix } from '../src/baselines/population';
import type { BaselineScorer } from '../src/baselines/scorer-base';
import { fitSR } from '../src/baselines/sr';
import type { LocalRecError } from '../src/core/errors';
import type { Sequences } from '../src/core/scorer';
import { pessimisticRank } from '../src/eval/evaluate';
import { METRICS } from '../src/eval/metrics';
import type { EvalDataset } from '../src/eval/protocol';
import {
  inRange,
  POSITION_RANGES,
  type ReplayMetricTable,
  type ReplayPositions,
  replayMetrics,
  replayPaired,
  replaySplit,
  selectSequences,
  servedRank,
} from '../src/eval/replay';
import type { PopulationStats } from '../src/model/population';
import { readModelFile, serializeGru } from '../src/model/serialize';
import { aloneElection } from '../src/runtime/leader';
import { inProcessHandle } from '../src/runtime/worker-client';
import { ensureNodeBackend } from '../src/train/backend-node';
import { trainOptionsFrom } from '../src/train/eval-factory';
import { trainGru } from '../src/train/fit';
import { createWorkerApi } from '../src/worker/api';
import { CliError, type CliIO, Progress } from './io';

/** A variant served through the Recommender: its options on top of the replay's own. */
interface ProductVariant {
  kind: 'product';
  /** Whether the device starts from the pretrained model. */
  pretrained: boolean;
  options: Partial<RecommenderOptions>;
  help: string;
}

interface BaselineVariant {
  kind: 'baseline';
  fit: (population: Sequences, stats: PopulationStats) => BaselineScorer;
  help: string;
}

type Variant = ProductVariant | BaselineVariant;

const NO_TRAINING = { auto: false } as const;

/** The variants `--variants` can name. `served` is whatever the library does by default. */
export function replayVariants(
  fineTune: Record<string, number | string | boolean>,
): Record<string, Variant> {
  const { blend, populationNegatives, base, maxEvents, beta, ...trainer } = fineTune;
  const serving = beta !== undefined ? { beta: Number(beta) } : {};
  const tuned: Partial<RecommenderOptions> = {
    training: {
      fineTune: {
        ...(blend !== undefined ? { blend: Number(blend) } : {}),
        ...(populationNegatives !== undefined
          ? { populationNegatives: Boolean(populationNegatives) }
          : {}),
        ...(base !== undefined ? { base: base as 'pretrained' | 'current' } : {}),
        ...(maxEvents !== undefined ? { maxEvents: Number(maxEvents) } : {}),
      },
      ...(trainer.epochs !== undefined ? { epochs: Number(trainer.epochs) } : {}),
      options: Object.fromEntries(Object.entries(trainer).filter(([k]) => k !== 'epochs')),
    },
    serving,
  };
  return {
    served: {
      kind: 'product',
      pretrained: true,
      options: tuned,
      help: 'what the library serves by default: the mix, with fine-tuning at its defaults',
    },
    pretrained: {
      kind: 'product',
      pretrained: true,
      options: { training: NO_TRAINING, serving: { mix: false } },
      help: 'the pretrained GRU alone, never trained on the device',
    },
    mix: {
      kind: 'product',
      pretrained: true,
      options: { training: NO_TRAINING, serving },
      help: 'the GRU + SR + item-kNN mix of the pretrained model, never trained on the device',
    },
    finetuned: {
      kind: 'product',
      pretrained: true,
      options: {
        ...tuned,
        training: {
          ...tuned.training,
          fineTune: { blend: 0.5, ...tuned.training?.fineTune },
        },
        serving: { mix: false },
      },
      help: 'the GRU alone, fine-tuned on the device (from the pretrained model each time, population negatives, lr 0.01, 1 epoch, blend 0.5)',
    },
    continued: {
      kind: 'product',
      pretrained: true,
      options: {
        training: { fineTune: { base: 'current', blend: 1, populationNegatives: false } },
        serving: { mix: false },
      },
      help: 'the GRU alone, each run continuing the last on new sessions (3 epochs, the trainer defaults, own-item negatives)',
    },
    cold: {
      kind: 'product',
      pretrained: false,
      options: {},
      help: 'no pretrained model: trained on the device from scratch',
    },
    pop: { kind: 'baseline', fit: (p) => fitMostPop(p), help: 'most popular (population)' },
    sr: { kind: 'baseline', fit: (p) => fitSR(p), help: 'sequential rules (population)' },
    itemknn: { kind: 'baseline', fit: (p) => fitItemKNN(p), help: 'item-kNN (population)' },
    'sr+itemknn': {
      kind: 'baseline',
      fit: (p) => fitSRItemKNN(p),
      help: 'SR + item-kNN, alpha 0.2 (population)',
    },
    'sr+itemknn-lists': {
      kind: 'baseline',
      fit: (_p, stats) => new PopulationMix(stats),
      help: 'SR + item-kNN from the neighbour lists in the model file (what the mix serves)',
    },
  };
}

export const DEFAULT_REPLAY_VARIANTS = [
  'served',
  'pretrained',
  'mix',
  'finetuned',
  'continued',
  'cold',
  'pop',
  'sr',
  'itemknn',
  'sr+itemknn',
  'sr+itemknn-lists',
];

export interface ReplayReport {
  protocol: 'replay';
  data: string;
  split: 'test' | 'validation';
  users: number;
  positions: number;
  /** Events replayed per user at most (null: whole histories). */
  maxEvents: number | null;
  seed: number;
  model: { source: string; bytes: number; pretrainSeconds: number | null };
  fineTune: Record<string, number | string | boolean>;
  /** `test` holds the metrics whatever the split (the JSON shape of the other protocols). */
  models: Record<
    string,
    {
      help: string;
      test: ReplayMetricTable;
      ranges: Record<string, ReplayMetricTable>;
      /** Model updates on the device: count and seconds (median, p90), where they ran. */
      updates?: { count: number; medianSeconds: number; p90Seconds: number; backend: string };
      /**
       * Training runs refused as diverged (TRAINING_DIVERGED): the recommender kept its
       * model and served on, as on a page. Absent when none.
       */
      diverged?: number;
      seconds: number;
    }
  >;
  /** `a − b` on the same positions; se clustered by user. */
  paired: {
    a: string;
    b: string;
    metrics: ReplayMetricTable;
    ranges: Record<string, ReplayMetricTable>;
  }[];
  wallSeconds: number;
}

export interface ReplayRunOptions {
  data: EvalDataset;
  dataLabel: string;
  users: number;
  validationUsers: number;
  split: 'test' | 'validation';
  seed: number;
  maxEvents: number | null;
  variants: string[];
  /** Serialised pretrained model (with population statistics); trained here when null. */
  model: ArrayBuffer | null;
  modelSource: string;
  pretrainParams: Record<string, number>;
  saveModel?: string;
  fineTune: Record<string, number | string | boolean>;
  io: CliIO;
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function runReplay(o: ReplayRunOptions): Promise<ReplayReport> {
  const t0 = performance.now();
  const { data, io } = o;
  const backend = await ensureNodeBackend('wasm');
  const split = replaySplit(data.userIds, data.full.offsets, {
    users: o.users,
    validationUsers: o.validationUsers,
    seed: o.seed,
  });
  const population = selectSequences(data.full, split.population);
  const replayed = o.split === 'test' ? split.test : split.validation;
  const itemIds = Array.from(data.itemIds, (id) => String(id));

  // The pretrained model: as `localrec pretrain` makes it, on the population only.
  let modelBytes = o.model;
  let pretrainSeconds: number | null = null;
  if (!modelBytes) {
    const p = o.pretrainParams;
    const progress = new Progress(io);
    progress.begin('pretraining');
    const r = await trainGru(
      population,
      {
        ...trainOptionsFrom(p),
        onProgress: (q) =>
          progress.update(
            (q.epoch - 1 + q.step / q.stepsPerEpoch) / p.epochs,
            `epoch ${q.epoch} loss ${q.loss.toFixed(3)}`,
          ),
      },
      {
        config: {
          hiddenSize: p.hiddenSize,
          embedding: p.separate === 1 ? 'separate' : 'tied',
          embeddingSize: p.hiddenSize,
        },
        vocab: itemIds,
      },
    );
    progress.end();
    pretrainSeconds = r.seconds;
    modelBytes = serializeGru(
      r.model,
      buildPopulation(population, {
        ...(p.beta !== undefined ? { beta: p.beta } : {}),
        ...(p.mixAlpha !== undefined ? { alpha: p.mixAlpha } : {}),
        ...(p.mixL !== undefined ? { L: p.mixL } : {}),
        ...(p.srWidth !== undefined ? { srWidth: p.srWidth } : {}),
        ...(p.knnWidth !== undefined ? { knnWidth: p.knnWidth } : {}),
      }),
    );
    r.model.dispose();
    if (o.saveModel) writeFileSync(o.saveModel, new Uint8Array(modelBytes));
  } else {
    const { model } = readModelFile(modelBytes);
    const vocab = model.vocab ?? [];
    model.dispose();
    if (vocab.length !== itemIds.length || vocab.some((id, i) => id !== itemIds[i])) {
      throw new CliError(
        'eval --protocol replay: the model file was not pretrained on this data (its vocabulary differs)',
      );
    }
  }

  const populationStats = readModelFile(modelBytes).population;
  const variants = replayVariants(o.fineTune);
  const at: ReplayPositions = { users: new Int32Array(0), positions: new Int32Array(0) };
  {
    const us: number[] = [];
    const ps: number[] = [];
    for (const u of replayed) {
      const len = data.full.offsets[u + 1] - data.full.offsets[u];
      const end = o.maxEvents ? Math.min(len, o.maxEvents) : len;
      for (let t = 5; t < end; t++) {
        us.push(u);
        ps.push(t);
      }
    }
    at.users = Int32Array.from(us);
    at.positions = Int32Array.from(ps);
  }
  const ranks: Record<string, Int32Array> = {};
  const report: ReplayReport = {
    protocol: 'replay',
    data: o.dataLabel,
    split: o.split,
    users: replayed.length,
    positions: at.users.length,
    maxEvents: o.maxEvents,
    seed: o.seed,
    model: { source: o.modelSource, bytes: modelBytes.byteLength, pretrainSeconds },
    fineTune: o.fineTune,
    models: {},
    paired: [],
    wallSeconds: 0,
  };
  const catalog = itemIds.map((id) => ({ id }));
  for (const name of o.variants) {
    const v = variants[name];
    const tv = performance.now();
    const r = new Int32Array(at.users.length);
    let j = 0;
    const updates: number[] = [];
    let diverged = 0;
    const progress = new Progress(io);
    progress.begin(name);
    if (v.kind === 'baseline') {
      if (!populationStats)
        throw new CliError(`replay ${name}: the model file carries no population statistics`);
      const scorer = v.fit(population, populationStats);
      const stamps = new Int32Array(data.numItems);
      let stamp = 0;
      for (const u of replayed) {
        const o0 = data.full.offsets[u];
        const len = data.full.offsets[u + 1] - o0;
        const end = o.maxEvents ? Math.min(len, o.maxEvents) : len;
        for (let t = 5; t < end; t++) {
          const prefix = data.full.items.subarray(o0, o0 + t);
          stamp++;
          for (const i of prefix) stamps[i] = stamp;
          r[j++] = pessimisticRank(scorer.scores64(prefix), data.full.items[o0 + t], stamps, stamp);
        }
      }
    } else {
      let done = 0;
      for (const u of replayed) {
        const o0 = data.full.offsets[u];
        const len = data.full.offsets[u + 1] - o0;
        const end = o.maxEvents ? Math.min(len, o.maxEvents) : len;
        let clock = (data.full.times as Float64Array)[o0] * 1000;
        const rec = await createRecommender(
          {
            namespace: `replay-${name}-${u}`,
            indexedDB: null,
            broadcast: false,
            now: () => clock,
            catalog,
            backend: { force: 'wasm' },
            ...(v.pretrained ? { pretrained: (modelBytes as ArrayBuffer).slice(0) } : {}),
            ...v.options,
          },
          {
            startEngine: async () => inProcessHandle(createWorkerApi()),
            electLeader: () => aloneElection(),
          },
        );
        rec.on('trained', (s) => {
          if (s.trained) updates.push(s.seconds);
        });
        // A diverged run is refused and the model kept, as on a page: counted, not fatal.
        // Any other error ends the replay.
        let failure: LocalRecError | null = null;
        rec.on('error', (e) => {
          if (e.code === 'TRAINING_DIVERGED') diverged++;
          else failure ??= e;
        });
        // A page's engine is up long before a visitor's fifth event: start it now, so the
        // first scored position gets the model, as a visitor would.
        if (v.pretrained) await rec.warmUp();
        try {
          const seen = new Set<string>();
          for (let t = 0; t < end; t++) {
            const item = itemIds[data.full.items[o0 + t]];
            clock = (data.full.times as Float64Array)[o0 + t] * 1000;
            if (t >= 5) {
              const recs = await rec.recommend({ k: 50, exclude: [...seen] });
              r[j++] = servedRank(recs, item, data.numItems - seen.size);
            }
            await rec.track({ itemId: item, type: 'view', timestamp: clock });
            seen.add(item);
            await rec.settled();
          }
          const bad = failure as LocalRecError | null;
          if (bad) {
            throw new CliError(
              `replay ${name}: user ${data.userIds[u]}: ${bad.code}: ${bad.message}`,
              1,
            );
          }
        } finally {
          rec.close();
        }
        progress.update(++done / replayed.length, `${done}/${replayed.length} users`);
      }
    }
    progress.end();
    if (j !== r.length) throw new Error(`replay ${name}: ${j} ranks for ${r.length} positions`);
    if (r.some((x) => x < 1)) throw new CliError(`replay ${name}: a NaN score`, 1);
    ranks[name] = r;
    const sorted = [...updates].sort((a, b) => a - b);
    report.models[name] = {
      help: v.help,
      test: replayMetrics(r, at),
      ranges: Object.fromEntries(
        POSITION_RANGES.map((g) => [g.label, replayMetrics(r, at, inRange(at, g))]),
      ),
      ...(v.kind === 'product' && updates.length
        ? {
            updates: {
              count: updates.length,
              medianSeconds: quantile(sorted, 0.5),
              p90Seconds: quantile(sorted, 0.9),
              backend: `${backend} (Node, in-process engine)`,
            },
          }
        : {}),
      ...(diverged ? { diverged } : {}),
      seconds: (performance.now() - tv) / 1000,
    };
    io.stderr(
      `${name}: NDCG@10 ${report.models[name].test['NDCG@10'].mean.toFixed(4)} ± ${report.models[name].test['NDCG@10'].se.toFixed(4)} (${report.models[name].seconds.toFixed(1)} s)${diverged ? `; ${diverged} training runs refused as diverged` : ''}\n`,
    );
  }
  // Paired: the served behaviour and the untouched model against each other and every baseline.
  const names = Object.keys(ranks);
  for (const a of ['served', 'finetuned', 'mix']) {
    if (!ranks[a]) continue;
    for (const b of names) {
      if (b === a || (a !== 'served' && b !== 'pretrained' && b !== 'sr+itemknn')) continue;
      report.paired.push({
        a,
        b,
        metrics: replayPaired(ranks[a], ranks[b], at),
        ranges: Object.fromEntries(
          POSITION_RANGES.map((g) => [
            g.label,
            replayPaired(ranks[a], ranks[b], at, inRange(at, g)),
          ]),
        ),
      });
    }
  }
  report.wallSeconds = (performance.now() - t0) / 1000;
  return report;
}

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');

export function formatReplay(r: ReplayReport): string {
  const lines = [
    `replay on ${r.data}: ${r.split} users ${r.users}, positions ${r.positions}${r.maxEvents ? ` (first ${r.maxEvents} events)` : ''}, seed ${r.seed}; model ${r.model.source} (${r.model.bytes} bytes)`,
    '± = standard error clustered by user (positions of one user are not independent)',
    '',
    `| model | ${METRICS.join(' | ')} | ${POSITION_RANGES.map((g) => `NDCG@10 ${g.label}`).join(' | ')} | updates (median / p90 s) |`,
    `|---|${METRICS.map(() => '---:').join('|')}|${POSITION_RANGES.map(() => '---:').join('|')}|---|`,
  ];
  for (const [name, m] of Object.entries(r.models)) {
    lines.push(
      `| ${name} | ${METRICS.map((k) => `${f4(m.test[k].mean)} ± ${f4(m.test[k].se)}`).join(' | ')} | ${POSITION_RANGES.map((g) => f4(m.ranges[g.label]['NDCG@10'].mean)).join(' | ')} | ${m.updates ? `${m.updates.count}: ${m.updates.medianSeconds.toFixed(3)} / ${m.updates.p90Seconds.toFixed(3)}` : '-'} |`,
    );
  }
  lines.push(
    '',
    '| paired a − b | NDCG@10 | HR@10 | MRR@20 | ' +
      POSITION_RANGES.map((g) => `NDCG@10 ${g.label}`).join(' | ') +
      ' |',
  );
  lines.push(`|---|---:|---:|---:|${POSITION_RANGES.map(() => '---:').join('|')}|`);
  for (const p of r.paired) {
    const c = (t: ReplayMetricTable, k: 'NDCG@10' | 'HR@10' | 'MRR@20') =>
      `${t[k].mean >= 0 ? '+' : ''}${f4(t[k].mean)} ± ${f4(t[k].se)}`;
    lines.push(
      `| ${p.a} − ${p.b} | ${c(p.metrics, 'NDCG@10')} | ${c(p.metrics, 'HR@10')} | ${c(p.metrics, 'MRR@20')} | ${POSITION_RANGES.map((g) => c(p.ranges[g.label], 'NDCG@10')).join(' | ')} |`,
    );
  }
  lines.push('', `wall ${r.wallSeconds.toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

/** Reads a model file for `--model`. */
export function readModelArg(path: string, io: CliIO): ArrayBuffer {
  try {
    const b = readFileSync(resolve(io.cwd, path));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  } catch (error) {
    throw new CliError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
