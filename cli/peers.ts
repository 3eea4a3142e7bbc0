/**
 * TF.js is an optional peer dependency of localrec: only the CLI's `bench`, `pretrain`
 * and GRU models (`eval --models gru`, `--model FILE`, `--protocol replay`) import it; the
 * browser bundles carry their own copy, so a site's install does not download it. When a
 * command reaches for it and it is missing, Node's "Cannot find package" becomes this
 * error, which says what to install.
 */
import { CliError } from './io';

/** The packages the CLI imports, at the version it is built and tested with. */
export const TFJS_VERSION = '4.22.0';
export const TFJS_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
] as const;

/** A command needs an optional peer dependency that is not installed (exit code 1). */
export class MissingDependencyError extends CliError {
  constructor(readonly packageName: string) {
    super(
      `${packageName} is not installed. TensorFlow.js is an optional peer dependency of ` +
        'localrec, needed only by the CLI (bench, pretrain, GRU models, replay); install it ' +
        `beside localrec: npm install ${TFJS_PACKAGES.map((p) => `${p}@${TFJS_VERSION}`).join(' ')}`,
      1,
    );
    this.name = 'MissingDependencyError';
  }
}

/** `error` as a MissingDependencyError when it is Node's failure to find a TF.js package. */
export function asMissingDependency(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return error;
  const found = /Cannot find (?:package|module) '(@tensorflow\/[^'/]+)/.exec(
    String((error as Error).message),
  );
  return found ? new MissingDependencyError(found[1]) : error;
}
