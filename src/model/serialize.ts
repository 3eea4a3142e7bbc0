import { LocalRecError } from '../core/errors';
import { type GruConfig, resolveGruConfig } from './config';
import { type GruMeta, GruModel } from './model';
import { type GruArrays, paramSizes } from './params';
import { type PopulationMixParams, type PopulationStats, populationProblem } from './population';

/**
 * Binary format of a GRU model, little-endian:
 *
 *   0  u8[4]  magic "LRGR"
 *   4  u32    format version (2; version 1 files are still read)
 *   8  u32    header byte length L
 *   12 u8[L]  header: UTF-8 JSON { kind, config, vocab, meta, population? },
 *             space-padded to 4 bytes
 *   .. f32[]  items, emb (separate only), wx, wh, b (sizes from config)
 *   .. population section, only when the header has population =
 *      { srWidth, knnWidth, ids: 'u16' | 'i32', weights: 'f16', mix } (N = config.numItems,
 *      S = srWidth, K = knnWidth; every array zero-padded to a multiple of 4 bytes):
 *        f32[N]      counts
 *        ID[N · S]   sr.ids        f16[N · S]  sr.weights
 *        ID[N · K]   knn.ids       f16[N · K]  knn.weights
 *      ID is u16 when N ≤ 65,535 (the −1 padding stored as 0xFFFF), i32 otherwise; f16
 *      is IEEE 754 binary16 (round to nearest, ties to even, at write; a weight beyond
 *      float16's range is refused there). Read back as Int32Array ids and Float32Array
 *      weights (the float16 values, exact in float32).
 *   .. u32    FNV-1a 32-bit checksum of every byte before it
 *
 * Version 1 is the same layout without a population section. Every array starts
 * 4-aligned, so the f32 weights of a fresh copy can be viewed as typed arrays directly.
 *
 * A plain ArrayBuffer: fits IndexedDB, a fetch() of a pretrained file, postMessage.
 */
export const FORMAT_VERSION = 2;
/** Versions this build reads. */
const READS = [1, 2];
const MAGIC = [0x4c, 0x52, 0x47, 0x52]; // LRGR

export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** How a population's list ids are stored. */
type IdEncoding = 'u16' | 'i32';

/** Largest catalogue whose list ids are stored as u16 (0xFFFF is the −1 padding). */
const U16_ID_ITEMS = 0xffff;

/** What the header says about the population section. */
interface PopulationHeader {
  srWidth: number;
  knnWidth: number;
  ids: IdEncoding;
  weights: 'f16';
  mix: PopulationMixParams;
}

function idEncoding(numItems: number): IdEncoding {
  return numItems <= U16_ID_ITEMS ? 'u16' : 'i32';
}

/** `n` rounded up to a multiple of 4 (no 32-bit bitwise ops: sizes may pass 2 GiB). */
function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** Bytes of the population section for N items, the two list widths and the id encoding. */
function sectionBytes(
  numItems: number,
  srWidth: number,
  knnWidth: number,
  ids: IdEncoding,
): number {
  const idBytes = ids === 'u16' ? 2 : 4;
  const lists = (width: number) => pad4(idBytes * numItems * width) + pad4(2 * numItems * width);
  return 4 * numItems + lists(srWidth) + lists(knnWidth);
}

/** Size of `population`'s arrays in a model file (their encoding follows the catalogue size). */
export function populationByteLength(population: PopulationStats): number {
  const n = population.counts.length;
  return sectionBytes(n, population.sr.width, population.knn.width, idEncoding(n));
}

const f64 = new DataView(new ArrayBuffer(8));

/** Round to the nearest integer, ties to even (`q` ≥ 0, below 2^52). */
function roundEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/**
 * IEEE 754 binary16 bits of `x`, rounded to nearest with ties to even, straight from the
 * float64 value (no double rounding through float32). Subnormals and ±0 as IEEE says;
 * a magnitude of 65,520 or more becomes ±Infinity (0x7C00 / 0xFC00), NaN 0x7E00.
 */
