// Module worker entry (dist/localrec.worker.js): registers the TF.js backends and exposes
// the worker surface through Comlink. Side effects live here and nowhere else.
//
// Loaded with `import()` on the main thread instead (no Worker support), it exposes
// nothing and the page calls `createWorkerApi()` directly: the same code, in-process.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { env } from '@tensorflow/tfjs-core';
import { expose } from 'comlink';
import { createWorkerApi } from './api';
import { installErrorTransfer } from './error-transfer';

export { createWorkerApi };

// The build copies the .wasm binaries next to this file; resolve them from our own URL
// so the site needs no configuration and nothing is fetched from elsewhere.
setWasmPaths(new URL(/* @vite-ignore */ './', import.meta.url).href);
// Never the threaded WASM build: its pthread workers are created from the stringified
// source of an Emscripten function, which breaks once the bundle is minified
// ("ReferenceError: e is not defined" in a blob: worker), and on 2-core machines it was
// slower than plain SIMD anyway. Cross-origin isolated pages would otherwise pick it.
env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

const WorkerScope = (globalThis as { WorkerGlobalScope?: abstract new () => unknown })
  .WorkerGlobalScope;
if (WorkerScope !== undefined && globalThis instanceof WorkerScope) {
  installErrorTransfer();
  expose(createWorkerApi());
}
