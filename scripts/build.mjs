#!/usr/bin/env node
// Builds every artifact of the package into dist/ (see vite.config.ts for the list),
// compiles the training step's WebAssembly kernels (scripts/build-wasm.mjs) first,
// copies the TF.js WASM binaries beside the worker, emits type declarations, and checks
// the promises the package makes: the main-thread bundles contain no TF.js, each browser
// file fits its gzip size budget (scripts/lib/size-budget.mjs), the version matches
// package.json, each file the package.json names exists, the bin (dist/cli.js) is
// executable (0755) and runs. Ends with the size table (`npm run size` prints it alone).
//
// Usage: node scripts/build.mjs [--if-missing] [--demo]
//   --if-missing  do nothing when dist/ is already complete (used by `prepare`)
//   --demo        also build the demo into dist-demo/
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBinsExecutable } from './lib/bins.mjs';
import { formatSizeTable, measure, overBudget, sizeTable } from './lib/size-budget.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dist = join(root, 'dist');

const expected = [
  'localrec.js',
  'localrec.global.js',
  'localrec-eval.js',
  'localrec-eval.global.js',
  'localrec.worker.js',
  'cli.js',
  'index.d.ts',
  'eval-entry.d.ts',
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
];

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

if (args.has('--if-missing') && expected.every((f) => existsSync(join(dist, f)))) {
  // A dist/ of an older build may lack the x bit on its bin: cheap to fix here.
  makeBinsExecutable(dist, pkg);
  console.log('build: dist/ is complete, skipping (run `npm run build` to rebuild)');
  process.exit(0);
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
if (!existsSync(bin('vite'))) fail('node_modules is missing: run `npm install` first');

// Build into a fresh folder and swap it in at the end: a concurrently running e2e server
// (or a second build) never serves a half-written dist/.
const out = join(root, `.dist-build-${process.pid}`);

function run(cmd, cmdArgs) {
  const started = performance.now();
  try {
    execFileSync(cmd, cmdArgs, {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, LOCALREC_OUT_DIR: out },
    });
  } catch {
    rmSync(out, { recursive: true, force: true });
    fail(
      `\`${[cmd, ...cmdArgs].map((a) => a.replace(root + '/', '')).join(' ')}\` failed (see above)`,
    );
  }
  return ((performance.now() - started) / 1000).toFixed(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// the training step's WebAssembly kernels, from their AssemblyScript source
console.log(
  `build: wasm kernels in ${run(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')])} s`,
);
for (const mode of ['lib', 'global', 'eval', 'eval-global', 'worker', 'cli']) {
  const seconds = run(bin('vite'), ['build', '--mode', mode, '--logLevel', 'warn']);
  console.log(`build: ${mode.padEnd(11)} ${seconds} s`);
}

const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
for (const f of expected.filter((f) => f.endsWith('.wasm'))) {
  copyFileSync(join(wasmDir, f), join(out, f));
}

console.log(
  `build: types       ${run(bin('tsc'), ['-p', 'tsconfig.build.json', '--outDir', out])} s`,
);

// Vite writes 0644; the package's bins (dist/cli.js) must run by themselves.
try {
  makeBinsExecutable(out, pkg);
} catch (error) {
  rmSync(out, { recursive: true, force: true });
  fail(error.message);
}

// Over a size budget: the old dist/ stays, the new one is dropped.
const overs = overBudget(measure(out));
if (overs.length > 0) {
  rmSync(out, { recursive: true, force: true });
  fail(`over the size budget:\n  ${overs.join('\n  ')}`);
}

rmSync(dist, { recursive: true, force: true });
renameSync(out, dist);

// --- promises the package makes ---------------------------------------------------------
for (const f of expected) if (!existsSync(join(dist, f))) fail(`dist/${f} was not produced`);
for (const f of [
  'localrec.js',
  'localrec.global.js',
  'localrec-eval.js',
  'localrec-eval.global.js',
]) {
  const code = readFileSync(join(dist, f), 'utf8');
  // Markers that only TF.js bundles contain; the main thread must stay free of it.
  for (const marker of ['tfjs-core', 'registerKernel', 'WEBGL_VERSION']) {
    if (code.includes(marker))
      fail(`dist/${f} contains TF.js ("${marker}"): the main-thread bundle must not import it`);
  }
}
const { version } = await import(join(dist, 'localrec.js')).catch(() => ({ version: undefined }));
if (version !== pkg.version)
  fail(`dist/localrec.js says version ${version}, package.json says ${pkg.version}`);
// The bin runs as a program (shebang + x bit), not only through `node`.
try {
  execFileSync(join(dist, 'cli.js'), ['--help'], { cwd: root, stdio: 'pipe' });
} catch (error) {
  fail(`\`dist/cli.js --help\` does not run: ${error.message.split('\n')[0]}`);
}

if (args.has('--demo')) {
  console.log(
    `build: demo        ${run(process.execPath, [join(root, 'scripts', 'build-demo.mjs')])} s`,
  );
}

console.log('build: sizes (all fit their budgets):');
console.log(formatSizeTable(sizeTable(dist)));