export function float16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const sign = (hi >>> 16) & 0x8000;
  const exp = ((hi >>> 20) & 0x7ff) - 1023; // float64 subnormals land below -14 too
  const a = Math.abs(x);
  // subnormal (units of 2^-24; a carry to 0x0400 is the smallest normal), or zero
  if (exp < -14) return sign | roundEven(a * 2 ** 24);
  if (exp > 15) return sign | 0x7c00;
  // 1024 ≤ significand ≤ 2048; a carry moves into the exponent, up to 0x7C00 = Infinity
  return sign | (((exp + 15) << 10) + roundEven(a * 2 ** (10 - exp)) - 1024);
}

/** The value of IEEE 754 binary16 bits (the low 16 bits of `bits`). */
export function float16Value(bits: number): number {
  const exp = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  const v =
    exp === 0
      ? m * 2 ** -24
      : exp === 31
        ? m
          ? Number.NaN
          : Number.POSITIVE_INFINITY
        : (1024 + m) * 2 ** (exp - 25);
  return bits & 0x8000 ? -v : v;
}

/**
 * Format version 2, with `population` (checked against the model's catalogue size,
 * INVALID_INPUT when it does not fit) or without.
 */
export function serializeGru(model: GruModel, population?: PopulationStats | null): ArrayBuffer {
  const numItems = model.config.numItems;
  if (population) {
    const problem = populationProblem(population, numItems);
    if (problem) throw new LocalRecError('INVALID_INPUT', `population: ${problem}`);
  }
  const a = model.toArrays();
  const ids = idEncoding(numItems);
  const popHeader: PopulationHeader | undefined = population
    ? {
        srWidth: population.sr.width,
        knnWidth: population.knn.width,
        ids,
        weights: 'f16',
        mix: population.mix,
      }
    : undefined;
  const header = JSON.stringify({
    kind: 'gru4rec',
    config: model.config,
    vocab: model.vocab,
    meta: model.meta,
    ...(popHeader ? { population: popHeader } : {}),
  });
  let hb = new TextEncoder().encode(header);
  const padded = (hb.length + 3) & ~3;
  if (padded !== hb.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(hb);
    hb = p;
  }
  const arrays: Float32Array[] = [a.items, ...(a.emb ? [a.emb] : []), a.wx, a.wh, a.b];
  const words = arrays.reduce((s, x) => s + x.length, 0);
  const popBytes = population
    ? sectionBytes(numItems, population.sr.width, population.knn.width, ids)
    : 0;
  const total = 12 + hb.length + words * 4 + popBytes + 4;
  const buf = new ArrayBuffer(total);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  u8.set(MAGIC, 0);
  dv.setUint32(4, FORMAT_VERSION, true);
  dv.setUint32(8, hb.length, true);
  u8.set(hb, 12);
  let off = 12 + hb.length;
  for (const x of arrays) {
    u8.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), off);
    off += x.byteLength;
  }
  if (population) off = writePopulation(u8, dv, off, population, ids);
  dv.setUint32(off, fnv1a(new Uint8Array(buf, 0, off)), true);
  return buf;
}

/** Writes the population section at `at` (the buffer is zeroed: padding stays 0); returns its end. */
function writePopulation(
  u8: Uint8Array,
  dv: DataView,
  at: number,
  population: PopulationStats,
  ids: IdEncoding,
): number {
  const { counts } = population;
  u8.set(new Uint8Array(counts.buffer, counts.byteOffset, counts.byteLength), at);
  at += counts.byteLength;
  for (const [name, lists] of [
    ['sr', population.sr],
    ['knn', population.knn],
  ] as const) {
    const n = lists.ids.length;
    if (ids === 'u16') {
      for (let j = 0; j < n; j++) {
        const id = lists.ids[j];
        dv.setUint16(at + 2 * j, id === -1 ? 0xffff : id, true);
      }
      at += pad4(2 * n);
    } else {
      for (let j = 0; j < n; j++) dv.setInt32(at + 4 * j, lists.ids[j], true);
      at += 4 * n;
    }
    for (let j = 0; j < n; j++) {
      const w = lists.weights[j];
      const h = float16Bits(w);
      // the weights are finite (populationProblem): an infinite half is an overflow
      if ((h & 0x7c00) === 0x7c00) {
        throw new LocalRecError(
          'INVALID_INPUT',
          `population: ${name} weight ${w} at ${j} is beyond float16's range (largest 65504), the model file stores list weights as float16`,
          { details: { field: `population.${name}.weights` } },
        );
      }
      dv.setUint16(at + 2 * j, h, true);
    }
    at += pad4(2 * n);
  }
  return at;
}

