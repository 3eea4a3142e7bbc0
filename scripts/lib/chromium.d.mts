export const CHROMIUM_ENV: string;
export const CHROMIUM_ARGS: string[];
export class ChromiumNotFound extends Error {}
export function howToPoint(): string;
export function findChromium(env?: Record<string, string | undefined>): string | undefined;
export function ensureChromium(options?: { log?: (line: string) => void }): string;
