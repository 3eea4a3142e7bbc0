import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GruModel } from '../../src/model/model';
import { serializeGru, type WeightPrecision } from '../../src/model/serialize';
import { runCli } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'localrec-cli-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 12 users, 14 of 16 items each (ids 100..115). */
function csv(): string {
  const lines = ['userId,itemId,timestamp'];
  for (let u = 1; u <= 12; u++)
    for (let p = 0; p < 14; p++) lines.push(`${u},${100 + ((p * 5 + u) % 16)},${1000 + p * 10}`);
  return `${lines.join('\n')}\n`;
}

/** A seeded model over `ids`, its rows stored in the order `order` (a permutation). */
function modelFile(
  name: string,
  ids: number[],
  order: number[],
  precision: WeightPrecision = 'f32',
): string {
  const base = GruModel.create({ numItems: ids.length, hiddenSize: 8 }, { seed: 5 });
  const a = base.toArrays();
  const w = 9;
  const items = new Float32Array(a.items.length);
  order.forEach((from, to) => {
    items.set(a.items.subarray(from * w, from * w + w), to * w);
  });
  const model = GruModel.fromArrays(
    base.config,
    { ...a, items },
    order.map((j) => String(ids[j])),
    base.meta,
  );
  const path = join(dir, name);
  writeFileSync(path, new Uint8Array(serializeGru(model, null, { precision })));
  return path;
}

describe('localrec eval --model FILE', () => {
  const data = join(dir, 'log.csv');
  writeFileSync(data, csv());
  const ids = Array.from({ length: 16 }, (_, j) => 100 + j);

  it("scores the file's GRU as gru-file, matching rows to items by the file's vocabulary", async () => {
    const straight = modelFile('a.bin', ids, [...ids.keys()]);
    const shuffled = modelFile(
      'b.bin',
      ids,
      [...ids.keys()].map((j) => (j * 7) % 16),
    );
    const reports = [];
    for (const [m, out] of [
      [straight, 'a.json'],
      [shuffled, 'b.json'],
    ]) {
      const r = await runCli(
        ['eval', '--data', data, '--models', 'pop', '--model', m, '--json', out],
        dir,
      );
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/\| gru-file \|/);
      reports.push(JSON.parse(readFileSync(join(dir, out), 'utf8')).models['gru-file']);
    }
    // the same weights per item, stored in another order: the same ranks
    expect(reports[1].test).toEqual(reports[0].test);
    expect(reports[1].valid).toEqual(reports[0].valid);
    expect(reports[0].test['NDCG@10'].mean).not.toEqual(
      JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')).models.pop.test['NDCG@10'].mean,
    );
  });

  it('scores several files in one run and pairs each later one against the first', async () => {
    const order = [...ids.keys()];
    const f32 = modelFile('p32.bin', ids, order);
    const i8 = modelFile('p8.bin', ids, order, 'i8');
    const r = await runCli(
      [
        'eval',
        '--data',
        data,
        '--models',
        'pop',
        '--model',
        `${f32},${i8},${f32}`,
        '--json',
        'pairs.json',
      ],
      dir,
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\| gru-file-2 \|/);
    expect(r.out).toMatch(
      /paired on test \(same positions\): gru-file-2 − gru-file = HR@10.*NDCG@10/,
    );
    const report = JSON.parse(readFileSync(join(dir, 'pairs.json'), 'utf8'));
    const pair = (model: string) =>
      report.paired.find(
        (p: { model: string; reference: string }) =>
          p.model === model && p.reference === 'gru-file',
      );
    // the same file twice: no difference at any position
    for (const m of ['NDCG@10', 'HR@20'])
      expect(pair('gru-file-3').metrics[m]).toEqual({ mean: 0, se: 0 });
    // the i8 file: the paired mean is the difference of the two means
    for (const m of ['NDCG@10', 'HR@20']) {
      const d = report.models['gru-file-2'].test[m].mean - report.models['gru-file'].test[m].mean;
      expect(pair('gru-file-2').metrics[m].mean).toBeCloseTo(d, 12);
    }
    // each file is still paired against the best other model too
    expect(report.paired.some((p: { reference: string }) => p.reference === 'pop')).toBe(true);
  });

  it('refuses a file whose vocabulary lacks items of the data, or that is not a model', async () => {
    const short = modelFile('short.bin', ids.slice(0, 15), [...ids.slice(0, 15).keys()]);
    const r = await runCli(['eval', '--data', data, '--models', 'pop', '--model', short], dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/vocabulary lacks 1 of the data's 16 items/);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'not a model at all');
    const j = await runCli(['eval', '--data', data, '--models', 'pop', '--model', junk], dir);
    expect(j.code).toBe(2);
    expect(j.err).toMatch(/MODEL_CORRUPT|corrupt/);
  });
});
