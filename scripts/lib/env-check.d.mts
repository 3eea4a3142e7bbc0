export const MIN_NODE: [number, number];
export function checkNode(version?: string): string | undefined;
export function checkInstalled(root: string): string | undefined;
export function die(prefix: string, message: string): never;
