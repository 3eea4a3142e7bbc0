// Script-tag entry (dist/localrec.global.js): the IIFE build assigns this module's
// exports to `window.LocalRec`. It records its own URL so the worker is found beside it,
// and sets up the drop-in (src/dom/dropin.ts): a recommender from the tag's data
// attributes, the stub's queued calls replayed in order, auto-tracking, and the
// <localrec-recommendations> element.
//
// Order matters: vite's IIFE is `var LocalRec = (function (exports) { BODY; return
// exports; })({})`. BODY (this module's top level) runs while `window.LocalRec` is still
// the page's stub, so the queue is read here, synchronously; the assignment replaces
// the stub only afterwards.
import type { Recommender, RecommenderOptions } from './api/recommender';
import type { Command } from './dom/command-queue';
import { createDropin, type Dropin } from './dom/dropin';
import { setScriptBase } from './runtime/worker-url';

const current: Element | null = (() => {
  if (typeof document === 'undefined') return null;
  const own = document.currentScript;
  if (own) return own;
  // Not run as a classic script's first evaluation: look the tag up by its file name.
  const tags = document.querySelectorAll('script[src*="localrec.global"]');
  return tags.length ? tags[tags.length - 1] : null;
})();
const src = (current as HTMLScriptElement | null)?.src;
if (src) setScriptBase(src);

interface LoadedGlobal {
  __localrecDropin?: Dropin;
}

const previous: unknown = (globalThis as { LocalRec?: unknown }).LocalRec;
// Loaded twice (two tags, or a tag plus a bundle): keep the first copy's recommender.
const earlier = (previous as LoadedGlobal | undefined)?.__localrecDropin;
if (earlier) console.warn('localrec: localrec.global.js was loaded twice; using the first copy');
const dropin: Dropin = earlier ?? createDropin(current, previous);

/** @internal The drop-in behind this global (a second copy of the script reuses it). */
export const __localrecDropin: Dropin = dropin;

/** Resolves with the page's recommender once it exists and the queued calls were replayed. */
export const ready: Promise<Recommender> = dropin.ready;

/** The page's recommender (null until created: await `LocalRec.ready`). */
export let recommender: Recommender | null = dropin.current();
void dropin.created.then(
  (rec) => {
    recommender = rec;
  },
  () => {},
);

/**
 * Runs a command in page order, exactly like the stub's queued ones:
 * `LocalRec.push(['track', { itemId: 'sku-42', type: 'view' }])` or
 * `LocalRec.push((rec) => rec.recommend({ k: 4 }))`. Returns the command's promise.
 */
export function push(command: Command): Promise<unknown> {
  return dropin.push(command);
}

/**
 * Creates the page's recommender when the script tag did not (no data attributes and
 * no stub), with these options over the tag's. Idempotent: later calls return the first.
 */
export function init(options?: RecommenderOptions): Promise<Recommender> {
  return dropin.init(options);
}

export * from './index';
