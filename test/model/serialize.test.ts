import { beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../src/api/errors';
import { buildPopulation } from '../../src/baselines/population';
import { GruModel } from '../../src/model/model';
import type { PopulationStats } from '../../src/model/population';
import {
  deserializeGru,
  FORMAT_VERSION,
  fnv1a,
  populationByteLength,
  readModelFile,
  serializeGru,
} from '../../src/model/serialize';
import { seqs } from '../baselines/helpers';
import { useBackend } from './helpers';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('model serialisation', () => {
  beforeAll(() => useBackend('wasm'));

  for (const embedding of ['tied', 'separate'] as const) {
    it(`round-trips weights, config, vocabulary (${embedding})`, () => {
      const m = GruModel.create(
        { numItems: 12, hiddenSize: 5, embedding, embeddingSize: 3 },
        { seed: 4, vocab: Array.from({ length: 12 }, (_, i) => `sku-${i}`) },
      );
      const buf = serializeGru(m);
      expect(buf).toBeInstanceOf(ArrayBuffer);
      const r = deserializeGru(buf);
      expect(r.config).toEqual(m.config);
      expect(r.vocab).toEqual(m.vocab);
      const a = m.toArrays();
      const b = r.toArrays();
      expect(Array.from(b.items)).toEqual(Array.from(a.items));
      expect(Array.from(b.wx)).toEqual(Array.from(a.wx));
      expect(b.emb && Array.from(b.emb)).toEqual(a.emb && Array.from(a.emb));
      expect(Array.from(r.scorer().scores(Int32Array.from([1, 5])))).toEqual(
        Array.from(m.scorer().scores(Int32Array.from([1, 5]))),
      );
      // a view with an offset works too
      const padded = new Uint8Array(buf.byteLength + 3);
      padded.set(new Uint8Array(buf), 3);
      deserializeGru(padded.subarray(3)).dispose();
      m.dispose();
      r.dispose();
    });
  }

  it('refuses corrupt buffers with MODEL_CORRUPT and others with MODEL_MISMATCH', () => {
    const m = GruModel.create({ numItems: 12, hiddenSize: 5 }, { seed: 4 });
    const buf = serializeGru(m);
    const u8 = new Uint8Array(buf);
    const flip = (i: number) => {
      const c = u8.slice();
      c[i] ^= 0x40;
      return c.buffer;
    };
    expect(code(() => deserializeGru(new ArrayBuffer(0)))).toBe('MODEL_CORRUPT');
    expect(code(() => deserializeGru(buf.slice(0, buf.byteLength - 9)))).toBe('MODEL_CORRUPT');
    expect(code(() => deserializeGru(flip(0)))).toBe('MODEL_CORRUPT');
    expect(code(() => deserializeGru(flip(20)))).toBe('MODEL_CORRUPT');
    expect(code(() => deserializeGru(flip(buf.byteLength - 40)))).toBe('MODEL_CORRUPT');
    expect(code(() => deserializeGru(flip(buf.byteLength - 1)))).toBe('MODEL_CORRUPT');
    const v2 = u8.slice();
    new DataView(v2.buffer).setUint32(4, 99, true);
    expect(code(() => deserializeGru(v2.buffer))).toBe('MODEL_MISMATCH');
    expect(code(() => deserializeGru(buf, { numItems: 13 }))).toBe('MODEL_MISMATCH');
    expect(code(() => deserializeGru(buf, { hiddenSize: 5, numItems: 12 }))).toBeUndefined();
    // every single-byte flip is refused
    let refused = 0;
    for (let i = 0; i < u8.length; i += 7)
      if (hasCode(tryLoad(flip(i)), 'MODEL_CORRUPT') || hasCode(tryLoad(flip(i)), 'MODEL_MISMATCH'))
        refused++;
    expect(refused).toBe(Math.ceil(u8.length / 7));
    m.dispose();
  });
});

/**
 * A format-1 file written the way version 1 did, independently of `serializeGru`:
 * magic, version 1, padded JSON header, float32 weights, FNV-1a.
 */
function writeV1(m: GruModel): ArrayBuffer {
  const a = m.toArrays();
  let hb = new TextEncoder().encode(
    JSON.stringify({ kind: 'gru4rec', config: m.config, vocab: m.vocab, meta: m.meta }),
  );
  const padded = new Uint8Array((hb.length + 3) & ~3).fill(0x20);
  padded.set(hb);
  hb = padded;
  const weights = [a.items, ...(a.emb ? [a.emb] : []), a.wx, a.wh, a.b];
  const floats = weights.reduce((s, x) => s + x.length, 0);
  const buf = new ArrayBuffer(12 + hb.length + floats * 4 + 4);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  u8.set([0x4c, 0x52, 0x47, 0x52]);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, hb.length, true);
  u8.set(hb, 12);
  let off = 12 + hb.length;
  for (const x of weights)
    for (let i = 0; i < x.length; i++, off += 4) dv.setFloat32(off, x[i], true);
  dv.setUint32(off, fnv1a(u8.subarray(0, off)), true);
  return buf;
}

