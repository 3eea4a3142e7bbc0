// A LocalRecError thrown in the worker reaches the page as a LocalRecError with its code
// and details (Comlink alone would send the message and name only). Driven over a
// MessageChannel with Comlink's own expose/wrap, no Worker.
import { expose, type Remote, wrap } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalRecError } from '../../src/core/errors';
import { createWorkerApi } from '../../src/worker/api';
import { installErrorTransfer } from '../../src/worker/error-transfer';
import type { WorkerApi } from '../../src/worker/protocol';

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

function across<T extends object>(api: T): Remote<T> {
  installErrorTransfer();
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  expose(api, port1);
  return wrap<T>(port2);
}

describe('errors across the worker boundary', () => {
  it('a LocalRecError keeps its class, code, message and details', async () => {
    const remote = across({
      async fail(): Promise<void> {
        throw new LocalRecError('TRAINING_DIVERGED', 'loss is not finite (epoch 2, step 5)', {
          details: { epoch: 2, step: 5 },
        });
      },
    });
    const error = await remote.fail().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalRecError);
    expect(error).toMatchObject({
      name: 'LocalRecError',
      code: 'TRAINING_DIVERGED',
      message: 'loss is not finite (epoch 2, step 5)',
      details: { epoch: 2, step: 5 },
    });
  });

  it("the engine's own errors arrive typed (recommend before a model is loaded)", async () => {
    const remote = across(createWorkerApi()) as unknown as WorkerApi;
    const error = await remote
      .recommend({ prefix: ['a'], k: 3, exclude: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalRecError);
    expect((error as LocalRecError).code).toBe('NOT_TRAINED');
  });

  it('any other Error still arrives as an Error with its message (Comlink as before)', async () => {
    const remote = across({
      async fail(): Promise<void> {
        throw new TypeError('bad thing');
      },
    });
    const error = await remote.fail().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(LocalRecError);
    expect((error as Error).message).toBe('bad thing');
    expect((error as Error).name).toBe('TypeError');
  });
});
