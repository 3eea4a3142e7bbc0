import { LocalRecError } from '../core/errors';
import { type GruConfig, inputSize, resolveGruConfig } from './config';
import { type GruMeta, GruModel } from './model';
import { type GruArrays, paramSizes } from './params';
import { type PopulationMixParams, type PopulationStats, populationProblem } from './population';
import { itemRows } from './row-dots';

/**
 * Binary format of a GRU model, little-endian:
 *
 *   0  u8[4]  magic "LRGR"
 *   4  u32    format version (3 for f16 / i8 weights, 2 for float32; 1 is still read)
 *   8  u32    header byte length L
 *   12 u8[L]  header: UTF-8 JSON { kind, config, vocab, meta, weights?, population? },
 *             space-padded to 4 bytes
 *   .. items, emb (separate only): the per-item matrices [N, W] (W = H + 1, resp. E),
 *      encoded as the header's `weights` says (version 3; float32 before):
 *        'f32'  f32[N · W]
 *        'f16'  f16[N · W], zero-padded to 4 bytes (IEEE binary16, as below)
 *        'i8'   f32[N] row scales s, then i8[N · W] q, zero-padded to 4 bytes:
 *               x = q · s, q in −127..127 (s = max |row| / 127, so |x − x̂| ≤ s / 2)
 *   .. f32[]  wx, wh, b (sizes from config; always float32: 4 · (E + H + 1) · 3H bytes,
 *             ~100 KB at H 64, against the item matrix's N · (H + 1) values)
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
 * Version 2 is version 3 with float32 item matrices and no `weights` entry; a float32
 * file is written as version 2, so readers of version 2 (older builds, the Python
 * pretrainer) still read it. Version 1 is version 2 without a population section. Every
 * array starts 4-aligned, so the f32 weights of a fresh copy can be viewed as typed
 * arrays directly. Readers dequantize f16 / i8 once into float32 (`readModelFile`).
 *
 * A plain ArrayBuffer: fits IndexedDB, a fetch() of a pretrained file, postMessage.
 */
export const FORMAT_VERSION = 3;
/** The version of a float32 file (the same bytes version 2 readers read). */
const F32_VERSION = 2;
/** Versions this build reads. */
const READS = [1, 2, 3];

/**
 * How the item matrix (and a separate input embedding) is stored: float32, float16, or
 * int8 with one float32 scale per row. The GRU's gate matrices are float32 in every case.
 */
export type WeightPrecision = 'f32' | 'f16' | 'i8';
export const WEIGHT_PRECISIONS: readonly WeightPrecision[] = ['f32', 'f16', 'i8'];

/** Bytes of a per-item matrix of `rows` × `width` values in `precision`. */
function matrixBytes(rows: number, width: number, precision: WeightPrecision): number {
  if (precision === 'f32') return 4 * rows * width;
  if (precision === 'f16') return pad4(2 * rows * width);
  return 4 * rows + pad4(rows * width);
}
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

/** Options of `serializeGru`. */
export interface SerializeOptions {
  /**
   * Encoding of the item matrix (and a separate input embedding): 'f32' (default,
   * format version 2), 'f16' or 'i8' (format version 3).
   */
  precision?: WeightPrecision;
}

/**
 * A model file with `population` (checked against the model's catalogue size,
 * INVALID_INPUT when it does not fit) or without, its item matrix in `precision`
 * (float32: format version 2; f16 / i8: version 3). INVALID_INPUT for an unknown
 * precision, or a float16 weight beyond float16's range.
 */
