// Pure pieces of recommend(): option checking, exclusion and filter rules, and the
// cold-start fallback that ranks with the classical baselines on the visitor's own
// history (no TF.js, runs on the main thread).
import { itemCounts } from '../baselines/common';
import { SR_DEFAULTS, sequentialRulesRow } from '../baselines/sr';
import { invalidInput as invalid } from '../core/errors';
import type { Sequences } from '../core/scorer';
import type { JsonValue } from '../events/types';
import type { CatalogItem } from '../store/types';

/**
 * Which model produced a recommendation: in the served mix, the part that drove the item
 * (`gru`, `sr` sequential rules, `itemknn` item similarity); otherwise the fallback stage.
 */
export type ScorerName = 'gru' | 'sr' | 'itemknn' | 'pop' | 'catalog';

export interface Recommendation {
  itemId: string;
  /** 1-based position in the list. */
  rank: number;
  /** The producing scorer's score (comparable within one scorer only). */
  score: number;
  scorer: ScorerName;
  /** Why, where the scorer can say: the visitor's item that contributed most. */
  explanation?: { because: string; text: string };
  /** The catalog entry, when the site set a catalog. */
  item?: CatalogItem;
}

/** A ranked candidate before exclusions, filters and decoration. */
export interface Candidate {
  itemId: string;
  score: number;
  scorer: ScorerName;
  /** The visitor's item that explains it, when the scorer can say. */
  because?: string;
}

/** A predicate, or attribute values every result must match (arrays: any of). */
export type RecommendFilter =
  | ((item: CatalogItem | undefined, itemId: string) => boolean)
  | { [attribute: string]: JsonValue };

export interface RecommendOptions {
  /** How many (default 10, at most 1000). */
  k?: number;
  /** Item ids never to return. Default: the items the visitor purchased. */
  exclude?: readonly string[];
  filter?: RecommendFilter;
  /**
   * The page's context: the item being viewed now counts as the latest interaction, and
   * is not recommended itself unless `keepItem` is true.
   */
  context?: { itemId?: string; keepItem?: boolean };
}

export interface ResolvedRecommend {
  k: number;
  exclude: readonly string[] | undefined;
  filter: ((item: CatalogItem | undefined, itemId: string) => boolean) | undefined;
  contextItem: string | undefined;
  /** Whether the context item may be recommended. */
  keepContextItem: boolean;
}

export function resolveRecommendOptions(options: RecommendOptions = {}): ResolvedRecommend {
  if (typeof options !== 'object' || options === null)
    throw invalid('options', 'must be an object');
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 1 || k > 1000)
    throw invalid('k', `must be an integer 1..1000, got ${String(k)}`);
  if (options.exclude !== undefined && !Array.isArray(options.exclude))
    throw invalid('exclude', 'must be an array of item ids');
  const contextItem = options.context?.itemId;
  if (contextItem !== undefined && (typeof contextItem !== 'string' || contextItem === '')) {
    throw invalid('context.itemId', 'must be a non-empty string');
  }
  const keep = options.context?.keepItem ?? false;
  if (typeof keep !== 'boolean') throw invalid('context.keepItem', 'must be a boolean');
  return {
    k,
    exclude: options.exclude,
    filter: compileFilter(options.filter),
    contextItem,
    keepContextItem: keep,
  };
}

function matches(value: JsonValue | undefined, want: JsonValue): boolean {
  if (Array.isArray(want)) return want.some((w) => matches(value, w));
  if (Array.isArray(value)) return value.some((v) => v === want);
  return value === want;
}

export function compileFilter(filter: RecommendFilter | undefined): ResolvedRecommend['filter'] {
  if (filter === undefined) return undefined;
  if (typeof filter === 'function') return filter;
  if (typeof filter !== 'object' || filter === null)
    throw invalid('filter', 'must be a function or an object of attribute values');
  const entries = Object.entries(filter);
  // Items outside the catalog have no attributes: an attribute filter excludes them.
  return (item) =>
    item !== undefined &&
    entries.every(([key, want]) =>
      matches(key === 'title' ? item.title : item.attributes?.[key], want),
    );
}

/**
 * Cold-start ranking from the visitor's own sessions: sequential rules from the last
 * item (what followed it before), then popularity in the visitor's history, then the
 * catalog in the site's order. Returns candidates best first; the caller filters.
 */
export function fallbackRanking(
  data: { sequences: Sequences; itemIds: string[] },
  prefix: readonly string[],
  catalog: Iterable<CatalogItem>,
): Candidate[] {
  return [...fallbackCandidates(data, prefix, catalog)];
}

/**
 * `fallbackRanking` one candidate at a time: `finish` stops reading at k results, so a
 * 100,000-item catalogue is walked only as far as the filter needs (a 1% attribute filter
 * took ~50 ms a call when the whole ranking was built first: bench/scale-browser.ts).
 */
