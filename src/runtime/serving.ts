// What the visitor is served: the GRU's candidates when the engine has a model (trained
// here or pretrained, within the wait the page allows), filled up or replaced by the
// fallback ranking on the visitor's own history (sequential rules, popularity, catalogue
// order); filters, exclusions and explanations applied alike (recommend.ts).

import { LocalRecError } from '../core/errors';
import type { JsonValue } from '../events/types';
import type { CatalogItem } from '../store/types';
import type { ScoredItem, WorkerApi } from '../worker/protocol';
import type { EngineSupervisor } from './engine-supervisor';
import type { VisitorHistory } from './history';
import {
  type ExplainContext,
  fallbackCandidates,
  fillUp,
  finish,
  type Recommendation,
  type RecommendFilter,
  type RecommendOptions,
  resolveRecommendOptions,
} from './recommend';
import type { ServedModel } from './served-model';

/** Latest events whose types decide what may explain a recommendation. */
const EXPLAIN_EVENTS = 20;
/** Most recent events the GRU reads as the visitor's prefix. */
const HISTORY_PREFIX_MAX = 5000;

export interface ServingDeps {
  history: Pick<VisitorHistory, 'current'>;
  engines: Pick<EngineSupervisor, 'started' | 'ready' | 'call'>;
  model: Pick<ServedModel, 'current' | 'available'>;
  /** The catalogue the store holds (set by another page or tab). */
  readCatalog(): Promise<CatalogItem[]>;
  /** Reports an error (the recommender's `error` event); serving goes on from the fallback. */
  report(error: unknown): unknown;
  /** `mix`: serve the GRU + SR + item-kNN mix where the model carries it; `beta`: its share. */
  serving?: { mix?: boolean; beta?: number };
  /** How long to wait for a starting engine before answering from the fallback, ms. */
  answerMs: number;
}

/** Attribute filters whose passing items are kept (per catalogue). */
const PASSING_LISTS = 8;

type ItemFilter = NonNullable<ReturnType<typeof resolveRecommendOptions>['filter']>;

function isAttributeFilter(
  filter: RecommendFilter | undefined,
): filter is Record<string, JsonValue> {
  return typeof filter === 'object' && filter !== null;
}

export class Serving {
  private catalogCache: Promise<Map<string, CatalogItem>> | null = null;
  /** Items passing each recent attribute filter, for one catalogue. */
  private passingFor: { catalog: Map<string, CatalogItem>; lists: Map<string, string> } | null =
    null;
  /** The catalogue this page gave (options or setCatalog), in its order; else the stored one. */
  private siteCatalog: readonly CatalogItem[] | null = null;

  constructor(private readonly deps: ServingDeps) {}

  /** The page's own catalogue: filters and the catalogue-order fallback use it at once. */
  setSiteCatalog(items: readonly CatalogItem[]): void {
    this.siteCatalog = items;
    this.catalogCache = null;
  }

  /** The stored catalogue changed (or was forgotten): read it again when next needed. */
  catalogChanged(): void {
    this.catalogCache = null;
  }

  /**
   * The catalogue's items that pass an attribute filter, in catalogue order, as a JSON
   * array (what the engine takes): computed once per filter (by its JSON) and catalogue,
   * the most recent few kept.
   */
  private passing(
    raw: Record<string, unknown>,
    filter: ItemFilter,
    catalog: Map<string, CatalogItem>,
  ): string {
    if (this.passingFor?.catalog !== catalog) this.passingFor = { catalog, lists: new Map() };
    const lists = this.passingFor.lists;
    const key = JSON.stringify(raw);
    let json = lists.get(key);
    if (json !== undefined) {
      lists.delete(key); // most recent last
    } else {
      const ids: string[] = [];
      for (const item of catalog.values()) if (filter(item, item.id)) ids.push(item.id);
      json = JSON.stringify(ids);
      if (lists.size >= PASSING_LISTS) lists.delete(lists.keys().next().value as string);
    }
    lists.set(key, json);
    return json;
  }

  private catalog(): Promise<Map<string, CatalogItem>> {
    // The page's own catalogue when it gave one (in its order, for the catalogue-order
    // fallback); else what the store holds (set by another page or tab).
    const site = this.siteCatalog;
    this.catalogCache ??= site
      ? Promise.resolve(new Map(site.map((i) => [i.id, i])))
      : this.deps.readCatalog().then((items) => new Map(items.map((i) => [i.id, i])));
    return this.catalogCache;
  }

