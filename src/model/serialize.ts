import { LocalRecError } from '../api/errors';
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
 *   .. population section, only when the header has
 *      population = { width_sr, width_knn, mix } (N = config.numItems):
 *        f32[N]              counts
 *        i32[N · width_sr]   sr.ids        f32[N · width_sr]   sr.weights
 *        i32[N · width_knn]  knn.ids       f32[N · width_knn]  knn.weights
 *   .. u32    FNV-1a 32-bit checksum of every byte before it
 *
 * Version 1 is the same layout without a population section. Every field is 4 bytes
 * wide and starts 4-aligned, so a fresh copy can be viewed as typed arrays directly.
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

/** What the header says about the population section. */
interface PopulationHeader {
  width_sr: number;
  width_knn: number;
  mix: PopulationMixParams;
}

/** Bytes of the population section for N items and the two list widths. */
function sectionBytes(numItems: number, widthSR: number, widthKNN: number): number {
  return 4 * numItems * (1 + 2 * widthSR + 2 * widthKNN);
}

/** Size of `population`'s arrays in a model file. */
export function populationByteLength(population: PopulationStats): number {
  return sectionBytes(population.counts.length, population.sr.width, population.knn.width);
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
  const popHeader: PopulationHeader | undefined = population
    ? { width_sr: population.sr.width, width_knn: population.knn.width, mix: population.mix }
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
  const arrays: (Float32Array | Int32Array)[] = [
    a.items,
    ...(a.emb ? [a.emb] : []),
    a.wx,
    a.wh,
    a.b,
  ];
  if (population) {
    const { counts, sr, knn } = population;
    arrays.push(counts, sr.ids, sr.weights, knn.ids, knn.weights);
  }
  const words = arrays.reduce((s, x) => s + x.length, 0);
  const total = 12 + hb.length + words * 4 + 4;
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
  dv.setUint32(off, fnv1a(new Uint8Array(buf, 0, off)), true);
  return buf;
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
  const pop = version >= 2 ? populationHeader(header.population) : null;
  const popBytes = pop ? sectionBytes(config.numItems, pop.width_sr, pop.width_knn) : 0;
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
    pop && withPopulation ? readPopulation(u8, weightsEnd, config.numItems, pop) : null;
  return { model: GruModel.fromArrays(config, arrays, vocab, meta), population };
}

/** The header's population entry: null when absent, MODEL_CORRUPT when malformed. */
function populationHeader(value: unknown): PopulationHeader | null {
  if (value === undefined || value === null) return null;
  const h = value as Partial<PopulationHeader>;
  const width = (w: unknown) => typeof w === 'number' && Number.isSafeInteger(w) && w >= 0;
  if (typeof value !== 'object' || !width(h.width_sr) || !width(h.width_knn))
    throw corrupt('population widths');
  if (typeof h.mix !== 'object' || h.mix === null) throw corrupt('population mix');
  return h as PopulationHeader;
}

function readPopulation(
  u8: Uint8Array,
  at: number,
  numItems: number,
  h: PopulationHeader,
): PopulationStats {
  const take = <T extends Float32Array | Int32Array>(n: number, make: new (n: number) => T): T => {
    const x = copyOut(u8, at, n, make);
    at += 4 * n;
    return x;
  };
  const counts = take(numItems, Float32Array);
  const srIds = take(numItems * h.width_sr, Int32Array);
  const srWeights = take(numItems * h.width_sr, Float32Array);
  const knnIds = take(numItems * h.width_knn, Int32Array);
  const knnWeights = take(numItems * h.width_knn, Float32Array);
  const m = h.mix;
  const stats: PopulationStats = {
    counts,
    sr: { width: h.width_sr, ids: srIds, weights: srWeights },
    knn: { width: h.width_knn, ids: knnIds, weights: knnWeights },
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
