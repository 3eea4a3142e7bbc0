import { beforeAll, describe, expect, it } from 'vitest';
import { buildPopulation } from '../../src/baselines/population';
import { hasCode } from '../../src/core/errors';
import { GruModel } from '../../src/model/model';
import type { PopulationStats } from '../../src/model/population';
import {
  deserializeGru,
  FORMAT_VERSION,
  float16Bits,
  float16Value,
  fnv1a,
  populationByteLength,
  readModelFile,
  serializeGru,
} from '../../src/model/serialize';
import { seqs } from '../baselines/helpers';
import { halfRounded, maxAbsDiff, useBackend } from './helpers';

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

/** The JSON header of a model file. */
function headerOf(buf: ArrayBuffer): Record<string, unknown> {
  const hl = new DataView(buf).getUint32(8, true);
  return JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 12, hl)));
}

/** A copy of `buf` changed by `edit`, with its checksum made valid again. */
function edited(buf: ArrayBuffer, edit: (u8: Uint8Array, dv: DataView) => void): ArrayBuffer {
  const u8 = new Uint8Array(buf.slice(0));
  const dv = new DataView(u8.buffer);
  edit(u8, dv);
  dv.setUint32(u8.length - 4, fnv1a(u8.subarray(0, u8.length - 4)), true);
  return u8.buffer;
}

