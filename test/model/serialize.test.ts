import { beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../src/api/errors';
import { GruModel } from '../../src/model/model';
import { deserializeGru, serializeGru } from '../../src/model/serialize';
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

function tryLoad(b: ArrayBuffer): unknown {
  try {
    deserializeGru(b).dispose();
    return undefined;
  } catch (e) {
    return e;
  }
}
