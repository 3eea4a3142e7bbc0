// ESM entry: re-exports the public API only. Importing it has no side effects and
// touches no `window`/`document` (safe under SSR).

export type { LocalRecErrorCode, LocalRecErrorDetails } from './api/errors';
export { ERROR_CODES, hasCode, LocalRecError } from './api/errors';
export type { BackendName, BackendProbe, CapabilityReport, ProbeOptions } from './api/probe';
export { probeBackends } from './api/probe';
export type { Scorer, ScorerCursor, Sequences } from './scorer';
export { version } from './version';
