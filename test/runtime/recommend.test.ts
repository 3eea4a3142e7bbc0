import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/core/errors';
import {
  compileFilter,
  fallbackCandidates,
  fallbackRanking,
  finish,
  resolveRecommendOptions,
} from '../../src/runtime/recommend';
import type { CatalogItem } from '../../src/store/types';

const catalog: CatalogItem[] = [
  { id: 'a', title: 'Alpha', attributes: { genre: ['Drama', 'War'], year: 1990 } },
  { id: 'b', title: 'Beta', attributes: { genre: 'Comedy', year: 2001 } },
  { id: 'c', title: 'Gamma <b>bold</b>', attributes: { genre: ['Drama'], year: 2001 } },
  { id: 'd', title: 'Delta' },
];
const byId = new Map(catalog.map((c) => [c.id, c]));

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return hasCode(e, 'INVALID_INPUT')
      ? (e as { details: { field: string } }).details.field
      : 'other';
  }
  return undefined;
}

describe('resolveRecommendOptions', () => {
  it('defaults and rejects bad input with the field named', () => {
    expect(resolveRecommendOptions()).toMatchObject({
      k: 10,
      exclude: undefined,
      filter: undefined,
    });
    expect(code(() => resolveRecommendOptions({ k: 0 }))).toBe('k');
    expect(code(() => resolveRecommendOptions({ k: 2.5 }))).toBe('k');
    expect(code(() => resolveRecommendOptions({ k: 1001 }))).toBe('k');
    expect(code(() => resolveRecommendOptions({ exclude: 'a' as never }))).toBe('exclude');
    expect(code(() => resolveRecommendOptions({ context: { itemId: '' } }))).toBe('context.itemId');
    expect(code(() => resolveRecommendOptions({ filter: 3 as never }))).toBe('filter');
  });
});

describe('compileFilter', () => {
  it('matches attribute values, arrays on either side, and title', () => {
    const drama = compileFilter({ genre: 'Drama' })!;
    expect(catalog.filter((c) => drama(c, c.id)).map((c) => c.id)).toEqual(['a', 'c']);
    const either = compileFilter({ genre: ['Comedy', 'War'] })!;
    expect(catalog.filter((c) => either(c, c.id)).map((c) => c.id)).toEqual(['a', 'b']);
    const both = compileFilter({ genre: 'Drama', year: 2001 })!;
    expect(catalog.filter((c) => both(c, c.id)).map((c) => c.id)).toEqual(['c']);
    expect(compileFilter({ title: 'Delta' })!(catalog[3], 'd')).toBe(true);
    // Items outside the catalog have no attributes: an attribute filter drops them.
    expect(drama(undefined, 'zzz')).toBe(false);
    const fn = (_: unknown, id: string) => id !== 'b';
    expect(compileFilter(fn)).toBe(fn);
  });
});

describe('fallbackRanking', () => {
  // Sessions: a b c | a b | c d a   (indices a=0 b=1 c=2 d=3)
  const data = {
    sequences: {
      items: Int32Array.from([0, 1, 2, 0, 1, 2, 3, 0]),
      offsets: Int32Array.from([0, 3, 5, 8]),
      numItems: 4,
    },
    itemIds: ['a', 'b', 'c', 'd'],
  };

  it('ranks what followed the last item first (SR), then the visitor’s popularity, then the catalog', () => {
    const r = fallbackRanking(data, ['x', 'a'], catalog);
    expect(r[0]).toMatchObject({ itemId: 'b', scorer: 'sr', because: 'a' });
    expect(r[1]).toMatchObject({ itemId: 'c', scorer: 'sr' });
    const popular = r.filter((x) => x.scorer === 'pop').map((x) => x.itemId);
    expect(popular).toEqual(['a', 'd']);
    expect(new Set(r.map((x) => x.itemId)).size).toBe(r.length);
  });

  it('with no history uses the catalog order', () => {
    const empty = {
      sequences: { items: new Int32Array(0), offsets: Int32Array.of(0), numItems: 0 },
      itemIds: [],
    };
    expect(fallbackRanking(empty, [], catalog).map((x) => [x.itemId, x.scorer])).toEqual([
      ['a', 'catalog'],
      ['b', 'catalog'],
      ['c', 'catalog'],
      ['d', 'catalog'],
    ]);
  });
});

