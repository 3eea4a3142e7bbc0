import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { medianOf } from '../../cli/commands/bench';
import { type EvalReport, pairedAgainstBest, parseParamOverrides } from '../../cli/commands/eval';
import { SUBCOMMANDS } from '../../cli/subcommands';
import { runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'localrec-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A log where 12 users each see 14 of 16 items (k = 5 needs >= 11 per user). */
function syntheticCsv(header = 'userId,itemId,timestamp'): string {
  const lines = [header];
  for (let u = 1; u <= 12; u++) {
    for (let p = 0; p < 14; p++)
      lines.push(`${u},${100 + ((p * 3 + u) % 16)},${1000 + p * 10 + (p % 3 === 0 ? 0 : u)}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function run(args: string[]) {
  return runCli(args, dir);
}

/** Exit 2 with exactly one line on stderr and nothing that looks like a stack trace. */
async function expectBadInput(args: string[], pattern: RegExp): Promise<void> {
  const { code, err } = await run(args);
  expect(code).toBe(2);
  expect(err.endsWith('\n')).toBe(true);
  expect(err.trimEnd().split('\n')).toHaveLength(1);
  expect(err).toMatch(pattern);
  expect(err).not.toMatch(/\n\s+at /);
}

describe('localrec eval', () => {
  it('evaluates every baseline, prints a table and writes the JSON report', async () => {
    const data = file('log.csv.gz', gzipSync(syntheticCsv()));
    const { code, out } = await run(['eval', '--data', data, '--refit', '--json', 'out.json']);
    expect(code).toBe(0);
    expect(out).toMatch(/users 12 \(12 evaluated, 0 training only\) · items 16 · interactions 168/);
    for (const m of ['pop', 'sr', 'itemknn', 'sknn', 'vsknn', 'sr+itemknn'])
      expect(out).toMatch(new RegExp(`\\| ${m.replace('+', '\\+')} \\|`));
    const report = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    expect(report.protocol).toBe('last5');
    expect(report.counts).toMatchObject({
      users: 12,
      items: 16,
      interactions: 168,
      train: 48,
      valid: 60,
      test: 60,
    });
    expect(Object.keys(report.models)).toEqual([
      'pop',
      'sr',
      'itemknn',
      'sknn',
      'vsknn',
      'sr+itemknn',
    ]);
    const sr = report.models.sr;
    expect(sr.params).toEqual({ w: 20 });
    expect(sr.fit).toBe('refit');
    expect(typeof sr.fitSeconds).toBe('number');
    for (const split of ['valid', 'test']) {
      for (const m of ['HR@10', 'HR@20', 'MRR@20', 'NDCG@10']) {
        expect(sr[split][m].mean).toBeGreaterThanOrEqual(0);
        expect(sr[split][m].mean).toBeLessThanOrEqual(1);
        expect(sr[split][m].se).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('reads custom columns, applies --params and --k 1, counts training-only users', async () => {
    const csv = syntheticCsv('u,sku,t').concat('99,100,1\r\n99,101,2\r\n');
    const data = file('custom.csv', csv);
    const { code, out } = await run([
      'eval',
      '--data',
      data,
      '--user-col',
      'u',
      '--item-col',
      'sku',
      '--time-col',
      't',
      '--k',
      '1',
      '--models',
      'sr,itemknn',
      '--params',
      'sr.w=3,itemknn.L=2',
      '--json',
      'k1.json',
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/protocol loo \(k=1\)/);
    const report = JSON.parse(readFileSync(join(dir, 'k1.json'), 'utf8'));
    expect(report.counts.trainOnlyUsers).toBe(0); // user 99 has 2 < 3 interactions: dropped
    expect(report.models.sr.params).toEqual({ w: 3 });
    expect(report.models.itemknn.params).toEqual({ shrink: 0, L: 2, neighbors: 0 });
    expect(report.counts.test).toBe(12);
  });

  it('tunes on validation positions only when asked', async () => {
    const data = file('tune.csv', syntheticCsv());
    const { code, out } = await run([
      'eval',
      '--data',
      data,
      '--models',
      'sr',
      '--tune',
      '--json',
      'tune.json',
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/tuned sr on valid NDCG@10: w=/);
    const report = JSON.parse(readFileSync(join(dir, 'tune.json'), 'utf8'));
    const pts = report.models.sr.tuning.points as { params: { w: number }; value: number }[];
    expect(pts.map((p) => p.params.w)).toEqual([1, 2, 5, 10, 20, 50]);
    const best = Math.max(...pts.map((p) => p.value));
    expect(report.models.sr.valid['NDCG@10'].mean).toBeCloseTo(best, 12);
  });

  it('exits 2 with one line on bad input', async () => {
    const ok = file('ok.csv', syntheticCsv());
    await expectBadInput(
      ['eval', '--data', file('nocol.csv', 'userId,itemId,when\n1,2,3\n')],
      /missing time column 'timestamp'/,
    );
    await expectBadInput(
      ['eval', '--data', file('nan.csv', 'userId,itemId,timestamp\n1,2,3\n1,3,soon\n')],
      /line 3: timestamp 'soon' is not a number/,
    );
    await expectBadInput(['eval', '--data', file('empty.csv', '')], /the file is empty/);
    await expectBadInput(
      ['eval', '--data', file('empty.csv.gz', gzipSync(''))],
      /the file is empty/,
    );
    await expectBadInput(
      ['eval', '--data', file('dup.csv', 'userId,itemId,itemId,timestamp\n1,2,3,4\n')],
      /duplicate column 'itemId'/,
    );
    await expectBadInput(
      ['eval', '--data', file('rep.csv', syntheticCsv() + syntheticCsv())],
      /header is repeated/,
    );
    await expectBadInput(
      ['eval', '--data', file('bad.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3]))],
      /not a valid gzip/,
    );
    await expectBadInput(
      ['eval', '--data', join(dir, 'missing.csv')],
      /cannot read .*missing\.csv \(ENOENT\)/,
    );
    await expectBadInput(['eval'], /--data FILE\.csv is required/);
    await expectBadInput(['eval', '--data', ok, '--models', 'pop,nope'], /unknown model 'nope'/);
    await expectBadInput(['eval', '--data', ok, '--k', '0'], /--k must be an integer >= 1/);
    await expectBadInput(['eval', '--data', ok, '--bogus'], /unknown option --bogus/);
    await expectBadInput(
      ['eval', '--data', ok, '--models', 'sr', '--params', 'sr.window=3'],
      /sr has no parameter 'window'/,
    );
    await expectBadInput(
      ['eval', '--data', ok, '--models', 'sr', '--params', 'sr.w=0'],
      /sr: w must be an integer >= 1, got 0/,
    );
    await expectBadInput(['eval', '--data', ok, '--k', '50'], /nothing to evaluate/);
    await expectBadInput(['nope'], /unknown command 'nope'/);
  });

  it('parses --params into per-model overrides', () => {
    expect(parseParamOverrides('sr.w=5, itemknn.shrink=2.5,sr+itemknn.alpha=0.1')).toEqual({
      sr: { w: 5 },
      itemknn: { shrink: 2.5 },
      'sr+itemknn': { alpha: 0.1 },
    });
    expect(() => parseParamOverrides('sr=5')).toThrow(/cannot read 'sr=5'/);
  });

  it('registers subcommands in one table', () => {
    expect(Object.keys(SUBCOMMANDS)).toContain('eval');
  });

  it('runs as a process: exit code 2 and one stderr line, no stack trace', () => {
    const root = resolve(__dirname, '../..');
    const bad = file('proc.csv', 'userId,itemId\n1,2\n');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'cli/localrec.ts'), 'eval', '--data', bad],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `localrec eval: error: ${bad}: missing time column 'timestamp' (header: userId,itemId)`,
    ]);
  });
});

describe('paired differences in the eval report', () => {
  const row = (ndcg: number) =>
    ({ test: { 'NDCG@10': { mean: ndcg, se: 0.01 } } }) as unknown as EvalReport['models'][string];
  it('compares each GRU-based model with the best other model, on the same positions', () => {
    const report = {
      models: { sr: row(0.05), 'sr+itemknn': row(0.2), gru: row(0.1), 'gru+sr+itemknn': row(0.3) },
    } as unknown as EvalReport;
    const ranks = new Map<string, Int32Array>([
      ['sr', Int32Array.from([1, 50, 50, 50])],
      ['sr+itemknn', Int32Array.from([1, 1, 50, 50])],
      ['gru', Int32Array.from([50, 1, 50, 50])],
      ['gru+sr+itemknn', Int32Array.from([1, 1, 1, 50])],
    ]);
    const paired = pairedAgainstBest(report, ranks);
    expect(paired.map((p) => [p.model, p.reference])).toEqual([
      ['gru', 'sr+itemknn'],
      ['gru+sr+itemknn', 'sr+itemknn'],
    ]);
    // rank 1 → NDCG 1, rank 50 → 0: gru − mix = (−1 + 0 + 0 + 0) / 4
    expect(paired[0].metrics['NDCG@10'].mean).toBeCloseTo(-0.25, 12);
    expect(paired[1].metrics['NDCG@10'].mean).toBeCloseTo(0.25, 12);
    expect(paired[1].metrics['NDCG@10'].se).toBeCloseTo(0.25, 12); // std([0,0,1,0]) / 2
  });

  it('prints nothing to compare when no GRU model or no other model ran', () => {
    const report = { models: { gru: row(0.1) } } as unknown as EvalReport;
    expect(pairedAgainstBest(report, new Map([['gru', new Int32Array(2)]]))).toEqual([]);
  });
});

describe('localrec bench train', () => {
  it('times --repeat runs and reports their median with every run', async () => {
    const data = file('bench.csv', syntheticCsv());
    const params = 'hiddenSize=4,batchSize=4,negatives=4';
    const { code, out } = await run([
      'bench',
      'train',
      '--data',
      data,
      '--params',
      params,
      '--repeat',
      '5',
      '--score-reps',
      '5',
      '--json',
    ]);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.runs).toHaveLength(5);
    const sorted = r.runs
      .map((x: { eventsPerSecond: number }) => x.eventsPerSecond)
      .sort((a: number, b: number) => a - b);
    expect(r.eventsPerSecond).toBe(sorted[2]);
    expect(r.settings).toMatch(/hiddenSize=4,epochs=1,batchSize=4,negatives=4/);
  });

  it('medianOf: middle value, or the mean of the two middle ones', () => {
    expect(medianOf([9, 1, 5])).toBe(5);
    expect(medianOf([4, 1, 3, 2])).toBe(2.5);
    expect(medianOf([7])).toBe(7);
  });

  it('refuses --repeat 0 with one line', async () => {
    await expectBadInput(
      ['bench', 'train', '--repeat', '0'],
      /--repeat must be an integer >= 1, got '0'/,
    );
  });
});
