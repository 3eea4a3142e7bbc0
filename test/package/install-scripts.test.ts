// npm 11 reviews dependencies' install scripts through package.json's `allowScripts`
// and warns at every install about each one it does not cover ("install-scripts ...
// not covered by allowScripts"). Every package the lock file marks `hasInstallScript`
// needs a decision there: `true` (run it) or `false` (skip it, silently).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const read = (f: string) => JSON.parse(readFileSync(join(root, f), 'utf8'));

/** Does an allowScripts key (`name`, `name@*`, `name@1.2.3 || 1.2.4`) cover name@version? */
function covers(key: string, name: string, version: string): boolean {
  const at = key.indexOf('@', 1);
  if (at < 0) return key === name;
  if (key.slice(0, at) !== name) return false;
  const spec = key.slice(at + 1).trim();
  return spec === '*' || spec.split('||').some((v) => v.trim() === version);
}

describe('install scripts', () => {
  it('every dependency with an install script has an allowScripts decision', () => {
    const pkg = read('package.json');
    const lock = read('package-lock.json');
    const policy: Record<string, boolean> = pkg.allowScripts ?? {};
    for (const value of Object.values(policy)) expect(typeof value).toBe('boolean');
    const withScripts = Object.entries(lock.packages as Record<string, Record<string, unknown>>)
      .filter(([path, p]) => path !== '' && p.hasInstallScript === true)
      .map(([path, p]) => ({
        name: path.slice(path.lastIndexOf('node_modules/') + 13),
        version: String(p.version),
      }));
    expect(withScripts.length).toBeGreaterThan(0);
    const uncovered = withScripts
      .filter(({ name, version }) => !Object.keys(policy).some((k) => covers(k, name, version)))
      .map(({ name, version }) => `${name}@${version}`);
    expect(uncovered).toEqual([]);
  });

  it("esbuild's postinstall is not needed: it only swaps its JS launcher for the binary", () => {
    // tsx (the only dependent of esbuild here; vite 8 bundles with rolldown) calls
    // esbuild's JS API, which finds the native binary in the @esbuild/<platform>
    // optional dependency by itself. The postinstall would copy that binary over
    // bin/esbuild (a start-up optimisation) or download it when optional dependencies
    // were omitted. So the decision is to skip it.
    expect(read('package.json').allowScripts?.esbuild).toBe(false);
    const lock = read('package-lock.json');
    const dependents = Object.entries(lock.packages as Record<string, { dependencies?: object }>)
      .filter(([, p]) => p.dependencies !== undefined && 'esbuild' in p.dependencies)
      .map(([path]) => path);
    expect(dependents).toEqual(['node_modules/tsx']);
  });
});
