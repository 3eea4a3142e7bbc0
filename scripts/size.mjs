#!/usr/bin/env node
// `npm run size`: the size of every file in dist/ (bytes and gzip -9) beside its budget
// (scripts/lib/size-budget.mjs), as the Markdown table README.md shows. Builds nothing:
// run `npm run build` first. Exits 1 when a file is over its budget.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSizeTable, measure, overBudget, sizeTable } from './lib/size-budget.mjs';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
if (!existsSync(join(dist, 'localrec.js'))) {
  console.error('size: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
console.log(formatSizeTable(sizeTable(dist)));
const overs = overBudget(measure(dist));
if (overs.length > 0) {
  console.error(`size: over the size budget:\n  ${overs.join('\n  ')}`);
  process.exit(1);
}