export function* fallbackCandidates(
  data: { sequences: Sequences; itemIds: string[] },
  prefix: readonly string[],
  catalog: Iterable<CatalogItem>,
): Generator<Candidate, void, undefined> {
  const seen = new Set<string>();
  const { sequences, itemIds } = data;
  if (sequences.items.length > 0) {
    // Popularity in the visitor's history: SR's tie-break and the second stage.
    const pop = itemCounts(sequences);
    const lastId = prefix.length ? prefix[prefix.length - 1] : undefined;
    const last = lastId === undefined ? -1 : itemIds.indexOf(lastId);
    if (last >= 0) {
      // Only the last item's row of the rules is needed: no fit of the whole matrix.
      const row = sequentialRulesRow(sequences, last, SR_DEFAULTS.w);
      const ranked: number[] = [];
      for (let i = 0; i < row.length; i++) if (row[i] > 0) ranked.push(i);
      ranked.sort((a, b) => row[b] - row[a] || pop[b] - pop[a] || a - b);
      for (const i of ranked) {
        seen.add(itemIds[i]);
        yield { itemId: itemIds[i], score: row[i], scorer: 'sr', because: itemIds[last] };
      }
    }
    const ranked: number[] = [];
    for (let i = 0; i < pop.length; i++) if (pop[i] > 0) ranked.push(i);
    ranked.sort((a, b) => pop[b] - pop[a] || a - b);
    for (const i of ranked) {
      if (seen.has(itemIds[i])) continue;
      seen.add(itemIds[i]);
      yield { itemId: itemIds[i], score: pop[i], scorer: 'pop' };
    }
  }
  let i = 0;
  for (const item of catalog) {
    const at = i++;
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    yield { itemId: item.id, score: -at, scorer: 'catalog' };
  }
}

/**
 * `first` (a scorer's candidates, already finished), filled up to k from `fallback` with
 * the same exclusions and filter: a model that knows fewer items than asked, or a filter
 * that leaves fewer, still gives k results where the catalogue has them.
 */
export function fillUp(
  first: Recommendation[],
  /** Computed only when `first` is short of k (read only as far as needed). */
  fallback: () => Iterable<Candidate>,
  k: number,
  exclude: ReadonlySet<string>,
  filter: ResolvedRecommend['filter'],
  catalog: ReadonlyMap<string, CatalogItem>,
  explain?: ExplainContext,
): Recommendation[] {
  if (first.length >= k) return first;
  const more = finish(
    fallback(),
    k - first.length,
    new Set([...exclude, ...first.map((r) => r.itemId)]),
    filter,
    catalog,
    explain,
  );
  return [...first, ...more].map((r, i) => ({ ...r, rank: i + 1 }));
}

/** Applies exclusions and the filter, keeps the first k, numbers and decorates them. */
export function finish(
  candidates: Iterable<Candidate>,
  k: number,
  exclude: ReadonlySet<string>,
  filter: ResolvedRecommend['filter'],
  catalog: ReadonlyMap<string, CatalogItem>,
  explain?: ExplainContext,
): Recommendation[] {
  const out: Recommendation[] = [];
  for (const c of candidates) {
    if (out.length >= k) break;
    if (exclude.has(c.itemId)) continue;
    const item = catalog.get(c.itemId);
    if (filter && !filter(item, c.itemId)) continue;
    const typeOf = c.because === undefined ? undefined : explain?.typeOf.get(c.because);
    // An item the visitor only viewed does not explain when they did more recently.
    const because = explain?.didMore && typeOf === 'view' ? undefined : c.because;
    out.push({
      itemId: c.itemId,
      rank: out.length + 1,
      score: c.score,
      scorer: c.scorer,
      ...(because !== undefined && because !== c.itemId
        ? {
            explanation: {
              because,
              text: explanationText(c.scorer, catalog.get(because)?.title ?? because, typeOf),
            },
          }
        : {}),
      ...(item ? { item } : {}),
    });
  }
  return out;
}

/** What the page knows to word explanations with. */
export interface ExplainContext {
  /** The strongest event type the visitor gave each recent item. */
  typeOf: ReadonlyMap<string, string>;
  /** Whether the visitor's latest events include more than views (clicks, cart, buys). */
  didMore: boolean;
}

/**
 * Words that say how the explaining item led to the recommendation: per scorer, and for
 * the GRU by what the visitor did with the item (the strongest event type).
 */
function explanationText(scorer: ScorerName, title: string, type: string | undefined): string {
  if (scorer === 'sr') return `Often chosen after ${title}`;
  if (scorer === 'itemknn') return `Similar to ${title}`;
  if (type === 'purchase') return `Because you bought ${title}`;
  if (type === 'add_to_cart') return `Because you added ${title} to your cart`;
  if (type === 'click') return `Because you clicked ${title}`;
  if (type === 'view') return `Because you viewed ${title}`;
  return `Because of your interest in ${title}`;
}
