// Node has no IndexedDB globals. Tests inject fake-indexeddb's factory per store; the
// key-range constructor a browser provides beside it is installed here (a store never
// needs it on the in-memory fallback).
import { IDBKeyRange } from 'fake-indexeddb';

(globalThis as { IDBKeyRange?: unknown }).IDBKeyRange ??= IDBKeyRange;
