export type { SessionisedSequences, SessioniseInput } from './sessionise';
export { DEFAULT_SESSION_GAP_MS, sessionise } from './sessionise';
export type { BuiltinEventType, JsonValue, NormalizedEvent, TrackEvent } from './types';
export { BUILTIN_EVENT_TYPES, CUSTOM_EVENT_TYPE, EVENT_LIMITS } from './types';
export { findNonJson, validateEvent, validateEvents } from './validate';
