// Finding a Python with PyTorch for the pretraining package's tests (pretrain/), the way
// chromium.mjs finds a browser: an explicit LOCALREC_PYTHON, else a system python3 that
// imports torch, else (as root with apt) Debian's `python3-torch`. Never pip: the tests
// run on what the distribution packages.
import { spawnSync } from 'node:child_process';
import { aptInstall, canAptInstall } from './apt.mjs';

export const PYTHON_ENV = 'LOCALREC_PYTHON';

// Debian's interpreter first: a pyenv/conda `python3` earlier on PATH does not see the
// packages apt installs.
const CANDIDATES = ['/usr/bin/python3', 'python3'];

export class PythonTorchNotFound extends Error {
  /** True when nothing can be installed here (no apt, or not root): the caller may skip. */
  constructor(message, { installable }) {
    super(message);
    this.installable = installable;
  }
}

/** torch's version when `python` imports torch with torch.distributed, else undefined. */
export function torchVersion(python) {
  const r = spawnSync(
    python,
    [
      '-c',
      'import torch, torch.distributed as d; assert d.is_available(); print(torch.__version__)',
    ],
    { encoding: 'utf8' },
  );
  const version = r.status === 0 ? r.stdout.trim() : '';
  return version || undefined;
}

/** The Python to use, or undefined. Never installs anything. */
export function findPythonTorch(env = process.env) {
  const explicit = env[PYTHON_ENV];
  if (explicit) {
    if (!torchVersion(explicit)) {
      throw new PythonTorchNotFound(
        `${PYTHON_ENV}=${explicit} does not import torch (with torch.distributed).`,
        { installable: false },
      );
    }
    return explicit;
  }
  return CANDIDATES.find((p) => torchVersion(p));
}

/**
 * findPythonTorch(), else install Debian's `python3-torch` when running as root with
 * apt-get. Throws PythonTorchNotFound saying what to do; its `installable` is false
 * where there is no apt-get or no root (the only case a caller may skip the tests).
 */
export function ensurePythonTorch({ log = console.log } = {}) {
  const found = findPythonTorch();
  if (found) return found;
  const how =
    `Install PyTorch for Python 3 (Debian/Ubuntu: \`sudo apt-get install python3-torch\`) ` +
    `or point ${PYTHON_ENV} at a python that imports torch.`;
  if (!canAptInstall()) {
    throw new PythonTorchNotFound(`No Python with PyTorch found. ${how}`, { installable: false });
  }
  log(
    'python: no Python with torch; installing Debian package `python3-torch` with apt-get (root)…',
  );
  try {
    aptInstall(['python3-torch']);
  } catch {
    throw new PythonTorchNotFound(`apt-get install python3-torch failed (see above). ${how}`, {
      installable: true,
    });
  }
  const installed = findPythonTorch();
  if (installed) return installed;
  throw new PythonTorchNotFound(`python3-torch installed, yet no python imports it. ${how}`, {
    installable: true,
  });
}
