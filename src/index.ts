// ESM entry: re-exports the public API only. Importing it has no side effects and
// touches no `window`/`document` (safe under SSR). The offline evaluation protocol and
// the baselines are a second entry, `localrec/eval` (src/eval-entry.ts), so a page that
// only tracks and recommends does not download them (dist/localrec.js's size budget:
// scripts/lib/size-budget.mjs).

// Interaction store and tracking API (src/api/create-store.ts).
export { createStore } from './api/create-store';
export type { LocalRecErrorCode, LocalRecErrorDetails } from './api/errors';
export { ERROR_CODES, hasCode, LocalRecError } from './api/errors';
export type { BackendName, BackendProbe, CapabilityReport, ProbeOptions } from './api/probe';
export { probeBackends } from './api/probe';
// The recommender a page uses (src/api/recommender.ts).
export type {
  Recommendation,
  Recommender,
  RecommenderEvents,
  RecommenderOptions,
  RecommenderStatus,
  RecommendFilter,
  RecommendOptions,
  ScorerName,
  TrainingOptions,
  TrainSummary,
} from './api/recommender';
export { createRecommender } from './api/recommender';
export type {
  CatalogItem,
  Checkpoint,
  CheckpointInfo,
  CheckpointInput,
  Consent,
  ExportedData,
  ExportedEvent,
  JsonValue,
  LocalRecStore,
  ReadSequencesOptions,
  RetentionPolicy,
  SessionData,
  StoreChange,
  StoreOptions,
  StoreStats,
  TrackEvent,
} from './api/store-types';
export type { Scorer, ScorerCursor, Sequences } from './core/scorer';
export { version } from './core/version';
// Drop-in helpers for pages (src/dom): nothing runs and no DOM global is read until called.
export type { AutoTracker, AutoTrackOptions, Tracker } from './dom/auto-track';
export { startAutoTracking } from './dom/auto-track';
export type { DefineElementsOptions, RecommenderSource } from './dom/element';
export { defineElements } from './dom/element';
export { BUILTIN_EVENT_TYPES, DEFAULT_SESSION_GAP_MS, EVENT_LIMITS, sessionise } from './events';
// GRU4Rec model and trainer types (the code itself runs in the worker: it imports TF.js).
export type { GruConfig } from './model/config';
export type { GruMeta } from './model/model';
export { DEFAULT_RETENTION, SCHEMA_VERSION } from './store';
export type { EpochStat, TrainInput, TrainResult } from './train/fit';
export type { TrainOptions, TrainProgress } from './train/options';
export type { BackendPreferences } from './worker/backend-choice';
export type { BackendStatus, ModelInfo, TrainProgressMessage } from './worker/protocol';
