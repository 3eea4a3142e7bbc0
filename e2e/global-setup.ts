// Starts one static server for all e2e specs: the built library under /dist/, the test
// pages under /e2e/, the built demo under /demo/. The specs test the built output, as a
// site would load it (Vite serves workers differently in dev).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startServer } from '../scripts/lib/serve.mjs';

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
  const server = await startServer({
    mounts: {
      '/dist/': join(root, 'dist'),
      '/e2e/': join(root, 'e2e', 'pages'),
      '/demo/': join(root, 'dist-demo'),
    },
    // Pages under /e2e/csp/ are served with the strict policy that README documents.
    headers: (path) =>
      path.startsWith('/e2e/csp/')
        ? {
            'content-security-policy':
              "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
              "connect-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'",
          }
        : undefined,
  });
  project.provide('baseUrl', server.url);
  return () => server.close();
}