function corrupt(msg: string): LocalRecError {
  return new LocalRecError('MODEL_CORRUPT', `model buffer corrupt: ${msg}`);
}

/** A model file's contents: the GRU and, when the file carries one, its population. */
export interface ModelFile {
  model: GruModel;
  population: PopulationStats | null;
}

/**
 * Read a model written by `serializeGru` (format 1 or 2) and the population it carries,
 * if any. Refuses with `MODEL_CORRUPT` a buffer that is truncated, fails its checksum or
 * has inconsistent contents (weights or population), and with `MODEL_MISMATCH` one from
 * an unknown format version or whose config differs from `expect` (e.g. the catalog size
 * or hidden size the caller needs).
 */
export function readModelFile(
  buffer: ArrayBuffer | ArrayBufferView,
  expect: Partial<GruConfig> = {},
): ModelFile {
  return read(buffer, expect, true);
}

/**
 * Just the GRU of a model file (`readModelFile` without the population: its section is
 * size-checked and covered by the checksum, its contents are neither copied nor
 * validated). Same errors as `readModelFile`.
 */
export function deserializeGru(
  buffer: ArrayBuffer | ArrayBufferView,
  expect: Partial<GruConfig> = {},
): GruModel {
  return read(buffer, expect, false).model;
}

function read(
  buffer: ArrayBuffer | ArrayBufferView,
  expect: Partial<GruConfig>,
  withPopulation: boolean,
): ModelFile {
  const u8 =
    buffer instanceof ArrayBuffer
      ? new Uint8Array(buffer)
      : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (u8.length < 16) throw corrupt('too short');
  for (let i = 0; i < 4; i++) if (u8[i] !== MAGIC[i]) throw corrupt('not a localrec GRU model');
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const version = dv.getUint32(4, true);
  if (!READS.includes(version)) {
    throw new LocalRecError(
      'MODEL_MISMATCH',
      `model format version ${version}, this build reads ${READS.join(' and ')}`,
      { details: { version } },
    );
  }
  const sumAt = u8.length - 4;
  if (fnv1a(u8.subarray(0, sumAt)) !== dv.getUint32(sumAt, true)) throw corrupt('checksum');
  const hl = dv.getUint32(8, true);
  if (hl % 4 !== 0 || 12 + hl > sumAt) throw corrupt('header length');
  let header: {
    kind?: unknown;
    config?: GruConfig;
    vocab?: string[] | null;
    meta?: GruMeta;
    population?: unknown;
  };
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(12, 12 + hl)));
  } catch (cause) {
    throw new LocalRecError('MODEL_CORRUPT', 'model buffer corrupt: header', { cause });
  }
  if (header.kind !== 'gru4rec' || !header.config) throw corrupt('header kind');
  let config: GruConfig;
  try {
    config = resolveGruConfig(header.config);
  } catch (cause) {
    throw new LocalRecError('MODEL_CORRUPT', 'model buffer corrupt: config', { cause });
  }
  for (const [k, v] of Object.entries(expect)) {
    if (v !== undefined && config[k as keyof GruConfig] !== v) {
      throw new LocalRecError(
        'MODEL_MISMATCH',
        `model ${k} is ${config[k as keyof GruConfig]}, expected ${v}`,
        { details: { field: k } },
      );
    }
  }
  const sizes = paramSizes(config);
  const floats = sizes.items + sizes.emb + sizes.wx + sizes.wh + sizes.b;
  const weightsEnd = 12 + hl + floats * 4;
  // version 1 never had a population section, whatever its header says
  const pop = version >= 2 ? populationHeader(header.population, config.numItems) : null;
  const popBytes = pop ? sectionBytes(config.numItems, pop.srWidth, pop.knnWidth, pop.ids) : 0;
  if (weightsEnd + popBytes !== sumAt)
    throw corrupt(pop ? 'weights or population size' : 'weights size');
  // copy out (the source buffer may be unaligned or reused by the caller)
  const all = copyOut(u8, 12 + hl, floats, Float32Array);
  for (let i = 0; i < all.length; i++)
    if (!Number.isFinite(all[i])) throw corrupt('non-finite weight');
  let k = 0;
  const take = (n: number) => {
    const x = all.subarray(k, k + n);
    k += n;
    return x;
  };
  const arrays: GruArrays = {
    items: take(sizes.items),
    emb: sizes.emb ? take(sizes.emb) : null,
    wx: take(sizes.wx),
    wh: take(sizes.wh),
    b: take(sizes.b),
  };
  const vocab = header.vocab ?? null;
  if (vocab && (!Array.isArray(vocab) || vocab.length !== config.numItems))
    throw corrupt('vocabulary');
  const meta: GruMeta = {
    trainedEvents: Number(header.meta?.trainedEvents ?? 0),
    epochs: Number(header.meta?.epochs ?? 0),
    seed: Number(header.meta?.seed ?? 0),
  };
  const population =
    pop && withPopulation ? readPopulation(u8, dv, weightsEnd, config.numItems, pop) : null;
  return { model: GruModel.fromArrays(config, arrays, vocab, meta), population };
}

