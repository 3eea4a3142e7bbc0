// `localrec eval --protocol replay` end to end on a tiny planted log: the product's own
// Recommender replays held-out users in-process; the JSON has the other protocols' shape.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReplayReport } from '../../cli/replay';
import { Rng } from '../../src/model/rng';
import { runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'localrec-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 40 users × 24 distinct items of 30, item 17 always right after item 5. */
function plantedCsv(): string {
  const rng = new Rng(3);
  const lines = ['userId,itemId,timestamp'];
  for (let u = 1; u <= 40; u++) {
    let t = 1_600_000_000 + u * 100_000;
    const seen = new Set<number>();
    while (seen.size < 24) {
      const i = rng.int(30);
      if (i === 17 || seen.has(i)) continue;
      for (const j of i === 5 && !seen.has(17) ? [5, 17] : [i]) {
        if (seen.size >= 24) break;
        seen.add(j);
        lines.push(`${u},${j},${(t += 60)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const run = (args: string[]) => runCli(args, dir);
/** Replays 4 held-out users of the log (3 more for validation). */
const REPLAY = [
  'eval',
  '--protocol',
  'replay',
  '--data',
  'log.csv',
  '--users',
  '4',
  '--validation-users',
  '3',
];

describe('localrec eval --protocol replay', () => {
  it('replays held-out users through the Recommender and reports every variant', async () => {
    writeFileSync(join(dir, 'log.csv'), plantedCsv());
    const { code, out, err } = await run([
      ...REPLAY,
      '--pretrain-params',
      // lists as wide as the catalogue and the offline L: the served lists hold the exact mix
      'hiddenSize=16,epochs=4,batchSize=16,negatives=16,lr=0.1,dropoutHidden=0,srWidth=30,knnWidth=30,mixL=10',
      '--variants',
      'served,pretrained,finetuned,continued,sr,sr+itemknn,sr+itemknn-lists',
      '--save-model',
      'model.bin',
      '--json',
      'replay.json',
    ]);
    expect(err).not.toMatch(/error/);
    expect(code).toBe(0);
    expect(out).toMatch(/\| served − pretrained \|/);
    const r = JSON.parse(readFileSync(join(dir, 'replay.json'), 'utf8')) as ReplayReport;
    expect(r.protocol).toBe('replay');
    expect(r.users).toBe(4);
    // 4 users × positions 5..23
    expect(r.positions).toBe(4 * 19);
    for (const name of ['served', 'pretrained', 'continued', 'sr', 'sr+itemknn']) {
      const m = r.models[name].test['NDCG@10'];
      expect(m.mean).toBeGreaterThanOrEqual(0);
      expect(m.se).toBeGreaterThanOrEqual(0);
      expect(r.models[name].ranges['5-9']['HR@10'].mean).toBeGreaterThanOrEqual(0);
    }
    // The device trained every 5 events for the variants that train; by default (blend 0)
    // there is nothing to learn when the model knows every item of the visitor.
    expect(r.models.finetuned.updates?.count).toBe(4 * 4);
    expect(r.models.continued.updates?.count).toBe(4 * 4);
    expect(r.models.served.updates).toBeUndefined();
    expect(r.models.pretrained.updates).toBeUndefined();
    // With the lists as wide as the catalogue, the served lists give the exact mix.
    expect(r.models['sr+itemknn-lists'].test['NDCG@10'].mean).toBeCloseTo(
      r.models['sr+itemknn'].test['NDCG@10'].mean,
      6,
    );
    expect(r.paired.find((p) => p.a === 'served' && p.b === 'pretrained')).toBeTruthy();

    // The saved model replays the same numbers without pretraining again.
    const again = await run([
      ...REPLAY,
      '--model',
      'model.bin',
      '--variants',
      'pretrained',
      '--json',
      'again.json',
    ]);
    expect(again.code).toBe(0);
    const r2 = JSON.parse(readFileSync(join(dir, 'again.json'), 'utf8')) as ReplayReport;
    expect(r2.models.pretrained.test).toEqual(r.models.pretrained.test);
  });

  it('counts a diverged training run and serves on, as a page does', async () => {
    // A rate that makes every update diverge: each run is refused, the model is kept.
    const { code, err } = await run([
      ...REPLAY,
      '--model',
      'model.bin',
      '--variants',
      'finetuned',
      '--served',
      'lr=1e9,blend=1,populationNegatives=0',
      '--json',
      'diverged.json',
    ]);
    expect(code, err).toBe(0);
    expect(err).toMatch(/training runs refused as diverged/);
    const r = JSON.parse(readFileSync(join(dir, 'diverged.json'), 'utf8')) as ReplayReport;
    expect(r.models.finetuned.diverged).toBeGreaterThan(0);
    expect(r.models.finetuned.test['NDCG@10'].mean).toBeGreaterThanOrEqual(0);
  });

  it('refuses an unknown variant, split or protocol with one line', async () => {
    for (const [args, pattern] of [
      [['--variants', 'nope'], /unknown replay variant 'nope'/],
      [['--split', 'train'], /--split must be test or validation/],
    ] as const) {
      const { code, err } = await run([
        'eval',
        '--protocol',
        'replay',
        '--data',
        'log.csv',
        ...args,
      ]);
      expect(code).toBe(2);
      expect(err).toMatch(pattern);
    }
    const { code, err } = await run(['eval', '--protocol', 'next', '--data', 'log.csv']);
    expect(code).toBe(2);
    expect(err).toMatch(/unknown --protocol 'next'/);
  });
});