/** Largest |a − b| / |b| over two weight arrays (0 where both are 0). */
function maxRelativeError(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i]) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  return m;
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
    buildPopulation(FIT, {
      srWidth: 3,
      knnWidth: 4,
      alpha: 0.4,
      beta: 0.25,
      w: 5,
      shrink: 1,
      L: 4,
    });

  it('round-trips the population beside the model, and reads files without one', () => {
    expect(FORMAT_VERSION).toBe(3);
    const m = GruModel.create({ numItems: 12, hiddenSize: 5 }, { seed: 4 });
    const pop = population();
    const buf = serializeGru(m, pop);
    // float32 weights: still a version-2 file, which older readers read
    expect(new DataView(buf).getUint32(4, true)).toBe(2);
    expect(headerOf(buf)).not.toHaveProperty('weights');
    expect(buf.byteLength - serializeGru(m).byteLength).toBeGreaterThan(populationByteLength(pop));
    // u16 ids and float16 weights: 4 bytes a count, 2 an id, 2 a weight
    expect(populationByteLength(pop)).toBe(4 * 12 + 4 * 12 * (3 + 4));
    const r = readModelFile(buf, { numItems: 12 });
    // ids and counts exact, weights their float16 rounding (the float32 ones before)
    expect(r.population).toEqual(halfRounded(pop));
    expect(r.population?.sr.ids).toBeInstanceOf(Int32Array);
    expect(r.population?.sr.weights).toBeInstanceOf(Float32Array);
    expect(Array.from(r.population?.knn.ids ?? [])).toEqual(Array.from(pop.knn.ids));
    expect(r.population?.knn.ids).toContain(-1);
    expect(Array.from(r.population?.counts ?? [])).toEqual(Array.from(pop.counts));
    for (const part of ['sr', 'knn'] as const) {
      const got = r.population?.[part].weights ?? new Float32Array(0);
      expect(maxRelativeError(got, pop[part].weights)).toBeLessThanOrEqual(2 ** -11);
    }
    expect(Array.from(r.model.toArrays().wx)).toEqual(Array.from(m.toArrays().wx));
    r.model.dispose();
    // an unaligned view
    const shifted = new Uint8Array(buf.byteLength + 1);
    shifted.set(new Uint8Array(buf), 1);
    const s = readModelFile(shifted.subarray(1));
    expect(s.population).toEqual(halfRounded(pop));
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

  it('refuses a corrupt population with MODEL_CORRUPT and version 4 with MODEL_MISMATCH', () => {
    const m = GruModel.create({ numItems: 12, hiddenSize: 5 }, { seed: 4 });
    const pop = population();
    const buf = serializeGru(m, pop);
    const n = 12;
    const sumAt = buf.byteLength - 4;
    // the knn arrays are the last two before the checksum: u16 ids, f16 weights (n · width
    // is even here, so no padding)
    const knnWeights = sumAt - 2 * n * pop.knn.width;
    const knnIds = knnWeights - 2 * n * pop.knn.width;
    const srWeights = knnIds - 2 * n * pop.sr.width;
    const srIds = srWeights - 2 * n * pop.sr.width;
    const counts = srIds - 4 * n;
    expect(new DataView(buf).getUint16(srIds, true)).toBe(pop.sr.ids[0]);
    expect(new DataView(buf).getFloat32(counts, true)).toBe(pop.counts[0]);
    const header = (from: string, to: string) =>
      edited(buf, (u8) => {
        const at = Buffer.from(u8).indexOf(from);
        expect(at, from).toBeGreaterThan(0);
        u8.set(new TextEncoder().encode(to), at);
      });
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
      ['id out of range', edited(buf, (_, dv) => dv.setUint16(knnIds, n, true)), /id 12/],
      ['id 0xFFFE', edited(buf, (_, dv) => dv.setUint16(srIds, 0xfffe, true)), /id 65534/],
      [
        'padding with a weight',
        edited(buf, (_, dv) => dv.setUint16(knnIds, 0xffff, true)),
        /padding/,
      ],
      ['NaN weight', edited(buf, (_, dv) => dv.setUint16(knnWeights, 0x7e00, true)), /NaN/],
      [
        'infinite weight',
        edited(buf, (_, dv) => dv.setUint16(srWeights, 0x7c00, true)),
        /Infinity/,
      ],
      ['negative count', edited(buf, (_, dv) => dv.setFloat32(counts, -1, true)), /count/],
      ['mix out of range', header('"alpha":0.4', '"alpha":9.4'), /alpha/],
      ['width too large', header('"srWidth":3', '"srWidth":4'), /size/],
      ['i32 ids claimed', header('"ids":"u16"', '"ids":"i32"'), /size/],
      ['unknown id encoding', header('"ids":"u16"', '"ids":"u32"'), /encoding/],
      ['unknown weight encoding', header('"weights":"f16"', '"weights":"f32"'), /encoding/],
    ];
    for (const [what, b, message] of cases) {
      const e = readErr(b);
      expect(e?.code, what).toBe('MODEL_CORRUPT');
      expect(e?.message, what).toMatch(message);
    }
    // deserializeGru still checks the section size and the checksum
    expect(code(() => deserializeGru(cases[1][1]))).toBe('MODEL_CORRUPT');
    expect(code(() => deserializeGru(flipped))).toBe('MODEL_CORRUPT');
    const v4 = edited(buf, (_, dv) => dv.setUint32(4, 4, true));
    expect(code(() => readModelFile(v4))).toBe('MODEL_MISMATCH');
    expect(code(() => deserializeGru(v4))).toBe('MODEL_MISMATCH');
    // version 3 must say how its weights are stored
    const v3 = edited(buf, (_, dv) => dv.setUint32(4, 3, true));
    expect(code(() => readModelFile(v3))).toBe('MODEL_CORRUPT');
    expect(() => readModelFile(v3)).toThrow(/weights encoding/);
    // a population for another catalogue is refused on write
    expect(code(() => serializeGru(m, buildPopulation({ ...FIT, numItems: 13 })))).toBe(
      'INVALID_INPUT',
    );
    m.dispose();
  });

  // 5 items, SR lists of 3 and kNN lists of 1: both 2-byte arrays of each need 2 bytes of padding
  const small = (): PopulationStats => ({
    counts: Float32Array.from([3, 0, 1.5, 7, 2]),
    sr: {
      width: 3,
      ids: Int32Array.from([1, 2, -1, 0, -1, -1, 4, 3, 0, -1, -1, -1, 0, 1, 2]),
      weights: Float32Array.from([
        65504,
        0.1,
        0,
        1e-7,
        0,
        0,
        2 ** -24,
        2 ** -14,
        1e-9,
        0,
        0,
        0,
        1,
        1,
        1,
      ]),
    },
    knn: {
      width: 1,
      ids: Int32Array.from([4, 3, -1, 1, 0]),
      weights: Float32Array.from([1 / 3, 0.75, 0, 0.999, 65519]),
    },
    mix: { alpha: 0.3, beta: 0.5, w: 20, shrink: 0, L: 10 },
  });

  it('pads the 2-byte arrays to 4 bytes and keeps float16 subnormals', () => {
    const m = GruModel.create({ numItems: 5, hiddenSize: 3 }, { seed: 2 });
    const pop = small();
    const buf = serializeGru(m, pop);
    // counts 20, sr ids 30 + 2, sr weights 30 + 2, knn ids 10 + 2, knn weights 10 + 2
    expect(populationByteLength(pop)).toBe(20 + 32 + 32 + 12 + 12);
    expect(buf.byteLength - serializeGru(m).byteLength).toBeGreaterThan(populationByteLength(pop));
    const r = readModelFile(buf);
    expect(r.population).toEqual(halfRounded(pop));
    const got = r.population as PopulationStats;
    expect(got.sr.weights[0]).toBe(65504);
    expect(got.sr.weights[1]).toBe(float16Value(0x2e66));
    expect(got.sr.weights[3]).toBe(2 * 2 ** -24); // 1e-7 ≈ 1.68 · 2^-24
    expect(got.sr.weights[6]).toBe(2 ** -24);
    expect(got.sr.weights[7]).toBe(2 ** -14);
    expect(got.sr.weights[8]).toBe(0); // below half the smallest subnormal
    expect(got.knn.weights[4]).toBe(65504); // 65519 rounds down to float16's largest
    r.model.dispose();
    // the padding (after sr ids: counts end at byte 20 of the section, ids at 50) is zero,
    // and a file whose padding is not is refused
    const sumAt = buf.byteLength - 4;
    const section = sumAt - populationByteLength(pop);
    expect(Array.from(new Uint8Array(buf, section + 50, 2))).toEqual([0, 0]);
    const dirty = edited(buf, (u8) => {
      u8[section + 51] = 1;
    });
    expect(code(() => readModelFile(dirty))).toBe('MODEL_CORRUPT');
    expect(() => readModelFile(dirty)).toThrow(/padding/);
    m.dispose();
  });

  it('refuses on write a weight beyond float16’s range, instead of storing Infinity', () => {
    const m = GruModel.create({ numItems: 5, hiddenSize: 3 }, { seed: 2 });
    for (const [part, at, w] of [
      ['knn', 4, 65520],
      ['sr', 13, 1e6],
      ['sr', 0, 70000],
    ] as const) {
      const pop = small();
      pop[part].weights[at] = w;
      let error: unknown;
      try {
        serializeGru(m, pop);
      } catch (e) {
        error = e;
      }
      expect(hasCode(error, 'INVALID_INPUT'), `${part} ${w}`).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`${part} weight ${w} at ${at}.*float16`));
    }
    m.dispose();
  });

  it('refuses a negative list weight (SR counts and similarities are never negative)', () => {
    const m = GruModel.create({ numItems: 5, hiddenSize: 3 }, { seed: 2 });
    const pop = small();
    pop.knn.weights[4] = -0.5;
    expect(() => serializeGru(m, pop)).toThrow(/weight -0.5 at 4/);
    m.dispose();
  });

  it('stores ids as i32 above 65,535 items and as u16 up to it', () => {
    for (const [numItems, bytes] of [
      [65_535, 2],
      [65_536, 4],
    ] as const) {
      const m = GruModel.create({ numItems, hiddenSize: 1 }, { seed: 1 });
      // one SR successor and one neighbour per item: the highest ids, −1 pads, 0
      const ids = new Int32Array(numItems).map((_, i) => (i % 3 === 0 ? -1 : numItems - i));
      const weights = new Float32Array(numItems).map((_, i) => (i % 3 === 0 ? 0 : i / 7));
      const pop: PopulationStats = {
        counts: new Float32Array(numItems).fill(1),
        sr: { width: 1, ids, weights },
        knn: { width: 1, ids: ids.map((x) => (x === -1 ? -1 : numItems - 1 - (x % 5))), weights },
        mix: { alpha: 0.2, beta: 0.5, w: 20, shrink: 0, L: 10 },
      };
      const section =
        4 * numItems +
        2 * (Math.ceil((bytes * numItems) / 4) * 4) +
        2 * Math.ceil((2 * numItems) / 4) * 4;
      expect(populationByteLength(pop), `${numItems}`).toBe(section);
      const buf = serializeGru(m, pop);
      const encoding = bytes === 2 ? '"ids":"u16"' : '"ids":"i32"';
      expect(Buffer.from(buf).indexOf(encoding), `${numItems}`).toBeGreaterThan(0);
      const r = readModelFile(buf, { numItems });
      const got = r.population as PopulationStats;
      // (byte comparisons: a deep equality of 65,536-element arrays is slow)
      const want = halfRounded(pop);
      const same = (a: Int32Array | Float32Array, b: Int32Array | Float32Array) =>
        a.constructor === b.constructor && Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
      expect(same(got.sr.ids, ids)).toBe(true);
      expect(same(got.knn.ids, pop.knn.ids)).toBe(true);
      expect(same(got.sr.weights, want.sr.weights)).toBe(true);
      expect(same(got.knn.weights, want.knn.weights)).toBe(true);
      expect(same(got.counts, pop.counts)).toBe(true);
      expect([got.sr.width, got.knn.width]).toEqual([1, 1]);
      expect(got.mix).toEqual(pop.mix);
      expect(got.sr.ids[1]).toBe(numItems - 1);
      expect(got.sr.ids[3]).toBe(-1);
      r.model.dispose();
      if (bytes === 4) {
        // an id below −1, and u16 claimed for a catalogue too large for it, are refused
        const sumAt = buf.byteLength - 4;
        const srIds = sumAt - section + 4 * numItems;
        const low = edited(buf, (_, dv) => dv.setInt32(srIds, -2, true));
        expect(() => readModelFile(low)).toThrow(/id -2/);
        expect(code(() => readModelFile(low))).toBe('MODEL_CORRUPT');
        const u16 = edited(buf, (u8) => {
          u8.set(new TextEncoder().encode('"ids":"u16"'), Buffer.from(u8).indexOf(encoding));
        });
        expect(() => readModelFile(u16)).toThrow(/encoding/);
        expect(code(() => deserializeGru(u16))).toBe('MODEL_CORRUPT');
      }
      m.dispose();
    }
  });
});

