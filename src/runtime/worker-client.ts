// Main-thread side of the worker boundary: starts the module worker, wraps it with
// Comlink, and turns hangs and crashes into typed errors. Where Workers are missing it
// loads the same bundle in-process with import() (the page's own bundle still never
// imports TF.js). Never imports TF.js.
import { proxy, releaseProxy, wrap } from 'comlink';
import { LocalRecError } from '../core/errors';
import { installErrorTransfer } from '../worker/error-transfer';
import type { WorkerApi } from '../worker/protocol';
import { resolveWorkerUrl } from './worker-url';

export interface WorkerClientOptions {
  workerUrl?: string | URL;
  /** Time allowed for the worker to load and answer its first ping (ms). */
  startTimeoutMs?: number;
  /** `false`: run the engine on the main thread even where Workers exist. */
  useWorker?: boolean;
}

export interface WorkerHandle {
  /** 'worker' or 'main-thread' (no Worker support, or `useWorker: false`). */
  readonly mode: 'worker' | 'main-thread';
  /** Runs `call` with a timeout; a hang or a crash ends in WORKER_TIMEOUT / WORKER_CRASHED. */
  call<T>(what: string, call: (api: WorkerApi) => Promise<T>, timeoutMs: number): Promise<T>;
  /** Wraps a callback so it can be passed across the boundary. */
  callback<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  /** Set once the worker died; later calls reject with it at once. */
  readonly crashed: LocalRecError | undefined;
  terminate(): void;
}

function timed<T>(
  what: string,
  run: () => Promise<T>,
  timeoutMs: number,
  crash: { current?: LocalRecError; listeners: Set<(e: LocalRecError) => void> },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (crash.current) return reject(crash.current);
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
      crash.listeners.delete(onCrash);
      settle();
    }
    crash.listeners.add(onCrash);
    let started: Promise<T>;
    try {
      started = run();
    } catch (error) {
      started = Promise.reject(error);
    }
    started.then(
      (value) => finish(() => resolve(value)),
      (error) => finish(() => reject(error)),
    );
  });
}

/** A handle over an engine running in this thread (no Worker; Node tools, tests). */
export function inProcessHandle(api: WorkerApi): WorkerHandle {
  const crash: { current?: LocalRecError; listeners: Set<(e: LocalRecError) => void> } = {
    listeners: new Set(),
  };
  return {
    mode: 'main-thread',
    call: (what, run, timeoutMs) => timed(what, () => run(api), timeoutMs, crash),
    callback: (fn) => fn,
    crashed: undefined,
    terminate() {},
  };
}

export async function startWorker(options: WorkerClientOptions = {}): Promise<WorkerHandle> {
  const url = resolveWorkerUrl(options.workerUrl);
  const crash: { current?: LocalRecError; listeners: Set<(e: LocalRecError) => void> } = {
    listeners: new Set(),
  };
  const startTimeout = options.startTimeoutMs ?? 30_000;

  if (typeof Worker === 'undefined' || options.useWorker === false) {
    let api: WorkerApi;
    try {
      const mod = (await import(/* @vite-ignore */ url.href)) as {
        createWorkerApi?: () => WorkerApi;
      };
      if (typeof mod.createWorkerApi !== 'function')
        throw new Error('not a localrec worker bundle');
      api = mod.createWorkerApi();
    } catch (cause) {
      throw new LocalRecError(
        'WORKER_CRASHED',
        `could not load the engine from ${url.href}: ${String(cause)}`,
        { cause },
      );
    }
    return inProcessHandle(api);
  }

  let worker: Worker;
  try {
    worker = new Worker(url, { type: 'module', name: 'localrec' });
  } catch (cause) {
    throw new LocalRecError('WORKER_CRASHED', workerStartMessage(url, cause), {
      cause,
    });
  }
  // A worker that fails to load (404, syntax error, CSP) fires `error` on the Worker
  // object; one that throws later fires it too. Every pending call rejects on it.
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    crash.current = new LocalRecError(
      'WORKER_CRASHED',
      `the worker at ${url.href} failed: ${(event as ErrorEvent).message || 'load error (wrong workerUrl, 404 or CSP?)'}`,
    );
    for (const listener of crash.listeners) listener(crash.current);
  });
  installErrorTransfer();
  const remote = wrap<WorkerApi>(worker);
  const api = remote as unknown as WorkerApi;
  let terminated = false;
  const handle: WorkerHandle = {
    mode: 'worker',
    call: (what, run, timeoutMs) => timed(what, () => run(api), timeoutMs, crash),
    callback: (fn) => proxy(fn),
    get crashed() {
      return crash.current;
    },
    terminate() {
      if (terminated) return;
      terminated = true;
      crash.current ??= new LocalRecError('WORKER_CRASHED', 'the worker was terminated');
      for (const listener of crash.listeners) listener(crash.current);
      remote[releaseProxy]();
      worker.terminate();
    },
  };
  try {
    await handle.call('ping', (a) => a.ping(), startTimeout);
  } catch (error) {
    handle.terminate();
    throw error;
  }
  return handle;
}

/**
 * Why a Worker could not be constructed, and what to do. Browsers refuse a worker script
 * from another origin (a CDN) with a SecurityError: the page must serve it itself.
 */
export function workerStartMessage(url: URL, cause: unknown): string {
  const page = (globalThis as { location?: { origin?: string } }).location?.origin;
  const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  if (page && page !== 'null' && url.origin !== page) {
    return (
      `could not start the worker at ${url.href}: a worker must come from the page's own origin (${page}). ` +
      `Serve localrec.worker.js (and its .wasm files) from this site and pass its URL as workerUrl ` +
      `(data-worker-url on the script tag). (${reason})`
    );
  }
  return `could not start the worker at ${url.href} (${reason})`;
}
