/**
 * Flags through `node:util`'s `parseArgs`: `--name value`, `--name=value`, boolean
 * `--name`. Its tokens are checked here so that unknown flags, values given to a boolean,
 * missing or empty values and a flag given twice are a CliError (exit 2) naming the
 * command, never silently ignored. Arguments that are not `--` flags (a single-dash `-x`
 * too) are positionals; so is everything after a bare `--`.
 */
import { parseArgs } from 'node:util';
import { CliError } from './io';

export interface FlagSpec {
  /** Boolean flags take no value. */
  boolean?: boolean;
  /** Shown in usage. */
  help: string;
}

export type ParsedFlags = {
  values: Record<string, string>;
  booleans: Set<string>;
  positionals: string[];
};

export function parseFlags(
  command: string,
  args: readonly string[],
  specs: Readonly<Record<string, FlagSpec>>,
): ParsedFlags {
  const { tokens } = parseArgs({
    args: [...args],
    options: Object.fromEntries(
      Object.entries(specs).map(([name, s]) => [
        name,
        { type: s.boolean ? ('boolean' as const) : ('string' as const), multiple: true },
      ]),
    ),
    // not strict: the checks (and their messages) are below
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string> = {};
  const booleans = new Set<string>();
  const positionals: string[] = [];
  let lastShort = -1;
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind === 'option-terminator') {
      positionals.push('--');
      continue;
    }
    if (!t.rawName.startsWith('--')) {
      // a single-dash argument (parseArgs splits `-abc` into three tokens of one index)
      if (t.index !== lastShort) positionals.push(args[t.index]);
      lastShort = t.index;
      continue;
    }
    const { name } = t;
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw new CliError(`${command}: unknown option --${name} (see --help)`);
    if (spec.boolean) {
      if (t.inlineValue) throw new CliError(`${command}: --${name} takes no value`);
      booleans.add(name);
      continue;
    }
    // `--name --other`: parseArgs took the next flag as the value
    const value = t.inlineValue || !t.value?.startsWith('--') ? t.value : undefined;
    if (value === undefined || value === '')
      throw new CliError(`${command}: --${name} needs a value`);
    if (Object.hasOwn(values, name)) throw new CliError(`${command}: --${name} given twice`);
    values[name] = value;
  }
  return { values, booleans, positionals };
}

export function usageLines(specs: Readonly<Record<string, FlagSpec>>): string {
  return Object.entries(specs)
    .map(([name, s]) => `  --${name}${s.boolean ? '' : ' VALUE'}`.padEnd(26) + s.help)
    .join('\n');
}

export function intFlag(
  command: string,
  name: string,
  value: string | undefined,
  fallback: number,
  min = 1,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`${command}: --${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}
