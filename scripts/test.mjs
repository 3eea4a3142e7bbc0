#!/usr/bin/env node
// `npm test`: every check of the project, in order, stopping at the first failure:
// typecheck, lint, build, unit tests (Node + fake-indexeddb), the PyTorch pretraining
// package's tests (pretrain/: parity with the TypeScript model, a 2-process DDP run), e2e
// tests (real Chromium through playwright-core against the built dist/ and demo; the core
// scenarios also in Firefox ESR and WebKitGTK, e2e/browsers/). It finds the browsers and a
// Python with torch by itself (scripts/lib/chromium.mjs, browsers.mjs, python-torch.mjs)
// and installs them only through the system's apt, never downloading a browser.
//
// Usage: node scripts/test.mjs [--only typecheck|lint|build|unit|python|e2e ...] [vitest args after --]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserNotFound, ensureBrowsers, FIREFOX_ENV, WEBKIT_ENV } from './lib/browsers.mjs';
import { CHROMIUM_ENV, ChromiumNotFound, ensureChromium } from './lib/chromium.mjs';
import { checkInstalled, checkNode, die } from './lib/env-check.mjs';
import { ensurePythonTorch, PythonTorchNotFound } from './lib/python-torch.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const dashDash = argv.indexOf('--');
const passThrough = dashDash >= 0 ? argv.slice(dashDash + 1) : [];
const own = dashDash >= 0 ? argv.slice(0, dashDash) : argv;
const only = new Set();
for (let i = 0; i < own.length; i++) if (own[i] === '--only') only.add(own[++i]);
const wants = (step) => only.size === 0 || only.has(step);

const bad = checkNode() ?? checkInstalled(root);
if (bad) die('test', bad);

const env = { ...process.env };
// Plain logs when not on a terminal (CI): no ANSI colour codes.
if (!process.stdout.isTTY) env.NO_COLOR = '1';
if (wants('e2e')) {
  try {
    env[CHROMIUM_ENV] = ensureChromium({ log: (l) => console.log(`test: ${l}`) });
    console.log(`test: browser ${env[CHROMIUM_ENV]}`);
    // Firefox ESR and WebKitGTK for the core scenarios of e2e/browsers/.
    const { firefox, webkit } = ensureBrowsers({ log: (l) => console.log(`test: ${l}`) });
    [env[FIREFOX_ENV], env[WEBKIT_ENV]] = [firefox, webkit.browser];
    console.log(`test: browsers ${firefox}, ${webkit.browser} (${webkit.driver}, ${webkit.xvfb})`);
  } catch (error) {
    if (error instanceof ChromiumNotFound || error instanceof BrowserNotFound)
      die('test', error.message);
    throw error;
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
const reports = join(root, '.cache', 'test-reports');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const summary = [];
function step(name, cmd, args) {
  if (!wants(name)) return;
  console.log(`\n=== ${name}: ${[cmd, ...args].map((a) => a.replace(`${root}/`, '')).join(' ')}`);
  const started = performance.now();
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  summary.push(`${name} ${result.status === 0 ? 'ok' : 'FAILED'} (${seconds} s)`);
  if (result.status !== 0) {
    printSummary();
    die('test', `${name} failed (exit ${result.status ?? result.signal}); see its output above.`);
  }
}

const counts = { passed: 0, failed: 0, skipped: 0 };
function readCounts(file) {
  if (!existsSync(file)) return;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  counts.passed += report.numPassedTests ?? 0;
  counts.failed += report.numFailedTests ?? 0;
  counts.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
function printSummary() {
  readCounts(join(reports, 'unit.json'));
  readCounts(join(reports, 'e2e.json'));
  console.log(`\n=== summary: ${summary.join(', ')}`);
  if (counts.passed + counts.failed > 0) {
    console.log(
      `tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
    );
  }
}

const vitest = (project) => [
  'run',
  '--project',
  project,
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${join(reports, `${project}.json`)}`,
  ...passThrough,
];

step('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
step('lint', bin('biome'), ['ci', '--colors=off', '.']);
step('build', process.execPath, [join(root, 'scripts', 'build.mjs'), '--demo']);
step('unit', bin('vitest'), vitest('unit'));
if (wants('python')) {
  // skipped only where nothing can be installed (no apt-get or not root), never in CI
  const started = performance.now();
  let python;
  try {
    python = ensurePythonTorch({ log: (l) => console.log(`test: ${l}`) });
  } catch (error) {
    if (!(error instanceof PythonTorchNotFound)) throw error;
    if (error.installable || env.CI) die('test', error.message);
    console.log(`test: python SKIPPED: ${error.message}`);
    summary.push('python SKIPPED (no PyTorch, nothing installable)');
  }
  if (python) {
    console.log(
      `test: python ${python} (${((performance.now() - started) / 1000).toFixed(1)} s to find)`,
    );
    env.PYTHONPATH = join(root, 'pretrain');
    step('python', python, [
      '-m',
      'unittest',
      'discover',
      '-s',
      'pretrain/tests',
      '-t',
      'pretrain',
      '-v',
    ]);
  }
}
step('e2e', bin('vitest'), vitest('e2e'));
printSummary();