describe('float16', () => {
  it('encodes known values to their IEEE 754 binary16 bits and decodes them back', () => {
    const known: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [-65504, 0xfbff],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [2 ** -14 - 2 ** -24, 0x03ff],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
    ];
    for (const [x, bits] of known) {
      expect(float16Bits(x), `${x}`).toBe(bits);
      expect(Object.is(float16Value(bits), x), `${bits.toString(16)}`).toBe(true);
    }
    expect(float16Bits(1 / 3)).toBe(0x3555);
    expect(float16Bits(0.1)).toBe(0x2e66);
    expect(float16Value(0x2e66)).toBe(0.0999755859375);
    expect(float16Bits(Math.fround(0.1))).toBe(0x2e66);
    expect(float16Bits(Number.NaN)).toBe(0x7e00);
    expect(float16Value(0x7e00)).toBeNaN();
    expect(float16Value(0xfc01)).toBeNaN();
  });

  it('rounds to nearest, ties to even, in normals and subnormals', () => {
    const ulp1 = 2 ** -10; // spacing just above 1
    const cases: [number, number][] = [
      [1 + ulp1 / 2, 0x3c00], // tie, 0x3C00 is even
      [1 + (3 * ulp1) / 2, 0x3c02], // tie, 0x3C01 is odd: up
      [1 + ulp1 / 2 + 2 ** -40, 0x3c01], // just above the tie (no double rounding via float32)
      [1 + ulp1 / 2 - 2 ** -40, 0x3c00],
      [2 - ulp1 / 4, 0x4000], // carry into the exponent
      [65519, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00], // tie between 65504 and 2^16: even is the overflow
      [-65520, 0xfc00],
      [2 ** -25, 0x0000], // half the smallest subnormal: tie to 0
      [2 ** -25 + 2 ** -40, 0x0001],
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 units: even
      [5 * 2 ** -25, 0x0002], // tie between 2 and 3: even
      [-3 * 2 ** -25, 0x8002],
      [2 ** -14 - 2 ** -25, 0x0400], // tie between the largest subnormal and the smallest normal
      [1e-9, 0x0000],
      [-1e-9, 0x8000],
      [5e-324, 0x0000],
      [1e300, 0x7c00],
    ];
    for (const [x, bits] of cases) expect(float16Bits(x), `${x}`).toBe(bits);
  });

  it('decodes every bit pattern to a value that encodes back to it, in order', () => {
    let previous = Number.NEGATIVE_INFINITY;
    for (let bits = 0; bits < 0x7c00; bits++) {
      const v = float16Value(bits);
      expect(v).toBeGreaterThan(bits === 0 ? -1 : previous);
      previous = v;
      if (float16Bits(v) !== bits || float16Bits(-v) !== (bits | 0x8000)) {
        expect(float16Bits(v), `${bits.toString(16)}`).toBe(bits);
        expect(float16Bits(-v), `-${bits.toString(16)}`).toBe(bits | 0x8000);
      }
      // the midpoint to the next value goes to the even one of the two
      const next = float16Value(bits + 1);
      const mid = (v + next) / 2;
      const even = bits % 2 === 0 ? bits : bits + 1;
      if (float16Bits(mid) !== even)
        expect(float16Bits(mid), `mid ${bits.toString(16)}`).toBe(even);
    }
  });

  it('keeps the relative error of normal values within 2^-11', () => {
    let x = 2 ** -14;
    let worst = 0;
    while (x < 65504) {
      const e = Math.abs(float16Value(float16Bits(x)) - x) / x;
      worst = Math.max(worst, e);
      x *= 1.000731;
    }
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    expect(worst).toBeGreaterThan(2 ** -12);
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

describe('compact weights (format 3)', () => {
  beforeAll(() => useBackend('wasm'));

  const PREFIXES = [[3], [1, 5, 9], [40, 2, 2, 77, 150, 8], [199, 0, 13, 64, 5, 120, 31, 7, 99]];

  /** A model with weights the size a trained one has, and every row's bias set. */
  function modelOf(embedding: 'tied' | 'separate'): GruModel {
    const m = GruModel.create(
      { numItems: 200, hiddenSize: 16, embedding, embeddingSize: 12 },
      { seed: 7, vocab: Array.from({ length: 200 }, (_, i) => `p${i}`) },
    );
    const a = m.toArrays();
    const items = a.items.map((x, i) => (i % 17 === 16 ? Math.sin(i) * 3 : x * 4));
    items.fill(0, 17 * 5, 17 * 6); // an all-zero row: scale 0
    const r = GruModel.fromArrays(m.config, { ...a, items }, m.vocab, m.meta);
    return r;
  }

  /** Largest |a − b| allowed for each weight in f16. */
  const f16Bounds = (x: Float32Array) =>
    Float32Array.from(x, (v) => Math.max(Math.abs(v) * 2 ** -11, 2 ** -25));

  /** Largest |a − b| allowed for each weight of a per-item matrix [rows, width] in i8. */
  function i8Bounds(x: Float32Array, width: number): Float32Array {
    const out = new Float32Array(x.length);
    for (let o = 0; o < x.length; o += width) {
      let max = 0;
      for (let j = o; j < o + width; j++) max = Math.max(max, Math.abs(x[j]));
      // half a step of the row's scale max/127, plus float32 rounding of the scale and of q·s
      out.fill(max / 127 / 2 + max * 2 ** -23, o, o + width);
    }
    return out;
  }

  for (const embedding of ['tied', 'separate'] as const) {
    it(`round-trips f16 and i8 within their bounds, and scores with them (${embedding})`, () => {
      const m = modelOf(embedding);
      const a = m.toArrays();
      const pop = buildPopulation(
        seqs(
          [
            [0, 1, 2, 3],
            [4, 5, 1, 2],
            [199, 3, 7],
          ],
          200,
        ),
        {
          srWidth: 2,
          knnWidth: 3,
        },
      );
      const f32 = serializeGru(m, pop);
      const f32Scorer = m.scorer();
      const n = 200;
      const e = embedding === 'tied' ? 0 : 12;
      for (const precision of ['f16', 'i8'] as const) {
        const buf = serializeGru(m, pop, { precision });
        expect(new DataView(buf).getUint32(4, true), precision).toBe(3);
        expect(headerOf(buf).weights).toBe(precision);
        // the item matrix (and emb) in 2 bytes a weight, or 1 byte a weight + 4 a row
        const matrix = (w: number) => (precision === 'f16' ? 2 * n * w : 4 * n + n * w);
        const saved = 4 * n * 17 + 4 * n * e - matrix(17) - (e ? matrix(e) : 0);
        // the header grows by `,"weights":"…"` (15-16 bytes; each header padded to 4)
        const grown = new DataView(buf).getUint32(8, true) - new DataView(f32).getUint32(8, true);
        expect(grown).toBeGreaterThanOrEqual(12);
        expect(grown).toBeLessThanOrEqual(19);
        expect(f32.byteLength - buf.byteLength, precision).toBe(saved - grown);
        const r = readModelFile(buf, { numItems: n });
        expect(r.model.config).toEqual(m.config);
        expect(r.model.vocab).toEqual(m.vocab);
        expect(r.population).toEqual(halfRounded(pop));
        const b = r.model.toArrays();
        // the GRU's gate matrices stay float32, bit for bit
        expect(Array.from(b.wx)).toEqual(Array.from(a.wx));
        expect(Array.from(b.wh)).toEqual(Array.from(a.wh));
        expect(Array.from(b.b)).toEqual(Array.from(a.b));
        const matrices: [Float32Array, Float32Array, number][] = [[a.items, b.items, 17]];
        if (a.emb && b.emb) matrices.push([a.emb, b.emb, 12]);
        expect(b.emb === null).toBe(embedding === 'tied');
        let worstScale = 0;
        for (const [x, y, width] of matrices) {
          expect(y).toBeInstanceOf(Float32Array);
          expect(y.length).toBe(x.length);
          if (precision === 'f16') {
            // exactly the float16 rounding of each weight
            expect(Array.from(y)).toEqual(Array.from(x, (v) => float16Value(float16Bits(v))));
            // relative 2^-11 for normals, half a subnormal step (2^-25) below 2^-14
            const bound = f16Bounds(x);
            let over = 0;
            for (let i = 0; i < x.length; i++) if (Math.abs(y[i] - x[i]) > bound[i]) over++;
            expect(over, precision).toBe(0);
          } else {
            const bound = i8Bounds(x, width);
            let over = 0;
            for (let i = 0; i < x.length; i++) if (Math.abs(y[i] - x[i]) > bound[i]) over++;
            expect(over, precision).toBe(0);
            // the all-zero row stays zero, and the rounding is not exact everywhere
            if (width === 17)
              expect(Array.from(y.subarray(85, 102))).toEqual(new Array(17).fill(0));
            expect(maxAbsDiff(y, x)).toBeGreaterThan(0);
            for (const s of bound) worstScale = Math.max(worstScale, s);
          }
        }
        // Scores from one hidden state: |Δ score_i| ≤ Σ_j |h_j| · bound_ij + bound_i,bias
        // (|h_j| ≤ 1, the state is a mix of tanh outputs) — the output matrix's share only.
        const scorer = r.model.scorer();
        const state = Float32Array.from({ length: 16 }, (_, j) => Math.cos(j * 1.3));
        const want = f32Scorer.scoresFromState(state, new Float32Array(n));
        const got = scorer.scoresFromState(state, new Float32Array(n));
        const bound = precision === 'f16' ? f16Bounds(a.items) : i8Bounds(a.items, 17);
        for (let i = 0; i < n; i++) {
          let allowed = bound[i * 17 + 16] + 2 ** -23 * (Math.abs(want[i]) + 1);
          for (let j = 0; j < 16; j++) allowed += Math.abs(state[j]) * bound[i * 17 + j];
          if (!(Math.abs(got[i] - want[i]) <= allowed))
            expect(Math.abs(got[i] - want[i]), `${precision} item ${i}`).toBeLessThanOrEqual(
              allowed,
            );
        }
        // After whole prefixes (the input rows are rounded too): scores within a stated
        // tolerance of the float32 model’s — f16 4e-3, i8 0.06, on scores within ±4 (worst
        // measured 0.0012 and 0.024) — and the same best item.
        const tolerance = precision === 'f16' ? 4e-3 : 0.06;
        for (const p of PREFIXES) {
          const s32 = f32Scorer.scores(Int32Array.from(p)).slice();
          const s = scorer.scores(Int32Array.from(p));
          expect(maxAbsDiff(s, s32), `${precision} ${p}`).toBeLessThanOrEqual(tolerance);
          expect(s.indexOf(Math.max(...s)), `${precision} ${p}`).toBe(
            s32.indexOf(Math.max(...s32)),
          );
        }
        if (precision === 'i8') expect(worstScale).toBeGreaterThan(0);
        // deserializeGru reads the same weights; an unaligned view too
        const shifted = new Uint8Array(buf.byteLength + 1);
        shifted.set(new Uint8Array(buf), 1);
        const g = deserializeGru(shifted.subarray(1));
        expect(Array.from(g.toArrays().items)).toEqual(Array.from(b.items));
        g.dispose();
        r.model.dispose();
      }
      m.dispose();
    });
  }

  it('writes i8 as q = round(x / s) with s = max |row| / 127, never −128', () => {
    const config = { numItems: 3, hiddenSize: 3 };
    const base = GruModel.create(config, { seed: 1 });
    // rows of H + 1 = 4: a plain one, one whose largest value is negative, one of zeros
    const items = Float32Array.from([1, -0.3, 0.25, 0.127, -2.54, 1.2, 0, 0.1, 0, 0, 0, 0]);
    const m = GruModel.fromArrays(base.config, { ...base.toArrays(), items }, null, base.meta);
    const buf = serializeGru(m, null, { precision: 'i8' });
    const at = 12 + new DataView(buf).getUint32(8, true);
    const dv = new DataView(buf);
    expect([0, 1, 2].map((r) => dv.getFloat32(at + 4 * r, true))).toEqual([
      Math.fround(1 / 127),
      Math.fround(2.54 / 127),
      0,
    ]);
    expect(Array.from(new Int8Array(buf, at + 12, 12))).toEqual([
      127, -38, 32, 16, -127, 60, 0, 5, 0, 0, 0, 0,
    ]);
    // 12 int8 values: no padding; the gate weights start right after them
    const r = deserializeGru(buf);
    expect(r.toArrays().items[4]).toBe(Math.fround(-127 * Math.fround(2.54 / 127)));
    expect(Array.from(r.toArrays().wx)).toEqual(Array.from(m.toArrays().wx));
    r.dispose();
    base.dispose();
  });

  it('reads an i8 file’s rows as q · s from its bytes, scoring as the float32 file within rounding', () => {
    const m = modelOf('tied');
    const buf = serializeGru(m, null, { precision: 'i8' });
    const r = readModelFile(buf);
    // the file's bytes: scales, then q
    const at = 12 + new DataView(buf).getUint32(8, true);
    const scales = new Float32Array(buf.slice(at, at + 800));
    const q = new Int8Array(buf, at + 800, 200 * 17);
    const items = r.model.toArrays().items;
    for (let k = 0; k < 200; k++)
      for (let j = 0; j < 17; j++)
        expect(items[k * 17 + j]).toBe(Math.fround(q[k * 17 + j] * scales[k]));
    const f32 = readModelFile(serializeGru(m, null, { precision: 'f32' }));
    for (const p of PREFIXES) {
      const a = r.model.scorer().scores(Int32Array.from(p)).slice();
      const b = f32.model.scorer().scores(Int32Array.from(p));
      expect(maxAbsDiff(a, b), `${p}`).toBeLessThanOrEqual(0.06);
    }
    f32.model.dispose();
    r.model.dispose();
    m.dispose();
  });

  it('refuses corrupt, truncated and tampered compact files with MODEL_CORRUPT', () => {
    // 7 items × (H 4 + 1) = 35 int8 values (1 byte of padding), 70 f16 bytes (2 of padding)
    const m = GruModel.create({ numItems: 7, hiddenSize: 4 }, { seed: 3 });
    const i8 = serializeGru(m, null, { precision: 'i8' });
    const f16 = serializeGru(m, null, { precision: 'f16' });
    const at = 12 + new DataView(i8).getUint32(8, true);
    const scales = at;
    const q = at + 4 * 7;
    const f16At = 12 + new DataView(f16).getUint32(8, true);
    const readErr = (b: ArrayBuffer | Uint8Array) => {
      try {
        readModelFile(b).model.dispose();
      } catch (e) {
        return e as { code?: string; message?: string };
      }
      return undefined;
    };
    const tamperedScale = new Uint8Array(i8.slice(0));
    new DataView(tamperedScale.buffer).setFloat32(scales + 8, 0.5, true);
    const header = (buf: ArrayBuffer, from: string, to: string) =>
      edited(buf, (u8) => {
        const i = Buffer.from(u8).indexOf(from);
        expect(i, from).toBeGreaterThan(0);
        u8.set(new TextEncoder().encode(to), i);
      });
    const cases: [string, ArrayBuffer | Uint8Array, RegExp][] = [
      ['tampered scale', tamperedScale, /checksum/],
      ['truncated i8', i8.slice(0, i8.byteLength - 20), /checksum/],
      ['truncated f16', f16.slice(0, f16.byteLength - 20), /checksum/],
      ['truncated i8, checksum fixed', edited(i8.slice(0, i8.byteLength - 8), () => {}), /size/],
      ['truncated f16, checksum fixed', edited(f16.slice(0, f16.byteLength - 8), () => {}), /size/],
      ['negative scale', edited(i8, (_, dv) => dv.setFloat32(scales + 4, -0.01, true)), /scale/],
      ['NaN scale', edited(i8, (_, dv) => dv.setFloat32(scales, Number.NaN, true)), /scale/],
      ['infinite scale', edited(i8, (_, dv) => dv.setFloat32(scales, 1 / 0, true)), /scale/],
      ['int8 −128', edited(i8, (_, dv) => dv.setInt8(q + 3, -128)), /-128/],
      [
        'i8 padding',
        edited(i8, (u8) => {
          u8[q + 35] = 1;
        }),
        /padding/,
      ],
      [
        'f16 padding',
        edited(f16, (u8) => {
          u8[f16At + 70] = 1;
        }),
        /padding/,
      ],
      ['f16 NaN', edited(f16, (_, dv) => dv.setUint16(f16At + 6, 0x7e00, true)), /non-finite/],
      ['f16 Infinity', edited(f16, (_, dv) => dv.setUint16(f16At, 0xfc00, true)), /non-finite/],
      ['i8 claimed f16', header(i8, '"weights":"i8"', '"weights":"f1"'), /weights encoding/],
      ['f16 read as i8', header(f16, '"weights":"f16"', '"weights":"i8" '), /size/],
      ['f16 read as f32', header(f16, '"weights":"f16"', '"weights":"f32"'), /size/],
    ];
    for (const [what, b, message] of cases) {
      const e = readErr(b);
      expect(e?.code, what).toBe('MODEL_CORRUPT');
      expect(e?.message, what).toMatch(message);
    }
    // a version-2 reading of a compact file is never attempted: its version is 3
    expect(new DataView(i8).getUint32(4, true)).toBe(3);
    // every single-byte flip of an i8 file is refused
    const u8 = new Uint8Array(i8);
    let refused = 0;
    for (let i = 0; i < u8.length; i += 5) {
      const c = u8.slice();
      c[i] ^= 0x21;
      const e = tryLoad(c.buffer);
      if (hasCode(e, 'MODEL_CORRUPT') || hasCode(e, 'MODEL_MISMATCH')) refused++;
    }
    expect(refused).toBe(Math.ceil(u8.length / 5));
    m.dispose();
  });

  it('refuses on write an unknown precision, and f16 for a weight beyond float16’s range', () => {
    const base = GruModel.create({ numItems: 4, hiddenSize: 2 }, { seed: 1 });
    const items = base.toArrays().items.slice();
    items[7] = 70000;
    const m = GruModel.fromArrays(base.config, { ...base.toArrays(), items }, null, base.meta);
    let error: unknown;
    try {
      serializeGru(m, null, { precision: 'f16' });
    } catch (e) {
      error = e;
    }
    expect(hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toMatch(/items weight 70000 at 7 .*float16.*f32 or i8/);
    // i8 and f32 take it
    const r = deserializeGru(serializeGru(m, null, { precision: 'i8' }));
    expect(r.toArrays().items[7]).toBe(70000);
    r.dispose();
    expect(code(() => serializeGru(m, null, { precision: 'f8' as unknown as 'f16' }))).toBe(
      'INVALID_INPUT',
    );
    base.dispose();
  });
});
