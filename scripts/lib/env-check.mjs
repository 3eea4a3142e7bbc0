// Checks of the environment that must end in one clear message, not a stack trace.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const MIN_NODE = [20, 19];

export function checkNode(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  const [wantMajor, wantMinor] = MIN_NODE;
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    return `Node.js ${version} is too old: localrec needs Node.js >= ${wantMajor}.${wantMinor} (Vite 8 requires it).`;
  }
  return undefined;
}

export function checkInstalled(root) {
  if (!existsSync(join(root, 'node_modules', '.bin', 'vite'))) {
    return 'Dependencies are not installed: run `npm install` (or `npm ci`) first.';
  }
  return undefined;
}

export function die(prefix, message) {
  console.error(`${prefix}: ${message}`);
  process.exit(1);
}
