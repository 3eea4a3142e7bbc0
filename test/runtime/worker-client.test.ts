import { afterEach, describe, expect, it, vi } from 'vitest';
import { startWorker, workerStartMessage } from '../../src/runtime/worker-client';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('a worker that cannot be constructed', () => {
  it('from another origin: the error says why and what to do', async () => {
    vi.stubGlobal('location', { origin: 'https://shop.example', href: 'https://shop.example/p/1' });
    vi.stubGlobal(
      'Worker',
      class {
        constructor() {
          throw new DOMException('Script at … cannot be accessed from origin', 'SecurityError');
        }
      },
    );
    const error = await startWorker({
      workerUrl: 'https://cdn.example/localrec/localrec.worker.js',
    }).catch((e) => e);
    expect(error.code).toBe('WORKER_CRASHED');
    expect(error.message).toMatch(
      /must come from the page's own origin \(https:\/\/shop\.example\)/,
    );
    expect(error.message).toMatch(/workerUrl/);
    expect(error.message).toMatch(/data-worker-url/);
    expect(error.message).toMatch(/SecurityError/);
  });

  it('from the same origin: no origin advice, the cause named', () => {
    vi.stubGlobal('location', { origin: 'https://shop.example', href: 'https://shop.example/' });
    const m = workerStartMessage(new URL('https://shop.example/w.js'), new TypeError('bad'));
    expect(m).toBe('could not start the worker at https://shop.example/w.js (TypeError: bad)');
  });
});
