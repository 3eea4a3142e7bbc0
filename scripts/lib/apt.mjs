// Installing Debian packages for the test suite, the one way every finder uses (Chromium,
// Firefox/WebKitGTK, python3-torch): only as root with apt-get, non-interactive, waiting
// for another apt/dpkg run's lock instead of failing on it.
import { execFileSync } from 'node:child_process';

/** Whether this process may install packages: root, and apt-get present. */
export function canAptInstall() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `apt-get update` then `apt-get install` of `packages` (no recommends), output shown.
 * Throws when apt-get fails; the caller says what to do instead.
 */
export function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  execFileSync('apt-get', [...lock, 'update', '-qq'], { stdio: 'inherit', env });
  execFileSync(
    'apt-get',
    [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...packages],
    {
      stdio: 'inherit',
      env,
    },
  );
}
