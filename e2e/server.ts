// The static server of the e2e specs: the built library under /dist/, the test pages
// under /e2e/, the built demo under /demo/. The specs test the built output, as a site
// would load it (Vite serves workers differently in dev).
import { join } from 'node:path';
import { startServer } from '../scripts/lib/serve.mjs';

export function startE2eServer() {
  const root = join(import.meta.dirname, '..');
  return startServer({
    mounts: {
      '/dist/': join(root, 'dist'),
      '/e2e/': join(root, 'e2e', 'pages'),
      '/demo/': join(root, 'dist-demo'),
    },
    // Pages under /e2e/csp/ are served with the strict policy that README documents
    // (no 'unsafe-eval', no 'unsafe-inline'); under /e2e/csp/no-wasm-eval/ without
    // 'wasm-unsafe-eval', to show what that one grants (the WASM backend, nothing else).
    // The CSP pages load the library from a lib/ folder beside them, so the worker and
    // the .wasm files are served under the policy too (a worker gets its own policy from
    // its response, not from the page).
    headers: (path) => {
      if (!path.startsWith('/e2e/csp/')) return undefined;
      const wasm = path.startsWith('/e2e/csp/no-wasm-eval/') ? '' : " 'wasm-unsafe-eval'";
      return {
        'content-security-policy':
          `default-src 'self'; script-src 'self'${wasm}; worker-src 'self'; ` +
          "connect-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'",
      };
    },
  });
}
