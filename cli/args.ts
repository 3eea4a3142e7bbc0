/**
 * A tiny strict flag parser: `--name value`, `--name=value`, boolean `--name`. Unknown
 * flags and missing values are a CliError (exit 2), never silently ignored.
 */
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
  const values: Record<string, string> = {};
  const booleans = new Set<string>();
  const positionals: string[] = [];
  for (let j = 0; j < args.length; j++) {
    const arg = args[j];
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const spec = specs[name];
    if (!spec) throw new CliError(`${command}: unknown option --${name} (see --help)`);
    if (spec.boolean) {
      if (eq >= 0) throw new CliError(`${command}: --${name} takes no value`);
      booleans.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (j + 1 < args.length && !args[j + 1].startsWith('--')) value = args[++j];
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
