// Finding Firefox and WebKitGTK for e2e/browsers/: an env var per browser, refused when it
// names no executable, and a message that says what to install or set.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BrowserNotFound,
  FIREFOX_ENV,
  findFirefox,
  findWebKit,
  howToPoint,
  WEBKIT_ENV,
} from '../../scripts/lib/browsers.mjs';

describe('browsers for the cross-engine specs', () => {
  it('refuses a LOCALREC_FIREFOX or LOCALREC_WEBKIT that is not an executable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lr-'));
    const notExec = join(dir, 'firefox');
    writeFileSync(notExec, 'not a browser');
    expect(() => findFirefox({ [FIREFOX_ENV]: notExec })).toThrow(BrowserNotFound);
    expect(() => findWebKit({ [WEBKIT_ENV]: join(dir, 'missing'), PATH: '' })).toThrow(
      /LOCALREC_WEBKIT=.*missing is not an executable file/,
    );
  });

  it('takes the env var over the system browser; WebKit also needs its driver and Xvfb on PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lr-'));
    const exe = (name: string) => {
      const path = join(dir, name);
      writeFileSync(path, '#!/bin/sh\n');
      chmodSync(path, 0o755);
      return path;
    };
    const firefox = exe('my-firefox');
    expect(findFirefox({ [FIREFOX_ENV]: firefox })).toBe(firefox);
    const mini = exe('MiniBrowser');
    expect(findWebKit({ [WEBKIT_ENV]: mini, PATH: '' })).toBeUndefined();
    exe('WebKitWebDriver');
    exe('Xvfb');
    expect(findWebKit({ [WEBKIT_ENV]: mini, PATH: dir })).toEqual({
      browser: mini,
      driver: join(dir, 'WebKitWebDriver'),
      xvfb: join(dir, 'Xvfb'),
    });
  });

  it('says which Debian packages to install and which variable to set', () => {
    expect(howToPoint('firefox')).toMatch(/apt-get install firefox-esr.*LOCALREC_FIREFOX/);
    expect(howToPoint('webkit')).toMatch(/webkit2gtk-driver xvfb.*LOCALREC_WEBKIT/);
    expect(howToPoint('webkit')).toMatch(/never downloads/);
  });
});
