// The device's TF.js backend decision, kept as a setting of the visitor's store: the
// engine's trial runs on a first visit (or when the device's key changed) and the
// decision is reused on later visits while its key matches.

import type { BackendPreferences } from '../worker/backend-choice';
import type { BackendStatus } from '../worker/protocol';
import type { WorkerHandle } from './worker-client';

/** The setting the decision is stored under. */
export const BACKEND_SETTING = 'backend-decision';
/** Where earlier releases kept it: a checkpoint with no model bytes. */
const OLD_BACKEND_RECORD = 'backend-decision';

/** What the decision needs from the store. */
export interface BackendDecisionStore {
  getSetting(name: string): Promise<unknown>;
  putSetting(name: string, value: never): Promise<void>;
  deleteCheckpoint(name: string): Promise<void>;
}

export interface BackendTrialSize {
  hiddenSize: number;
  numItems: number;
  /** The site's training settings: the trial runs at its batch size and negatives. */
  trainOptions?: Record<string, number | string | boolean>;
}

/**
 * Asks the engine for its backend (reusing the stored decision when its key matches) and
 * stores the answer when it changed, unless `mayWrite()` says no (after forget(): nothing
 * of ours may re-create the database).
 */
export async function decideBackend(
  handle: WorkerHandle,
  store: BackendDecisionStore,
  prefs: BackendPreferences,
  size: BackendTrialSize,
  timeoutMs: number,
  mayWrite: () => boolean = () => true,
): Promise<BackendStatus> {
  const cached = (await store.getSetting(BACKEND_SETTING).catch(() => undefined)) as
    | BackendStatus
    | undefined;
  const status = await handle.call(
    'init',
    (a) =>
      a.init({
        force: prefs.force,
        exclude: prefs.exclude ? [...prefs.exclude] : undefined,
        prefer: prefs.prefer ? [...prefs.prefer] : undefined,
        cached,
        hiddenSize: size.hiddenSize,
        numItems: size.numItems,
        // the trial runs at the site's training batch and negatives, when it sets them
        ...trialWorkload(size.trainOptions),
      }),
    timeoutMs,
  );
  const changed = !cached || cached.key !== status.key || cached.backend !== status.backend;
  if (changed && mayWrite()) {
    await store
      .putSetting(BACKEND_SETTING, JSON.parse(JSON.stringify(status)) as never)
      .catch(() => {});
    await store.deleteCheckpoint(OLD_BACKEND_RECORD).catch(() => {});
  }
  return status;
}

/** Batch size and negatives a site set for training (numbers only), for the backend trial. */
export function trialWorkload(options: Record<string, number | string | boolean> | undefined): {
  batchSize?: number;
  negatives?: number;
} {
  const out: { batchSize?: number; negatives?: number } = {};
  const b = options?.batchSize;
  const s = options?.negatives;
  if (typeof b === 'number' && Number.isInteger(b) && b > 0) out.batchSize = b;
  if (typeof s === 'number' && Number.isInteger(s) && s >= 0) out.negatives = s;
  return out;
}
