// Finding a Chromium for the e2e tests and the demo checks, without ever downloading a
// browser build: an explicit LOCALREC_CHROMIUM, else a system Chromium/Chrome, else
// (only when allowed, as root with apt) Debian's `chromium` package.
import { accessSync, constants } from 'node:fs';
import { aptInstall, canAptInstall } from './apt.mjs';

export const CHROMIUM_ENV = 'LOCALREC_CHROMIUM';

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** Flags for headless Chromium on a closed network (see DESIGN.md, "Running a browser here"). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--metrics-recording-only',
  // WebGPU exposes an adapter here only through this flag (a SwiftShader fallback
  // adapter on a machine without GPU); the tests report what they get, never assume it.
  '--enable-unsafe-webgpu',
  // Chromium >= 137 no longer falls back to SwiftShader WebGL silently; allow it so the
  // WebGL path is exercised on GPU-less machines.
  '--enable-unsafe-swiftshader',
];

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export class ChromiumNotFound extends Error {}

export function howToPoint() {
  return (
    `No Chrome/Chromium found. Install one (Debian/Ubuntu: \`sudo apt-get install chromium\`) ` +
    `or point ${CHROMIUM_ENV} at a Chrome/Chromium binary, e.g. ` +
    `\`${CHROMIUM_ENV}=/path/to/chrome npm test\`. localrec never downloads browsers.`
  );
}

/** The browser to use, or undefined. Never installs anything. */
export function findChromium(env = process.env) {
  const explicit = env[CHROMIUM_ENV];
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new ChromiumNotFound(`${CHROMIUM_ENV}=${explicit} is not an executable file.`);
    }
    return explicit;
  }
  return CANDIDATES.find(isExecutable);
}

/**
 * findChromium(), else install Debian's package when running as root with apt-get.
 * Throws ChromiumNotFound with a message that says what to do.
 */
export function ensureChromium({ log = console.log } = {}) {
  const found = findChromium();
  if (found) return found;
  if (canAptInstall()) {
    log('chromium: not found; installing Debian package `chromium` with apt-get (root)…');
    try {
      aptInstall(['chromium']);
    } catch {
      throw new ChromiumNotFound(`apt-get install chromium failed (see above). ${howToPoint()}`);
    }
    const installed = findChromium();
    if (installed) return installed;
  }
  throw new ChromiumNotFound(howToPoint());
}
