// EngineSupervisor in Node with fake engines and a manual clock: one start at a time,
// serving before the backend trial ends, back-off after failed starts, replacement of a
// dead or hung engine, the answer-now-or-fall-back wait.
import { describe, expect, it } from 'vitest';
import { LocalRecError } from '../../src/core/errors';
import {
  EngineSupervisor,
  type EngineSupervisorDeps,
  START_RETRY_FIRST_MS,
  START_RETRY_MAX_MS,
} from '../../src/runtime/engine-supervisor';
import type { BackendStatus } from '../../src/worker/protocol';
import { deferred, type FakeHandle, fakeHandle, flush, ManualClock } from './fakes';

const WASM = { backend: 'wasm', key: 'k' } as unknown as BackendStatus;

function setup(over: Partial<EngineSupervisorDeps> = {}) {
  const clock = new ManualClock();
  const log: string[] = [];
  const reported: LocalRecError[] = [];
  const handles: FakeHandle[] = [];
  let lost = 0;
  const deps: EngineSupervisorDeps = {
    start: async () => {
      log.push('start');
      const h = fakeHandle();
      handles.push(h);
      return h;
    },
    load: async () => {
      log.push('load');
    },
    chooseBackend: async () => {
      log.push('trial');
      return WASM;
    },
    lost: () => {
      lost++;
    },
    report: (e) => {
      const err = e instanceof LocalRecError ? e : new LocalRecError('WORKER_CRASHED', String(e));
      reported.push(err);
      return err;
    },
    clock,
    ...over,
  };
  const sup = new EngineSupervisor(deps);
  return { sup, clock, log, reported, handles, lost: () => lost };
}

