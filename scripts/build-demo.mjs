#!/usr/bin/env node
// Builds the demo page into dist-demo/ and puts the built library beside it (./lib/),
// so the demo loads localrec exactly as a site would. Needs dist/ (scripts/build.mjs).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'localrec.js'))) {
  console.error('build-demo: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
execFileSync(
  join(root, 'node_modules', '.bin', 'vite'),
  ['build', '--mode', 'demo', '--logLevel', 'warn'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
cpSync(join(root, 'dist'), join(root, 'dist-demo', 'lib'), {
  recursive: true,
  filter: (src) => !src.endsWith('.map') && !src.endsWith('cli.js'),
});
const assets = join(root, 'demo', 'assets');
if (existsSync(assets)) cpSync(assets, join(root, 'dist-demo', 'assets'), { recursive: true });
