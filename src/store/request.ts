// Promise helpers over raw IDB requests. Deliberately not `idb`'s wrap(): it checks
// values with `instanceof IDBRequest/IDBDatabase/…` against the *global* constructors,
// which do not exist in Node (and differ from an injected factory's), and it proxies
// every object on the hot path. These helpers keep the contract idb documents: the
// promise settles in the microtask after the request's event, while the transaction is
// still active, so IDB requests may be awaited inside a transaction — anything else
// (timers, fetch, other promises) may not (see the TransactionInactiveError canary test).

export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Resolves on `complete`; rejects with the abort's error (or an AbortError without one). */
export function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('Transaction aborted', 'AbortError'));
  });
}

/**
 * Runs `body` in `tx` and resolves with its result only after `complete` (durably
 * committed as far as the browser's durability mode goes). If `body` throws, the
 * transaction is aborted, so nothing it wrote lands, and the body's error is thrown.
 */
export async function runTransaction<T>(
  tx: IDBTransaction,
  body: (tx: IDBTransaction) => Promise<T> | T,
): Promise<T> {
  const done = transactionDone(tx);
  let result: T;
  try {
    result = await body(tx);
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // Already aborting or finished: a failed request aborts its transaction, and so
      // does the browser when the connection closes under it. The body's error is then
      // only a consequence (TransactionInactiveError on the next request); the
      // transaction's own abort reason says what happened.
      const reason = await done.then(
        () => undefined,
        (abortError: unknown) => abortError,
      );
      throw reason ?? error;
    }
    await done.catch(() => undefined);
    throw error;
  }
  await done;
  return result;
}

/** Walks a cursor request; `step` returns false to stop. */
export function walk<C extends IDBCursor>(
  req: IDBRequest<C | null>,
  step: (cursor: C) => boolean,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    req.onsuccess = () => {
      const cursor = req.result;
      if (cursor === null || !step(cursor)) resolve();
      else cursor.continue();
    };
    req.onerror = () => reject(req.error);
  });
}
