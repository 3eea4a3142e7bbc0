// Node entry of the `localrec` CLI (built to dist/cli.js, which gets the shebang; run from
// a checkout with `npx tsx cli/localrec.ts <command> ...`).
import { processIO } from './io';
import { main } from './main';

main(process.argv.slice(2), processIO()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`localrec: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
