/**
 * Wire types of the worker boundary (Comlink). Type-only: importing this module pulls no
 * code into the main-thread bundle. Errors cross as `LocalRecError.toJSON()` shapes.
 */

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface BackendProbe {
  name: BackendName;
  /** Initialised and passed the numerical self-check. */
  ok: boolean;
  /** Why it is not usable (init failed, self-check mismatch, timeout). */
  error?: string;
  /** Milliseconds to initialise and run the self-check. */
  initMs?: number;
  /** Runs on a CPU emulation of a GPU (SwiftShader, WebGPU fallback adapter). */
  software?: boolean;
  /** Free-form facts: WebGL renderer, WebGPU adapter, WASM SIMD/threads. */
  info?: Record<string, string | number | boolean>;
}

export interface CapabilityReport {
  /** Library version of the worker that answered. */
  version: string;
  /** TF.js core version inside the worker. */
  tfjsVersion: string;
  backends: BackendProbe[];
  /** Raw WebGL renderer string (unmasked when the browser allows), if WebGL exists. */
  webglRenderer?: string;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  userAgent: string;
}

export interface ProbeOptions {
  /** Which backends to try (default all four). */
  backends?: BackendName[];
  /** Per-backend initialisation timeout in ms (default 20 000). */
  backendTimeoutMs?: number;
}

/** The surface the worker exposes through Comlink. */
export interface WorkerApi {
  ping(): Promise<string>;
  probe(options?: ProbeOptions): Promise<CapabilityReport>;
}
