export interface FileSize {
  bytes: number;
  gzip: number;
}
export interface SizeRow extends FileSize {
  file: string;
  who: string;
  budget?: number;
}
export const BUDGETS: Readonly<Record<string, number>>;
export function gzipSize(buffer: Uint8Array): number;
export function measure(dir: string, files?: readonly string[]): Record<string, FileSize>;
export function overBudget(
  sizes: Record<string, FileSize>,
  budgets?: Readonly<Record<string, number>>,
): string[];
export function sizeTable(
  dir: string,
  budgets?: Readonly<Record<string, number>>,
  shipped?: (file: string) => boolean,
): SizeRow[];
export function formatSizeTable(rows: readonly SizeRow[]): string;
