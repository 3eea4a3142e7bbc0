// Main-thread side of the worker boundary: starts the module worker, wraps it with
// Comlink, and turns hangs and crashes into typed errors. Never imports TF.js.
import { type Remote, releaseProxy, wrap } from 'comlink';
import { LocalRecError } from '../api/errors';
import type { WorkerApi } from '../worker/protocol';
import { resolveWorkerUrl } from './worker-url';

export interface WorkerClientOptions {
  workerUrl?: string | URL;
  /** Time allowed for the worker to load and answer its first ping (ms). */
  startTimeoutMs?: number;
}

export interface WorkerHandle {
  api: Remote<WorkerApi>;
  worker: Worker;
  /** Runs `call` with a timeout; a hang or a crash ends in WORKER_TIMEOUT / WORKER_CRASHED. */
  call<T>(
    what: string,
    call: (api: Remote<WorkerApi>) => Promise<T>,
    timeoutMs: number,
  ): Promise<T>;
  terminate(): void;
}

function rethrow(error: unknown): never {
  const cloned = LocalRecError.fromJSON(error);
  throw cloned ?? error;
}

export async function startWorker(options: WorkerClientOptions = {}): Promise<WorkerHandle> {
  if (typeof Worker === 'undefined') {
    throw new LocalRecError(
      'BACKEND_UNAVAILABLE',
      'Web Workers are not available in this environment',
    );
  }
  const url = resolveWorkerUrl(options.workerUrl);
  let worker: Worker;
  try {
    worker = new Worker(url, { type: 'module', name: 'localrec' });
  } catch (cause) {
    throw new LocalRecError('WORKER_CRASHED', `could not start the worker at ${url.href}`, {
      cause,
    });
  }
  // A worker that fails to load (404, syntax error, CSP) fires `error` on the Worker
  // object; one that throws later fires it too. Every pending call rejects on it.
  let crashed: LocalRecError | undefined;
  const crashListeners = new Set<(e: LocalRecError) => void>();
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    crashed = new LocalRecError(
      'WORKER_CRASHED',
      `the worker at ${url.href} failed: ${(event as ErrorEvent).message || 'load error (wrong workerUrl, 404 or CSP?)'}`,
    );
    for (const listener of crashListeners) listener(crashed);
  });
  const api = wrap<WorkerApi>(worker);

  const call = <T>(what: string, run: (a: Remote<WorkerApi>) => Promise<T>, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      if (crashed) return reject(crashed);
      const onCrash = (e: LocalRecError) => finish(() => reject(e));
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new LocalRecError(
                'WORKER_TIMEOUT',
                `worker call "${what}" took longer than ${timeoutMs} ms`,
              ),
            ),
          ),
        timeoutMs,
      );
      function finish(settle: () => void) {
        clearTimeout(timer);
        crashListeners.delete(onCrash);
        settle();
      }
      crashListeners.add(onCrash);
      run(api).then(
        (value) => finish(() => resolve(value)),
        (error) =>
          finish(() => {
            try {
              rethrow(error);
            } catch (e) {
              reject(e);
            }
          }),
      );
    });

  const handle: WorkerHandle = {
    api,
    worker,
    call,
    terminate() {
      api[releaseProxy]();
      worker.terminate();
    },
  };
  try {
    await call('ping', (a) => a.ping(), options.startTimeoutMs ?? 30_000);
  } catch (error) {
    worker.terminate();
    throw error;
  }
  return handle;
}
