/**
 * What a subcommand gets to talk to the world: output streams (so tests can capture
 * them), an error type that maps to an exit code, and a progress indicator on stderr.
 */
import { LocalRecError } from '../src/core/errors';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bar) or not (plain periodic lines). */
  stderrIsTTY: boolean;
  /** Working directory for relative paths. */
  cwd: string;
}

export function processIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
  };
}

/** An expected failure: printed as one line, no stack; exit code 2 = bad usage/input. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit code and one-line message for any error a command throws. */
export function describeError(error: unknown): {
  exitCode: number;
  message: string;
  internal: boolean;
} {
  if (error instanceof CliError)
    return { exitCode: error.exitCode, message: error.message, internal: false };
  if (error instanceof LocalRecError) {
    const exitCode = error.code === 'INVALID_INPUT' ? 2 : 1;
    return { exitCode, message: `${error.code}: ${error.message}`, internal: false };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode: 1, message: message.split('\n')[0], internal: true };
}

/**
 * Progress on stderr for anything that takes more than `delayMs` (1 s): a redrawn bar
 * when stderr is a TTY, else a plain line every `lineEveryMs` (5 s). Silent below 1 s.
 */
export class Progress {
  private start = 0;
  private label = '';
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly io: CliIO,
    private readonly delayMs = 1000,
    private readonly lineEveryMs = 5000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  begin(label: string): void {
    this.end();
    this.label = label;
    this.start = this.now();
    this.lastDraw = this.start;
    this.drawn = false;
  }

  /** fraction in [0, 1]. */
  update(fraction: number, note = ''): void {
    if (!this.label) return;
    const t = this.now();
    if (t - this.start < this.delayMs) return;
    const pct = Math.max(0, Math.min(1, fraction));
    const secs = ((t - this.start) / 1000).toFixed(1);
    if (this.io.stderrIsTTY) {
      if (this.drawn && t - this.lastDraw < 100) return;
      const width = 24;
      const fill = Math.round(pct * width);
      const bar = `${'#'.repeat(fill)}${'-'.repeat(width - fill)}`;
      this.io.stderr(
        `\r\x1b[2K[${bar}] ${(pct * 100).toFixed(0).padStart(3)}% ${this.label} ${note} ${secs}s`,
      );
    } else {
      if (this.drawn && t - this.lastDraw < this.lineEveryMs) return;
      this.io.stderr(
        `${this.label}: ${(pct * 100).toFixed(0)}% ${note}${note ? ' ' : ''}(${secs} s)\n`,
      );
    }
    this.lastDraw = t;
    this.drawn = true;
  }

  end(): void {
    if (this.label && this.drawn && this.io.stderrIsTTY) this.io.stderr('\r\x1b[2K');
    this.label = '';
    this.drawn = false;
  }
}
