/**
 * The subcommands of `localrec`. Adding one = one line here plus its file in
 * cli/commands/<name>.ts exporting `command: Command`. Loaded lazily so `eval` never
 * pulls in TF.js that `bench` or `pretrain` may need.
 */
import type { CliIO } from './io';

export interface Command {
  /** One line for `localrec --help`. */
  summary: string;
  /** Runs the subcommand with the arguments after its name; resolves to the exit code. */
  run(args: string[], io: CliIO): Promise<number>;
}

export const SUBCOMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  eval: () => import('./commands/eval'),
  bench: () => import('./commands/bench'),
  pretrain: () => import('./commands/pretrain'),
  synth: () => import('./commands/synth'),
};
