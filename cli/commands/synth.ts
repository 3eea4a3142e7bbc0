/**
 * `localrec synth`: write a synthetic interaction log (src/eval/synthetic.ts) as the CSV
 * `localrec eval` reads, and a spec file (its knobs) that `localrec eval --oracle SPEC`
 * turns into the Bayes-optimal scorer of that log (docs/SYNTHETIC.md).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LocalRecError } from '../../src/core/errors';
import {
  generateSynthetic,
  SYNTHETIC_DEFAULTS,
  SYNTHETIC_PRESETS,
  type SyntheticOptions,
  syntheticCsv,
  syntheticOptions,
} from '../../src/eval/synthetic';
import { type FlagSpec, parseFlags, usageLines } from '../args';
import { CliError, type CliIO } from '../io';
import type { Command } from '../subcommands';

/** Flag name → option, with its help. */
const KNOBS: Record<string, { key: keyof SyntheticOptions; help: string }> = {
  seed: { key: 'seed', help: 'seed of the world and the sequences' },
  items: { key: 'numItems', help: 'catalog size N' },
  users: {
    key: 'numUsers',
    help: 'users (one sequence each); the world (intents, successors) stays the same, so this is the data size',
  },
  'min-length': { key: 'minLength', help: 'shortest sequence' },
  'max-length': { key: 'maxLength', help: 'longest sequence (< items)' },
  intents: { key: 'intents', help: 'latent intents Z' },
  'intent-size': { key: 'intentSize', help: 'items per intent S' },
  intent: { key: 'intent', help: 'intent share wI (intent strength)' },
  chain: { key: 'chain', help: 'successor-chain share wC (noise = 1 − intent − chain)' },
  successors: { key: 'successors', help: 'successors per item' },
  switch: {
    key: 'switch',
    help: 'probability the intent is redrawn before a step (memory ≈ 1/switch; 0 = whole sequence)',
  },
};

const FLAGS: Record<string, FlagSpec> = {
  out: { help: 'the CSV to write (userId,itemId,timestamp); required' },
  spec: { help: 'the spec to write for `eval --oracle` (default: OUT with .spec.json)' },
  preset: {
    help: `named setting: ${Object.entries(SYNTHETIC_PRESETS)
      .map(
        ([n, p]) =>
          `${n} (${Object.entries(p)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')})`,
      )
      .join(', ')}`,
  },
  ...Object.fromEntries(
    Object.entries(KNOBS).map(([flag, k]) => [
      flag,
      { help: `${k.help} (default ${SYNTHETIC_DEFAULTS[k.key]})` },
    ]),
  ),
  help: { boolean: true, help: 'show this help' },
};

const USAGE = `usage: localrec synth --out FILE.csv [--preset strong|weak] [knobs]\n\n${usageLines(FLAGS)}\n`;

/** What the spec file holds; `eval --oracle` reads it back. */
export interface SyntheticSpec {
  kind: 'localrec-synthetic';
  version: 1;
  options: SyntheticOptions;
}

export function specPathFor(out: string): string {
  return `${out.replace(/\.csv(\.gz)?$/i, '')}.spec.json`;
}

/** Reads a spec file's text; throws CliError naming the file when it is not one. */
export function parseSyntheticSpec(text: string, path: string): SyntheticOptions {
  let spec: Partial<SyntheticSpec>;
  try {
    spec = JSON.parse(text) as Partial<SyntheticSpec>;
  } catch {
    throw new CliError(`${path}: not JSON`);
  }
  if (spec?.kind !== 'localrec-synthetic' || spec.version !== 1 || !spec.options) {
    throw new CliError(`${path}: not a localrec synthetic spec (written by 'localrec synth')`);
  }
  try {
    return syntheticOptions(spec.options);
  } catch (error) {
    if (error instanceof LocalRecError) throw new CliError(`${path}: ${error.message}`);
    throw error;
  }
}

async function runSynth(args: string[], io: CliIO): Promise<number> {
  const { values, booleans, positionals } = parseFlags('synth', args, FLAGS);
  if (booleans.has('help')) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length)
    throw new CliError(`synth: unexpected argument '${positionals[0]}' (see --help)`);
  if (!values.out) throw new CliError('synth: --out FILE.csv is required (see --help)');
  const overrides: Partial<Record<keyof SyntheticOptions, number>> = {};
  for (const [flag, { key }] of Object.entries(KNOBS)) {
    if (values[flag] === undefined) continue;
    const v = Number(values[flag]);
    if (!Number.isFinite(v)) throw new CliError(`synth: --${flag} must be a number`);
    overrides[key] = v;
  }
  let options: SyntheticOptions;
  try {
    options = syntheticOptions(overrides, values.preset);
  } catch (error) {
    if (error instanceof LocalRecError) throw new CliError(`synth: ${error.message}`);
    throw error;
  }
  const log = generateSynthetic(options);
  // The oracle is exact only if the protocol's filter (items with < 5 interactions) keeps
  // the whole catalog: say so now rather than at eval time.
  const perItem = new Int32Array(options.numItems + 1);
  for (const x of log.items) perItem[x]++;
  const rare = perItem.subarray(1).filter((c) => c < 5).length;
  if (rare > 0) {
    io.stderr(
      `warning: ${rare} items have fewer than 5 interactions: eval's default filter drops them and --oracle refuses the log (more --users or fewer --items)\n`,
    );
  }
  const specPath = values.spec ?? specPathFor(values.out);
  const spec: SyntheticSpec = { kind: 'localrec-synthetic', version: 1, options };
  for (const [path, text] of [
    [values.out, syntheticCsv(log)],
    [specPath, `${JSON.stringify(spec, null, 2)}\n`],
  ] as const) {
    try {
      writeFileSync(resolve(io.cwd, path), text);
    } catch (error) {
      throw new CliError(
        `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  io.stdout(
    `wrote ${values.out}: ${options.numUsers} users, ${options.numItems} items, ${log.items.length} interactions\n` +
      `wrote ${specPath}: ${Object.entries(options)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}\n` +
      `evaluate: localrec eval --data ${values.out} --oracle ${specPath} --models pop,sr,itemknn,sr+itemknn,gru\n`,
  );
  return 0;
}

export const command: Command = {
  summary: 'write a synthetic log with a known Bayes-optimal scorer (docs/SYNTHETIC.md)',
  run: runSynth,
};