export function serializeGru(
  model: GruModel,
  population?: PopulationStats | null,
  options: SerializeOptions = {},
): ArrayBuffer {
  const precision = options.precision ?? 'f32';
  if (!WEIGHT_PRECISIONS.includes(precision)) {
    throw new LocalRecError(
      'INVALID_INPUT',
      `precision '${precision}' is not one of ${WEIGHT_PRECISIONS.join(', ')}`,
      { details: { field: 'precision' } },
    );
  }
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
    // a float32 file stays byte for byte a version-2 file
    ...(precision !== 'f32' ? { weights: precision } : {}),
    ...(popHeader ? { population: popHeader } : {}),
  });
  let hb = new TextEncoder().encode(header);
  const padded = (hb.length + 3) & ~3;
  if (padded !== hb.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(hb);
    hb = p;
  }
  const matrices: [string, Float32Array, number][] = [
    ['items', a.items, model.config.hiddenSize + 1],
  ];
  if (a.emb) matrices.push(['emb', a.emb, inputSize(model.config)]);
  const gru: Float32Array[] = [a.wx, a.wh, a.b];
  const matrixTotal = matrices.reduce((s, [, , w]) => s + matrixBytes(numItems, w, precision), 0);
  const gruBytes = gru.reduce((s, x) => s + x.byteLength, 0);
  const popBytes = population
    ? sectionBytes(numItems, population.sr.width, population.knn.width, ids)
    : 0;
  const total = 12 + hb.length + matrixTotal + gruBytes + popBytes + 4;
  const buf = new ArrayBuffer(total);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  u8.set(MAGIC, 0);
  dv.setUint32(4, precision === 'f32' ? F32_VERSION : FORMAT_VERSION, true);
  dv.setUint32(8, hb.length, true);
  u8.set(hb, 12);
  let off = 12 + hb.length;
  for (const [name, x, width] of matrices)
    off = writeMatrix(u8, dv, off, name, x, numItems, width, precision);
  for (const x of gru) {
    u8.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), off);
    off += x.byteLength;
  }
  if (population) off = writePopulation(u8, dv, off, population, ids);
  dv.setUint32(off, fnv1a(new Uint8Array(buf, 0, off)), true);
  return buf;
}

/**
 * Quantizes a row to int8 with one scale: s = max |x| / 127 (as float32), q = round(x / s)
 * in −127..127 (−128 is never written: the range stays symmetric). Returns s.
 */
function quantizeRow(
  x: Float32Array,
  from: number,
  width: number,
  q: Int8Array,
  at: number,
): number {
  let m = 0;
  for (let j = 0; j < width; j++) m = Math.max(m, Math.abs(x[from + j]));
  const s = Math.fround(m / 127);
  if (s === 0) return 0; // an all-zero row (or one below float32's smallest scale): q stays 0
  for (let j = 0; j < width; j++) {
    const v = Math.round(x[from + j] / s);
    q[at + j] = Math.min(127, Math.max(-127, v));
  }
  return s;
}

/** Writes a per-item matrix [rows, width] at `at` in `precision`; returns its end. */
function writeMatrix(
  u8: Uint8Array,
  dv: DataView,
  at: number,
  name: string,
  x: Float32Array,
  rows: number,
  width: number,
  precision: WeightPrecision,
): number {
  if (precision === 'f32') {
    u8.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), at);
    return at + x.byteLength;
  }
  if (precision === 'f16') {
    for (let j = 0; j < x.length; j++) {
      const h = float16Bits(x[j]);
      if ((h & 0x7c00) === 0x7c00) {
        throw new LocalRecError(
          'INVALID_INPUT',
          `${name} weight ${x[j]} at ${j} is beyond float16's range (largest 65504): write this model as f32 or i8`,
          { details: { field: 'precision' } },
        );
      }
      dv.setUint16(at + 2 * j, h, true);
    }
    return at + pad4(2 * x.length);
  }
  const q = new Int8Array(u8.buffer, u8.byteOffset + at + 4 * rows, rows * width);
  for (let r = 0; r < rows; r++)
    dv.setFloat32(at + 4 * r, quantizeRow(x, r * width, width, q, r * width), true);
  return at + matrixBytes(rows, width, 'i8');
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
 * Read a model written by `serializeGru` (format 1, 2 or 3) and the population it carries,
 * if any; float16 and int8 weights come back dequantized into float32. Refuses with `MODEL_CORRUPT` a buffer that is truncated, fails its checksum or
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
 * Just the GRU of a model file (`readModelFile` without the population and int8 rows: the
 * section is size-checked and covered by the checksum, its contents are neither copied
 * nor validated). Same errors as `readModelFile`.
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
  full: boolean,
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
    weights?: unknown;
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
  const precision = version >= 3 ? weightsHeader(header.weights) : 'f32';
  const sizes = paramSizes(config);
  const n = config.numItems;
  const gruFloats = sizes.wx + sizes.wh + sizes.b;
  const itemsWidth = config.hiddenSize + 1;
  const embWidth = sizes.emb ? inputSize(config) : 0;
  const matrixTotal =
    matrixBytes(n, itemsWidth, precision) + (embWidth ? matrixBytes(n, embWidth, precision) : 0);
  const weightsEnd = 12 + hl + matrixTotal + gruFloats * 4;
  // version 1 never had a population section, whatever its header says
  const pop = version >= 2 ? populationHeader(header.population, config.numItems) : null;
  const popBytes = pop ? sectionBytes(config.numItems, pop.srWidth, pop.knnWidth, pop.ids) : 0;
  if (weightsEnd + popBytes !== sumAt)
    throw corrupt(pop ? 'weights or population size' : 'weights size');
  // decoded into fresh float32 arrays (the source buffer may be unaligned or reused by the
  // caller); f16 and i8 are dequantized here, once
  let at = 12 + hl;
  const matrix = (width: number, into?: Float32Array): Float32Array => {
    const x = readMatrix(u8, dv, at, n, width, precision, into);
    at += matrixBytes(n, width, precision);
    return x;
  };
  // the item matrix straight into the memory the scoring pass runs in (row-dots.ts)
  const items = matrix(itemsWidth, itemRows(n, config.hiddenSize));
  const emb = sizes.emb ? matrix(embWidth) : null;
  const gru = copyOut(u8, at, gruFloats, Float32Array);
  for (const all of emb ? [items, emb, gru] : [items, gru])
    for (let i = 0; i < all.length; i++)
      if (!Number.isFinite(all[i])) throw corrupt('non-finite weight');
  let k = 0;
  const take = (count: number) => {
    const x = gru.subarray(k, k + count);
    k += count;
    return x;
  };
  const arrays: GruArrays = {
    items,
    emb,
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
  const population = pop && full ? readPopulation(u8, dv, weightsEnd, config.numItems, pop) : null;
  return { model: GruModel.fromArrays(config, arrays, vocab, meta), population };
}

