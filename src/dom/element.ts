// <localrec-recommendations>: the visitor's current recommendations rendered into the
// page from a <template>, kept up to date as the model changes.
//
//   <template id="tpl"><a data-attr-href="attributes.url" data-field="title"></a></template>
//   <localrec-recommendations k="8" template="#tpl" label="Picked for you"></localrec-recommendations>
//
// Attributes: k (1..100, default 10); template (a selector of a <template>, else the
// element's own child <template>, else the title as text); label (the list's accessible
// name); context-item (the item on show counts as the latest interaction); similar-to
// (items that tend to follow that one, for product pages). Light DOM: the page's CSS
// styles it. States for CSS: `state="loading|ready|empty|error"`. After each render it
// fires `localrec-render` (detail: { recommendations }).
//
// Registered only by defineElements() (the script-tag build calls it): importing this
// module defines nothing and touches no DOM global, so it is safe under SSR.
import type { Recommendation, Recommender } from '../api/recommender';
import { ITEM_ATTRIBUTE, VIEWS_ATTRIBUTE } from './auto-track';
import { defaultTemplate, fillTemplate, signature } from './render';

export const ELEMENT_NAME = 'localrec-recommendations';
/** Fired on `document` after the drop-in stored a click-like event (detail: TrackEvent). */
export const TRACKED_EVENT = 'localrec:tracked';
/** Fired on the element after it rendered (detail: { recommendations }). */
export const RENDER_EVENT = 'localrec-render';

/** Where elements get their recommender when none is set on them (`el.recommender = rec`). */
export type RecommenderSource =
  | Recommender
  | Promise<Recommender | null | undefined>
  | (() => Recommender | Promise<Recommender | null | undefined> | null | undefined);

export interface DefineElementsOptions {
  /** The recommender of elements that were not given one. */
  recommender?: RecommenderSource;
  /** Another tag name (must contain a hyphen). Default `localrec-recommendations`. */
  tagName?: string;
}

let defaultSource: RecommenderSource | undefined;

async function resolveSource(
  source: RecommenderSource | undefined,
): Promise<Recommender | null | undefined> {
  const s = typeof source === 'function' ? source() : source;
  return s;
}

const FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]';

/** Milliseconds to coalesce bursts of changes (model + trained + click) into one render. */
const DEBOUNCE_MS = 60;

function parseK(value: string | null): number {
  const n = value === null ? 10 : Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 100 ? n : 10;
}

