// `bin` in package.json points at dist/cli.js: it must be executable once built, or
// `npx localrec` in a checkout (and `./dist/cli.js`) fails with "Permission denied".
// Vite writes its output 0644; scripts/build.mjs sets the bins 0755.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binFiles, makeBinsExecutable } from '../../scripts/lib/bins.mjs';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const mode = (file: string) => statSync(file).mode & 0o777;
const scratch = mkdtempSync(join(tmpdir(), 'localrec-bin-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('bin', () => {
  it("package.json's bins live in dist/, which the build writes", () => {
    const pkg = { bin: { localrec: './dist/cli.js', other: 'dist/sub/x.js' } };
    expect(binFiles(pkg)).toEqual(['cli.js', 'sub/x.js']);
    expect(binFiles({ name: 'localrec', bin: './dist/cli.js' })).toEqual(['cli.js']);
    expect(binFiles({})).toEqual([]);
    expect(() => binFiles({ bin: { x: './scripts/x.mjs' } })).toThrow(/dist/);
  });

  it('makeBinsExecutable sets 0755 on each bin of an output folder', () => {
    const out = join(scratch, 'out');
    mkdirSync(join(out, 'sub'), { recursive: true });
    for (const f of ['cli.js', 'sub/x.js']) {
      writeFileSync(join(out, f), '#!/usr/bin/env node\n');
      chmodSync(join(out, f), 0o644);
    }
    makeBinsExecutable(out, { bin: { localrec: './dist/cli.js', other: './dist/sub/x.js' } });
    expect(mode(join(out, 'cli.js'))).toBe(0o755);
    expect(mode(join(out, 'sub/x.js'))).toBe(0o755);
    expect(() => makeBinsExecutable(out, { bin: { gone: './dist/missing.js' } })).toThrow(
      /missing\.js/,
    );
  });

  // CI builds before the unit tests (scripts/test.mjs), so there this always runs.
  it.skipIf(!existsSync(cli))(
    'dist/cli.js is 0755 and runs by itself: `dist/cli.js --help` (skipped until `npm run build`)',
    () => {
      expect(mode(cli)).toBe(0o755);
      const out = execFileSync(cli, ['--help'], { cwd: root, encoding: 'utf8' });
      expect(out).toMatch(/^usage: localrec <command>/);
    },
  );
});
