// The drop-in behind the script-tag build: one recommender per page created from the
// <script> tag's data attributes and the stub's queued `config` commands, the queue
// replayed in order, auto-tracking, and the <localrec-recommendations> element. Kept out
// of src/global.ts so that file stays the only one doing work at load time.
import { createRecommender, type Recommender, type RecommenderOptions } from '../api/recommender';
import type { CatalogItem, TrackEvent } from '../api/store-types';
import { type AutoTracker, startAutoTracking } from './auto-track';
import {
  type Command,
  createCommandRunner,
  type QueueEntry,
  readQueue,
  takeConfig,
  toCommand,
} from './command-queue';
import { defineElements, TRACKED_EVENT } from './element';
import { type DropinConfig, mergeOptions, readScriptConfig } from './script-config';

export interface Dropin {
  /** Resolves with the page's recommender once created and the queue replayed. */
  ready: Promise<Recommender>;
  /** Resolves as soon as the recommender exists (before the queue is replayed). */
  created: Promise<Recommender>;
  /** Runs a command (`['track', {...}]`, or a function of the recommender) in page order. */
  push(command: Command): Promise<unknown>;
  /** Creates the recommender now (when the tag did not ask for it), with extra options. */
  init(options?: RecommenderOptions): Promise<Recommender>;
  /** The recommender once created, else null. */
  current(): Recommender | null;
  /** Auto-tracking, once started. */
  tracker(): AutoTracker | null;
}

function log(kind: 'warn' | 'error', message: string, error?: unknown): void {
  if (error === undefined) console[kind](`localrec: ${message}`);
  else console[kind](`localrec: ${message}`, error);
}

async function fetchCatalog(url: string): Promise<CatalogItem[]> {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body = (await response.json()) as unknown;
  const items = Array.isArray(body) ? body : (body as { items?: unknown })?.items;
  if (!Array.isArray(items)) throw new Error('expected an array of {id, title, attributes}');
  return items as CatalogItem[];
}

/**
 * Sets the drop-in up. `stub` is what `window.LocalRec` held before this script ran (the
 * inline stub, or nothing); its queue is read now, synchronously, before the IIFE's own
 * assignment replaces it. `script` is the tag that loaded us (document.currentScript).
 */
export function createDropin(script: Element | null, stub: unknown): Dropin {
  const config: DropinConfig = readScriptConfig((name) =>
    script ? script.getAttribute(`data-${name}`) : null,
  );
  for (const w of config.warnings) log('warn', w);

  const stubObject =
    typeof stub === 'object' && stub !== null ? (stub as { q?: unknown; push?: unknown }) : null;
  const queued = readQueue(stubObject?.q);
  if (queued.invalid) log('warn', `${queued.invalid} queued call(s) were not commands; skipped`);
  const { config: queuedConfig, rest } = takeConfig(queued.entries);

  let resolveRec!: (rec: Recommender) => void;
  let rejectRec!: (error: unknown) => void;
  const recPromise = new Promise<Recommender>((resolve, reject) => {
    resolveRec = resolve;
    rejectRec = reject;
  });
  recPromise.catch(() => {}); // reported once below; never an unhandled rejection

  const dispatchTracked = (event: TrackEvent) => {
    if (typeof document === 'undefined') return;
    document.dispatchEvent(new CustomEvent(TRACKED_EVENT, { detail: event }));
  };
  const runner = createCommandRunner(recPromise, {
    report: (error, command) => log('warn', `command ${command} failed`, error),
    onTracked: (events) => {
      for (const e of events) dispatchTracked(e);
    },
  });

  let recommender: Recommender | null = null;
  let tracker: AutoTracker | null = null;
  let started: Promise<Recommender> | null = null;

  const start = (extra: RecommenderOptions = {}): Promise<Recommender> => {
    started ??= (async () => {
      let options = config.options;
      for (const o of queuedConfig) options = mergeOptions(options, o);
      options = mergeOptions(options, extra);
      try {
        const rec = await createRecommender(options);
        recommender = rec;
        resolveRec(rec);
      } catch (error) {
        log('error', 'could not start the recommender', error);
        rejectRec(error);
        throw error;
      }
      const rec = recommender;
      if (config.catalogUrl) {
        const url = config.catalogUrl;
        runner.enqueue({
          command: async (r: Recommender) => {
            try {
              await r.setCatalog(await fetchCatalog(url));
            } catch (error) {
              log('warn', `could not load the catalog from ${url}`, error);
            }
          },
        });
      }
      if (config.autoTrack && typeof document !== 'undefined') {
        tracker = startAutoTracking(rec, {
          viewDwellMs: config.viewDwellMs,
          onTracked: (event) => dispatchTracked(event),
        });
      }
      await runner.idle();
      return rec;
    })();
    return started;
  };
  const ready = recPromise.then(async (rec) => {
    await runner.idle();
    return rec;
  });
  ready.catch(() => {});

  // Replay what the page queued before we loaded, in order, then take over the stub's
  // push so a reference kept to the stub keeps working.
  for (const entry of rest) runner.enqueue(entry);
  const push = (command: Command): Promise<unknown> => {
    const c = toCommand(command);
    if (!c) {
      log('warn', 'push() takes [name, ...args] or a function');
      return Promise.resolve(undefined);
    }
    if (typeof c !== 'function' && c[0] === 'config') {
      if (!started) {
        queuedConfig.push(c[1] as RecommenderOptions);
        return Promise.resolve(undefined);
      }
      log('warn', "['config', …] after the recommender started is ignored");
      return Promise.resolve(undefined);
    }
    const entry: QueueEntry = { command: c, time: Date.now() };
    return runner.enqueue(entry);
  };
  if (stubObject) {
    try {
      stubObject.q = [];
      stubObject.push = push;
    } catch {
      // a frozen stub: nothing to take over
    }
  }

  // The element renders from this page's recommender once the calls the page queued
  // before the script loaded have run (LocalRec.ready): a first list from a history
  // still being replayed would be a wrong one.
  defineElements({ recommender: () => ready });

  // The tag asked for it (data attributes), or the page queued calls through the stub.
  if (config.configured || stubObject) void start().catch(() => {});

  return {
    ready,
    created: recPromise,
    push,
    init: (options) => start(options),
    current: () => recommender,
    tracker: () => tracker,
  };
}
