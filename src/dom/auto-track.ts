// Auto-tracking of marked-up items: nothing but attributes in the page's HTML.
//
//   <article data-localrec-item="sku-42">            view when ≥ half visible for 500 ms,
//     <a href="/p/42">Lamp</a>                         click when clicked (anywhere inside)
//     <button data-localrec-event="add_to_cart">Add</button>   → add_to_cart instead
//   </article>
//   <aside data-localrec-ignore> … </aside>           nothing inside is ever tracked
//
// Elements added later (SPA pages, infinite scroll) are found by a MutationObserver.
// Each element counts one view per page view, and only while the tab is visible.
// `data-localrec-views="off"` on a region keeps its impressions out (the recommendations
// element sets it: showing an item is not the visitor viewing it, and counting it would
// feed the model its own output). Nothing runs at import time: call startAutoTracking()
// (the script-tag build does unless `data-auto-track="off"`).
import type { TrackEvent } from '../api/store-types';

export const ITEM_ATTRIBUTE = 'data-localrec-item';
export const EVENT_ATTRIBUTE = 'data-localrec-event';
export const IGNORE_ATTRIBUTE = 'data-localrec-ignore';
/** `data-localrec-views="off"`: clicks inside count, impressions do not (lists of recommendations). */
export const VIEWS_ATTRIBUTE = 'data-localrec-views';

/** What auto-tracking needs of a recommender (or a store). */
export interface Tracker {
  track(event: TrackEvent): Promise<void>;
  /** When present and not 'granted', nothing is sent at all (track would refuse it). */
  consent?(): string;
}

export interface AutoTrackOptions {
  /** Where to look (default: the whole document). */
  root?: Document | Element;
  /** Time an item must stay at least half visible to count as viewed, ms (default 500). */
  viewDwellMs?: number;
  /** Share of the element that must be visible (default 0.5). */
  threshold?: number;
  /** Track views (default true). */
  views?: boolean;
  /** Track clicks (default true). */
  clicks?: boolean;
  /** Called after an event was stored (the drop-in refreshes recommendations on clicks). */
  onTracked?: (event: TrackEvent, element: Element) => void;
  /** Failures other than CONSENT_REQUIRED (default: one console.warn per error code). */
  onError?: (error: unknown, event: TrackEvent) => void;
}

export interface AutoTracker {
  /** Disconnects the observers and listeners; pending dwell timers are dropped. */
  stop(): void;
  /** Scans `root` again (after markup changed in ways a MutationObserver cannot see). */
  rescan(): void;
}

/** The minimal element surface the pure helpers read (real Elements satisfy it). */
export interface ElementLike {
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  readonly parentElement: ElementLike | null;
}

/** True when the element or an ancestor carries `data-localrec-ignore` (unless ="false"). */
export function isIgnored(element: ElementLike | null): boolean {
  for (let e = element; e; e = e.parentElement) {
    if (e.hasAttribute(IGNORE_ATTRIBUTE) && e.getAttribute(IGNORE_ATTRIBUTE) !== 'false')
      return true;
  }
  return false;
}

/**
 * What a click on `target` means: the nearest `data-localrec-item` at or above it, with
 * the type of the nearest `data-localrec-event` between the two (default `click`).
 * Null when there is no item, or when the click is inside an ignored region.
 */
export function clickEventFor(target: ElementLike | null): TrackEvent | null {
  let type: string | undefined;
  for (let e = target; e; e = e.parentElement) {
    if (type === undefined) {
      const t = e.getAttribute(EVENT_ATTRIBUTE);
      if (t) type = t.trim();
    }
    const itemId = e.getAttribute(ITEM_ATTRIBUTE);
    if (itemId) {
      if (isIgnored(e)) return null;
      return { itemId: itemId.trim(), type: type || 'click' };
    }
  }
  return null;
}

/**
 * Whether an element's impression counts as a view: it names an item, is not a pure
 * action control (an element with its own `data-localrec-event` is a button, not an
 * item on show) and is not inside an ignored region.
 */
export function isViewTarget(element: ElementLike): boolean {
  const id = element.getAttribute(ITEM_ATTRIBUTE);
  if (!id?.trim() || element.hasAttribute(EVENT_ATTRIBUTE) || isIgnored(element)) return false;
  for (let e: ElementLike | null = element; e; e = e.parentElement)
    if (e.getAttribute(VIEWS_ATTRIBUTE) === 'off') return false;
  return true;
}

