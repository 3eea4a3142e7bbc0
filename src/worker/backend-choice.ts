// Choosing the TF.js backend by measurement, not by a fixed order. Pure logic: the
// worker runs the trials (src/worker/tf/), this decides and explains. On a CPU-only
// machine WASM wins on the numbers; on a device with a real GPU, WebGPU or WebGL may.
import { LocalRecError } from '../core/errors';
import { BACKEND_NAMES, type BackendName, type BackendTrial } from './protocol';

export type { BackendTrial };

export interface BackendPreferences {
  /** Use exactly this backend (fails with BACKEND_UNAVAILABLE if it does not work). */
  force?: BackendName;
  /** Never use these. */
  exclude?: readonly BackendName[];
  /**
   * Use the first of these that passes its trial, even when another measured faster
   * (e.g. a site that knows WebGPU serves its visitors best). The rest stay measured
   * and are the fallbacks.
   */
  prefer?: readonly BackendName[];
}

export interface BackendDecision {
  backend: BackendName;
  /** One line a person can read, e.g. "wasm: fastest trial step 3.1 ms (webgl 41.0 ms, …)". */
  reason: string;
  trials: BackendTrial[];
  /** Cache key the decision is valid for (see decisionKey). */
  key: string;
  decidedAt: number;
}

/** Steps within this factor of the fastest count as a tie, broken by the static order. */
const TIE = 1.1;

/**
 * The on-device training's batch size and shared negatives (the Recommender's defaults),
 * and so the backend trial's workload when a site sets neither.
 */
export const ON_DEVICE_WORKLOAD = { batchSize: 32, negatives: 256 } as const;

export function candidateBackends(prefs: BackendPreferences = {}): BackendName[] {
  for (const name of [...(prefs.prefer ?? []), ...(prefs.exclude ?? [])]) {
    if (!BACKEND_NAMES.includes(name)) {
      throw new LocalRecError('INVALID_INPUT', `unknown backend "${name}"`, {
        details: { field: 'backend' },
      });
    }
  }
  if (prefs.force) {
    if (!BACKEND_NAMES.includes(prefs.force)) {
      throw new LocalRecError('INVALID_INPUT', `unknown backend "${prefs.force}"`, {
        details: { field: 'backend.force' },
      });
    }
    return [prefs.force];
  }
  const excluded = new Set(prefs.exclude ?? []);
  const left = BACKEND_NAMES.filter((b) => !excluded.has(b));
  if (left.length === 0) {
    throw new LocalRecError('INVALID_INPUT', 'every backend is excluded', {
      details: { field: 'backend.exclude' },
    });
  }
  return left;
}

const GPU_BACKENDS: readonly BackendName[] = ['webgpu', 'webgl'];

/**
 * Is this trial's claim to a GPU backed by its renderer? A GPU backend whose renderer is
 * emulated or unknown (masked: WebKit says "Apple GPU" for software WebGL) gets no
 * preference in a near-tie; only its measured step time speaks for it.
 */
function noGpuClaim(t: BackendTrial): boolean {
  return t.software === true || (GPU_BACKENDS.includes(t.name) && t.software !== false);
}

/**
 * The decision for a device: the `ok` trial with the smallest step time. Near-ties go to
 * a GPU backend known to be hardware, then to WASM and CPU, then to GPU backends that are
 * emulated or whose renderer is unknown; within each, the order webgpu, webgl, wasm, cpu.
 */
export function chooseBackend(
  trials: BackendTrial[],
  key: string,
  now = Date.now(),
  prefer: readonly BackendName[] = [],
): BackendDecision {
  const usable = trials.filter((t) => t.ok && Number.isFinite(t.stepMs));
  if (usable.length === 0) {
    const why = trials.map((t) => `${t.name}: ${t.error ?? 'not usable'}`).join('; ');
    throw new LocalRecError(
      'BACKEND_UNAVAILABLE',
      `no TF.js backend works here (${why || 'none tried'})`,
    );
  }
  for (const name of prefer) {
    const preferred = usable.find((t) => t.name === name);
    if (preferred) {
      const others = trials.filter((t) => t !== preferred).map(describe);
      const reason =
        `${name}: preferred by the site (trial step ${fmt(preferred.stepMs)})` +
        (others.length ? ` (${others.join(', ')})` : '');
      return { backend: name, reason, trials, key, decidedAt: now };
    }
  }
  const fastest = Math.min(...usable.map((t) => t.stepMs as number));
  const rank = (t: BackendTrial) =>
    BACKEND_NAMES.indexOf(t.name) + (noGpuClaim(t) ? BACKEND_NAMES.length : 0);
  const best = usable
    .filter((t) => (t.stepMs as number) <= fastest * TIE)
    .sort((a, b) => rank(a) - rank(b))[0];
  const others = trials.filter((t) => t !== best).map(describe);
  const how =
    best.stepMs === fastest
      ? 'fastest trial step'
      : `trial step within ${Math.round((TIE - 1) * 100)}% of the fastest, ahead in the order ${BACKEND_NAMES.join(', ')}:`;
  const reason =
    trials.length === 1
      ? `${best.name}: forced by the site (trial step ${fmt(best.stepMs)})`
      : `${best.name}: ${how} ${fmt(best.stepMs)}${kind(best) ? ` (${kind(best)})` : ''}` +
        (others.length ? ` (${others.join(', ')})` : '');
  return { backend: best.name, reason, trials, key, decidedAt: now };
}

/** 'software', 'renderer unknown' (a GPU backend whose renderer is masked) or ''. */
function kind(t: BackendTrial): string {
  if (t.software === true) return 'software';
  return GPU_BACKENDS.includes(t.name) && t.software === undefined ? 'renderer unknown' : '';
}

function describe(t: BackendTrial): string {
  return t.ok ? `${t.name} ${fmt(t.stepMs)}${kind(t) ? ` ${kind(t)}` : ''}` : `${t.name} failed`;
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? '?' : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

/**
 * A cached decision is valid while the library version, the model's size class and the
 * browser stay the same; anything else re-measures.
 */
export function decisionKey(parts: {
  version: string;
  hidden: number;
  numItems: number;
  userAgent: string;
  prefer?: readonly string[];
  /** The trial's workload (default ON_DEVICE_WORKLOAD, which keeps keys made before it valid). */
  batchSize?: number;
  negatives?: number;
}): string {
  // Size classes by powers of two of the catalog: a few new items do not re-measure.
  const itemsClass = 2 ** Math.ceil(Math.log2(Math.max(1, parts.numItems)));
  const prefer = parts.prefer?.length ? `|prefer:${parts.prefer.join(',')}` : '';
  const b = parts.batchSize ?? ON_DEVICE_WORKLOAD.batchSize;
  const s = parts.negatives ?? ON_DEVICE_WORKLOAD.negatives;
  const work =
    b === ON_DEVICE_WORKLOAD.batchSize && s === ON_DEVICE_WORKLOAD.negatives ? '' : `|b${b}s${s}`;
  return `${parts.version}|h${parts.hidden}|n${itemsClass}${work}${prefer}|${parts.userAgent}`;
}
