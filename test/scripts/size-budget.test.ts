// The build's size check (scripts/lib/size-budget.mjs): a file over its gzip budget, or
// a budgeted file that was not produced, fails with a message naming the file, its size
// and the budget; files at or under budget pass.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUDGETS,
  formatSizeTable,
  gzipSize,
  measure,
  overBudget,
  sizeTable,
} from '../../scripts/lib/size-budget.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'localrec-size-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('size budgets', () => {
  it('fails a file over its budget, naming the file, its gzip size and the budget', () => {
    const failures = overBudget(
      { 'localrec.js': { bytes: 90_000, gzip: 25_001 }, 'other.js': { bytes: 1, gzip: 1 } },
      { 'localrec.js': 25_000, 'other.js': 10 },
    );
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      /^dist\/localrec\.js is 25,001 B gzipped, over its budget of 25,000 B by 1 B/,
    );
  });

  it('passes files at or under their budgets', () => {
    expect(
      overBudget(
        { 'a.js': { bytes: 9, gzip: 100 }, 'b.js': { bytes: 9, gzip: 5 } },
        { 'a.js': 100, 'b.js': 6 },
      ),
    ).toEqual([]);
  });

  it('fails a budgeted file that was not produced', () => {
    expect(overBudget({}, { 'localrec-eval.js': 8_000 })).toEqual([
      'dist/localrec-eval.js: not produced, but it has a size budget (8,000 B)',
    ]);
  });

  it('measures real files with gzip -9 and fails the one over budget', () => {
    const dir = join(scratch, 'dist');
    mkdirSync(dir, { recursive: true });
    // Incompressible bytes (a fixed pseudo-random sequence) and a compressible file.
    const noise = new Uint8Array(4096);
    let x = 1;
    for (let i = 0; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    writeFileSync(join(dir, 'big.js'), noise);
    writeFileSync(join(dir, 'small.js'), 'a'.repeat(4096));
    const sizes = measure(dir, ['big.js', 'small.js', 'absent.js']);
    expect(Object.keys(sizes)).toEqual(['big.js', 'small.js']);
    expect(sizes['big.js'].bytes).toBe(4096);
    expect(sizes['big.js'].gzip).toBe(gzipSize(noise));
    expect(sizes['big.js'].gzip).toBeGreaterThan(4000);
    expect(sizes['small.js'].gzip).toBeLessThan(100);
    const failures = overBudget(sizes, { 'big.js': 1_000, 'small.js': 1_000 });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('dist/big.js is ');
    expect(failures[0]).toContain('over its budget of 1,000 B');
  });

  it('has a budget for every browser file, the core one at 25 KB', () => {
    expect(Object.keys(BUDGETS).sort()).toEqual(
      [
        'localrec-eval.global.js',
        'localrec-eval.js',
        'localrec.global.js',
        'localrec.js',
        'localrec.worker.js',
        'tfjs-backend-wasm-simd.wasm',
        'tfjs-backend-wasm.wasm',
      ].sort(),
    );
    expect(BUDGETS['localrec.js']).toBeLessThanOrEqual(25_000);
  });

  it('prints a table with every file: budgeted ones by name, the rest in groups', () => {
    const dir = join(scratch, 'table');
    mkdirSync(join(dir, 'cli'), { recursive: true });
    for (const f of ['localrec.js', 'localrec.js.map', 'index.d.ts', 'cli.js', 'cli/x-1.js'])
      writeFileSync(join(dir, f), 'export const x = 1;\n');
    const rows = sizeTable(dir);
    expect(rows.map((r) => r.file)).toEqual([
      'dist/localrec.js',
      '`dist/cli.js` + `dist/cli/*.js` (2 files)',
      '`dist/**/*.d.ts` (1 file)',
      '`dist/**/*.map` (1 file)',
    ]);
    expect(rows[0]).toMatchObject({ bytes: 20, budget: BUDGETS['localrec.js'] });
    const table = formatSizeTable(rows);
    expect(table.split('\n')[0]).toBe('| file | loaded by | size (B) | gzip -9 (B) | budget (B) |');
    expect(table).toContain('| `dist/localrec.js` | the page (ES module) | 20 |');
    expect(table).toContain('devtools; not in the npm package');
  });
});
