// The set-up scripts turn a broken environment into one clear message: wrong Node,
// missing dependencies, no browser, a port in use.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHROMIUM_ENV,
  ChromiumNotFound,
  findChromium,
  howToPoint,
} from '../../scripts/lib/chromium.mjs';
import { checkInstalled, checkNode } from '../../scripts/lib/env-check.mjs';
import { PortInUse, startServer } from '../../scripts/lib/serve.mjs';

const root = join(import.meta.dirname, '..', '..');

describe('environment checks', () => {
  it('names the Node version needed', () => {
    expect(checkNode('18.20.0')).toMatch(
      /Node\.js 18\.20\.0 is too old: localrec needs Node\.js >= 20\.19/,
    );
    expect(checkNode('20.18.9')).toMatch(/too old/);
    expect(checkNode('20.19.0')).toBeUndefined();
    expect(checkNode('22.1.0')).toBeUndefined();
  });

  it('says to run npm install when node_modules is missing', () => {
    expect(checkInstalled(mkdtempSync(join(tmpdir(), 'lr-')))).toMatch(/run `npm install`/);
    expect(checkInstalled(root)).toBeUndefined();
  });

  it('refuses a LOCALREC_CHROMIUM that is not an executable, and says how to point it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lr-'));
    const notExec = join(dir, 'chrome');
    writeFileSync(notExec, 'not a browser');
    expect(() => findChromium({ [CHROMIUM_ENV]: notExec })).toThrow(ChromiumNotFound);
    expect(() => findChromium({ [CHROMIUM_ENV]: join(dir, 'missing') })).toThrow(
      /is not an executable file/,
    );
    expect(howToPoint()).toMatch(/LOCALREC_CHROMIUM=\/path\/to\/chrome npm test/);
    expect(howToPoint()).toMatch(/never downloads browsers/);
  });

  it('npm test stops with one line (no stack trace) when the browser cannot be found', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'test.mjs'), '--only', 'e2e'], {
      env: { ...process.env, [CHROMIUM_ENV]: '/nonexistent/chrome' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      'test: LOCALREC_CHROMIUM=/nonexistent/chrome is not an executable file.',
    );
  });

  it('reports a port in use as PortInUse with the port and what to do', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const attempt = startServer({ mounts: { '/': root }, port });
      await expect(attempt).rejects.toBeInstanceOf(PortInUse);
      await expect(attempt).rejects.toThrow(
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*--port N`),
      );
    } finally {
      blocker.close();
    }
  });

  it('npm run demo on a busy port ends in one clear line', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = spawnSync(
        process.execPath,
        [join(root, 'scripts', 'demo.mjs'), '--no-build', '--port', String(port)],
        {
          encoding: 'utf8',
        },
      );
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(
        `demo: port ${port} on 127.0.0.1 is already in use: stop what is using it or pass --port N (or PORT=N)`,
      );
    } finally {
      blocker.close();
    }
  });
});
