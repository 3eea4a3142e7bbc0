// Finding Firefox and WebKitGTK for the cross-engine e2e specs (e2e/browsers/), the way
// scripts/lib/chromium.mjs finds Chromium: an env var per browser, else the system's
// binaries, else (only as root with apt) Debian's packages. Never downloads a browser
// build.
//
// - Firefox: Debian `firefox-esr`, driven by puppeteer-core over WebDriver BiDi.
// - WebKitGTK: Debian `webkit2gtk-driver` (WebKitWebDriver + MiniBrowser), driven by
//   selenium-webdriver over classic WebDriver. It has no headless mode, so it runs under
//   `Xvfb` (Debian `xvfb`).
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { aptInstall, canAptInstall } from './apt.mjs';

export const FIREFOX_ENV = 'LOCALREC_FIREFOX';
export const WEBKIT_ENV = 'LOCALREC_WEBKIT';

const FIREFOX_CANDIDATES = ['/usr/bin/firefox-esr', '/usr/bin/firefox', '/usr/local/bin/firefox'];

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name, env = process.env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** MiniBrowser of a Debian/Ubuntu webkit2gtk install: /usr/lib/<triplet>/webkit2gtk-4.x/. */
function systemMiniBrowser() {
  let triplets = [];
  try {
    triplets = readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu'));
  } catch {}
  for (const triplet of triplets) {
    for (const api of ['webkit2gtk-4.1', 'webkit2gtk-4.0', 'webkitgtk-6.0']) {
      const path = join('/usr/lib', triplet, api, 'MiniBrowser');
      if (isExecutable(path)) return path;
    }
  }
  return undefined;
}

export class BrowserNotFound extends Error {}

function explicit(env, name) {
  const path = env[name];
  if (!path) return undefined;
  if (!isExecutable(path)) throw new BrowserNotFound(`${name}=${path} is not an executable file.`);
  return path;
}

/** Firefox binary, or undefined. Never installs anything. */
export function findFirefox(env = process.env) {
  return explicit(env, FIREFOX_ENV) ?? FIREFOX_CANDIDATES.find(isExecutable);
}

/**
 * What WebKitGTK needs: MiniBrowser, WebKitWebDriver and Xvfb, or undefined when one is
 * missing. Never installs anything.
 */
export function findWebKit(env = process.env) {
  const browser = explicit(env, WEBKIT_ENV) ?? systemMiniBrowser();
  const driver = onPath('WebKitWebDriver', env);
  const xvfb = onPath('Xvfb', env);
  return browser && driver && xvfb ? { browser, driver, xvfb } : undefined;
}

export function howToPoint(which) {
  return which === 'firefox'
    ? `No Firefox found. Install one (Debian: \`sudo apt-get install firefox-esr\`) or point ` +
        `${FIREFOX_ENV} at a Firefox binary. localrec never downloads browsers.`
    : `No WebKitGTK found (MiniBrowser, WebKitWebDriver and Xvfb). Install them (Debian: ` +
        `\`sudo apt-get install webkit2gtk-driver xvfb\`), or point ${WEBKIT_ENV} at a MiniBrowser ` +
        `binary with WebKitWebDriver and Xvfb on PATH. localrec never downloads browsers.`;
}

/** Debian packages that provide what is missing. */
function missingPackages(env) {
  const packages = [];
  if (!findFirefox(env)) packages.push('firefox-esr');
  const webkit = {
    browser: explicit(env, WEBKIT_ENV) ?? systemMiniBrowser(),
    driver: onPath('WebKitWebDriver', env),
    xvfb: onPath('Xvfb', env),
  };
  if (!webkit.browser || !webkit.driver) packages.push('webkit2gtk-driver');
  if (!webkit.xvfb) packages.push('xvfb');
  return packages;
}

/**
 * findFirefox() and findWebKit(), else installs Debian's packages (one apt-get call)
 * when running as root with apt-get. Throws BrowserNotFound saying what to do.
 * @returns {{ firefox: string, webkit: { browser: string, driver: string, xvfb: string } }}
 */
export function ensureBrowsers({ log = console.log, env = process.env } = {}) {
  const packages = missingPackages(env);
  if (packages.length > 0) {
    if (canAptInstall()) {
      log(`browsers: installing Debian packages ${packages.join(' ')} with apt-get (root)…`);
      try {
        aptInstall(packages);
      } catch {
        throw new BrowserNotFound(
          `apt-get install ${packages.join(' ')} failed (see above). ` +
            `${howToPoint('firefox')} ${howToPoint('webkit')}`,
        );
      }
    }
  }
  const firefox = findFirefox(env);
  if (!firefox) throw new BrowserNotFound(howToPoint('firefox'));
  const webkit = findWebKit(env);
  if (!webkit) throw new BrowserNotFound(howToPoint('webkit'));
  return { firefox, webkit };
}
