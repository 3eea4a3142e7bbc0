/** `localrec <subcommand> [options]`: dispatch, and the one place errors become exit codes. */
import { type CliIO, describeError } from './io';
import { asMissingDependency } from './peers';
import { SUBCOMMANDS } from './subcommands';

function usage(): string {
  return `usage: localrec <command> [options]\n\ncommands: ${Object.keys(SUBCOMMANDS).join(', ')}\nrun 'localrec <command> --help' for its options\n`;
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return 0;
  }
  const load = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!load) {
    io.stderr(
      `localrec: unknown command '${name}' (commands: ${Object.keys(SUBCOMMANDS).join(', ')})\n`,
    );
    return 2;
  }
  try {
    const { command } = await load();
    return await command.run(rest, io);
  } catch (thrown) {
    const error = asMissingDependency(thrown);
    const { exitCode, message, internal } = describeError(error);
    io.stderr(`localrec ${name}: ${internal ? 'internal error: ' : 'error: '}${message}\n`);
    if (internal && process.env.LOCALREC_DEBUG && error instanceof Error && error.stack) {
      io.stderr(`${error.stack}\n`);
    }
    return exitCode;
  }
}
