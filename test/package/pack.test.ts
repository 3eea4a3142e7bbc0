// What `npm pack` puts in the package a site installs: the built files, README, LICENSE
// and package.json; no source maps (the worker's alone is ~12 MB) and nothing from the
// checkout's sources or tests. Every path package.json names is in it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const built = ['localrec.js', 'localrec-eval.js', 'localrec.worker.js', 'cli.js'].every((f) =>
  existsSync(join(root, 'dist', f)),
);

interface PackResult {
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

describe('npm pack', () => {
  it.skipIf(!built)('ships dist/ without maps, and every file package.json names', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [pack] = JSON.parse(out) as PackResult[];
    const paths = pack.files.map((f) => f.path);
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(
      paths.filter(
        (p) => !p.startsWith('dist/') && !['README.md', 'LICENSE', 'package.json'].includes(p),
      ),
    ).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const named = new Set<string>([
      pkg.main,
      pkg.module,
      pkg.types,
      pkg.unpkg,
      ...Object.values(pkg.bin),
    ]);
    for (const target of Object.values(pkg.exports))
      for (const p of typeof target === 'string' ? [target] : Object.values(target as object))
        named.add(p as string);
    for (const p of named) expect(paths, p).toContain(p.replace(/^\.\//, ''));
    // The largest file is the worker bundle; the whole package stays a few MB unpacked.
    expect(Math.max(...pack.files.map((f) => f.size))).toBeLessThan(1_500_000);
    expect(pack.unpackedSize).toBeLessThan(4_000_000);
  });
});