describe('finish', () => {
  const candidates = [
    { itemId: 'a', score: 3, scorer: 'gru' as const, because: 'c' },
    { itemId: 'b', score: 2, scorer: 'gru' as const, because: 'b' },
    { itemId: 'zzz', score: 1.5, scorer: 'gru' as const },
    { itemId: 'c', score: 1, scorer: 'gru' as const },
  ];
  it('excludes, filters, numbers, attaches catalog items and explanations', () => {
    const out = finish(candidates, 3, new Set(['a']), undefined, byId);
    expect(out.map((r) => [r.itemId, r.rank])).toEqual([
      ['b', 1],
      ['zzz', 2],
      ['c', 3],
    ]);
    // An item is never explained by itself; unknown ids come back without `item`.
    expect(out[0].explanation).toBeUndefined();
    expect(out[1].item).toBeUndefined();
    expect(out[2].item?.title).toBe('Gamma <b>bold</b>');
    const first = (typeOf: Record<string, string>, didMore = false) =>
      finish(candidates, 1, new Set(), undefined, byId, {
        typeOf: new Map(Object.entries(typeOf)),
        didMore,
      })[0].explanation;
    // In the words of what the visitor did with the item.
    expect(first({ c: 'view' })).toEqual({
      because: 'c',
      text: 'Because you viewed Gamma <b>bold</b>',
    });
    expect(first({ c: 'purchase' })?.text).toBe('Because you bought Gamma <b>bold</b>');
    expect(first({ c: 'add_to_cart' })?.text).toBe(
      'Because you added Gamma <b>bold</b> to your cart',
    );
    expect(first({ c: 'click' })?.text).toBe('Because you clicked Gamma <b>bold</b>');
    expect(first({ c: 'wishlist' })?.text).toBe('Because of your interest in Gamma <b>bold</b>');
    expect(finish(candidates, 1, new Set(), undefined, byId)[0].explanation?.text).toBe(
      'Because of your interest in Gamma <b>bold</b>',
    );
    // Only viewed, while the visitor did more lately: no explanation rather than a weak one.
    expect(first({ c: 'view' }, true)).toBeUndefined();
    expect(first({ c: 'click' }, true)?.because).toBe('c');
    const comedies = finish(candidates, 5, new Set(), compileFilter({ genre: 'Comedy' }), byId);
    expect(comedies.map((r) => r.itemId)).toEqual(['b']);
  });
});

describe('fallbackCandidates (lazy)', () => {
  it('reads a large catalogue only as far as finish() needs', () => {
    const n = 100_000;
    let read = 0;
    function* catalog() {
      for (let i = 0; i < n; i++) {
        read++;
        yield { id: `i${i}`, attributes: { category: `c${i % 100}` } };
      }
    }
    const empty = {
      sequences: { items: new Int32Array(0), offsets: Int32Array.of(0), numItems: 0 },
      itemIds: [],
    };
    const items = new Map<string, CatalogItem>();
    for (let i = 0; i < n; i++)
      items.set(`i${i}`, { id: `i${i}`, attributes: { category: `c${i % 100}` } });
    const filter = compileFilter({ category: 'c7' });
    const out = finish(fallbackCandidates(empty, [], catalog()), 20, new Set(), filter, items);
    expect(out.map((r) => r.itemId)).toEqual(
      Array.from({ length: 20 }, (_, j) => `i${j * 100 + 7}`),
    );
    expect(read).toBeLessThan(2100);
    // the eager form gives the same order
    expect(
      fallbackRanking(empty, [], items.values())
        .slice(0, 3)
        .map((c) => c.itemId),
    ).toEqual(['i0', 'i1', 'i2']);
  });
});
