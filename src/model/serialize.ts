import { LocalRecError } from '../api/errors';
import { type GruConfig, resolveGruConfig } from './config';
import { type GruMeta, GruModel } from './model';
import { type GruArrays, paramSizes } from './params';

/**
 * Binary format of a GRU model, little-endian:
 *
 *   0  u8[4]  magic "LRGR"
 *   4  u32    format version (1)
 *   8  u32    header byte length L
 *   12 u8[L]  header: UTF-8 JSON { kind, config, vocab, meta }, space-padded to 4 bytes
 *   .. f32[]  items, emb (separate only), wx, wh, b (sizes from config)
 *   .. u32    FNV-1a 32-bit checksum of every byte before it
 *
 * A plain ArrayBuffer: fits IndexedDB, a fetch() of a pretrained file, postMessage.
 */
export const FORMAT_VERSION = 1;
const MAGIC = [0x4c, 0x52, 0x47, 0x52]; // LRGR

export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function serializeGru(model: GruModel): ArrayBuffer {
  const a = model.toArrays();
  const header = JSON.stringify({
    kind: 'gru4rec',
    config: model.config,
    vocab: model.vocab,
    meta: model.meta,
  });
  let hb = new TextEncoder().encode(header);
  const padded = (hb.length + 3) & ~3;
  if (padded !== hb.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(hb);
    hb = p;
  }
  const arrays = [a.items, ...(a.emb ? [a.emb] : []), a.wx, a.wh, a.b];
  const floats = arrays.reduce((s, x) => s + x.length, 0);
  const total = 12 + hb.length + floats * 4 + 4;
  const buf = new ArrayBuffer(total);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  u8.set(MAGIC, 0);
  dv.setUint32(4, FORMAT_VERSION, true);
  dv.setUint32(8, hb.length, true);
  u8.set(hb, 12);
  let off = 12 + hb.length;
  const f32 = new Float32Array(buf, off, floats);
  let k = 0;
  for (const x of arrays) {
    f32.set(x, k);
    k += x.length;
  }
  off += floats * 4;
  dv.setUint32(off, fnv1a(new Uint8Array(buf, 0, off)), true);
  return buf;
}

function corrupt(msg: string): LocalRecError {
  return new LocalRecError('MODEL_CORRUPT', `model buffer corrupt: ${msg}`);
}

/**
 * Read a model written by `serializeGru`. Refuses with `MODEL_CORRUPT` a buffer that
 * is truncated, fails its checksum or has inconsistent contents, and with
 * `MODEL_MISMATCH` one from an unknown format version or whose config differs from
 * `expect` (e.g. the catalog size or hidden size the caller needs).
 */
export function deserializeGru(
  buffer: ArrayBuffer | ArrayBufferView,
  expect: Partial<GruConfig> = {},
): GruModel {
  const u8 =
    buffer instanceof ArrayBuffer
      ? new Uint8Array(buffer)
      : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (u8.length < 16) throw corrupt('too short');
  for (let i = 0; i < 4; i++) if (u8[i] !== MAGIC[i]) throw corrupt('not a localrec GRU model');
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== FORMAT_VERSION) {
    throw new LocalRecError(
      'MODEL_MISMATCH',
      `model format version ${version}, this build reads ${FORMAT_VERSION}`,
      { details: { version } },
    );
  }
  const sumAt = u8.length - 4;
  if (fnv1a(u8.subarray(0, sumAt)) !== dv.getUint32(sumAt, true)) throw corrupt('checksum');
  const hl = dv.getUint32(8, true);
  if (hl % 4 !== 0 || 12 + hl > sumAt) throw corrupt('header length');
  let header: { kind?: unknown; config?: GruConfig; vocab?: string[] | null; meta?: GruMeta };
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
  if (12 + hl + floats * 4 !== sumAt) throw corrupt('weights size');
  // copy out (the source buffer may be unaligned or reused by the caller)
  const all = new Float32Array(floats);
  new Uint8Array(all.buffer).set(u8.subarray(12 + hl, sumAt));
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
  return GruModel.fromArrays(config, arrays, vocab, meta);
}