  /**
   * Top-k items for this visitor: from the GRU when a model is loaded (trained here or
   * pretrained), else from the baselines on the visitor's own history, then the
   * catalog. Each result names its scorer and, where possible, the item that explains it.
   */
  async recommend(options: RecommendOptions = {}): Promise<Recommendation[]> {
    const o = resolveRecommendOptions(options);
    const [view, catalog] = await Promise.all([this.deps.history.current(), this.catalog()]);
    // The whole history (capped): the engine keeps the hidden state between calls, so a
    // growing prefix costs only its new items.
    const prefix = view.recent(HISTORY_PREFIX_MAX);
    if (o.contextItem && prefix[prefix.length - 1] !== o.contextItem) prefix.push(o.contextItem);
    const exclude = new Set(o.exclude ?? view.purchased());
    const fallback = () => fallbackCandidates(view.sessions(), prefix, catalog.values());
    // The latest events' types: explanations name what the visitor did, and never an item
    // only viewed when they did more (the item on screen counts as viewed).
    const recentTypes = view.recentTypes(EXPLAIN_EVENTS);
    if (prefix.length > Math.min(view.size, HISTORY_PREFIX_MAX)) recentTypes.push('view');
    const explain: ExplainContext = {
      typeOf: view.strongest(HISTORY_PREFIX_MAX),
      didMore: recentTypes.some((t) => t !== 'view'),
    };
    if (o.contextItem && !o.keepContextItem) exclude.add(o.contextItem);
    // An attribute filter is known item by item from the catalogue: the engine takes the
    // top k among the items that pass. A predicate may accept items the catalogue lacks,
    // so the page applies it to the model's top candidates instead.
    const only = isAttributeFilter(options.filter)
      ? this.passing(options.filter, o.filter as ItemFilter, catalog)
      : undefined;
    const gru = await this.gruCandidates(
      (k) => (a) =>
        a.recommend({
          prefix,
          k,
          exclude: [...exclude],
          mix: this.deps.serving?.mix !== false,
          recentTypes: recentTypes.slice(-EXPLAIN_EVENTS),
          ...(this.deps.serving?.beta !== undefined ? { beta: this.deps.serving.beta } : {}),
          ...(only !== undefined ? { onlyJson: only } : {}),
        }),
      o.k,
      exclude.size,
      only !== undefined ? 'among' : o.filter ? 'filtered' : 'all',
    );
    if (gru) {
      // Fewer than k when the model knows fewer items or the filter removed them: the
      // fallback ranking (sequential rules, popularity, catalogue order) fills up.
      return fillUp(
        finish(gru, o.k, exclude, o.filter, catalog, explain),
        fallback,
        o.k,
        exclude,
        o.filter,
        catalog,
        explain,
      );
    }
    return finish(fallback(), o.k, exclude, o.filter, catalog, explain);
  }

  /** Items to show on the page of `itemId`: what tends to come next after it. */
  async similar(
    itemId: string,
    k = 10,
    options: { exclude?: readonly string[] } = {},
  ): Promise<Recommendation[]> {
    if (typeof itemId !== 'string' || itemId === '') {
      throw new LocalRecError('INVALID_INPUT', 'itemId must be a non-empty string', {
        details: { field: 'itemId' },
      });
    }
    const o = resolveRecommendOptions({ k, exclude: options.exclude });
    const exclude = new Set([itemId, ...(o.exclude ?? [])]);
    const catalog = await this.catalog();
    const gru = await this.gruCandidates(
      (kk) => (a) => a.similar(itemId, kk, [...exclude]),
      o.k,
      exclude.size,
      'all',
    );
    const view = await this.deps.history.current();
    const fallback = () => fallbackCandidates(view.sessions(), [itemId], catalog.values());
    if (gru?.length)
      return fillUp(
        finish(gru, o.k, exclude, undefined, catalog),
        fallback,
        o.k,
        exclude,
        undefined,
        catalog,
      );
    return finish(fallback(), o.k, exclude, undefined, catalog);
  }

  /** GRU candidates, or null when no model can score (not trained, engine failing). */
  private async gruCandidates(
    ask: (k: number) => (a: WorkerApi) => Promise<ScoredItem[]>,
    k: number,
    excluded: number,
    /** `filtered`: the page filters what comes back; `among`: the engine already did. */
    filter: 'all' | 'filtered' | 'among',
  ): Promise<
    { itemId: string; score: number; scorer: 'gru' | 'sr' | 'itemknn'; because?: string }[] | null
  > {
    // Nothing to score with yet (no pretrained model, no saved checkpoint): answer from
    // the baselines at once instead of starting the worker and measuring backends.
    if (!this.deps.engines.started && !(await this.deps.model.available())) return null;
    // Starting (or backing off after a failure): wait a little, else answer from the
    // fallback now and let the start finish in the background.
    if (!(await this.deps.engines.ready(this.deps.answerMs))) return null;
    const model = this.deps.model.current;
    if (!model) return null;
    // Over-fetch when the page's filter may drop items; the whole catalog at worst.
    const want = Math.min(
      model.info.numItems,
      filter === 'filtered' ? Math.max(200, k * 20) : k + excluded,
    );
    try {
      const scored = await this.deps.engines.call('recommend', ask(want));
      return scored.map(({ via, ...s }) => ({ ...s, scorer: via ?? ('gru' as const) }));
    } catch (error) {
      this.deps.report(error);
      return null;
    }
  }
}
