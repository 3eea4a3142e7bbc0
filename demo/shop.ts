// Movie cards drawn from the data: a coloured tile with the title's initials (no images,
// no external requests), the title, year and genres.
import type { Movie } from './data';
import { h } from './dom';

function hue(id: string): number {
  let x = 0;
  for (let i = 0; i < id.length; i++) x = Math.imul(x ^ id.charCodeAt(i), 0x9e3779b1);
  return (x >>> 0) % 360;
}

function initials(title: string): string {
  // "Matrix, The" → "M", "Star Wars: Episode IV" → "SW"
  const words = title
    .replace(/,\s*(The|A|An)$/i, '')
    .split(/[\s:–-]+/)
    .filter((w) => /^[\p{L}\p{N}]/u.test(w) && !/^(the|a|an|of|and|in|on)$/i.test(w));
  return (
    words
      .slice(0, 2)
      .map((w) => [...w][0])
      .join('')
      .toUpperCase() || '?'
  );
}

export function thumb(m: Movie, size: 'small' | 'big' = 'small'): HTMLSpanElement {
  const el = h('span', { class: `thumb ${size}`, 'aria-hidden': 'true' }, initials(m.title));
  el.style.setProperty('--hue', String(hue(m.id)));
  return el;
}

export function movieCard(m: Movie, seen: boolean, onSelect: (id: string) => void): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: `card${seen ? ' seen' : ''}`,
      'data-id': m.id,
      onclick: () => onSelect(m.id),
    },
    thumb(m),
    h('span', { class: 'card-title' }, m.title),
    h(
      'span',
      { class: 'card-meta' },
      [m.year ?? '', m.genres.slice(0, 3).join(', ')].filter(Boolean).join(' · '),
    ),
    seen && h('span', { class: 'visually-hidden' }, ' (viewed)'),
  );
}
