import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvalReport } from '../../cli/commands/eval';
import { runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'localrec-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KNOBS = ['--users', '150', '--items', '60', '--intents', '6', '--intent-size', '10'];

describe('localrec synth + eval --oracle', () => {
  it('writes a log and a spec; eval scores the oracle beside the models on the same positions', async () => {
    const made = await runCli(['synth', '--out', 'a.csv', '--preset', 'strong', ...KNOBS], dir);
    expect(made.code).toBe(0);
    expect(made.err).toBe('');
    const spec = JSON.parse(readFileSync(join(dir, 'a.spec.json'), 'utf8'));
    expect(spec.options).toMatchObject({ numUsers: 150, numItems: 60, switch: 0, intent: 0.6 });
    const res = await runCli(
      [
        'eval',
        '--data',
        'a.csv',
        '--oracle',
        'a.spec.json',
        '--models',
        'pop,sr',
        '--json',
        'r.json',
      ],
      dir,
    );
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/\| oracle \|/);
    expect(res.out).toMatch(/share of the oracle/);
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as EvalReport;
    expect(Object.keys(report.models)).toEqual(['pop', 'sr', 'oracle']);
    const oracle = report.models.oracle.test;
    for (const name of ['pop', 'sr']) {
      // The oracle is the ceiling on every metric here, and the share is the ratio.
      expect(report.models[name].test['HR@20'].mean).toBeLessThan(oracle['HR@20'].mean);
      expect(report.oracleShare?.[name]['HR@20']).toBeCloseTo(
        report.models[name].test['HR@20'].mean / oracle['HR@20'].mean,
        12,
      );
    }
  });

  it('refuses a spec that did not generate the data', async () => {
    expect((await runCli(['synth', '--out', 'b.csv', ...KNOBS], dir)).code).toBe(0);
    expect((await runCli(['synth', '--out', 'c.csv', '--seed', '2', ...KNOBS], dir)).code).toBe(0);
    const res = await runCli(['eval', '--data', 'b.csv', '--oracle', 'c.spec.json'], dir);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/is not the log this spec generates/);
    writeFileSync(join(dir, 'bad.json'), '{"kind":"other"}');
    const bad = await runCli(['eval', '--data', 'b.csv', '--oracle', 'bad.json'], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/not a localrec synthetic spec/);
  });

  it('warns when the default filter would drop items (the oracle would refuse)', async () => {
    const res = await runCli(
      [
        'synth',
        '--out',
        'e.csv',
        '--preset',
        'strong',
        '--users',
        '120',
        '--items',
        '100',
        '--intents',
        '10',
        '--intent-size',
        '10',
      ],
      dir,
    );
    expect(res.code).toBe(0);
    expect(res.err).toMatch(/^warning: \d+ items have fewer than 5 interactions/);
    const ev = await runCli(['eval', '--data', 'e.csv', '--oracle', 'e.spec.json'], dir);
    expect(ev.code).toBe(2);
    expect(ev.err).toMatch(/the oracle would not be exact/);
  });

  it('refuses knobs that make no world, naming the knob', async () => {
    const res = await runCli(['synth', '--out', 'd.csv', '--intent', '0.8', '--chain', '0.3'], dir);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/chain/);
  });
});
