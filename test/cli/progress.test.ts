import { describe, expect, it } from 'vitest';
import { type CliIO, Progress } from '../../cli/io';

function setup(tty: boolean) {
  let now = 0;
  let err = '';
  const io: CliIO = { stdout: () => {}, stderr: (t) => (err += t), stderrIsTTY: tty, cwd: '.' };
  const p = new Progress(io, 1000, 5000, () => now);
  return {
    p,
    tick: (ms: number) => {
      now += ms;
    },
    err: () => err,
  };
}

describe('Progress', () => {
  it('stays silent for work under a second', () => {
    const s = setup(true);
    s.p.begin('sr valid');
    s.tick(900);
    s.p.update(0.9);
    s.p.end();
    expect(s.err()).toBe('');
  });

  it('redraws one bar line on a TTY and clears it at the end', () => {
    const s = setup(true);
    s.p.begin('itemknn test');
    s.tick(1200);
    s.p.update(0.5, '1/2');
    expect(s.err()).toBe(
      `\r\x1b[2K[${'#'.repeat(12)}${'-'.repeat(12)}]  50% itemknn test 1/2 1.2s`,
    );
    s.p.end();
    expect(s.err().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('prints plain lines every few seconds when stderr is not a TTY', () => {
    const s = setup(false);
    s.p.begin('vsknn valid');
    s.tick(1100);
    s.p.update(0.2);
    s.tick(1000);
    s.p.update(0.4); // too soon for another line
    s.tick(5000);
    s.p.update(0.9);
    s.p.end();
    expect(s.err().split('\n').filter(Boolean)).toEqual([
      'vsknn valid: 20% (1.1 s)',
      'vsknn valid: 90% (7.1 s)',
    ]);
  });
});
