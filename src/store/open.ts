import { LocalRecError } from '../core/errors';
import { IdbAdapter } from './idb-adapter';
import { MemoryAdapter } from './memory-adapter';
import { MIGRATIONS, type Migration } from './schema';
import type { StorageAdapter } from './types';

export interface OpenAdapterOptions {
  /** Database name (`localrec:<namespace>`). */
  name: string;
  /**
   * The IndexedDB factory. `undefined` → look up `globalThis.indexedDB` (at call time,
   * never at import); `null` → no IndexedDB (in-memory store).
   */
  indexedDB?: IDBFactory | null;
  /** What to do when IndexedDB is missing or will not open: work in memory (default) or throw. */
  fallback?: 'memory' | 'error';
  /** Open attempts before falling back (default 2: one retry for transient failures). */
  openAttempts?: number;
  /** Wait for other tabs to release an upgrade/delete before UPGRADE_BLOCKED (default 3000 ms). */
  blockedTimeoutMs?: number;
  /** An open with no answer within this many ms counts as failed (default 10000 ms). */
  openTimeoutMs?: number;
  /** @internal Migration list (tests simulate other schema versions with it). */
  migrations?: readonly Migration[];
}

/** `globalThis.indexedDB`, or undefined where it is missing or its getter throws. */
export function globalIndexedDB(): IDBFactory | undefined {
  try {
    // The getter itself throws SecurityError in sandboxed iframes without
    // allow-same-origin and in Firefox with cookies blocked; a missing global is
    // Node, old WebViews, or a Web Worker in some browsers.
    return (globalThis as { indexedDB?: IDBFactory }).indexedDB ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens the persistent adapter, or the in-memory fallback when IndexedDB is missing
 * or its open fails `openAttempts` times (Firefox private browsing before v115, bug 781982, fails
 * open with InvalidStateError; some embedded WebViews throw). SCHEMA_TOO_NEW and
 * UPGRADE_BLOCKED are never papered over with the fallback: the data exists, and an
 * empty in-memory store would silently hide it.
 */
export async function openAdapter(options: OpenAdapterOptions): Promise<StorageAdapter> {
  const fallback = options.fallback ?? 'memory';
  const factory = 'indexedDB' in options ? options.indexedDB : globalIndexedDB();
  const unavailable = (reason: string, cause?: unknown): StorageAdapter => {
    if (fallback === 'error') {
      throw new LocalRecError('STORAGE_UNAVAILABLE', `IndexedDB unavailable: ${reason}`, { cause });
    }
    return new MemoryAdapter(reason);
  };
  if (factory === undefined || factory === null)
    return unavailable('no indexedDB in this environment');

  const attempts = Math.max(1, options.openAttempts ?? 2);
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await IdbAdapter.open({
        factory,
        name: options.name,
        migrations: options.migrations ?? MIGRATIONS,
        blockedTimeoutMs: options.blockedTimeoutMs ?? 3000,
        openTimeoutMs: options.openTimeoutMs ?? 10_000,
      });
    } catch (error) {
      const code = (error as LocalRecError).code;
      if (code === 'SCHEMA_TOO_NEW' || code === 'UPGRADE_BLOCKED') throw error;
      lastError = error;
    }
  }
  return unavailable(
    `open failed ${attempts} times: ${(lastError as Error)?.message ?? lastError}`,
    lastError,
  );
}
