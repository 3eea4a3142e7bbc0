// The package's `bin` entries, made executable in a build's output folder. Vite (like
// most bundlers) writes files 0644; without the x bit `npx localrec` in a checkout and
// `./dist/cli.js` fail with "Permission denied". (npm sets the bit when it links bins
// of an installed package, not for the project's own bins.)
import { chmodSync, existsSync } from 'node:fs';
import { join, normalize } from 'node:path';

/** The bin files of `pkg` as paths inside dist/ (`./dist/cli.js` → `cli.js`). */
export function binFiles(pkg) {
  const bin = pkg.bin ?? {};
  const paths = typeof bin === 'string' ? [bin] : Object.values(bin);
  return paths.map((p) => {
    const rel = normalize(p).replaceAll('\\', '/');
    if (!rel.startsWith('dist/')) {
      throw new Error(`bin ${p} is not in dist/: the build only writes dist/`);
    }
    return rel.slice('dist/'.length);
  });
}

/** chmod 0755 each bin of `pkg` under `outDir` (the folder that becomes dist/). */
export function makeBinsExecutable(outDir, pkg) {
  const files = binFiles(pkg);
  for (const f of files) {
    const file = join(outDir, f);
    if (!existsSync(file)) throw new Error(`bin dist/${f} was not produced`);
    chmodSync(file, 0o755);
  }
  return files;
}
