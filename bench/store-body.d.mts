export interface StoreBenchOptions {
  single: number;
  batches: number;
  batchSize: number;
  readEvents: number;
  readRuns: number;
  indexedDB?: unknown;
  namespace?: string;
}
export type StoreBenchResult = { name: string } & Record<string, number | boolean | string>;
export function runStoreBench(
  createStore: (options: object) => Promise<unknown>,
  options: StoreBenchOptions,
): Promise<StoreBenchResult[]>;
export function formatResults(label: string, results: StoreBenchResult[]): string;
