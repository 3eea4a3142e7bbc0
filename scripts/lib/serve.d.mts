export class PortInUse extends Error {}
export interface StartedServer {
  url: string;
  port: number;
  /** Every path requested so far, in order. */
  requests: string[];
  /**
   * Every URL requested so far, whole (host included), in order; with the server as a
   * browser's HTTP proxy, requests to other hosts too (answered 502, never forwarded).
   */
  urls: string[];
  close(): Promise<void>;
}
export function startServer(options: {
  mounts: Record<string, string>;
  port?: number;
  host?: string;
  crossOriginIsolated?: boolean;
  headers?: (path: string) => Record<string, string> | undefined;
  redirects?: Record<string, string>;
}): Promise<StartedServer>;
