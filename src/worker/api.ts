// The worker surface over one Engine, without side effects: the worker entry exposes it
// through Comlink, a page without Workers calls it in-process, and Node tools (the
// replay protocol) drive the very same code.

import { version } from '../core/version';
import { Engine } from './engine';
import type { WorkerApi } from './protocol';
import { probeBackendsHere } from './tf/probe';

export function createWorkerApi(engine = new Engine()): WorkerApi {
  return {
    ping: async () => version,
    probe: (options) => probeBackendsHere(options),
    init: (r) => engine.init(r),
    load: (c, o) => engine.load(c, o),
    unload: () => engine.unload(),
    train: (r, onProgress) => engine.train(r, onProgress),
    abortTraining: () => engine.abortTraining(),
    recommend: (r) => engine.recommend(r),
    similar: (id, k, exclude) => engine.similar(id, k, exclude),
    info: () => engine.info(),
    debugFault: (kind) => engine.debugFault(kind),
  };
}
