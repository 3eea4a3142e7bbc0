// The package has two ES entries: `localrec` (src/index.ts → dist/localrec.js, what every
// visitor's page loads) and `localrec/eval` (src/eval-entry.ts → dist/localrec-eval.js,
// the offline protocol and the baselines). Together they export everything `localrec`
// did before the split; the evaluation code stays out of the core entry, which has a
// size budget (scripts/lib/size-budget.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const evalGlobal = join(root, 'dist', 'localrec-eval.global.js');
const evalModule = join(root, 'dist', 'localrec-eval.js');

/** Values (not types) `localrec/eval` carries: the protocol and the baselines. */
const EVAL_VALUES = [
  'BASELINES',
  'BaselineScorer',
  'createBaseline',
  'FitCache',
  'fitItemKNN',
  'fitMostPop',
  'fitSKNN',
  'fitSR',
  'fitSRItemKNN',
  'fitVSKNN',
  'ItemKNN',
  'MostPop',
  'SequentialRules',
  'SKNN',
  'SRItemKNN',
  'VSKNN',
  'evaluate',
  'METRICS',
  'metricsFromRanks',
  'parseInteractionsCsv',
  'prepareDataset',
  'tieBreakHash',
  'tune',
];

describe('package entries', () => {
  it('localrec/eval exports the protocol and the baselines; localrec does not', async () => {
    const core = await import('../../src/index');
    const evalEntry = await import('../../src/eval-entry');
    for (const name of EVAL_VALUES) {
      expect(evalEntry, name).toHaveProperty(name);
      expect(core, name).not.toHaveProperty(name);
    }
    expect(evalEntry.version).toBe(core.version);
    // The baselines still work through the new entry.
    const sr = evalEntry.fitSR({
      items: Int32Array.from([0, 1, 0, 1, 2]),
      offsets: Int32Array.from([0, 2, 5]),
      numItems: 3,
    });
    expect(Array.from(sr.scores(Int32Array.of(0)))[1]).toBeGreaterThan(0);
  });

  it("package.json's exports name the built files and declarations of both entries", () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/localrec.js' });
    expect(pkg.exports['./eval']).toEqual({
      types: './dist/eval-entry.d.ts',
      import: './dist/localrec-eval.js',
    });
    expect(pkg.exports['./eval/global']).toBe('./dist/localrec-eval.global.js');
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
    expect(build.files).toEqual(['src/index.ts', 'src/eval-entry.ts']);
  });

  it.skipIf(!existsSync(evalGlobal))(
    'dist/localrec-eval.global.js defines window.LocalRecEval with the same exports (after a build)',
    () => {
      const page: Record<string, unknown> = {};
      page.window = page;
      runInNewContext(readFileSync(evalGlobal, 'utf8'), page);
      const g = page.LocalRecEval as Record<string, unknown>;
      for (const name of EVAL_VALUES) expect(g, name).toHaveProperty(name);
    },
  );

  it.skipIf(!existsSync(evalModule))(
    'dist/localrec-eval.js imports by itself (no bare imports) with the same exports (after a build)',
    async () => {
      const mod = await import(pathToFileURL(evalModule).href);
      for (const name of EVAL_VALUES) expect(mod, name).toHaveProperty(name);
      expect(readFileSync(evalModule, 'utf8')).not.toMatch(/\bfrom\s*["'][^."'/]/);
    },
  );
});
