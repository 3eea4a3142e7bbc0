// Options of the drop-in recommender read from the data attributes of its own <script>
// tag. Pure: takes the attribute values, never touches the DOM, so Node tests it.
//
//   <script src="/vendor/localrec/localrec.global.js" async
//           data-namespace="shop" data-pretrained="/models/shop.bin"
//           data-catalog="/catalog.json" data-auto-track="on"></script>
import type { RecommenderOptions } from '../api/recommender';
import type { Consent } from '../api/store-types';

/** What the script tag configures: recommender options plus the drop-in's own switches. */
export interface DropinConfig {
  /** Passed to createRecommender(). */
  options: RecommenderOptions;
  /** URL of a JSON catalog (`[{id,title,attributes}]` or `{items:[…]}`), fetched after start. */
  catalogUrl?: string;
  /** Track `data-localrec-item` elements (default true). */
  autoTrack: boolean;
  /** How long an item must stay half visible to count as a view, ms (default 500). */
  viewDwellMs: number;
  /** Whether the tag asked for the recommender at all (any of our data attributes). */
  configured: boolean;
  /** Problems with the attributes, reported once on the console (never thrown). */
  warnings: string[];
}

/** The attributes read, without the `data-` prefix (kebab-case, as written in HTML). */
export const SCRIPT_ATTRIBUTES = [
  'namespace',
  'consent',
  'pretrained',
  'catalog',
  'auto-track',
  'worker-url',
  'backend',
  'auto-train',
  'view-dwell-ms',
] as const;

export type ScriptAttribute = (typeof SCRIPT_ATTRIBUTES)[number];

export const DEFAULT_VIEW_DWELL_MS = 500;

const CONSENTS: readonly Consent[] = ['granted', 'denied', 'pending'];
const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/** `on|true|1|yes|''` → true, `off|false|0|no` → false, else undefined. */
export function parseSwitch(value: string | null | undefined): boolean | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'on' || v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'off' || v === 'false' || v === '0' || v === 'no') return false;
  return undefined;
}

/**
 * Reads the drop-in configuration. `get(name)` returns the value of `data-<name>` or
 * null when absent (`(n) => script.getAttribute('data-' + n)`).
 */
export function readScriptConfig(get: (name: ScriptAttribute) => string | null): DropinConfig {
  const warnings: string[] = [];
  const options: RecommenderOptions = {};
  let configured = false;
  const value = (name: ScriptAttribute): string | undefined => {
    const v = get(name);
    if (v === null || v === undefined) return undefined;
    configured = true;
    return v.trim();
  };
  const switchOf = (name: ScriptAttribute, fallback: boolean): boolean => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = parseSwitch(raw);
    if (parsed === undefined) {
      warnings.push(`data-${name}="${raw}" is not on/off; using ${fallback ? 'on' : 'off'}`);
      return fallback;
    }
    return parsed;
  };

  const namespace = value('namespace');
  if (namespace) options.namespace = namespace;
  const consent = value('consent');
  if (consent !== undefined) {
    if ((CONSENTS as readonly string[]).includes(consent)) options.consent = consent as Consent;
    else warnings.push(`data-consent="${consent}" is not one of ${CONSENTS.join(', ')}; ignored`);
  }
  const pretrained = value('pretrained');
  if (pretrained) options.pretrained = pretrained;
  const workerUrl = value('worker-url');
  if (workerUrl) options.workerUrl = workerUrl;
  const backend = value('backend');
  if (backend) {
    if ((BACKENDS as readonly string[]).includes(backend))
      options.backend = { force: backend as (typeof BACKENDS)[number] };
    else warnings.push(`data-backend="${backend}" is not one of ${BACKENDS.join(', ')}; ignored`);
  }
  if (!switchOf('auto-train', true)) options.training = { auto: false };
  const autoTrack = switchOf('auto-track', true);
  let viewDwellMs = DEFAULT_VIEW_DWELL_MS;
  const dwell = value('view-dwell-ms');
  if (dwell !== undefined) {
    const n = Number(dwell);
    if (dwell !== '' && Number.isFinite(n) && n >= 0 && n <= 60_000) viewDwellMs = n;
    else warnings.push(`data-view-dwell-ms="${dwell}" is not 0..60000; using ${viewDwellMs}`);
  }
  const catalogUrl = value('catalog') || undefined;
  return { options, catalogUrl, autoTrack, viewDwellMs, configured, warnings };
}

/** Merges `config` commands' options over the attributes' (nested `training`/`backend` too). */
export function mergeOptions(
  base: RecommenderOptions,
  extra: RecommenderOptions,
): RecommenderOptions {
  const out: RecommenderOptions = { ...base, ...extra };
  if (base.training || extra.training) out.training = { ...base.training, ...extra.training };
  if (base.backend || extra.backend) out.backend = { ...base.backend, ...extra.backend };
  return out;
}