/** Visible enough: the share of the element, or (tall items) half the viewport covered. */
export function visibleEnough(
  entry: Pick<IntersectionObserverEntry, 'intersectionRatio' | 'intersectionRect' | 'rootBounds'>,
  threshold: number,
): boolean {
  if (entry.intersectionRatio >= threshold - 1e-6) return true;
  const root = entry.rootBounds;
  if (!root || root.height <= 0 || root.width <= 0) return false;
  const covered =
    (entry.intersectionRect.height * entry.intersectionRect.width) / (root.height * root.width);
  return covered >= threshold;
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

/** Starts auto-tracking `data-localrec-item` elements below `options.root`. */
export function startAutoTracking(tracker: Tracker, options: AutoTrackOptions = {}): AutoTracker {
  const doc: Document =
    (options.root as Element | undefined)?.ownerDocument ??
    (options.root as Document | undefined) ??
    document;
  const root: Document | Element = options.root ?? doc;
  const dwell = options.viewDwellMs ?? 500;
  const threshold = options.threshold ?? 0.5;
  const warned = new Set<string>();
  const onError =
    options.onError ??
    ((error: unknown) => {
      const code = codeOf(error) ?? 'ERROR';
      if (warned.has(code)) return;
      warned.add(code);
      console.warn('localrec: auto-tracking could not record an event', error);
    });

  const send = (event: TrackEvent, element: Element) => {
    // No consent: track would refuse; do not even try (quiet, no IndexedDB work).
    if (tracker.consent && tracker.consent() !== 'granted') return;
    let result: Promise<void>;
    try {
      result = tracker.track(event);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      () => options.onTracked?.(event, element),
      (error) => {
        if (codeOf(error) !== 'CONSENT_REQUIRED') onError(error, event);
      },
    );
  };

  // ---- views ---------------------------------------------------------------------------
  const viewed = new WeakSet<Element>();
  const observed = new Set<Element>();
  const timers = new Map<Element, ReturnType<typeof setTimeout>>();
  let io: IntersectionObserver | null = null;

  const clearTimer = (el: Element) => {
    const t = timers.get(el);
    if (t !== undefined) clearTimeout(t);
    timers.delete(el);
  };

  // Half visible now (per the last IntersectionObserver report), whether or not timed.
  const onScreen = new Set<Element>();
  const hidden = () => doc.visibilityState === 'hidden';

  const arm = (el: Element) => {
    if (timers.has(el) || viewed.has(el) || hidden()) return;
    timers.set(
      el,
      setTimeout(() => {
        timers.delete(el);
        // Read again now: the item may have changed or become ignored meanwhile.
        if (!el.isConnected || !isViewTarget(el) || viewed.has(el) || hidden()) return;
        viewed.add(el);
        unobserve(el);
        send({ itemId: el.getAttribute(ITEM_ATTRIBUTE)!.trim(), type: 'view' }, el);
      }, dwell),
    );
  };

  const onIntersect = (entries: IntersectionObserverEntry[]) => {
    for (const entry of entries) {
      const el = entry.target;
      if (viewed.has(el)) continue;
      if (entry.isIntersecting && visibleEnough(entry, threshold)) {
        onScreen.add(el);
        arm(el);
      } else {
        onScreen.delete(el);
        clearTimer(el);
      }
    }
  };

  // A background tab shows nothing: its dwell stops, and starts over when it is back.
  const onVisibility = () => {
    if (hidden()) for (const el of [...timers.keys()]) clearTimer(el);
    else for (const el of onScreen) arm(el);
  };
  doc.addEventListener('visibilitychange', onVisibility);

  const observe = (el: Element) => {
    if (!io || observed.has(el) || viewed.has(el) || !isViewTarget(el)) return;
    observed.add(el);
    io.observe(el);
  };
  function unobserve(el: Element) {
    clearTimer(el);
    onScreen.delete(el);
    if (observed.delete(el)) io?.unobserve(el);
  }

  const scan = (node: Element | Document) => {
    if (node.nodeType === 1 && (node as Element).hasAttribute(ITEM_ATTRIBUTE))
      observe(node as Element);
    for (const el of node.querySelectorAll(`[${ITEM_ATTRIBUTE}]`)) observe(el);
  };

  let mo: MutationObserver | null = null;
  const view = doc.defaultView as (Window & typeof globalThis) | null;
  if (options.views !== false && view && typeof view.IntersectionObserver === 'function') {
    const steps = [0, 0.25, 0.5, 0.75, 1];
    if (!steps.includes(threshold)) steps.push(threshold);
    io = new view.IntersectionObserver(onIntersect, { threshold: steps.sort((a, b) => a - b) });
    scan(root);
    if (typeof view.MutationObserver === 'function') {
      mo = new view.MutationObserver((records) => {
        for (const r of records) {
          if (r.type === 'attributes') {
            const el = r.target as Element;
            if (r.attributeName === IGNORE_ATTRIBUTE || r.attributeName === VIEWS_ATTRIBUTE) {
              // A region became ignored (or not): re-evaluate everything below it.
              for (const e of [el, ...el.querySelectorAll(`[${ITEM_ATTRIBUTE}]`)]) {
                if (isViewTarget(e)) observe(e);
                else unobserve(e);
              }
            } else if (isViewTarget(el)) observe(el);
            else unobserve(el);
            continue;
          }
          for (const n of r.addedNodes) if (n.nodeType === 1) scan(n as Element);
          for (const n of r.removedNodes) {
            if (n.nodeType !== 1) continue;
            const el = n as Element;
            if (el.isConnected) continue; // moved, not removed
            unobserve(el);
            for (const e of el.querySelectorAll(`[${ITEM_ATTRIBUTE}]`)) unobserve(e);
          }
        }
      });
      mo.observe(root, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: [ITEM_ATTRIBUTE, IGNORE_ATTRIBUTE, EVENT_ATTRIBUTE, VIEWS_ATTRIBUTE],
      });
    }
  }

  // ---- clicks ----------------------------------------------------------------------------
  // One listener in the capture phase: page handlers that stop propagation cannot hide a
  // click, and keyboard activation of links and buttons fires `click` as well.
  const onClick = (event: Event) => {
    const target = event.target as Element | null;
    const el = target && target.nodeType === 1 ? target : (target?.parentElement ?? null);
    const e = clickEventFor(el);
    if (e && el) send(e, el);
  };
  if (options.clicks !== false) root.addEventListener('click', onClick, { capture: true });

  return {
    stop() {
      root.removeEventListener('click', onClick, { capture: true });
      doc.removeEventListener('visibilitychange', onVisibility);
      onScreen.clear();
      mo?.disconnect();
      io?.disconnect();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      observed.clear();
      io = null;
    },
    rescan() {
      if (io) scan(root);
    },
  };
}
