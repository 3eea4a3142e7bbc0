/**
 * `localrec pretrain --data FILE.csv[.gz] --out model.bin`: train the GRU on a log and
 * write the serialised model (weights + config + vocabulary of raw item ids, format
 * version, checksum) that a site can ship as a starting model.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { serializeGru } from '../../src/model/serialize';
import { ensureNodeBackend } from '../../src/train/backend-node';
import { trainOptionsFrom } from '../../src/train/eval-factory';
import { trainGru } from '../../src/train/fit';
import { parseFlags, usageLines } from '../args';
import { CliError, type CliIO } from '../io';
import type { Command } from '../subcommands';
import { GRU_FLAGS, gruParams, loadProtocolData, settingsText } from './bench';

const FLAGS = {
  ...GRU_FLAGS,
  out: { help: 'output file (required)' },
  all: { boolean: true, help: 'train on every interaction, not only the protocol training part' },
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
  const p = gruParams(values.params);
  const backend = await ensureNodeBackend(values.backend ?? process.env.LOCALREC_BACKEND ?? 'wasm');
  const data = loadProtocolData(values.data, io);
  const fit = booleans.has('all') ? data.full : data.train;
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
  const buf = serializeGru(r.model);
  r.model.dispose();
  try {
    writeFileSync(resolve(io.cwd, values.out), new Uint8Array(buf));
  } catch (error) {
    throw new CliError(
      `cannot write ${values.out} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  io.stdout(
    `wrote ${values.out}: ${buf.byteLength} bytes · ${fit.numItems} items · ${r.events} events in ${r.seconds.toFixed(1)} s (${Math.round(r.eventsPerSecond)} events/s, ${backend}) · ${booleans.has('all') ? 'all interactions' : 'protocol training interactions'}\nsettings: ${settingsText(p)}\n`,
  );
  return 0;
}

export const command: Command = {
  summary: 'train the GRU on a CSV log and write the serialised model',
  run,
};
