// Exactly one tab of an origin trains at a time. With the Web Locks API the leader is the
// tab holding an exclusive lock; the browser hands it to the next waiting tab when the
// leader closes or crashes, so nothing has to time out. Without Web Locks (old Safari,
// some embedded webviews) a BroadcastChannel heartbeat election stands in: the live tab
// with the smallest id leads, and a leader silent for `timeoutMs` is replaced. Without
// either, every tab is its own leader (there is nothing to coordinate with).

export interface LeaderElection {
  readonly isLeader: boolean;
  /** Which mechanism decides: 'locks', 'broadcast' or 'alone'. */
  readonly mode: 'locks' | 'broadcast' | 'alone';
  /** Called with `true` when this tab becomes leader, `false` when it stops being one. */
  onChange(listener: (isLeader: boolean) => void): () => void;
  /** Give up leadership (and candidacy) for good, e.g. when the recommender closes. */
  release(): void;
}

interface LockManagerLike {
  request(
    name: string,
    options: { mode: 'exclusive'; signal?: AbortSignal },
    cb: () => Promise<void>,
  ): Promise<void>;
}

export interface LeaderDeps {
  locks?: LockManagerLike | undefined;
  BroadcastChannel?: typeof BroadcastChannel | undefined;
  heartbeatMs?: number;
  timeoutMs?: number;
  /** Unique id of this tab (random by default). */
  id?: string;
}

export function electLeader(name: string, deps: LeaderDeps = defaultDeps()): LeaderElection {
  if (deps.locks) return lockElection(name, deps.locks);
  if (deps.BroadcastChannel) return broadcastElection(name, deps.BroadcastChannel, deps);
  return aloneElection();
}

function defaultDeps(): LeaderDeps {
  const nav = globalThis.navigator as (Navigator & { locks?: LockManagerLike }) | undefined;
  return { locks: nav?.locks, BroadcastChannel: globalThis.BroadcastChannel };
}

class Listeners {
  private set = new Set<(v: boolean) => void>();
  add(l: (v: boolean) => void) {
    this.set.add(l);
    return () => this.set.delete(l);
  }
  emit(v: boolean) {
    for (const l of this.set) l(v);
  }
}

function lockElection(name: string, locks: LockManagerLike): LeaderElection {
  const listeners = new Listeners();
  const abort = new AbortController();
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const state = { isLeader: false };
  locks
    .request(`localrec:${name}:leader`, { mode: 'exclusive', signal: abort.signal }, async () => {
      state.isLeader = true;
      listeners.emit(true);
      await held; // hold the lock until release() or the tab goes away
      state.isLeader = false;
      listeners.emit(false);
    })
    .catch(() => {
      // AbortError after release() while still waiting: nothing to do.
    });
  return {
    get isLeader() {
      return state.isLeader;
    },
    mode: 'locks',
    onChange: (l) => listeners.add(l),
    release() {
      abort.abort();
      release();
    },
  };
}

type Beat = { type: 'beat' | 'bye'; id: string };

function broadcastElection(
  name: string,
  BC: typeof BroadcastChannel,
  deps: LeaderDeps,
): LeaderElection {
  const heartbeatMs = deps.heartbeatMs ?? 1000;
  const timeoutMs = deps.timeoutMs ?? 3 * heartbeatMs;
  const id = deps.id ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const channel = new BC(`localrec:${name}:leader`);
  const listeners = new Listeners();
  const seen = new Map<string, number>(); // other tab id -> last heartbeat time
  let isLeader = false;
  let closed = false;

  const evaluate = () => {
    const now = Date.now();
    for (const [other, at] of seen) if (now - at > timeoutMs) seen.delete(other);
    const lead = [...seen.keys()].every((other) => id < other);
    if (lead !== isLeader) {
      isLeader = lead;
      listeners.emit(lead);
    }
  };
  channel.onmessage = (event: MessageEvent<Beat>) => {
    const msg = event.data;
    if (msg.type === 'beat') seen.set(msg.id, Date.now());
    else seen.delete(msg.id);
    evaluate();
  };
  const beat = () => channel.postMessage({ type: 'beat', id } satisfies Beat);
  beat();
  // Wait one timeout before the first verdict, so existing tabs can announce themselves.
  const first = setTimeout(evaluate, timeoutMs);
  const timer = setInterval(() => {
    beat();
    evaluate();
  }, heartbeatMs);
  return {
    get isLeader() {
      return isLeader;
    },
    mode: 'broadcast',
    onChange: (l) => listeners.add(l),
    release() {
      if (closed) return;
      closed = true;
      clearTimeout(first);
      clearInterval(timer);
      channel.postMessage({ type: 'bye', id } satisfies Beat);
      channel.close();
      if (isLeader) {
        isLeader = false;
        listeners.emit(false);
      }
    },
  };
}

export function aloneElection(): LeaderElection {
  const listeners = new Listeners();
  let isLeader = true;
  return {
    get isLeader() {
      return isLeader;
    },
    mode: 'alone',
    onChange: (l) => listeners.add(l),
    release() {
      if (isLeader) {
        isLeader = false;
        listeners.emit(false);
      }
    },
  };
}
