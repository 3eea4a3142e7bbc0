// The command queue of the script-tag build. A page may call localrec before the (async)
// script arrived through a tiny inline stub that only records the calls:
//
//   window.LocalRec = window.LocalRec || { q: [], push: function (c) { this.q.push([Date.now(), c]); } };
//   LocalRec.push(['track', { itemId: 'sku-42', type: 'view' }]);
//
// When the script runs it reads that queue (before its own `var LocalRec = …` replaces
// the stub), and replays every command in order once the recommender exists; later
// `LocalRec.push(cmd)` calls go through the same runner, so the order is kept. Pure: no
// DOM, tested in Node with a fake recommender.

import type { Recommender, RecommenderOptions } from '../api/recommender';
import type { TrackEvent } from '../api/store-types';
import type { LocalRecError } from '../core/errors';

/** `[name, ...args]`, or a function called with the recommender once it exists. */
export type Command =
  | readonly [name: string, ...args: unknown[]]
  | ((recommender: Recommender) => unknown);

export interface QueueEntry {
  command: Command;
  /** When the page made the call (the stub records it): default timestamp of tracked events. */
  time?: number;
}

/** Recommender methods a command may name. Anything else is refused (no private methods). */
export const COMMANDS = [
  'track',
  'trackMany',
  'setConsent',
  'setCatalog',
  'train',
  'abortTraining',
  'warmUp',
  'recommend',
  'similar',
  'status',
  'stats',
  'exportData',
  'forget',
  'on',
] as const;
export type CommandName = (typeof COMMANDS)[number] | 'config';

/**
 * Commands whose effect later commands may depend on (what was tracked, the consent, the
 * catalog): the runner waits for each before starting the next. Others (train,
 * recommend, callbacks) start in order but do not hold the queue up.
 */
const SEQUENTIAL = new Set<string>(['track', 'trackMany', 'setConsent', 'setCatalog', 'forget']);

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { length?: unknown }).length === 'number' &&
    !(typeof v === 'string')
  );
}

/** One queued value as a command, or null when it is not one. */
export function toCommand(value: unknown): Command | null {
  if (typeof value === 'function') return value as Command;
  if (!isArrayLike(value)) return null;
  const list = Array.from(value);
  if (typeof list[0] !== 'string') return null;
  return list as unknown as Command;
}

/**
 * Reads the stub's queue: entries `[time, command]` (the documented stub) or bare
 * commands (a page that pushed into `q` directly). Unreadable entries are counted.
 */
export function readQueue(queue: unknown): { entries: QueueEntry[]; invalid: number } {
  const entries: QueueEntry[] = [];
  let invalid = 0;
  if (!isArrayLike(queue)) return { entries, invalid };
  for (const raw of Array.from(queue)) {
    if (isArrayLike(raw) && raw.length === 2 && typeof raw[0] === 'number') {
      const command = toCommand(raw[1]);
      if (command) entries.push({ command, time: raw[0] as number });
      else invalid++;
      continue;
    }
    const command = toCommand(raw);
    if (command) entries.push({ command });
    else invalid++;
  }
  return { entries, invalid };
}

/** The options of every `['config', {...}]` entry, in order; the other entries. */
export function takeConfig(entries: readonly QueueEntry[]): {
  config: RecommenderOptions[];
  rest: QueueEntry[];
} {
  const config: RecommenderOptions[] = [];
  const rest: QueueEntry[] = [];
  for (const e of entries) {
    if (typeof e.command !== 'function' && e.command[0] === 'config') {
      const o = e.command[1];
      if (typeof o === 'object' && o !== null) config.push(o as RecommenderOptions);
    } else rest.push(e);
  }
  return { config, rest };
}

function withTime(event: unknown, time: number | undefined): unknown {
  if (time === undefined || typeof event !== 'object' || event === null) return event;
  const e = event as TrackEvent;
  return e.timestamp === undefined ? { ...e, timestamp: time } : e;
}

function describe(command: Command): string {
  return typeof command === 'function' ? 'function' : JSON.stringify(command[0]);
}

function codeOf(error: unknown): string | undefined {
  return (error as LocalRecError | undefined)?.code;
}

/** Runs one command against the recommender. */
export async function runCommand(rec: Recommender, entry: QueueEntry): Promise<unknown> {
  const { command, time } = entry;
  if (typeof command === 'function') return command(rec);
  const [name, ...args] = command;
  if (name === 'config') {
    throw Object.assign(
      new Error("localrec: ['config', …] only works before the script loaded (queued in the stub)"),
      { code: 'INVALID_INPUT' },
    );
  }
  if (!(COMMANDS as readonly string[]).includes(name)) {
    throw Object.assign(
      new Error(
        `localrec: unknown command ${JSON.stringify(name)} (one of ${COMMANDS.join(', ')})`,
      ),
      { code: 'INVALID_INPUT' },
    );
  }
  if (name === 'track') args[0] = withTime(args[0], time);
  if (name === 'trackMany' && Array.isArray(args[0]))
    args[0] = args[0].map((e: unknown) => withTime(e, time));
  const method = (rec as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
  return method.apply(rec, args);
}

export interface CommandRunner {
  /** Runs `entry` after everything enqueued before it; resolves with its result. */
  enqueue(entry: QueueEntry): Promise<unknown>;
  /** Settles once every enqueued sequential command has settled. */
  idle(): Promise<void>;
}

/**
 * A runner in page order. Failures never stop the queue; they are handed to `report`
 * except CONSENT_REQUIRED (expected whenever the visitor has not agreed: quiet). The
 * promise `enqueue` returns rejects too, but is marked handled, so an un-awaited
 * `LocalRec.push(…)` leaves no "unhandled rejection" behind.
 */
export function createCommandRunner(
  recommender: Promise<Recommender>,
  options: {
    report?: (error: unknown, command: string) => void;
    /** Called after a track/trackMany command stored its events. */
    onTracked?: (events: TrackEvent[]) => void;
  } = {},
): CommandRunner {
  let tail: Promise<unknown> = recommender.catch(() => {});
  const enqueue = (entry: QueueEntry): Promise<unknown> => {
    const sequential =
      typeof entry.command !== 'function' && SEQUENTIAL.has(entry.command[0] as string);
    const result = tail.then(async () => {
      const rec = await recommender;
      const value = await runCommand(rec, entry);
      if (typeof entry.command !== 'function' && options.onTracked) {
        const [name, arg] = entry.command;
        if (name === 'track') options.onTracked([arg as TrackEvent]);
        else if (name === 'trackMany' && Array.isArray(arg)) options.onTracked(arg as TrackEvent[]);
      }
      return value;
    });
    result.catch((error) => {
      if (codeOf(error) === 'CONSENT_REQUIRED') return;
      options.report?.(error, describe(entry.command));
    });
    // A sequential command holds the queue until it settled; others only until started.
    tail = sequential ? result.catch(() => {}) : tail;
    return result;
  };
  return { enqueue, idle: () => tail.then(() => {}) };
}
