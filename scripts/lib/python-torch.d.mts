export const PYTHON_ENV: string;
export class PythonTorchNotFound extends Error {
  constructor(message: string, options: { installable: boolean });
  readonly installable: boolean;
}
export function torchVersion(python: string): string | undefined;
export function findPythonTorch(env?: Record<string, string | undefined>): string | undefined;
export function ensurePythonTorch(options?: { log?: (line: string) => void }): string;