/** The header's population entry: null when absent, MODEL_CORRUPT when malformed. */
function populationHeader(value: unknown, numItems: number): PopulationHeader | null {
  if (value === undefined || value === null) return null;
  const h = value as Partial<PopulationHeader>;
  const width = (w: unknown) => typeof w === 'number' && Number.isSafeInteger(w) && w >= 0;
  if (typeof value !== 'object' || !width(h.srWidth) || !width(h.knnWidth))
    throw corrupt('population widths');
  // u16 ids only while every id and the 0xFFFF padding fit
  if (!(h.ids === 'i32' || (h.ids === 'u16' && numItems <= U16_ID_ITEMS)) || h.weights !== 'f16')
    throw corrupt('population encoding');
  if (typeof h.mix !== 'object' || h.mix === null) throw corrupt('population mix');
  return h as PopulationHeader;
}

function readPopulation(
  u8: Uint8Array,
  dv: DataView,
  at: number,
  numItems: number,
  h: PopulationHeader,
): PopulationStats {
  /** Skips the zero padding after `bytes` bytes of a 2-byte array. */
  const skipPadding = (bytes: number) => {
    for (let k = bytes; k < pad4(bytes); k++)
      if (u8[at + k] !== 0) throw corrupt('population padding');
    at += pad4(bytes);
  };
  const readIds = (n: number): Int32Array => {
    if (h.ids === 'i32') {
      const x = copyOut(u8, at, n, Int32Array);
      at += 4 * n;
      return x;
    }
    const x = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const v = dv.getUint16(at + 2 * j, true);
      x[j] = v === 0xffff ? -1 : v;
    }
    skipPadding(2 * n);
    return x;
  };
  const readWeights = (n: number): Float32Array => {
    const x = new Float32Array(n);
    for (let j = 0; j < n; j++) x[j] = float16Value(dv.getUint16(at + 2 * j, true));
    skipPadding(2 * n);
    return x;
  };
  const counts = copyOut(u8, at, numItems, Float32Array);
  at += 4 * numItems;
  const srIds = readIds(numItems * h.srWidth);
  const srWeights = readWeights(numItems * h.srWidth);
  const knnIds = readIds(numItems * h.knnWidth);
  const knnWeights = readWeights(numItems * h.knnWidth);
  const m = h.mix;
  const stats: PopulationStats = {
    counts,
    sr: { width: h.srWidth, ids: srIds, weights: srWeights },
    knn: { width: h.knnWidth, ids: knnIds, weights: knnWeights },
    mix: { alpha: m.alpha, beta: m.beta, w: m.w, shrink: m.shrink, L: m.L },
  };
  const problem = populationProblem(stats, numItems);
  if (problem) throw corrupt(`population: ${problem}`);
  return stats;
}

/** A fresh, aligned copy of `n` 4-byte values starting at byte `at`. */
function copyOut<T extends Float32Array | Int32Array>(
  u8: Uint8Array,
  at: number,
  n: number,
  make: new (n: number) => T,
): T {
  const x = new make(n);
  new Uint8Array(x.buffer).set(u8.subarray(at, at + 4 * n));
  return x;
}
