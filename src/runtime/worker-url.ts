// Where the worker bundle lives. The ES build finds it beside itself through
// import.meta.url; the script-tag build records its own <script src> at load time
// (document.currentScript is only set while a classic script first runs). A site can
// always pass `workerUrl` explicitly (CDN hosting, custom paths, strict CSPs).

export const WORKER_FILE = 'localrec.worker.js';

let scriptBase: string | undefined;

/** Called by the script-tag entry with its own URL. */
export function setScriptBase(url: string | undefined): void {
  scriptBase = url;
}

export function resolveWorkerUrl(explicit?: string | URL): URL {
  if (explicit !== undefined) return new URL(String(explicit), globalThis.location?.href);
  if (scriptBase) return new URL(WORKER_FILE, scriptBase);
  // A variable, not a literal: bundlers must not try to inline/rebundle the worker.
  const file = WORKER_FILE;
  // The IIFE build defines import.meta.url as undefined (no module URL in a classic
  // script); fall back to the page.
  const here: string | undefined = import.meta.url ?? globalThis.location?.href;
  return new URL(file, here);
}
