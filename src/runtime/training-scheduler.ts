// When the device trains: in the background once enough new events arrived, at an idle
// moment, only in the tab that leads (one tab of an origin trains at a time), one run at a
// time (per origin too, under a Web Lock where there is one), and again after a run when
// events arrived meanwhile. What a run does is passed in (`run`), so Node tests drive the
// schedule with fakes and fake timers.

import type { LocalRecError } from '../core/errors';
import { type Clock, systemClock } from './engine-supervisor';
import type { LeaderElection } from './leader';
import type { TrainingOptions, TrainSummary } from './training-plan';

export interface TrainRequestOptions {
  epochs?: number;
  mode?: 'fresh' | 'continue';
}

interface LockManagerLike {
  request<T>(name: string, cb: () => Promise<T>): Promise<T>;
}

type IdleCallback = (cb: () => void, options: { timeout: number }) => unknown;

export interface TrainingSchedulerDeps {
  leader: Pick<LeaderElection, 'isLeader' | 'onChange'>;
  /**
   * Readies a run (the engine with its training backend chosen). Events counted before it
   * resolves are the run's; those after it schedule the next run.
   */
  ready(): Promise<unknown>;
  /** One run: plan, train, save. */
  run(options: TrainRequestOptions): Promise<TrainSummary>;
  /** Reports a failed run (the recommender's `error` event) and returns it typed. */
  report(error: unknown): LocalRecError;
  settings: TrainingOptions;
  /** Name of the origin-wide training lock. */
  lockName: string;
  /** Default: `navigator.locks` where present; null: no lock. */
  locks?: LockManagerLike | null;
  clock?: Clock;
  /** Default: the global `requestIdleCallback` where present; null: none. */
  requestIdleCallback?: IdleCallback | null;
}

/** Delay before looking for an idle moment, ms: lets a burst of tracked events land first. */
const IDLE_LOOKUP_MS = 50;

export class TrainingScheduler {
  private pending = 0;
  private idleTimer: unknown = null;
  private trainingRun: Promise<TrainSummary> | null = null;
  private closed = false;
  private readonly clock: Clock;
  private readonly locks: LockManagerLike | null;
  private readonly idle: IdleCallback | null;

  constructor(private readonly deps: TrainingSchedulerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.locks =
      deps.locks !== undefined
        ? deps.locks
        : ((globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks ?? null);
    this.idle =
      deps.requestIdleCallback !== undefined
        ? deps.requestIdleCallback
        : ((globalThis as { requestIdleCallback?: IdleCallback }).requestIdleCallback ?? null);
    deps.leader.onChange((isLeader) => {
      if (isLeader) this.schedule();
    });
  }

  /** The run in progress, if any. */
  get running(): Promise<TrainSummary> | null {
    return this.trainingRun;
  }

  /** New events were written (here or in another tab). */
  eventsArrived(count: number): void {
    this.pending += count;
    this.schedule();
  }

  /** Everything was forgotten: no events pending. */
  reset(): void {
    this.pending = 0;
  }

  /** Plans a background run at the next idle moment when this tab leads and enough arrived. */
  schedule(): void {
    const t = this.deps.settings;
    if (
      this.closed ||
      t.auto === false ||
      !this.deps.leader.isLeader ||
      this.trainingRun ||
      this.idleTimer
    )
      return;
    if (this.pending < (t.minNewEvents ?? 5)) return;
    const timeout = t.idleTimeoutMs ?? 2000;
    const run = () => {
      this.idleTimer = null;
      if (!this.deps.leader.isLeader) return;
      this.train().catch(() => {}); // reported through deps.report
    };
    const idle = this.idle;
    this.idleTimer = this.clock.setTimeout(() => {
      if (idle) idle(run, { timeout });
      else run();
    }, IDLE_LOOKUP_MS);
  }

  /** Trains now (or joins the run in progress). */
  train(options: TrainRequestOptions = {}): Promise<TrainSummary> {
    this.trainingRun ??= this.locked(options).finally(() => {
      this.trainingRun = null;
      if (this.pending > 0) this.schedule();
    });
    return this.trainingRun;
  }

  private async locked(options: TrainRequestOptions): Promise<TrainSummary> {
    const body = async () => {
      await this.deps.ready();
      this.pending = 0;
      return this.deps.run(options);
    };
    try {
      return this.locks ? await this.locks.request(this.deps.lockName, body) : await body();
    } catch (error) {
      throw this.deps.report(error);
    }
  }

  /**
   * Resolves once no training is pending: a run waiting for an idle moment starts now,
   * and a running one is awaited (its failure is reported, not thrown here).
   */
  async settled(): Promise<void> {
    // The change listener that counts events runs after the store's write resolves.
    await Promise.resolve();
    for (;;) {
      if (this.idleTimer) {
        this.clock.clearTimeout(this.idleTimer);
        this.idleTimer = null;
        if (this.deps.leader.isLeader && !this.closed) this.train().catch(() => {});
      }
      const run = this.trainingRun;
      if (!run) return;
      await run.catch(() => {});
    }
  }

  /** No more runs are scheduled (one in progress finishes or is aborted by the caller). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}