let halfValues: Float32Array | null = null;

/**
 * The float32 value of every float16 bit pattern (256 KB, built on the first f16 read):
 * a lookup is ~5x faster than `float16Value` per weight, which matters at 6.5M weights.
 */
function halfTable(): Float32Array {
  if (!halfValues) {
    halfValues = new Float32Array(0x10000);
    for (let b = 0; b < 0x10000; b++) halfValues[b] = float16Value(b);
  }
  return halfValues;
}

/** The header's `weights` entry of a version-3 file: MODEL_CORRUPT when absent or unknown. */
function weightsHeader(value: unknown): WeightPrecision {
  if (!WEIGHT_PRECISIONS.includes(value as WeightPrecision)) throw corrupt('weights encoding');
  return value as WeightPrecision;
}

/**
 * A per-item matrix [rows, width] at `at`, decoded into float32 (into `into` when given).
 * MODEL_CORRUPT for a negative or non-finite int8 scale, an int8 of −128, or non-zero
 * padding.
 */
function readMatrix(
  u8: Uint8Array,
  dv: DataView,
  at: number,
  rows: number,
  width: number,
  precision: WeightPrecision,
  into?: Float32Array,
): Float32Array {
  const count = rows * width;
  const x = into ?? new Float32Array(count);
  if (precision === 'f32') {
    new Uint8Array(x.buffer, x.byteOffset, 4 * count).set(u8.subarray(at, at + 4 * count));
    return x;
  }
  let end: number;
  if (precision === 'f16') {
    const table = halfTable();
    for (let j = 0; j < count; j++) x[j] = table[dv.getUint16(at + 2 * j, true)];
    end = at + 2 * count;
  } else {
    const q = new Int8Array(u8.buffer, u8.byteOffset + at + 4 * rows, count);
    for (let r = 0; r < rows; r++) {
      const s = dv.getFloat32(at + 4 * r, true);
      if (!(Number.isFinite(s) && s >= 0)) throw corrupt(`int8 scale ${s} of row ${r}`);
      const o = r * width;
      for (let j = o; j < o + width; j++) {
        if (q[j] === -128) throw corrupt(`int8 weight -128 in row ${r} (the range is ±127)`);
        x[j] = q[j] * s;
      }
    }
    end = at + 4 * rows + count;
  }
  for (let k = end; k < pad4(end); k++) if (u8[k] !== 0) throw corrupt('weights padding');
  return x;
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
