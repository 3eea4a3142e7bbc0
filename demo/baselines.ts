// The classical baselines beside the GRU: the library's own classes (from the built
// module), fitted on the other MovieLens users' histories (sessions.bin) in a worker of
// their own (baselines-worker.ts), so the page's main thread never runs the fit.
import type { TrainingSequences } from './data';

export interface BaselineFit {
  key: string;
  fitMs: number;
}

export type BaselineRequest =
  | {
      type: 'fit';
      id: number;
      libUrl: string;
      items: Int32Array;
      offsets: Int32Array;
      numItems: number;
      ids: string[];
    }
  | { type: 'top'; id: number; prefix: Int32Array; k: number; exclude: string[] };

export type BaselineResponse =
  | { type: 'fitted'; id: number; fits: BaselineFit[] }
  | { type: 'top'; id: number; lists: [string, string[]][] }
  | { type: 'error'; id: number; message: string };

export interface Baseline {
  key: string;
  label: string;
  /** What it was fitted on, for the column's caption. */
  fit: string;
  fitMs: number;
}

export interface Baselines {
  list: Baseline[];
  /** Each baseline's top-k catalog ids after `prefix` (catalog indices, oldest first). */
  top(prefix: Int32Array, k: number, exclude: readonly string[]): Promise<Map<string, string[]>>;
}

const LABELS: Record<string, string> = {
  'sr+itemknn': 'SR + item-kNN',
  sr: 'Sequential rules',
  itemknn: 'Item-kNN',
  pop: 'Most popular',
};

export async function startBaselines(
  libUrl: string,
  seqs: TrainingSequences,
  ids: readonly string[],
): Promise<Baselines> {
  const worker = new Worker(new URL('./baselines-worker.ts', import.meta.url), { type: 'module' });
  let next = 0;
  const waiting = new Map<number, (r: BaselineResponse) => void>();
  worker.onmessage = (e: MessageEvent<BaselineResponse>) => {
    waiting.get(e.data.id)?.(e.data);
    waiting.delete(e.data.id);
  };
  const ask = (request: BaselineRequest): Promise<BaselineResponse> =>
    new Promise((resolve, reject) => {
      waiting.set(request.id, (r) =>
        r.type === 'error' ? reject(new Error(`baselines: ${r.message}`)) : resolve(r),
      );
      worker.postMessage(request);
    });
  const fitted = await ask({
    type: 'fit',
    id: next++,
    libUrl,
    items: seqs.items,
    offsets: seqs.offsets,
    numItems: seqs.numItems,
    ids: [...ids],
  });
  if (fitted.type !== 'fitted') throw new Error('baselines: no fit');
  const on = `fitted in a worker on ${seqs.users} other users`;
  const ms = (v: number) => (v < 1 ? '<1' : String(Math.round(v)));
  const list = fitted.fits.map(({ key, fitMs }) => ({
    key,
    label: LABELS[key] ?? key,
    fit:
      key === 'sr+itemknn'
        ? `${on} (${ms(fitMs)} ms, the SR and item-kNN fits included)`
        : `${on} (${ms(fitMs)} ms${key === 'pop' ? '' : ' more, reusing the fit above'})`,
    fitMs,
  }));
  return {
    list,
    async top(prefix, k, exclude) {
      const r = await ask({ type: 'top', id: next++, prefix, k, exclude: [...exclude] });
      return new Map(r.type === 'top' ? r.lists : []);
    },
  };
}
