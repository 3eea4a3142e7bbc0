/**
 * `localrec pretrain --data FILE.csv[.gz] --out model.bin`: train the GRU on a log and
 * write the serialised model (weights + config + vocabulary of raw item ids, format
 * version, checksum) that a site can ship as a starting model. By default the file also
 * carries the population statistics of the same sequences (item counts, top SR
 * successors and item-kNN neighbours, mix settings), so the device can serve the
 * GRU + SR + item-kNN mix without the log.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkParam } from '../../src/baselines/params';
import { buildPopulation, POPULATION_DEFAULTS } from '../../src/baselines/population';
import {
  populationByteLength,
  serializeGru,
  WEIGHT_PRECISIONS,
  type WeightPrecision,
} from '../../src/model/serialize';
import { ensureNodeBackend } from '../../src/train/backend-node';
import { trainOptionsFrom } from '../../src/train/eval-factory';
import { trainGru } from '../../src/train/fit';
import { intFlag, parseFlags, usageLines } from '../args';
import { CliError, type CliIO } from '../io';
import type { Command } from '../subcommands';
import { GRU_FLAGS, gruParams, loadProtocolData, settingsText } from './bench';

/** Settings of the served mix, accepted in --params beside the GRU's. */
const MIX_PARAMS: Readonly<Record<string, number>> = {
  beta: POPULATION_DEFAULTS.beta,
  mixAlpha: POPULATION_DEFAULTS.alpha,
};

/**
 * int8 item rows: on ml-small-last5 the same weights score NDCG@10 −0.00004 ± 0.00022
 * (paired) against float32, about 1% of the metric’s own SE, for a 4x smaller item
 * matrix (7.8 MB instead of 26.9 MB at 100k items, hidden 64) that also loads faster.
 * docs/MODEL.md, "Compact weights", has the measurements.
 */
const DEFAULT_PRECISION: WeightPrecision = 'i8';

const FLAGS = {
  ...GRU_FLAGS,
  params: {
    help: `${GRU_FLAGS.params.help}; mix: beta (GRU share, default ${MIX_PARAMS.beta}), mixAlpha (SR share of SR + item-kNN, default ${MIX_PARAMS.mixAlpha})`,
  },
  out: { help: 'output file (required)' },
  all: { boolean: true, help: 'train on every interaction, not only the protocol training part' },
  neighbours: {
    help: `item-kNN neighbours kept per item (default ${POPULATION_DEFAULTS.knnWidth})`,
  },
  'sr-neighbours': {
    help: `SR successors kept per item (default ${POPULATION_DEFAULTS.srWidth})`,
  },
  'no-population': { boolean: true, help: 'write the GRU only, without population statistics' },
  precision: {
    help: `item matrix encoding: f32, f16 or i8 (int8 with a scale per row; default ${DEFAULT_PRECISION}). f16 and i8 files are format 3, which localrec builds before it do not read`,
  },
  help: { boolean: true, help: 'show this help' },
};

const USAGE = `usage: localrec pretrain --data FILE.csv[.gz] --out model.bin [options]\n\n${usageLines(FLAGS)}\n`;

async function run(args: string[], io: CliIO): Promise<number> {
  const { values, booleans, positionals } = parseFlags('pretrain', args, FLAGS);
  if (booleans.has('help')) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length) throw new CliError(`pretrain: unexpected argument '${positionals[0]}'`);
  if (!values.data) throw new CliError('pretrain: --data FILE.csv is required');
  if (!values.out) throw new CliError('pretrain: --out FILE is required');
  const p = gruParams(values.params, MIX_PARAMS);
  // named as on the command line (buildPopulation calls mixAlpha `alpha`)
  for (const k of Object.keys(MIX_PARAMS)) checkParam('pretrain', k, p[k], { min: 0, max: 1 });
  const precision = (values.precision ?? DEFAULT_PRECISION) as WeightPrecision;
  if (!WEIGHT_PRECISIONS.includes(precision))
    throw new CliError(
      `pretrain: --precision '${values.precision}' is not one of ${WEIGHT_PRECISIONS.join(', ')}`,
    );
  const withPopulation = !booleans.has('no-population');
  for (const flag of ['neighbours', 'sr-neighbours'] as const) {
    if (!withPopulation && values[flag] !== undefined)
      throw new CliError(`pretrain: --${flag} has no effect with --no-population`);
  }
  const knnWidth = intFlag(
    'pretrain',
    'neighbours',
    values.neighbours,
    POPULATION_DEFAULTS.knnWidth,
  );
  const srWidth = intFlag(
    'pretrain',
    'sr-neighbours',
    values['sr-neighbours'],
    POPULATION_DEFAULTS.srWidth,
  );
  const backend = await ensureNodeBackend(values.backend ?? process.env.LOCALREC_BACKEND ?? 'wasm');
  const data = loadProtocolData(values.data, io);
  const fit = booleans.has('all') ? data.full : data.train;
  // built before training, so its memory peak does not add to the trainer's
  const population = withPopulation
    ? buildPopulation(fit, { srWidth, knnWidth, alpha: p.mixAlpha, beta: p.beta })
    : null;
  const vocab = Array.from(data.itemIds, (id) => String(id));
  let last = 0;
  const r = await trainGru(
    fit,
    {
      ...trainOptionsFrom(p),
      onProgress: (q) => {
        const now = performance.now();
        if (q.epochEnd || now - last > 5000) {
          last = now;
          io.stderr(
            `epoch ${q.epoch} step ${q.step}/${q.stepsPerEpoch} loss ${q.loss.toFixed(4)} ${Math.round(q.eventsPerSecond)} events/s\n`,
          );
        }
      },
    },
    {
      config: {
        hiddenSize: p.hiddenSize,
        embedding: p.separate === 1 ? 'separate' : 'tied',
        embeddingSize: p.hiddenSize,
      },
      vocab,
    },
  );
  const buf = serializeGru(r.model, population, { precision });
  r.model.dispose();
  try {
    writeFileSync(resolve(io.cwd, values.out), new Uint8Array(buf));
  } catch (error) {
    throw new CliError(
      `cannot write ${values.out} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const populationText = population
    ? `population ${populationByteLength(population)} bytes (${population.sr.width} SR successors, ${population.knn.width} item-kNN neighbours per item)`
    : 'no population';
  io.stdout(
    `wrote ${values.out}: ${buf.byteLength} bytes (${populationText}) · ${precision} item matrix · ${fit.numItems} items · ${r.events} events in ${r.seconds.toFixed(1)} s (${Math.round(r.eventsPerSecond)} events/s, ${backend}) · ${booleans.has('all') ? 'all interactions' : 'protocol training interactions'}\nsettings: ${settingsText(p)}\n`,
  );
  return 0;
}

export const command: Command = {
  summary: 'train the GRU on a CSV log and write the serialised model',
  run,
};
