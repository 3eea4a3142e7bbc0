// Backend capability probe, run inside the worker: which TF.js backends initialise in
// this browser and compute a known result correctly. Never assumes a GPU.
import * as tf from '@tensorflow/tfjs-core';
import { version } from '../../core/version';
import {
  BACKEND_NAMES,
  type BackendName,
  type BackendProbe,
  type CapabilityReport,
  type ProbeOptions,
} from '../protocol';
import { isSoftwareRenderer } from './renderer';

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

/** Renderer string of a WebGL2 context made on an OffscreenCanvas (works in workers). */
export function webglRenderer(): string | undefined {
  try {
    if (typeof OffscreenCanvas === 'undefined') return undefined;
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return undefined;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = ext
      ? (gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) as string)
      : (gl.getParameter(gl.RENDERER) as string);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return renderer;
  } catch {
    return undefined;
  }
}

/** Running in a worker (dedicated, shared or service), not on a page's main thread. */
function inWorker(): boolean {
  const scope = (globalThis as { WorkerGlobalScope?: abstract new () => unknown })
    .WorkerGlobalScope;
  return scope !== undefined && globalThis instanceof scope;
}

/**
 * Why TF.js's WebGL backend cannot start here, or undefined when it may. Asked before
 * setBackend('webgl'), which would print a warning and a stack trace to the console for
 * what is an expected absence: in a worker TF.js needs WebGL2 on an OffscreenCanvas, which
 * Firefox (headless) and WebKitGTK do not give workers; on a page, a canvas with WebGL2 or
 * WebGL1.
 */
function webglUnavailable(): string | undefined {
  try {
    if (inWorker()) {
      if (typeof OffscreenCanvas !== 'undefined') {
        const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
        if (gl) {
          gl.getExtension('WEBGL_lose_context')?.loseContext();
          return undefined;
        }
      }
      return 'WebGL not available in workers in this browser';
    }
    if (typeof document !== 'undefined') {
      const canvas = document.createElement('canvas');
      const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
      if (gl) {
        gl.getExtension('WEBGL_lose_context')?.loseContext();
        return undefined;
      }
    }
    return 'WebGL not available in this browser';
  } catch (error) {
    return `WebGL not available in this browser (${error instanceof Error ? error.message : String(error)})`;
  }
}

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

function webgpu(): { requestAdapter(): Promise<unknown> } | undefined {
  return (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)
    ?.gpu;
}

async function webgpuAdapterInfo(): Promise<GpuAdapterInfoLike | undefined> {
  const gpu = webgpu();
  if (!gpu) return undefined;
  const adapter = (await gpu.requestAdapter()) as {
    info?: GpuAdapterInfoLike;
    isFallbackAdapter?: boolean;
  } | null;
  if (!adapter) return undefined;
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
  };
}

/**
 * A tiny numerical self-check: a 2x3 · 3x2 product and a sigmoid, compared with the
 * values computed by hand. A backend that initialises but computes wrong numbers (a
 * broken driver) is as unusable as one that does not initialise.
 */
async function selfCheck(): Promise<void> {
  const out = tf.tidy(() => {
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2]);
    return tf.sigmoid(tf.mul(tf.matMul(a, b), 0.01));
  });
  const got = await out.data();
  out.dispose();
  const want = [58, 64, 139, 154].map((x) => 1 / (1 + Math.exp(-x * 0.01)));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) < 1e-4)) {
      throw new Error(`self-check mismatch at ${i}: got ${got[i]}, want ${want[i]}`);
    }
  }
}

async function probeOne(name: BackendName, timeoutMs: number): Promise<BackendProbe> {
  const started = performance.now();
  const result: BackendProbe = { name, ok: false };
  try {
    // An absence the browser explains, said plainly; TF.js's webgpu backend does not even
    // register itself where navigator.gpu is missing.
    if (name === 'webgpu' && !webgpu()) throw new Error('WebGPU not available in this browser');
    if (!tf.findBackendFactory(name)) throw new Error('backend not registered in this bundle');
    if (name === 'webgl') {
      const why = webglUnavailable();
      if (why) throw new Error(why);
    }
    if (name === 'webgpu') {
      const info = await withTimeout(webgpuAdapterInfo(), timeoutMs, 'requestAdapter');
      if (!info) throw new Error('navigator.gpu missing or no adapter');
      result.info = Object.fromEntries(
        Object.entries(info).filter(([, v]) => v !== undefined && v !== ''),
      ) as Record<string, string | boolean>;
      result.software =
        info.isFallbackAdapter === true
          ? true
          : isSoftwareRenderer(
              [info.vendor, info.architecture, info.description].filter(Boolean).join(' '),
            );
    }
    const ok = await withTimeout(tf.setBackend(name), timeoutMs, `setBackend('${name}')`);
    if (!ok) throw new Error('setBackend returned false (initialisation failed)');
    await withTimeout(selfCheck(), timeoutMs, 'self-check');
    if (name === 'webgl') {
      const renderer = webglRenderer();
      result.info = {
        renderer: renderer ?? 'unknown',
        version: tf.env().getNumber('WEBGL_VERSION'),
      };
      result.software = isSoftwareRenderer(renderer);
    }
    if (name === 'wasm') {
      result.info = {
        simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
        threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      };
    }
    result.ok = true;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  }
  result.initMs = Math.round(performance.now() - started);
  return result;
}

export async function probeBackendsHere(options: ProbeOptions = {}): Promise<CapabilityReport> {
  const names = options.backends ?? [...BACKEND_NAMES];
  const timeoutMs = options.backendTimeoutMs ?? 20_000;
  const backends: BackendProbe[] = [];
  for (const name of names) backends.push(await probeOne(name, timeoutMs));
  const nav = globalThis.navigator as Navigator | undefined;
  return {
    version,
    tfjsVersion: tf.version_core,
    backends,
    webglRenderer: webglRenderer(),
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: nav?.hardwareConcurrency ?? 0,
    userAgent: nav?.userAgent ?? '',
  };
}
