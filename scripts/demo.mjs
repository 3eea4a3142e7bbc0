#!/usr/bin/env node
// `npm run demo`: builds the library and the demo, then serves them on localhost with
// the headers the library's WASM backend may use (cross-origin isolation), and prints
// the URL. Options: --port N (or PORT=N; default 5173), --host H, --no-build.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkInstalled, checkNode, die } from './lib/env-check.mjs';
import { PortInUse, startServer } from './lib/serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const bad = checkNode() ?? checkInstalled(root);
if (bad) die('demo', bad);

const port = Number(opt('--port', process.env.PORT ?? 5173));
if (!Number.isInteger(port) || port < 0 || port > 65535)
  die('demo', `--port must be 0..65535, got ${opt('--port', process.env.PORT)}`);
const host = opt('--host', '127.0.0.1');

if (!args.includes('--no-build')) {
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--demo'], {
      cwd: root,
      stdio: 'inherit',
    });
  } catch {
    die('demo', 'the build failed (see above)');
  }
}

try {
  const server = await startServer({
    port,
    host,
    mounts: { '/': join(root, 'dist-demo'), '/data/': join(root, 'data') },
  });
  console.log(`\n  localrec demo: ${server.url}/\n\n  (Ctrl+C to stop)`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  if (error instanceof PortInUse) die('demo', error.message);
  die('demo', `could not start the server: ${error instanceof Error ? error.message : error}`);
}
