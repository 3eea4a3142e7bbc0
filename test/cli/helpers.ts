import type { CliIO } from '../../cli/io';
import { main } from '../../cli/main';

/** Runs `localrec ARGS` in-process in `cwd`, capturing both streams. */
export async function runCli(
  args: string[],
  cwd: string,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    stderrIsTTY: false,
    cwd,
  };
  const code = await main(args, io);
  return { code, out, err };
}
