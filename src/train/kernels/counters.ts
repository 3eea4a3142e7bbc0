// What a training run asks of the TF.js backend, counted at the engine: for the benchmark
// (`localrec bench train`) and the tests that hold the resident kernel to its budget of
// reads. Not used by training itself.
import * as tf from '@tensorflow/tfjs-core';

export interface BackendCounts {
  /**
   * Kernel launches: every `engine.runKernel` call (one per TF.js kernel: MatMul, Add,
   * GatherV2, …), whatever the backend. A composite op (logSoftmax) is several.
   */
  dispatches: number;
  /**
   * GPU programs run (WebGL `runWebGLProgram`, WebGPU `runWebGPUProgram`): what a kernel
   * launch costs on a GPU, where one kernel may run several programs and a reshape or a
   * contiguous slice runs none. Null on WASM and CPU.
   */
  programs: number | null;
  /** Tensors made from JS values (`engine.makeTensor`): uploads, scalars included. */
  uploads: number;
  /** Tensor values read back to JS (`dataSync`, `data`, `arraySync`, …): one per tensor. */
  reads: number;
}

type Patchable = Record<string, unknown>;

/**
 * Counts the backend work from now until `stop()` (which restores the engine). The
 * counts are live: read `counts` at any point.
 */
export function countBackendWork(): { counts: BackendCounts; stop(): void } {
  const engine = tf.engine() as unknown as Patchable;
  const backend = tf.backend() as unknown as Patchable;
  const program =
    typeof backend.runWebGLProgram === 'function'
      ? 'runWebGLProgram'
      : typeof backend.runWebGPUProgram === 'function'
        ? 'runWebGPUProgram'
        : null;
  const counts: BackendCounts = {
    dispatches: 0,
    programs: program ? 0 : null,
    uploads: 0,
    reads: 0,
  };
  const undo: (() => void)[] = [];
  const wrap = (target: Patchable, name: string, count: () => void) => {
    const own = Object.hasOwn(target, name);
    const original = target[name] as (...a: unknown[]) => unknown;
    target[name] = function (this: unknown, ...args: unknown[]) {
      count();
      return original.apply(this, args);
    };
    undo.push(() => {
      if (own) target[name] = original;
      else delete target[name];
    });
  };
  wrap(engine, 'runKernel', () => counts.dispatches++);
  wrap(engine, 'makeTensor', () => counts.uploads++);
  wrap(engine, 'readSync', () => counts.reads++);
  wrap(engine, 'read', () => counts.reads++);
  if (program) wrap(backend, program, () => counts.programs!++);
  return {
    counts,
    stop: () => {
      for (const u of undo.reverse()) u();
    },
  };
}