function createElementClass(Base: typeof HTMLElement) {
  return class LocalRecRecommendations extends Base {
    static observedAttributes = ['k', 'template', 'context-item', 'similar-to', 'label'];

    private explicit: Recommender | null = null;
    private rec: Recommender | null = null;
    private cleanup: (() => void)[] = [];
    private timer: ReturnType<typeof setTimeout> | null = null;
    private generation = 0;
    private shown: string | null = null;
    private list: HTMLUListElement | null = null;
    /** The recommendations on show. */
    recommendations: Recommendation[] = [];

    /** The recommender this element renders from (default: the one defineElements got). */
    get recommender(): Recommender | null {
      return this.explicit ?? this.rec;
    }
    set recommender(value: Recommender | null) {
      this.explicit = value;
      if (this.isConnected) {
        this.disconnectedCallback();
        this.connectedCallback();
      }
    }

    connectedCallback(): void {
      if (!this.hasAttribute('aria-live')) this.setAttribute('aria-live', 'polite');
      // Showing an item here is not the visitor viewing it: keep impressions out of the data.
      this.setAttribute(VIEWS_ATTRIBUTE, 'off');
      this.setState('loading');
      const generation = ++this.generation;
      void (async () => {
        let rec: Recommender | null | undefined;
        try {
          rec = this.explicit ?? (await resolveSource(defaultSource));
        } catch {
          rec = null;
        }
        if (generation !== this.generation || !this.isConnected) return;
        if (!rec) {
          this.setState('error');
          return;
        }
        this.subscribe(rec);
        this.refresh();
      })();
    }

    disconnectedCallback(): void {
      this.generation++;
      for (const off of this.cleanup.splice(0)) off();
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.rec = null;
    }

    attributeChangedCallback(name: string, before: string | null, after: string | null): void {
      if (before === after || !this.rec) return;
      if (name === 'template') this.shown = null; // same items, new markup
      this.refresh();
    }

    private subscribe(rec: Recommender): void {
      this.rec = rec;
      const later = () => this.refresh();
      this.cleanup.push(rec.on('model', later), rec.on('trained', later));
      const unsubscribe = rec.store?.subscribe?.((change) => {
        if (change.kind === 'catalog' || change.kind === 'forget') later();
      });
      if (unsubscribe) this.cleanup.push(unsubscribe);
      const doc = this.ownerDocument;
      const onTracked = (event: Event) => {
        const type = (event as CustomEvent<{ type?: string }>).detail?.type;
        if (type && type !== 'view') later();
      };
      doc.addEventListener(TRACKED_EVENT, onTracked);
      this.cleanup.push(() => doc.removeEventListener(TRACKED_EVENT, onTracked));
    }

    /** Asks for the recommendations again (soon; bursts of calls coalesce). */
    refresh(): void {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.render();
      }, DEBOUNCE_MS);
    }

    private setState(state: 'loading' | 'ready' | 'empty' | 'error'): void {
      this.setAttribute('state', state);
      this.setAttribute('aria-busy', String(state === 'loading'));
    }

    private template(): HTMLTemplateElement {
      const selector = this.getAttribute('template');
      let tpl: Element | null = null;
      if (selector) {
        try {
          tpl = this.ownerDocument.querySelector(selector);
        } catch {
          tpl = null; // not a valid selector
        }
      }
      tpl ??= this.querySelector(':scope > template');
      return tpl instanceof this.ownerDocument.defaultView!.HTMLTemplateElement
        ? tpl
        : defaultTemplate(this.ownerDocument);
    }

    private async render(): Promise<void> {
      const rec = this.rec;
      if (!rec) return;
      const generation = this.generation;
      const k = parseK(this.getAttribute('k'));
      const similarTo = this.getAttribute('similar-to');
      const context = this.getAttribute('context-item');
      let list: Recommendation[];
      try {
        list = similarTo
          ? await rec.similar(similarTo, k)
          : await rec.recommend({ k, ...(context ? { context: { itemId: context } } : {}) });
      } catch (error) {
        if (generation !== this.generation) return;
        this.setState('error');
        this.dispatchEvent(new CustomEvent('localrec-error', { detail: { error } }));
        return;
      }
      if (generation !== this.generation || !this.isConnected) return;
      const sig = signature(list);
      if (sig !== this.shown) {
        this.shown = sig;
        this.draw(list);
      }
      this.recommendations = list;
      this.setState(list.length ? 'ready' : 'empty');
      this.dispatchEvent(new CustomEvent(RENDER_EVENT, { detail: { recommendations: list } }));
    }

    private draw(list: readonly Recommendation[]): void {
      const doc = this.ownerDocument;
      if (!this.list || this.list.parentNode !== this) {
        // The first render replaces fallback content; <template> children stay.
        for (const child of [...this.childNodes]) {
          if (!(child instanceof doc.defaultView!.HTMLTemplateElement)) child.remove();
        }
        this.list = doc.createElement('ul');
        this.append(this.list);
      }
      // An explicit role: lists styled with `list-style: none` lose it in Safari.
      this.list.setAttribute('role', 'list');
      this.list.setAttribute('aria-label', this.getAttribute('label') || 'Recommendations');
      const tpl = this.template();
      const items = list.map((r) => {
        const li = doc.createElement('li');
        li.setAttribute(ITEM_ATTRIBUTE, r.itemId);
        li.setAttribute('data-rank', String(r.rank));
        li.setAttribute('data-scorer', r.scorer);
        const fragment = tpl.content.cloneNode(true) as DocumentFragment;
        fillTemplate(fragment, r, doc.baseURI);
        li.append(fragment);
        return li;
      });
      // Keep keyboard users where they were: a re-render must not drop focus to <body>.
      const active = doc.activeElement;
      const focusedItem =
        active && this.list.contains(active)
          ? active.closest(`[${ITEM_ATTRIBUTE}]`)?.getAttribute(ITEM_ATTRIBUTE)
          : undefined;
      this.list.replaceChildren(...items);
      if (focusedItem !== undefined) {
        const same = items.find((li) => li.getAttribute(ITEM_ATTRIBUTE) === focusedItem);
        const target =
          same?.querySelector<HTMLElement>(FOCUSABLE) ??
          items[0]?.querySelector<HTMLElement>(FOCUSABLE);
        if (target) target.focus();
        else {
          this.list.tabIndex = -1;
          this.list.focus();
        }
      }
    }
  };
}

/**
 * Registers `<localrec-recommendations>` (once; later calls only update the default
 * recommender). Returns false where custom elements do not exist (SSR, old browsers).
 */
export function defineElements(options: DefineElementsOptions = {}): boolean {
  if (options.recommender !== undefined) defaultSource = options.recommender;
  const registry = (globalThis as { customElements?: CustomElementRegistry }).customElements;
  const Base = (globalThis as { HTMLElement?: typeof HTMLElement }).HTMLElement;
  if (!registry || !Base) return false;
  const name = options.tagName ?? ELEMENT_NAME;
  if (!registry.get(name)) registry.define(name, createElementClass(Base));
  return true;
}
