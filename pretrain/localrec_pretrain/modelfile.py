"""localrec's model file (src/model/serialize.ts), little-endian:

  0  u8[4]  "LRGR"            4  u32  format version (2 written; 1, 2 and 3 read)
  8  u32    header length L   12 u8[L] UTF-8 JSON {kind, config, vocab, meta[, weights]
                                       [, population]}, space-padded to a multiple of 4
  .. items, emb (separate only): [N, W] in the header's `weights` (version 3; f32 before):
       f32  f32[N·W];   f16  f16[N·W] zero-padded to 4;
       i8   f32[N] row scales s, i8[N·W] q zero-padded to 4 (x = q·s, q in -127..127)
  .. f32[]  wx, wh, b
  .. population section (only when the header has one; read past, never written here)
  .. u32    FNV-1a 32-bit checksum of every byte before it
"""

import json
import os
import struct
from typing import List, Optional

import numpy as np

MAGIC = b"LRGR"
FORMAT_VERSION = 2
READS = (1, 2, 3)
PRECISIONS = ("f32", "f16", "i8")


class ModelCorrupt(ValueError):
    """MODEL_CORRUPT / MODEL_MISMATCH in the TypeScript reader."""


def fnv1a(data: bytes) -> int:
    """FNV-1a 32-bit (serialize.ts `fnv1a`). Sequential by definition: ~0.15 s per MB in
    CPython, a small share of a pretraining job."""
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def _sizes(config: dict) -> dict:
    n, h = config["numItems"], config["hiddenSize"]
    e = h if config["embedding"] == "tied" else config["embeddingSize"]
    return {"items": n * (h + 1), "emb": n * e if config["embedding"] == "separate" else 0,
            "wx": e * 3 * h, "wh": h * 3 * h, "b": 3 * h}


def _pad4(n: int) -> int:
    return (n + 3) // 4 * 4


def _matrix_bytes(rows: int, width: int, precision: str) -> int:
    if precision == "f32":
        return 4 * rows * width
    if precision == "f16":
        return _pad4(2 * rows * width)
    return 4 * rows + _pad4(rows * width)


def _read_matrix(data: bytes, at: int, rows: int, width: int, precision: str) -> np.ndarray:
    """A per-item matrix, dequantized into float32 as serialize.ts does (x = float32(q · s))."""
    count = rows * width
    if precision == "f32":
        return np.frombuffer(data, dtype="<f4", count=count, offset=at).astype(np.float32)
    if precision == "f16":
        end = at + 2 * count
        x = np.frombuffer(data, dtype="<f2", count=count, offset=at).astype(np.float32)
    else:
        s = np.frombuffer(data, dtype="<f4", count=rows, offset=at).astype(np.float64)
        if not (np.isfinite(s).all() and (s >= 0).all()):
            raise ModelCorrupt("int8 scale")
        q = np.frombuffer(data, dtype="i1", count=count, offset=at + 4 * rows)
        if (q == -128).any():
            raise ModelCorrupt("int8 weight -128 (the range is ±127)")
        x = (q.reshape(rows, width).astype(np.float64) * s[:, None]).astype(np.float32).reshape(-1)
        end = at + 4 * rows + count
    if any(data[end:_pad4(end)]):
        raise ModelCorrupt("weights padding")
    return x


def write_model(path: str, config: dict, arrays: dict, vocab: Optional[List[str]] = None,
                meta: Optional[dict] = None) -> int:
    """Writes a format-2 file without population section; returns its size in bytes."""
    buf = model_bytes(config, arrays, vocab, meta)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(buf)
    os.replace(tmp, path)
    return len(buf)


