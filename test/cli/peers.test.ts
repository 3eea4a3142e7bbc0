// TF.js is an optional peer dependency: a site's `npm install localrec` does not download
// it, and a CLI command that needs it says what to install instead of Node's bare
// "Cannot find package". Baseline-only commands work without it.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeError } from '../../cli/io';
import {
  asMissingDependency,
  MissingDependencyError,
  TFJS_PACKAGES,
  TFJS_VERSION,
} from '../../cli/peers';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const notFound = (what: string) =>
  Object.assign(new Error(`Cannot find package '${what}' imported from /site/dist/cli/x.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

describe('TF.js as an optional peer of the CLI', () => {
  it('package.json: no dependencies; TF.js optional peers at the tested version', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual([...TFJS_PACKAGES].sort());
    for (const name of TFJS_PACKAGES) {
      expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
      expect(pkg.peerDependencies[name]).toBe(`^${TFJS_VERSION}`);
      // The checkout itself builds and tests with exactly that version.
      expect(pkg.devDependencies[name]).toBe(TFJS_VERSION);
    }
  });

  it("turns Node's missing @tensorflow package into an error that says what to install", () => {
    const error = asMissingDependency(notFound('@tensorflow/tfjs-core'));
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as MissingDependencyError).packageName).toBe('@tensorflow/tfjs-core');
    const { exitCode, message, internal } = describeError(error);
    expect({ exitCode, internal }).toEqual({ exitCode: 1, internal: false });
    expect(message).toContain(
      'npm install @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-backend-cpu@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0',
    );
    // A deep import path names its package.
    const deep = asMissingDependency(notFound('@tensorflow/tfjs-backend-wasm/dist/x.js'));
    expect((deep as MissingDependencyError).packageName).toBe('@tensorflow/tfjs-backend-wasm');
  });

  it('leaves every other error as it was', () => {
    const other = notFound('left-pad');
    expect(asMissingDependency(other)).toBe(other);
    const plain = new Error("Cannot find package '@tensorflow/tfjs-core'");
    expect(asMissingDependency(plain)).toBe(plain);
    expect(asMissingDependency(undefined)).toBe(undefined);
  });

  const dist = join(root, 'dist', 'cli.js');
  const scratch = mkdtempSync(join(tmpdir(), 'localrec-peers-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.skipIf(!existsSync(dist))(
    'the built CLI without TF.js installed: eval of baselines works, bench says what to install',
    () => {
      // dist/ alone in a folder with no node_modules above it: a site's install without peers.
      cpSync(join(root, 'dist'), join(scratch, 'dist'), {
        recursive: true,
        filter: (f) => !f.endsWith('.map'),
      });
      writeFileSync(join(scratch, 'package.json'), '{"type":"module"}\n');
      const cli = join(scratch, 'dist', 'cli.js');
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [cli, ...args], { cwd: scratch, encoding: 'utf8' });
      const synth = run('synth', '--out', 's.csv', '--users', '200', '--items', '60');
      expect(synth.status, synth.stderr).toBe(0);
      const evalPop = run('eval', '--data', 's.csv', '--models', 'pop,sr');
      expect(evalPop.status, evalPop.stderr).toBe(0);
      expect(evalPop.stdout).toMatch(/\| sr \|/);
      const bench = run('bench', 'train');
      expect(bench.status).toBe(1);
      expect(bench.stderr).toMatch(
        /^localrec bench: error: @tensorflow\/tfjs-core is not installed\..*npm install @tensorflow\/tfjs-core@4\.22\.0/,
      );
      // It is not the checkout's own node_modules that answered the baselines.
      expect(() =>
        execFileSync(process.execPath, ['-e', "import('@tensorflow/tfjs-core')"], {
          cwd: scratch,
          stdio: 'pipe',
        }),
      ).toThrow();
    },
  );
});
