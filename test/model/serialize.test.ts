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
import { halfRounded, useBackend } from './helpers';

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
    expect(FORMAT_VERSION).toBe(2);
    const m = GruModel.create({ numItems: 12, hiddenSize: 5 }, { seed: 4 });
    const pop = population();
    const buf = serializeGru(m, pop);
    expect(new DataView(buf).getUint32(4, true)).toBe(2);
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

  it('refuses a corrupt population with MODEL_CORRUPT and version 3 with MODEL_MISMATCH', () => {
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
    const v3 = edited(buf, (_, dv) => dv.setUint32(4, 3, true));
    expect(code(() => readModelFile(v3))).toBe('MODEL_MISMATCH');
    expect(code(() => deserializeGru(v3))).toBe('MODEL_MISMATCH');
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
      ['sr', 0, -70000],
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
