import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProtocolData } from '../../cli/commands/bench';
import type { CliIO } from '../../cli/io';
import { main } from '../../cli/main';
import { buildPopulation } from '../../src/baselines/population';
import { readModelFile } from '../../src/model/serialize';
import { halfRounded } from '../model/helpers';

const dir = mkdtempSync(join(tmpdir(), 'localrec-pretrain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 12 users each see 14 of 16 items. */
function syntheticCsv(): string {
  const lines = ['userId,itemId,timestamp'];
  for (let u = 1; u <= 12; u++) {
    for (let p = 0; p < 14; p++)
      lines.push(`${u},${100 + ((p * 3 + u) % 16)},${1000 + p * 10 + (p % 3 === 0 ? 0 : u)}`);
  }
  return `${lines.join('\n')}\n`;
}

function io(): CliIO & { out: string; err: string } {
  const r = {
    out: '',
    err: '',
    stdout: (t: string) => {
      r.out += t;
    },
    stderr: (t: string) => {
      r.err += t;
    },
    stderrIsTTY: false,
    cwd: dir,
  };
  return r;
}

const TINY = 'epochs=1,hiddenSize=4,batchSize=4,negatives=4';

describe('localrec pretrain', () => {
  const data = join(dir, 'log.csv');
  writeFileSync(data, syntheticCsv());

  it('writes the population of the training sequences beside the GRU', async () => {
    const out = io();
    const code = await main(
      [
        'pretrain',
        '--data',
        data,
        '--out',
        'm.bin',
        '--params',
        `${TINY},beta=0.4,mixAlpha=0.35`,
        '--neighbours',
        '5',
        '--sr-neighbours',
        '3',
      ],
      out,
    );
    expect(out.err).not.toMatch(/error/);
    expect(code).toBe(0);
    const file = readModelFile(readFileSync(join(dir, 'm.bin')));
    const fit = loadProtocolData(data, out).train;
    expect(file.model.config.numItems).toBe(fit.numItems);
    file.model.dispose();
    const expected = buildPopulation(fit, { srWidth: 3, knnWidth: 5, alpha: 0.35, beta: 0.4 });
    expect([expected.sr.width, expected.knn.width]).toEqual([3, 5]);
    // the file stores list weights as float16
    expect(file.population).toEqual(halfRounded(expected));
    // f32 counts; u16 ids and f16 weights, each array padded to 4 bytes
    const lists = (width: number) => 2 * Math.ceil((2 * fit.numItems * width) / 4) * 4;
    const bytes = 4 * fit.numItems + lists(expected.sr.width) + lists(expected.knn.width);
    expect(out.out).toMatch(new RegExp(`\\(population ${bytes} bytes`));
    expect(out.out).toMatch(/beta=0\.4,mixAlpha=0\.35/);
  });

  it('keeps 20 SR successors and 50 item-kNN neighbours by default', async () => {
    const out = io();
    expect(await main(['pretrain', '--data', data, '--out', 'd.bin', '--params', TINY], out)).toBe(
      0,
    );
    const file = readModelFile(readFileSync(join(dir, 'd.bin')));
    file.model.dispose();
    const fit = loadProtocolData(data, out).train;
    // lists no wider than the longest row (16 items here), so compare with the library
    const expected = buildPopulation(fit, { srWidth: 20, knnWidth: 50 });
    expect(file.population).toEqual(halfRounded(expected));
    const help = io();
    expect(await main(['pretrain', '--help'], help)).toBe(0);
    expect(help.out).toMatch(/--neighbours.*item-kNN.*default 50/);
    expect(help.out).toMatch(/--sr-neighbours.*SR.*default 20/);
    expect(help.out).toMatch(/--precision.*f32, f16 or i8.*default i8/);
  });

  it('writes the item matrix as f32 or f16 with --precision, i8 by default', async () => {
    const files: Record<string, Buffer> = {};
    for (const precision of ['f32', 'f16', undefined]) {
      const out = io();
      const name = `p-${precision ?? 'default'}.bin`;
      const flag = precision ? ['--precision', precision] : [];
      expect(
        await main(['pretrain', '--data', data, '--out', name, '--params', TINY, ...flag], out),
      ).toBe(0);
      expect(out.out).toMatch(new RegExp(`${precision ?? 'i8'} item matrix`));
      files[precision ?? 'i8'] = readFileSync(join(dir, name));
    }
    // f32 is a version-2 file (older readers read it); f16 and i8 are version 3, smaller
    const version = (b: Buffer) => b.readUInt32LE(4);
    expect(version(files.f32)).toBe(2);
    expect(version(files.f16)).toBe(3);
    expect(version(files.i8)).toBe(3);
    expect(files.f16.length).toBeLessThan(files.f32.length);
    expect(files.i8.length).toBeLessThan(files.f16.length);
    // the same training run (seeded): the weights are the f32 ones, rounded
    const f32 = readModelFile(files.f32);
    const i8 = readModelFile(files.i8);
    const a = f32.model.toArrays().items;
    const b = i8.model.toArrays().items;
    const width = f32.model.config.hiddenSize + 1;
    for (let o = 0; o < a.length; o += width) {
      let max = 0;
      for (let j = o; j < o + width; j++) max = Math.max(max, Math.abs(a[j]));
      for (let j = o; j < o + width; j++)
        expect(Math.abs(b[j] - a[j])).toBeLessThanOrEqual(max / 254 + max * 2 ** -23);
    }
    expect(Array.from(i8.model.toArrays().wh)).toEqual(Array.from(f32.model.toArrays().wh));
    expect(i8.population).toEqual(f32.population);
    f32.model.dispose();
    i8.model.dispose();
    const bad = io();
    expect(
      await main(['pretrain', '--data', data, '--out', 'x.bin', '--precision', 'f8'], bad),
    ).toBe(2);
    expect(bad.err).toMatch(/--precision 'f8' is not one of f32, f16, i8/);
  });

  it('omits it with --no-population, and refuses bad mix settings', async () => {
    const out = io();
    expect(
      await main(
        ['pretrain', '--data', data, '--out', 'g.bin', '--params', TINY, '--no-population'],
        out,
      ),
    ).toBe(0);
    expect(out.out).toMatch(/no population/);
    const file = readModelFile(readFileSync(join(dir, 'g.bin')));
    expect(file.population).toBeNull();
    file.model.dispose();
    for (const args of [
      ['--params', `${TINY},beta=1.5`],
      ['--params', `${TINY},gamma=1`],
      ['--neighbours', '0'],
      ['--neighbours', '5', '--no-population'],
      ['--sr-neighbours', '0'],
      ['--sr-neighbours', '2', '--no-population'],
    ]) {
      const bad = io();
      expect(await main(['pretrain', '--data', data, '--out', 'x.bin', ...args], bad)).toBe(2);
      expect(bad.err.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});
