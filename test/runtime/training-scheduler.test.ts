// TrainingScheduler in Node with a manual clock and a fake leader: runs start at an idle
// moment once enough events arrived, only in the leading tab, one at a time, again when
// events arrived during a run; failures are reported and typed.
import { describe, expect, it } from 'vitest';
import { LocalRecError } from '../../src/core/errors';
import type { TrainSummary } from '../../src/runtime/training-plan';
import {
  TrainingScheduler,
  type TrainingSchedulerDeps,
} from '../../src/runtime/training-scheduler';
import { deferred, flush, ManualClock } from './fakes';

function fakeLeader(isLeader = true) {
  const listeners = new Set<(v: boolean) => void>();
  return {
    isLeader,
    onChange(l: (v: boolean) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    set(v: boolean) {
      this.isLeader = v;
      for (const l of listeners) l(v);
    },
  };
}

const DONE = { trained: true } as TrainSummary;

function setup(over: Partial<TrainingSchedulerDeps> = {}) {
  const clock = new ManualClock();
  const leader = fakeLeader();
  const runs: unknown[] = [];
  const reported: LocalRecError[] = [];
  const deps: TrainingSchedulerDeps = {
    leader,
    ready: async () => {},
    run: async (o) => {
      runs.push(o);
      return DONE;
    },
    report: (e) => {
      const err =
        e instanceof LocalRecError ? e : new LocalRecError('WORKER_CRASHED', (e as Error).message);
      reported.push(err);
      return err;
    },
    settings: { minNewEvents: 5, idleTimeoutMs: 2000 },
    lockName: 'localrec:t:train',
    locks: null,
    requestIdleCallback: null,
    clock,
    ...over,
  };
  return { s: new TrainingScheduler(deps), clock, leader, runs, reported };
}

describe('TrainingScheduler', () => {
  it('trains in the background once minNewEvents arrived, after a short wait', async () => {
    const { s, clock, runs } = setup();
    s.eventsArrived(4);
    clock.advance(1000);
    await flush();
    expect(runs).toHaveLength(0); // below the threshold
    s.eventsArrived(1);
    clock.advance(49);
    await flush();
    expect(runs).toHaveLength(0);
    clock.advance(1);
    await flush();
    expect(runs).toEqual([{}]);
    // The count started again: one more event is not enough.
    await s.settled();
    s.eventsArrived(1);
    clock.advance(1000);
    await flush();
    expect(runs).toHaveLength(1);
  });

  it('waits for an idle moment, with idleTimeoutMs as its limit', async () => {
    const idle: { cb: () => void; timeout: number }[] = [];
    const { s, clock, runs } = setup({
      requestIdleCallback: (cb, o) => idle.push({ cb, timeout: o.timeout }),
    });
    s.eventsArrived(5);
    clock.advance(50);
    expect(idle.map((i) => i.timeout)).toEqual([2000]);
    await flush();
    expect(runs).toHaveLength(0);
    idle[0].cb();
    await flush();
    expect(runs).toHaveLength(1);
  });

  it('trains only in the leading tab, and starts when this tab becomes leader', async () => {
    const { s, clock, leader, runs } = setup();
    leader.isLeader = false;
    s.eventsArrived(10);
    expect(clock.pending).toBe(0); // a follower does not even wait for an idle moment
    clock.advance(1000);
    await flush();
    expect(runs).toHaveLength(0);
    leader.set(true);
    clock.advance(50);
    await flush();
    expect(runs).toHaveLength(1);
  });

  it('does not run when leadership is lost before the idle moment', async () => {
    const { s, clock, leader, runs } = setup();
    s.eventsArrived(5);
    leader.set(false);
    clock.advance(100);
    await flush();
    expect(runs).toHaveLength(0);
  });

  it('never trains in the background with auto: false (train() still does)', async () => {
    const { s, clock, runs } = setup({ settings: { auto: false } });
    s.eventsArrived(100);
    clock.advance(10_000);
    await flush();
    expect(runs).toHaveLength(0);
    await s.train({ epochs: 2 });
    expect(runs).toEqual([{ epochs: 2 }]);
  });

  it('one run at a time; events that arrive during a run schedule the next', async () => {
    const gate = deferred<TrainSummary>();
    let calls = 0;
    const { s, clock } = setup({
      run: () => {
        calls++;
        return calls === 1 ? gate.promise : Promise.resolve(DONE);
      },
    });
    const a = s.train();
    const b = s.train();
    expect(a).toBe(b);
    await flush();
    expect(s.running).toBe(a);
    s.eventsArrived(5); // during the run
    clock.advance(1000);
    await flush();
    expect(calls).toBe(1);
    gate.resolve(DONE);
    await a;
    expect(s.running).toBeNull();
    clock.advance(50);
    await flush();
    expect(calls).toBe(2);
  });

  it("events counted before the run is ready are the run's; not after", async () => {
    const ready = deferred();
    const { s, clock, runs } = setup({ ready: () => ready.promise });
    const run = s.train();
    s.eventsArrived(5); // before ready: trained by this run
    ready.resolve();
    await run;
    clock.advance(1000);
    await flush();
    expect(runs).toHaveLength(1);
  });

  it('settled() starts a run waiting for its idle moment and awaits it', async () => {
    const { s, runs } = setup();
    s.eventsArrived(5);
    await s.settled();
    expect(runs).toHaveLength(1);
    expect(s.running).toBeNull();
  });

  it('a failed run is reported once, typed, and the next events schedule again', async () => {
    let fail = true;
    const { s, clock, reported } = setup({
      run: async () => {
        if (fail) throw new Error('engine exploded');
        return DONE;
      },
    });
    await expect(s.train()).rejects.toMatchObject({
      code: 'WORKER_CRASHED',
      message: 'engine exploded',
    });
    expect(reported).toHaveLength(1);
    fail = false;
    s.eventsArrived(5);
    clock.advance(50);
    await flush();
    await s.settled();
    expect(reported).toHaveLength(1);
  });

  it("holds the origin's training lock around a run", async () => {
    const held: string[] = [];
    const { s } = setup({
      locks: {
        request: async (name, cb) => {
          held.push(`${name}:in`);
          const r = await cb();
          held.push(`${name}:out`);
          return r;
        },
      },
      run: async () => {
        held.push('run');
        return DONE;
      },
    });
    await s.train();
    expect(held).toEqual(['localrec:t:train:in', 'run', 'localrec:t:train:out']);
  });

  it('close() cancels a waiting run and schedules no more', async () => {
    const { s, clock, runs } = setup();
    s.eventsArrived(5);
    s.close();
    expect(clock.pending).toBe(0);
    s.eventsArrived(5);
    clock.advance(1000);
    await flush();
    expect(runs).toHaveLength(0);
  });

  it('reset() forgets the events counted so far', async () => {
    const { s, clock, runs } = setup();
    s.eventsArrived(4);
    s.reset();
    s.eventsArrived(4);
    clock.advance(1000);
    await flush();
    expect(runs).toHaveLength(0);
  });
});
