import { afterEach, describe, expect, it } from 'vitest';
import { electLeader, type LeaderElection } from '../../src/runtime/leader';

const made: LeaderElection[] = [];
afterEach(() => {
  for (const e of made.splice(0)) e.release();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tab(name: string, id: string) {
  const e = electLeader(name, { BroadcastChannel, heartbeatMs: 30, timeoutMs: 200, id });
  made.push(e);
  return e;
}

// The Web Locks path is exercised in Chromium by the e2e two-tab spec; Node has no
// navigator.locks, so here we test the BroadcastChannel fallback with real channels.
describe('leader election without Web Locks (BroadcastChannel heartbeats)', () => {
  it('elects exactly one leader among three tabs', async () => {
    const tabs = [tab('a', 'id-2'), tab('a', 'id-1'), tab('a', 'id-3')];
    expect(tabs.every((t) => t.mode === 'broadcast')).toBe(true);
    await sleep(450);
    expect(tabs.map((t) => t.isLeader)).toEqual([false, true, false]);
  });

  it('hands over when the leader leaves, and again when it times out', async () => {
    const first = tab('b', 'id-1');
    const second = tab('b', 'id-2');
    const third = tab('b', 'id-3');
    await sleep(450);
    expect([first.isLeader, second.isLeader, third.isLeader]).toEqual([true, false, false]);
    const changes: boolean[] = [];
    second.onChange((v) => changes.push(v));
    first.release(); // says bye
    await sleep(150);
    expect([first.isLeader, second.isLeader, third.isLeader]).toEqual([false, true, false]);
    expect(changes).toEqual([true]);
    second.release();
    await sleep(150);
    expect(third.isLeader).toBe(true);
  });

  it('names do not interfere', async () => {
    const x = tab('c', 'id-1');
    const y = tab('d', 'id-2');
    await sleep(450);
    expect([x.isLeader, y.isLeader]).toEqual([true, true]);
  });
});

describe('leader election with nothing to coordinate with', () => {
  it('is its own leader until released', () => {
    const e = electLeader('solo', {});
    expect(e.mode).toBe('alone');
    expect(e.isLeader).toBe(true);
    const seen: boolean[] = [];
    e.onChange((v) => seen.push(v));
    e.release();
    expect(e.isLeader).toBe(false);
    expect(seen).toEqual([false]);
  });
});
