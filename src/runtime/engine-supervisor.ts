// Keeps the recommender's one engine (the module worker, or the same code in-process)
// alive: starts it on first use, replaces one that died or hung, backs off after a failed
// start (2 s doubling to 5 min: no restart storm, no refetch of the worker script), serves
// as soon as the model is loaded and runs the backend trial after that, in the
// background; training waits for the trial. What "start", "load" and "trial" mean is
// passed in, so Node tests drive every path with fakes and a fake clock.

import { hasCode, LocalRecError } from '../core/errors';
import type { BackendStatus, WorkerApi } from '../worker/protocol';
import type { WorkerHandle } from './worker-client';

/** Time, replaceable by tests (default: Date.now and the global timers). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** Where the engine runs: a worker, the main thread, or nowhere yet. */
export type RunsIn = WorkerHandle['mode'] | 'not-started';

export interface EngineSupervisorDeps {
  /** Starts a fresh engine (the engine factory: a worker, or in-process). */
  start(): Promise<WorkerHandle>;
  /** Readies a started engine to serve (loads its models); a throw discards the engine. */
  load(handle: WorkerHandle): Promise<void>;
  /** Chooses a ready engine's training backend (the trial, or a cached decision). */
  chooseBackend(handle: WorkerHandle): Promise<BackendStatus>;
  /** The engine that served is gone (died, hung): the model it held is gone with it. */
  lost(): void;
  /** Reports an error (the recommender's `error` event) and returns it typed. */
  report(error: unknown): LocalRecError;
  clock?: Clock;
  /** Back-off after a failed start, ms (default 2 000 doubling to 300 000). */
  retry?: { firstMs: number; maxMs: number };
  /** Default timeout of one call into the engine, ms (default 30 000). */
  callMs?: number;
}

export const START_RETRY_FIRST_MS = 2000;
export const START_RETRY_MAX_MS = 5 * 60_000;

export class EngineSupervisor {
  private handle: WorkerHandle | null = null;
  private starting: Promise<WorkerHandle> | null = null;
  /** The backend choice of the current engine (null until its trial started). */
  private backendReady: Promise<BackendStatus> | null = null;
  /** The last failed start and when the next may be tried. */
  private startFailure: { error: LocalRecError; retryAt: number; delayMs: number } | null = null;
  private closed = false;
  private readonly clock: Clock;

  constructor(private readonly deps: EngineSupervisorDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /** The engine when one is up and alive (it may still be loading its model). */
  get current(): WorkerHandle | null {
    return this.handle && !this.handle.crashed ? this.handle : null;
  }

  /** Whether an engine was started and not yet dropped (it may have died since). */
  get started(): boolean {
    return this.handle !== null;
  }

  get runsIn(): RunsIn {
    return this.current?.mode ?? 'not-started';
  }

  /** True while a failed start's back-off delay has not passed. */
  backingOff(): boolean {
    return this.startFailure !== null && this.clock.now() < this.startFailure.retryAt;
  }

  /** Starts (or restarts after a crash) the engine and loads the model. */
  async engine(): Promise<WorkerHandle> {
    if (this.closed) throw new LocalRecError('DB_CLOSED', 'the recommender was closed');
    if (this.handle && !this.handle.crashed) return this.handle;
    if (this.handle?.crashed) {
      // A worker that died between calls is replaced; the page hears about it.
      const crash = this.handle.crashed;
      this.handle.terminate();
      this.handle = null;
      this.deps.lost();
      this.deps.report(
        new LocalRecError('WORKER_CRASHED', `the engine died and is restarted: ${crash.message}`, {
          cause: crash,
        }),
      );
    }
    const failed = this.startFailure;
    const now = this.clock.now();
    if (failed && now < failed.retryAt) {
      throw new LocalRecError(
        failed.error.code,
        `${failed.error.message} (the engine is retried in ${Math.ceil((failed.retryAt - now) / 1000)} s)`,
        { cause: failed.error, details: { retryAt: failed.retryAt } },
      );
    }
    const retry = this.deps.retry ?? { firstMs: START_RETRY_FIRST_MS, maxMs: START_RETRY_MAX_MS };
    this.starting ??= this.startAndLoad()
      .then(
        (handle) => {
          this.startFailure = null;
          return handle;
        },
        (error: unknown) => {
          // Back off: no new worker (and no refetch of its script) until the delay passed.
          const delayMs = Math.min(retry.maxMs, failed ? failed.delayMs * 2 : retry.firstMs);
          const e = this.deps.report(error);
          this.startFailure = { error: e, retryAt: this.clock.now() + delayMs, delayMs };
          throw e;
        },
      )
      .finally(() => {
        this.starting = null;
      });
    return this.starting;
  }

  /**
   * Starts the engine and loads the models: enough to recommend, since scoring runs in
   * plain JS whatever the TF.js backend. The backend trial (which can take seconds on a
   * first visit) runs after, in the background; training waits for it (`trainingEngine`).
   */
  private async startAndLoad(): Promise<WorkerHandle> {
    const handle = await this.deps.start();
    try {
      this.handle = handle;
      this.backendReady = null;
      await this.deps.load(handle);
      this.backendReady = this.deps.chooseBackend(handle);
      this.backendReady.catch(() => {}); // reported by the training that waits for it
      return handle;
    } catch (error) {
      if (this.handle === handle) this.handle = null;
      handle.terminate();
      throw error;
    }
  }

  /** The engine with its training backend chosen (a failed choice is tried again next time). */
  async trainingEngine(): Promise<WorkerHandle> {
    const handle = await this.engine();
    this.backendReady ??= this.deps.chooseBackend(handle);
    const ready = this.backendReady;
    try {
      await ready;
    } catch (error) {
      if (this.backendReady === ready) this.backendReady = null;
      throw error;
    }
    return handle;
  }

  /**
   * Whether an engine can answer within `answerMs`: at once when one is up; false at once
   * while backing off after a failed start; else it starts one and waits at most that
   * long (the start goes on in the background; a failed start is reported where it fails).
   */
  async ready(answerMs: number): Promise<boolean> {
    if (this.current) return true;
    if (this.backingOff()) return false;
    const started = this.engine().then(
      () => true,
      () => false,
    );
    let timer: unknown;
    const ready = await Promise.race([
      started,
      new Promise<false>((resolve) => {
        timer = this.clock.setTimeout(() => resolve(false), answerMs);
      }),
    ]);
    this.clock.clearTimeout(timer);
    return ready;
  }

  /** One call into the engine (started if need be); a dead or hung one is replaced next time. */
  async call<T>(
    what: string,
    run: (api: WorkerApi) => Promise<T>,
    timeoutMs = this.deps.callMs ?? 30_000,
  ): Promise<T> {
    const handle = await this.engine();
    try {
      return await handle.call(what, run, timeoutMs);
    } catch (error) {
      if (hasCode(error, 'WORKER_CRASHED') || hasCode(error, 'WORKER_TIMEOUT')) {
        handle.terminate();
        if (this.handle === handle) {
          this.handle = null;
          this.deps.lost();
        }
      }
      throw error;
    }
  }

  /** Stops the engine for good; later starts reject with DB_CLOSED. */
  close(): void {
    this.closed = true;
    this.handle?.terminate();
    this.handle = null;
  }
}
