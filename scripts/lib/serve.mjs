// A small static file server for the demo and the e2e pages. It sends the headers that
// WASM threads need (cross-origin isolation: COOP + COEP), correct MIME types (WASM
// streaming compilation requires application/wasm), no caching, and extra per-path
// headers (e.g. a Content-Security-Policy page). It only ever serves files below its
// mounted folders and listens on loopback by default.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.gz': 'application/gzip',
};

export class PortInUse extends Error {}

/**
 * @param {{ mounts: Record<string, string>, port?: number, host?: string,
 *   crossOriginIsolated?: boolean, headers?: (path: string) => Record<string, string> | undefined,
 *   redirects?: Record<string, string> }} options
 *   mounts: URL prefix (ending in '/') → folder.
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void>, requests: string[],
 *   urls: string[] }>}
 */
export function startServer(options) {
  const { mounts, port = 0, host = '127.0.0.1', crossOriginIsolated = true } = options;
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const requests = [];
  const urls = [];
  let self = '';
  const server = createServer((req, res) => {
    // A browser that uses this server as its HTTP proxy (e2e/browsers/) sends absolute
    // URLs: log them whole, and answer only those addressed to this server.
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    urls.push(url.href);
    if (/^[a-z]+:\/\//i.test(req.url ?? '') && url.host !== self) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      return res.end('this test server does not proxy to other hosts');
    }
    let path = decodeURIComponent(url.pathname);
    requests.push(path);
    if (options.redirects?.[path]) {
      res.writeHead(302, { location: options.redirects[path] });
      return res.end();
    }
    const prefix = prefixes.find((p) => path.startsWith(p));
    if (!prefix) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    const base = resolve(mounts[prefix]);
    let file = normalize(join(base, path.slice(prefix.length)));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403);
      return res.end();
    }
    try {
      if (statSync(file).isDirectory()) {
        if (!path.endsWith('/')) {
          res.writeHead(301, { location: `${path}/` });
          return res.end();
        }
        file = join(file, 'index.html');
        path += 'index.html';
      }
      const { size } = statSync(file);
      const headers = {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'content-length': String(size),
        'cache-control': 'no-store',
        ...(crossOriginIsolated
          ? {
              'cross-origin-opener-policy': 'same-origin',
              'cross-origin-embedder-policy': 'require-corp',
              'cross-origin-resource-policy': 'same-origin',
            }
          : {}),
        ...(options.headers?.(path) ?? {}),
      };
      res.writeHead(200, headers);
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (error) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new PortInUse(
            `port ${port} on ${host} is already in use: stop what is using it or pass --port N (or PORT=N)`,
          ),
        );
      } else reject(error);
    });
    server.listen(port, host, () => {
      const actual = server.address().port;
      self = `${host}:${actual}`;
      resolvePromise({
        url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${actual}`,
        port: actual,
        requests,
        urls,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