/** A copy of `buf` changed by `edit`, with its checksum made valid again. */
function edited(buf: ArrayBuffer, edit: (u8: Uint8Array, dv: DataView) => void): ArrayBuffer {
  const u8 = new Uint8Array(buf.slice(0));
  const dv = new DataView(u8.buffer);
  edit(u8, dv);
  dv.setUint32(u8.length - 4, fnv1a(u8.subarray(0, u8.length - 4)), true);
  return u8.buffer;
}

const FIT = seqs(
  [
    [0, 1, 2, 3, 4],
    [1, 2, 5, 2],
    [6, 0, 3, 1, 7],
    [8, 9, 10, 11, 8],
    [4, 11, 3],
  ],
  12,
);

describe('model file with population (format 2)', () => {
  beforeAll(() => useBackend('wasm'));

  const population = (): PopulationStats =>
    buildPopulation(FIT, { width: 3, alpha: 0.4, beta: 0.25, w: 5, shrink: 1, L: 4 });

  it('round-trips the population beside the model, and reads files without one', () => {
    expect(FORMAT_VERSION).toBe(2);
    const m = GruModel.create({ numItems: 12, hiddenSize: 5 }, { seed: 4 });
    const pop = population();
    const buf = serializeGru(m, pop);
    expect(new DataView(buf).getUint32(4, true)).toBe(2);
    expect(buf.byteLength - serializeGru(m).byteLength).toBeGreaterThan(populationByteLength(pop));
    const r = readModelFile(buf, { numItems: 12 });
    expect(r.population).toEqual(pop);
    expect(r.population?.sr.ids).toBeInstanceOf(Int32Array);
    expect(Array.from(r.model.toArrays().wx)).toEqual(Array.from(m.toArrays().wx));
    r.model.dispose();
    // an unaligned view
    const shifted = new Uint8Array(buf.byteLength + 1);
    shifted.set(new Uint8Array(buf), 1);
    const s = readModelFile(shifted.subarray(1));
    expect(s.population).toEqual(pop);
    s.model.dispose();
    // deserializeGru reads the same model and leaves the population aside
    const g = deserializeGru(buf);
    expect(Array.from(g.toArrays().items)).toEqual(Array.from(m.toArrays().items));
    g.dispose();
    // format 2 without a population
    const none = readModelFile(serializeGru(m));
    expect(none.population).toBeNull();
    none.model.dispose();
    m.dispose();
  });

  it('still reads format 1 files', () => {
    for (const embedding of ['tied', 'separate'] as const) {
      const m = GruModel.create(
        { numItems: 12, hiddenSize: 5, embedding, embeddingSize: 3 },
        { seed: 9, vocab: Array.from({ length: 12 }, (_, i) => `v${i}`) },
      );
      const v1 = writeV1(m);
      const r = readModelFile(v1, { numItems: 12 });
      expect(r.population).toBeNull();
      expect(r.model.config).toEqual(m.config);
      expect(r.model.vocab).toEqual(m.vocab);
      expect(r.model.meta).toEqual(m.meta);
      const a = m.toArrays();
      const b = r.model.toArrays();
      expect(Array.from(b.items)).toEqual(Array.from(a.items));
      expect(Array.from(b.wh)).toEqual(Array.from(a.wh));
      expect(b.emb && Array.from(b.emb)).toEqual(a.emb && Array.from(a.emb));
      r.model.dispose();
      deserializeGru(v1).dispose();
      // the same bytes as format 2 without a population, but for the version
      expect(new Uint8Array(edited(serializeGru(m), (_, dv) => dv.setUint32(4, 1, true)))).toEqual(
        new Uint8Array(v1),
      );
      m.dispose();
    }
  });

  it('refuses a corrupt population with MODEL_CORRUPT and version 3 with MODEL_MISMATCH', () => {
    const m = GruModel.create({ numItems: 12, hiddenSize: 5 }, { seed: 4 });
    const pop = population();
    const buf = serializeGru(m, pop);
    const n = 12;
    const sumAt = buf.byteLength - 4;
    // the knn arrays are the last two before the checksum
    const knnIds = sumAt - 8 * n * pop.knn.width;
    const knnWeights = sumAt - 4 * n * pop.knn.width;
    const srIds = knnIds - 8 * n * pop.sr.width;
    const counts = srIds - 4 * n;
    const readErr = (b: ArrayBuffer | Uint8Array) => {
      try {
        readModelFile(b).model.dispose();
      } catch (e) {
        return e as { code?: string; message?: string };
      }
      return undefined;
    };
    const flipped = new Uint8Array(buf.slice(0));
    flipped[knnIds + 1] ^= 0x10;
    const cases: [string, ArrayBuffer | Uint8Array, RegExp][] = [
      ['truncated', buf.slice(0, buf.byteLength - 12), /checksum/],
      ['truncated, checksum fixed', edited(buf.slice(0, buf.byteLength - 8), () => {}), /size/],
      ['bit flip', flipped, /checksum/],
      ['id out of range', edited(buf, (_, dv) => dv.setInt32(knnIds, n, true)), /id 12/],
      ['id below -1', edited(buf, (_, dv) => dv.setInt32(srIds, -2, true)), /id -2/],
      ['NaN weight', edited(buf, (_, dv) => dv.setFloat32(knnWeights, Number.NaN, true)), /NaN/],
      ['negative count', edited(buf, (_, dv) => dv.setFloat32(counts, -1, true)), /count/],
      [
        'mix out of range',
        edited(buf, (u8) => {
          const at = Buffer.from(u8).indexOf('"alpha":0.4');
          u8.set(new TextEncoder().encode('"alpha":9.4'), at);
        }),
        /alpha/,
      ],
      [
        'width too large',
        edited(buf, (u8) => {
          const at = Buffer.from(u8).indexOf('"width_sr":3');
          u8.set(new TextEncoder().encode('"width_sr":4'), at);
        }),
        /size/,
      ],
    ];
    for (const [what, b, message] of cases) {
      const e = readErr(b);
      expect(e?.code, what).toBe('MODEL_CORRUPT');
      expect(e?.message, what).toMatch(message);
    }
    // deserializeGru still checks the section size and the checksum
    expect(code(() => deserializeGru(cases[1][1]))).toBe('MODEL_CORRUPT');
    expect(code(() => deserializeGru(flipped))).toBe('MODEL_CORRUPT');
    const v3 = edited(buf, (_, dv) => dv.setUint32(4, 3, true));
    expect(code(() => readModelFile(v3))).toBe('MODEL_MISMATCH');
    expect(code(() => deserializeGru(v3))).toBe('MODEL_MISMATCH');
    // a population for another catalogue is refused on write
    expect(code(() => serializeGru(m, buildPopulation({ ...FIT, numItems: 13 })))).toBe(
      'INVALID_INPUT',
    );
    m.dispose();
  });
});

function tryLoad(b: ArrayBuffer): unknown {
  try {
    deserializeGru(b).dispose();
    return undefined;
  } catch (e) {
    return e;
  }
}
