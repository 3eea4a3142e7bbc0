#!/usr/bin/env python3
# Part of bench/gpu-check (see its README.md); copied to .gpu/serve.py by bench/gpu-check/pack.sh.
"""Static server for the GPU check page (.gpu/site) that also takes the page's results.

GET  /...            files of the site folder (MIME types set for .js/.mjs/.wasm/.gz)
POST /result?key=K   final result of run K: merged into OUT/results.json, WORK/done-K touched
POST /partial?key=K  partial result of run K (kept unless a final one exists)
Usage: serve.py SITE_DIR PORT OUT_DIR WORK_DIR
"""
import json
import os
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

SITE, PORT, OUT, WORK = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
RESULTS = os.path.join(OUT, 'results.json')
LOG = os.path.join(OUT, 'server.log')
lock = threading.Lock()
results = {}
if os.path.exists(RESULTS):
    try:
        with open(RESULTS) as f:
            results = json.load(f)
    except Exception:
        results = {}


def log(msg):
    with open(LOG, 'a') as f:
        f.write(time.strftime('%H:%M:%S ') + msg + '\n')


def save():
    tmp = RESULTS + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(results, f, indent=1)
    os.replace(tmp, RESULTS)


class Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        '.js': 'text/javascript',
        '.mjs': 'text/javascript',
        '.wasm': 'application/wasm',
        '.json': 'application/json',
        '.gz': 'application/octet-stream',
        '.html': 'text/html; charset=utf-8',
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, directory=SITE, **kw)

    def end_headers(self):
        self.send_header('Cache-Control', 'no-store')
        super().end_headers()

    def guess_type(self, path):
        ext = os.path.splitext(path)[1].lower()
        return self.extensions_map.get(ext, 'application/octet-stream')

    def log_message(self, fmt, *args):
        log('%s %s' % (self.address_string(), fmt % args))

    def do_POST(self):
        u = urlparse(self.path)
        key = parse_qs(u.query).get('key', ['unknown'])[0]
        key = ''.join(c for c in key if c.isalnum() or c in '-_.') or 'unknown'
        n = int(self.headers.get('content-length') or 0)
        body = self.rfile.read(n)
        try:
            data = json.loads(body)
        except Exception as e:
            data = {'unparsed': body[:5000].decode('utf8', 'replace'), 'parseError': str(e)}
        with lock:
            if u.path == '/result':
                results[key] = data
                save()
                open(os.path.join(WORK, 'done-' + key), 'w').close()
                log('result %s: %d bytes' % (key, n))
            elif u.path == '/partial':
                if not (key in results and not results[key].get('partial')):
                    results[key] = data
                    save()
            else:
                self.send_error(404)
                return
        self.send_response(204)
        self.end_headers()


if __name__ == '__main__':
    os.makedirs(WORK, exist_ok=True)
    srv = ThreadingHTTPServer(('127.0.0.1', PORT), Handler)
    srv.daemon_threads = True
    log('serving %s on 127.0.0.1:%d' % (SITE, PORT))
    srv.serve_forever()
