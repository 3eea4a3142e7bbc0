// Starts one static server (e2e/server.ts) for all e2e specs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startE2eServer } from './server';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const root = join(import.meta.dirname, '..');
  if (!existsSync(join(root, 'dist', 'localrec.js'))) {
    throw new Error('e2e: dist/ is not built. Run `npm run build` (npm test does it for you).');
  }
  const server = await startE2eServer();
  project.provide('baseUrl', server.url);
  return () => server.close();
}
