import { IDBFactory } from 'fake-indexeddb';

/** A fresh, isolated fake-indexeddb factory (no state shared between tests). */
export function freshFactory(): IDBFactory {
  return new IDBFactory();
}

/**
 * Wraps a factory to record every connection it opens (so tests can close them
 * abnormally) and to make the first `failOpens` opens fail with an `error` event.
 */
export function instrumentedFactory(
  options: { failOpens?: number; throwOpens?: number; hangOpens?: number } = {},
) {
  const factory = new IDBFactory();
  const connections: IDBDatabase[] = [];
  let opens = 0;
  const originalOpen = factory.open.bind(factory);
  factory.open = (name: string, version?: number) => {
    opens++;
    if (opens <= (options.throwOpens ?? 0)) {
      throw new DOMException('The user denied permission to access the database.', 'SecurityError');
    }
    if (opens <= (options.failOpens ?? 0) + (options.throwOpens ?? 0)) {
      // What Firefox private browsing (< v115) did: the open request fires `error`.
      const req = {
        error: new DOMException(
          'A mutation operation was attempted on a database that did not allow mutations.',
          'InvalidStateError',
        ),
        result: undefined,
        onerror: null as ((ev: Event) => void) | null,
        onsuccess: null,
        onupgradeneeded: null,
        onblocked: null,
      };
      setTimeout(() => req.onerror?.(new Event('error')), 1);
      return req as unknown as IDBOpenDBRequest;
    }
    if (opens <= (options.failOpens ?? 0) + (options.throwOpens ?? 0) + (options.hangOpens ?? 0)) {
      // Safari 14.1: the request never answers.
      return {
        onerror: null,
        onsuccess: null,
        onupgradeneeded: null,
        onblocked: null,
      } as unknown as IDBOpenDBRequest;
    }
    const req = originalOpen(name, version);
    req.addEventListener('success', () => connections.push(req.result));
    return req;
  };
  return {
    factory,
    connections,
    get opens() {
      return opens;
    },
  };
}

/** Opens a raw connection (no localrec code): the "other tab" or a forensic reader. */
export function rawOpen(
  factory: IDBFactory,
  name: string,
  version?: number,
  upgrade?: (db: IDBDatabase, tx: IDBTransaction, oldVersion: number) => void,
): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = version === undefined ? factory.open(name) : factory.open(name, version);
    req.onupgradeneeded = (ev) => upgrade?.(req.result, req.transaction!, ev.oldVersion);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function rawGetAll<T = unknown>(db: IDBDatabase, store: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const req = db.transaction(store, 'readonly').objectStore(store).getAll();
    req.onsuccess = () => resolve(req.result as T[]);
    req.onerror = () => reject(req.error);
  });
}

export function rawPut(
  db: IDBDatabase,
  store: string,
  value: unknown,
  key?: IDBValidKey,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, 'readwrite');
    if (key === undefined) tx.objectStore(store).put(value);
    else tx.objectStore(store).put(value, key);
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error);
  });
}

/** Awaits a promise expected to reject and returns its error. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<{ code?: string; details?: Record<string, unknown>; message: string; name: string }> {
  try {
    await promise;
  } catch (error) {
    return error as {
      code?: string;
      details?: Record<string, unknown>;
      message: string;
      name: string;
    };
  }
  throw new Error('expected a rejection, got a resolution');
}

export const DB = (namespace: string) => `localrec:${namespace}`;
