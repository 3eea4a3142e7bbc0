export const FIREFOX_ENV: string;
export const WEBKIT_ENV: string;
export class BrowserNotFound extends Error {}
export interface WebKitBinaries {
  browser: string;
  driver: string;
  xvfb: string;
}
export function findFirefox(env?: Record<string, string | undefined>): string | undefined;
export function findWebKit(env?: Record<string, string | undefined>): WebKitBinaries | undefined;
export function howToPoint(which: 'firefox' | 'webkit'): string;
export function ensureBrowsers(options?: {
  log?: (line: string) => void;
  env?: Record<string, string | undefined>;
}): { firefox: string; webkit: WebKitBinaries };