def model_bytes(config: dict, arrays: dict, vocab: Optional[List[str]] = None,
                meta: Optional[dict] = None) -> bytes:
    config = {"numItems": int(config["numItems"]), "hiddenSize": int(config["hiddenSize"]),
              "embedding": config["embedding"], "embeddingSize": int(config["embeddingSize"])}
    if vocab is not None and len(vocab) != config["numItems"]:
        raise ValueError("vocabulary length must equal numItems")
    meta = meta or {"trainedEvents": 0, "epochs": 0, "seed": 0}
    header = json.dumps({"kind": "gru4rec", "config": config, "vocab": vocab, "meta": meta},
                        separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header += b" " * (_pad4(len(header)) - len(header))
    sizes = _sizes(config)
    parts = []
    for name in ("items", "emb", "wx", "wh", "b"):
        if sizes[name] == 0:
            continue
        a = np.ascontiguousarray(arrays[name], dtype="<f4").reshape(-1)
        if a.size != sizes[name]:
            raise ValueError(f"{name}: {a.size} values, config needs {sizes[name]}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name}: non-finite weight (a diverged model is never written)")
        parts.append(a.tobytes())
    body = MAGIC + struct.pack("<II", FORMAT_VERSION, len(header)) + header + b"".join(parts)
    return body + struct.pack("<I", fnv1a(body))


def read_model(data: bytes) -> dict:
    """{config, arrays, vocab, meta, version, population (header entry or None), precision}.

    f16 / i8 item matrices (format 3) come back dequantized into float32, as in TypeScript.

    Refuses (ModelCorrupt) what serialize.ts refuses: bad magic, unknown version,
    checksum, header, sizes, non-finite weights. The population section is size-checked
    and covered by the checksum but not decoded.
    """
    if len(data) < 16 or data[:4] != MAGIC:
        raise ModelCorrupt("not a localrec GRU model")
    version, hl = struct.unpack_from("<II", data, 4)
    if version not in READS:
        raise ModelCorrupt(f"model format version {version}, this build reads 1, 2 and 3")
    sum_at = len(data) - 4
    if fnv1a(data[:sum_at]) != struct.unpack_from("<I", data, sum_at)[0]:
        raise ModelCorrupt("checksum")
    if hl % 4 or 12 + hl > sum_at:
        raise ModelCorrupt("header length")
    header = json.loads(data[12 : 12 + hl].decode("utf-8"))
    if header.get("kind") != "gru4rec" or not header.get("config"):
        raise ModelCorrupt("header kind")
    config = {"hiddenSize": 100, "embedding": "tied", "embeddingSize": 100, **header["config"]}
    precision = header.get("weights") if version >= 3 else "f32"
    if precision not in PRECISIONS:
        raise ModelCorrupt("weights encoding")
    sizes = _sizes(config)
    n = config["numItems"]
    widths = {"items": config["hiddenSize"] + 1, "emb": sizes["emb"] // n if sizes["emb"] else 0}
    matrices = sum(_matrix_bytes(n, widths[k], precision) for k in ("items", "emb") if sizes[k])
    gru_floats = sizes["wx"] + sizes["wh"] + sizes["b"]
    weights_end = 12 + hl + matrices + 4 * gru_floats
    pop = header.get("population") if version >= 2 else None
    pop_bytes = 0
    if pop:
        idb = 2 if pop["ids"] == "u16" else 4
        lists = lambda w: _pad4(idb * n * w) + _pad4(2 * n * w)
        pop_bytes = 4 * n + lists(pop["srWidth"]) + lists(pop["knnWidth"])
    if weights_end + pop_bytes != sum_at:
        raise ModelCorrupt("weights size")
    arrays, at = {}, 12 + hl
    for name in ("items", "emb"):
        arrays[name] = _read_matrix(data, at, n, widths[name], precision) if sizes[name] else None
        if sizes[name]:
            at += _matrix_bytes(n, widths[name], precision)
    gru = np.frombuffer(data, dtype="<f4", count=gru_floats, offset=at).astype(np.float32)
    k = 0
    for name in ("wx", "wh", "b"):
        arrays[name] = gru[k : k + sizes[name]].copy()
        k += sizes[name]
    if not all(np.isfinite(a).all() for a in arrays.values() if a is not None):
        raise ModelCorrupt("non-finite weight")
    vocab = header.get("vocab")
    if vocab is not None and len(vocab) != config["numItems"]:
        raise ModelCorrupt("vocabulary")
    return {"config": config, "arrays": arrays, "vocab": vocab, "meta": header.get("meta", {}),
            "version": version, "population": pop, "precision": precision}
