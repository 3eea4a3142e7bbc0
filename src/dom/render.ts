// Renders recommendations from a page's <template> without ever parsing data as HTML:
// item text goes in through textContent and vetted attributes only (titles may hold
// markup: `<img src=x onerror=…>` shows as text). Placeholders in the template:
//
//   <template id="tpl">
//     <a data-attr-href="attributes.url"><span data-field="title">fallback</span></a>
//     <small data-field="explanation"></small>        hidden when empty
//     <slot name="scorer"></slot>                      replaced by a text node
//   </template>
//
// Fields: itemId, rank, score, scorer, title (catalog title, else the id), explanation
// (its text), because (the item that explains it), attributes.<name> (catalog attributes).
import type { Recommendation } from '../api/recommender';

export const FIELD_ATTRIBUTE = 'data-field';
export const ATTR_PREFIX = 'data-attr-';

/** The string value of `field` for one recommendation; undefined when it has none. */
export function fieldValue(r: Recommendation, field: string): string | undefined {
  switch (field) {
    case 'itemId':
    case 'id':
      return r.itemId;
    case 'rank':
      return String(r.rank);
    case 'score':
      return Number.isFinite(r.score) ? String(Math.round(r.score * 1e4) / 1e4) : undefined;
    case 'scorer':
      return r.scorer;
    case 'title':
      return r.item?.title ?? r.itemId;
    case 'explanation':
      return r.explanation?.text;
    case 'because':
      return r.explanation?.because;
  }
  if (field.startsWith('attributes.')) {
    const v = r.item?.attributes?.[field.slice('attributes.'.length)];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'object') return Array.isArray(v) ? v.join(', ') : JSON.stringify(v);
    return String(v);
  }
  return undefined;
}

/** Attributes that take a URL: only http(s) and relative URLs are written into them. */
const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'poster',
  'cite',
  'data',
  'background',
  'ping',
  'xlink:href',
]);

/** Never written from data: handlers, inline style, nested documents, srcset lists. */
export function attributeAllowed(name: string): boolean {
  const n = name.toLowerCase();
  return !(n.startsWith('on') || n === 'style' || n === 'srcdoc' || n === 'srcset' || n === 'is');
}

/** A URL safe to put in `href`/`src`: http(s) (absolute or relative to `base`), else null. */
export function safeUrl(value: string, base: string): string | null {
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? value : null;
  } catch {
    return null;
  }
}

/** The value to write into attribute `name`, or null when it must not be written. */
export function attributeValue(name: string, value: string, base: string): string | null {
  if (!attributeAllowed(name)) return null;
  return URL_ATTRIBUTES.has(name.toLowerCase()) ? safeUrl(value, base) : value;
}

/**
 * Fills the placeholders of `fragment` (a template clone) for one recommendation.
 * `base`: the page's URL for relative links (a template's content lives in an inert
 * document whose base URL is about:blank).
 */
export function fillTemplate(
  fragment: DocumentFragment | Element,
  r: Recommendation,
  base: string,
): void {
  const doc = fragment.ownerDocument!;
  for (const el of fragment.querySelectorAll(`[${FIELD_ATTRIBUTE}]`)) {
    const value = fieldValue(r, el.getAttribute(FIELD_ATTRIBUTE)!.trim());
    el.textContent = value ?? '';
    if (!value) (el as HTMLElement).hidden = true;
  }
  for (const slot of fragment.querySelectorAll('slot[name]')) {
    const value = fieldValue(r, slot.getAttribute('name')!.trim());
    if (value) slot.replaceWith(doc.createTextNode(value));
    else slot.replaceWith(...slot.childNodes); // its fallback content
  }
  const all =
    fragment.nodeType === 1
      ? [fragment as Element, ...fragment.querySelectorAll('*')]
      : [...fragment.querySelectorAll('*')];
  for (const el of all) {
    for (const attr of [...el.attributes]) {
      if (!attr.name.startsWith(ATTR_PREFIX)) continue;
      el.removeAttribute(attr.name);
      const target = attr.name.slice(ATTR_PREFIX.length);
      const value = fieldValue(r, attr.value.trim());
      if (value === undefined || target === '') continue;
      const safe = attributeValue(target, value, base);
      if (safe !== null) el.setAttribute(target, safe);
    }
  }
}

/** The template used when the page gives none: the title, as text. */
export function defaultTemplate(doc: Document): HTMLTemplateElement {
  const tpl = doc.createElement('template');
  const span = doc.createElement('span');
  span.setAttribute(FIELD_ATTRIBUTE, 'title');
  tpl.content.append(span);
  return tpl;
}

/** What the list shows, to skip re-rendering an identical list (no flicker, no lost focus). */
export function signature(list: readonly Recommendation[]): string {
  return JSON.stringify(
    list.map((r) => [r.itemId, r.scorer, r.item?.title ?? '', r.explanation?.text ?? '']),
  );
}
