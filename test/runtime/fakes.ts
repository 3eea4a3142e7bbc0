// Fakes for the runtime's parts: a manual clock with timers, and an engine handle whose
// calls run against a partial engine API and can be made to crash or hang.
import { LocalRecError } from '../../src/core/errors';
import type { Clock } from '../../src/runtime/engine-supervisor';
import type { WorkerHandle } from '../../src/runtime/worker-client';
import type { WorkerApi } from '../../src/worker/protocol';

export class ManualClock implements Clock {
  t = 1_000_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers.delete(id as number);
  };
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time on, firing the timers that came due (in time order). */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = [...this.timers]
        .filter(([, v]) => v.at <= until)
        .sort((a, b) => a[1].at - b[1].at);
      if (!due.length) break;
      const [id, { at, fn }] = due[0];
      this.timers.delete(id);
      this.t = at;
      fn();
    }
    this.t = until;
  }
}

export interface FakeHandle extends WorkerHandle {
  crash(error?: LocalRecError): void;
  terminated: boolean;
  calls: string[];
}

export function fakeHandle(api: Partial<WorkerApi> = {}): FakeHandle {
  let crashed: LocalRecError | undefined;
  const h: FakeHandle = {
    mode: 'worker',
    calls: [],
    terminated: false,
    call(what, run) {
      h.calls.push(what);
      if (crashed) return Promise.reject(crashed);
      return run(api as WorkerApi);
    },
    callback: (fn) => fn,
    get crashed() {
      return crashed;
    },
    crash(error = new LocalRecError('WORKER_CRASHED', 'boom')) {
      crashed = error;
    },
    terminate() {
      h.terminated = true;
    },
  };
  return h;
}

/** Lets pending promise callbacks run. */
export async function flush(times = 10): Promise<void> {
  for (let i = 0; i < times; i++) await Promise.resolve();
}

export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
