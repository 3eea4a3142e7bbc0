// The demo's committed data files (demo/assets/, written by scripts/demo-data.ts) agree
// with the offline protocol, and the pretrained model never saw the held-back visitors.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseInteractionsCsv } from '../../src/eval/csv';
import { prepareDataset } from '../../src/eval/protocol';
import { deserializeGru } from '../../src/model/serialize';

const ROOT = join(import.meta.dirname, '..', '..');
const ASSETS = join(ROOT, 'demo', 'assets');
const json = (name: string) => JSON.parse(readFileSync(join(ASSETS, name), 'utf8'));

const ratings = gunzipSync(
  readFileSync(join(ROOT, 'data/movielens-small/ratings.csv.gz')),
).toString('utf8');
const data = prepareDataset(parseInteractionsCsv(ratings));
const catalog = json('catalog.json') as {
  genres: string[];
  items: [number, string, number | null, number[], number][];
};
const manifest = json('manifest.json');
const heldBack = new Set<number>(manifest.heldBackUsers);

describe('demo data', () => {
  it('catalog: the 3,496 items the protocol keeps, with titles and popularity', () => {
    expect(catalog.items).toHaveLength(3496);
    expect(catalog.items.map((i) => i[0])).toEqual(Array.from(data.itemIds));
    expect(manifest.catalogItems).toBe(3496);
    const pop = catalog.items.reduce((s, i) => s + i[4], 0);
    expect(pop).toBe(data.counts.interactions);
    const toy = catalog.items.find((i) => i[0] === 1);
    expect(toy?.[1]).toBe('Toy Story');
    expect(toy?.[2]).toBe(1995);
    expect(toy?.[3].map((g) => catalog.genres[g])).toContain('Animation');
    for (const i of catalog.items) expect(i[1].length).toBeGreaterThan(0);
  });

  it('visitors: 20 held-back users, their histories in protocol order', () => {
    const { visitors } = json('visitors.json') as {
      visitors: { user: number; history: number[] }[];
    };
    expect(visitors).toHaveLength(20);
    expect(heldBack.size).toBe(20);
    for (const v of visitors) {
      expect(heldBack.has(v.user)).toBe(true);
      const u = Array.from(data.userIds).indexOf(v.user);
      const seq = data.full.items.subarray(data.full.offsets[u], data.full.offsets[u + 1]);
      expect(v.history).toEqual(Array.from(seq, (i) => data.itemIds[i]));
    }
  });

  it('no held-back visitor is in the pretraining data or the baselines’ data', () => {
    // The pretraining log: every rating row of every other user.
    const lines = ratings.trim().split('\n').slice(1);
    const others = lines.filter((l) => !heldBack.has(Number(l.slice(0, l.indexOf(',')))));
    expect(manifest.pretrain.rows).toBe(others.length);
    expect(manifest.pretrain.rows).toBeLessThan(lines.length);
    const pre = prepareDataset(
      parseInteractionsCsv(`userId,movieId,rating,timestamp\n${others.join('\n')}`),
    );
    expect(manifest.pretrain).toMatchObject({
      users: pre.counts.users,
      items: pre.counts.items,
      interactions: pre.counts.interactions,
    });
    expect(pre.counts.users).toBe(data.counts.users - 20);

    // The model's vocabulary is that log's item set, and it was trained on that log's
    // next-item pairs (interactions - users of them; the 'wrap' tail trains full
    // batches, ceil(pairs / B) steps of B per epoch; with the visitors' 774 pairs it
    // would be more).
    const model = deserializeGru(readFileSync(join(ASSETS, 'model.bin')));
    try {
      expect(model.vocab).toEqual(Array.from(pre.itemIds, String));
      const epochs = model.meta.epochs;
      expect(epochs).toBeGreaterThan(0);
      const B = Number(/batchSize=(\d+)/.exec(manifest.pretrain.output)?.[1]);
      expect(B).toBeGreaterThan(0);
      const pairs = pre.counts.interactions - pre.counts.users;
      expect(model.meta.trainedEvents).toBe(Math.ceil(pairs / B) * B * epochs);
    } finally {
      model.dispose();
    }

    // sessions.bin (what the page fits its baselines on): the same 651 users.
    const bin = readFileSync(join(ASSETS, 'sessions.bin'));
    const dv = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
    expect(bin.subarray(0, 4).toString('latin1')).toBe('LRSQ');
    expect(dv.getUint32(4, true)).toBe(data.counts.users - 20);
    let visitorsEvents = 0;
    for (let u = 0; u < data.numUsers; u++) {
      if (heldBack.has(data.userIds[u]))
        visitorsEvents += data.full.offsets[u + 1] - data.full.offsets[u];
    }
    expect(dv.getUint32(8, true)).toBe(data.counts.interactions - visitorsEvents);
    expect(dv.getUint32(12, true)).toBe(3496);
  });

  it('model.bin: a valid localrec GRU file small enough for a page', () => {
    const bytes = readFileSync(join(ASSETS, 'model.bin'));
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('LRGR');
    expect(statSync(join(ASSETS, 'model.bin')).size).toBeLessThanOrEqual(2 * 1024 * 1024);
    const model = deserializeGru(bytes); // checks the checksum, config and weights
    try {
      expect(model.config.hiddenSize).toBe(64);
      const ids = new Set(catalog.items.map((i) => String(i[0])));
      expect(model.vocab?.every((id) => ids.has(id))).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('results.json is the CLI report; NOTICE.md carries the MovieLens terms', () => {
    const results = json('results.json');
    expect(results.command).toMatch(/localrec\.ts eval --data data\/movielens-small/);
    expect(results.report.counts).toMatchObject({ items: 3496, users: 671 });
    expect(Object.keys(results.report.models)).toEqual(
      expect.arrayContaining(['pop', 'sr', 'itemknn', 'sknn', 'vsknn', 'sr+itemknn']),
    );
    for (const m of Object.values(results.report.models) as { test: object }[])
      expect(m.test).toHaveProperty('HR@10');
    const notice = readFileSync(join(ASSETS, 'NOTICE.md'), 'utf8');
    expect(notice).toMatch(/GroupLens/);
    expect(notice).toMatch(/non-commercial/);
    expect(notice).toMatch(/Harper and Joseph A\. Konstan/);
  });
});