describe('EngineSupervisor', () => {
  it('starts once for concurrent callers, loads the model, then runs the backend trial', async () => {
    const { sup, log, handles } = setup();
    expect(sup.runsIn).toBe('not-started');
    const [a, b] = await Promise.all([sup.engine(), sup.engine()]);
    expect(a).toBe(b);
    expect(handles).toHaveLength(1);
    expect(log).toEqual(['start', 'load', 'trial']);
    expect(sup.runsIn).toBe('worker');
    await sup.engine();
    expect(log).toEqual(['start', 'load', 'trial']); // no second start, no second trial
  });

  it('serves as soon as the model is loaded; training waits for the trial', async () => {
    const trial = deferred<BackendStatus>();
    const { sup } = setup({ chooseBackend: () => trial.promise });
    await sup.engine(); // resolved although the trial has not answered
    let training = false;
    const t = sup.trainingEngine().then(() => {
      training = true;
    });
    await flush();
    expect(training).toBe(false);
    trial.resolve(WASM);
    await t;
    expect(training).toBe(true);
  });

  it('tries a failed backend choice again at the next training', async () => {
    let trials = 0;
    const { sup } = setup({
      chooseBackend: async () => {
        if (++trials === 1) throw new LocalRecError('BACKEND_UNAVAILABLE', 'no backend');
        return WASM;
      },
    });
    await expect(sup.trainingEngine()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await expect(sup.trainingEngine()).resolves.toBeDefined();
    expect(trials).toBe(2);
  });

  it('backs off after a failed start: 2 s, doubling, at most 5 min; one report per failure', async () => {
    let starts = 0;
    const { sup, clock, reported } = setup({
      start: async () => {
        starts++;
        throw new LocalRecError('WORKER_CRASHED', 'could not start the worker');
      },
    });
    await expect(sup.engine()).rejects.toMatchObject({ message: 'could not start the worker' });
    expect(reported).toHaveLength(1);
    expect(sup.backingOff()).toBe(true);
    // Within the delay: refused at once, no new start, the wait in the message.
    await expect(sup.engine()).rejects.toMatchObject({
      code: 'WORKER_CRASHED',
      message: expect.stringMatching(/retried in 2 s/),
      details: { retryAt: clock.t + START_RETRY_FIRST_MS },
    });
    expect(starts).toBe(1);
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = clock.t;
      clock.advance(1);
      while (sup.backingOff()) clock.advance(1000);
      delays.push(Math.round((clock.t - before) / 1000) * 1000);
      await expect(sup.engine()).rejects.toMatchObject({ message: 'could not start the worker' });
    }
    expect(starts).toBe(11);
    expect(delays).toEqual([
      2000,
      4000,
      8000,
      16000,
      32000,
      64000,
      128000,
      256000,
      START_RETRY_MAX_MS,
      START_RETRY_MAX_MS,
    ]);
    expect(reported).toHaveLength(11);
  });

  it('a successful start resets the back-off', async () => {
    let fail = true;
    const clock = new ManualClock();
    const handles: FakeHandle[] = [];
    const start = async () => {
      if (fail) throw new LocalRecError('WORKER_CRASHED', 'no');
      const h = fakeHandle();
      handles.push(h);
      return h;
    };
    const s2 = new EngineSupervisor({
      start,
      load: async () => {},
      chooseBackend: async () => WASM,
      lost: () => {},
      report: (e) => e as LocalRecError,
      clock,
    });
    await expect(s2.engine()).rejects.toThrow();
    clock.advance(START_RETRY_FIRST_MS);
    await expect(s2.engine()).rejects.toThrow(); // second failure: 4 s
    clock.advance(4000);
    fail = false;
    const h = await s2.engine();
    expect(s2.backingOff()).toBe(false);
    h.terminate();
    (h as FakeHandle).crash();
    fail = true;
    await expect(s2.engine()).rejects.toThrow();
    clock.advance(START_RETRY_FIRST_MS - 1);
    expect(s2.backingOff()).toBe(true);
    clock.advance(1);
    expect(s2.backingOff()).toBe(false); // 2 s again, not 8 s
  });

  it('a failed load discards the engine and backs off', async () => {
    const { sup, handles } = setup({
      load: async () => {
        throw new LocalRecError('MODEL_CORRUPT', 'bad file');
      },
    });
    await expect(sup.engine()).rejects.toMatchObject({ code: 'MODEL_CORRUPT' });
    expect(handles[0].terminated).toBe(true);
    expect(sup.current).toBeNull();
    expect(sup.backingOff()).toBe(true);
  });

  it('replaces an engine that died between calls, and reports it', async () => {
    const { sup, handles, reported, lost } = setup();
    const first = await sup.engine();
    handles[0].crash(new LocalRecError('WORKER_CRASHED', 'the worker at x failed: boom'));
    expect(sup.current).toBeNull();
    expect(sup.started).toBe(true); // dead, not yet replaced: the next use restarts it
    expect(sup.runsIn).toBe('not-started');
    const second = await sup.engine();
    expect(second).not.toBe(first);
    expect(handles[0].terminated).toBe(true);
    expect(lost()).toBe(1);
    expect(reported.map((e) => e.message)).toEqual([
      'the engine died and is restarted: the worker at x failed: boom',
    ]);
  });

  it('a call that hangs or crashes drops the engine; a refused call keeps it', async () => {
    const { sup, handles, lost } = setup();
    await sup.engine();
    await expect(
      sup.call('recommend', async () => {
        throw new LocalRecError('INVALID_INPUT', 'bad k');
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(sup.current).toBe(handles[0]);
    await expect(
      sup.call('recommend', async () => {
        throw new LocalRecError('WORKER_TIMEOUT', 'took too long');
      }),
    ).rejects.toMatchObject({ code: 'WORKER_TIMEOUT' });
    expect(handles[0].terminated).toBe(true);
    expect(lost()).toBe(1);
    await sup.call('info', async () => null);
    expect(handles).toHaveLength(2); // the next call started a new engine
  });

  it('ready(): true when up, false after answerMs while a start goes on, false at once when backing off', async () => {
    const start = deferred<FakeHandle>();
    let starts = 0;
    const { sup, clock } = setup({
      start: () => {
        starts++;
        return start.promise;
      },
    });
    const waiting = sup.ready(50);
    await flush();
    clock.advance(49);
    let answered: boolean | undefined;
    void waiting.then((r) => {
      answered = r;
    });
    await flush();
    expect(answered).toBeUndefined();
    clock.advance(1);
    expect(await waiting).toBe(false);
    expect(clock.pending).toBe(0); // its timer is gone
    expect(await Promise.race([sup.ready(0), flush().then(() => 'waited')])).toBe('waited');
    expect(starts).toBe(1); // the start in progress is joined, not repeated
    start.resolve(fakeHandle());
    await flush(20);
    expect(await sup.ready(0)).toBe(true);

    const failing = setup({
      start: async () => {
        throw new LocalRecError('WORKER_CRASHED', 'no worker');
      },
    });
    expect(await failing.sup.ready(1000)).toBe(false);
    let tried = 0;
    const s = failing.sup as unknown as { engine: () => Promise<unknown> };
    const engine = s.engine.bind(failing.sup);
    s.engine = () => {
      tried++;
      return engine();
    };
    expect(await failing.sup.ready(1000)).toBe(false);
    expect(tried).toBe(0); // backing off: no start attempted
  });

  it('after close() nothing starts', async () => {
    const { sup, handles } = setup();
    await sup.engine();
    sup.close();
    expect(handles[0].terminated).toBe(true);
    await expect(sup.engine()).rejects.toMatchObject({ code: 'DB_CLOSED' });
    expect(handles).toHaveLength(1);
  });
});
