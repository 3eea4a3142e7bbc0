export interface PackageWithBins {
  bin?: string | Record<string, string>;
  [key: string]: unknown;
}
export function binFiles(pkg: PackageWithBins): string[];
export function makeBinsExecutable(outDir: string, pkg: PackageWithBins): string[];
