"""localrec's seeded generator (src/model/rng.ts, mulberry32), vectorised with numpy.

The state advances by a constant per draw, so the k-th draw after a state is a pure
function of (state + k·0x6D2B79F5): a block of draws is computed at once. Used for the
initial weights only, so that a seed gives the same starting model as the TypeScript
trainer (`initArrays` in src/model/params.ts).
"""

import math

import numpy as np

_GOLDEN = 0x6D2B79F5
_M32 = 0xFFFFFFFF


class Rng:
    def __init__(self, seed: int) -> None:
        # (Math.imul(seed >>> 0, 0x9e3779b9) ^ 0x6d2b79f5) >>> 0
        self.state = (((seed & _M32) * 0x9E3779B9) & _M32) ^ _GOLDEN

    def next_block(self, n: int) -> np.ndarray:
        """The next n uniforms in [0, 1), float64, as `next()` would give them in turn."""
        k = np.arange(1, n + 1, dtype=np.uint64)
        s = ((np.uint64(self.state) + k * np.uint64(_GOLDEN)) & np.uint64(_M32)).astype(np.uint32)
        self.state = int((self.state + n * _GOLDEN) & _M32)
        with np.errstate(over="ignore"):
            t = (s ^ (s >> np.uint32(15))) * (s | np.uint32(1))
            t ^= t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61))
            t = t ^ (t >> np.uint32(14))
        return t.astype(np.float64) / 4294967296.0

    def uniform(self, n: int, limit: float) -> np.ndarray:
        """`fillUniform`: (next() * 2 - 1) * limit, rounded to float32 as the TS arrays store it."""
        return ((self.next_block(n) * 2 - 1) * limit).astype(np.float32)


def glorot_limit(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6 / (fan_in + fan_out))


def init_arrays(num_items: int, hidden: int, embedding: str, emb_size: int, seed: int) -> dict:
    """Fresh weights exactly as `initArrays` (src/model/params.ts) draws them.

    items [N, H+1] (last column the output bias, 0), emb [N, E] or None, wx [E, 3H],
    wh [H, 3H] (each gate block its own Glorot range), b [3H] zeros.
    """
    rng = Rng(seed)
    h = hidden
    e = h if embedding == "tied" else emb_size
    n = num_items
    items = np.zeros((n, h + 1), dtype=np.float32)
    items[:, :h] = rng.uniform(n * h, glorot_limit(n, h)).reshape(n, h)
    emb = None
    if embedding == "separate":
        emb = rng.uniform(n * e, glorot_limit(n, e)).reshape(n, e)
    out = []
    for rows in (e, h):
        m = np.zeros((rows, 3 * h), dtype=np.float32)
        for g in range(3):
            # row by row, gate block g of each row: the TS loop order
            m[:, g * h : (g + 1) * h] = rng.uniform(rows * h, glorot_limit(rows, h)).reshape(rows, h)
        out.append(m)
    return {"items": items, "emb": emb, "wx": out[0], "wh": out[1], "b": np.zeros(3 * h, dtype=np.float32)}
