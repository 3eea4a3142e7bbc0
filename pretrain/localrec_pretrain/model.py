"""localrec's GRU4Rec model (src/model) on torch tensors.

Shapes: N items, H hidden units, E input width (H when tied), B rows, M candidates.

  items [N, H+1]  output vector of each item, its output bias as the last column; when
                  tied ("constrained embedding") its first H columns are also the input
  emb   [N, E]    separate input embedding (embedding 'separate' only)
  wx    [E, 3H]   input-to-gates, gate order r | z | n
  wh    [H, 3H]   hidden-to-gates, same order
  b     [3H]      gate biases

One step (Hidasi et al. 2016, eq. 2-5; src/model/step-js.ts):
  x' = x ⊙ mIn;  a = x'·Wx + b;  [r, z] = σ(a_rz + h·Wh_rz);  n = tanh(a_n + (r ⊙ h)·Wh_n)
  h' = h + z ⊙ (n − h);  o = h' ⊙ mH (the carried state);  S = [o, 1]·W_candᵀ

Losses (src/train/losses/), averaged over the B rows; column b holds row b's target:
  cross-entropy  softmax over the candidates after subtracting logQ, accidental hits
                 (another column holding row b's target) masked
  bpr-max        −log Σ_j s_j σ(r_t − r_j) + λ Σ_j s_j r_j², s = softmax of the negatives'
                 scores r (optionally ELU), the target's own column left out
"""

from typing import Optional

import numpy as np
import torch
from torch import nn

from .rng import init_arrays


class Gru4Rec(nn.Module):
    def __init__(self, num_items: int, hidden: int, embedding: str = "tied", emb_size: Optional[int] = None,
                 arrays: Optional[dict] = None, seed: int = 0) -> None:
        super().__init__()
        if embedding not in ("tied", "separate"):
            raise ValueError("embedding must be 'tied' or 'separate'")
        self.num_items, self.hidden, self.embedding = num_items, hidden, embedding
        self.emb_size = hidden if emb_size is None else emb_size
        a = arrays if arrays is not None else init_arrays(num_items, hidden, embedding, self.emb_size, seed)
        t = lambda x: nn.Parameter(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).clone())
        self.items = t(a["items"].reshape(num_items, hidden + 1))
        e = self.input_size
        self.emb = t(a["emb"].reshape(num_items, e)) if embedding == "separate" else None
        self.wx = t(a["wx"].reshape(e, 3 * hidden))
        self.wh = t(a["wh"].reshape(hidden, 3 * hidden))
        self.b = t(a["b"].reshape(3 * hidden))

    @property
    def input_size(self) -> int:
        return self.hidden if self.embedding == "tied" else self.emb_size

    @property
    def config(self) -> dict:
        return {"numItems": self.num_items, "hiddenSize": self.hidden, "embedding": self.embedding,
                "embeddingSize": self.emb_size}

    def arrays(self) -> dict:
        f = lambda p: p.detach().cpu().to(torch.float32).numpy().copy()
        return {"items": f(self.items), "emb": f(self.emb) if self.emb is not None else None,
                "wx": f(self.wx), "wh": f(self.wh), "b": f(self.b)}

    def input_rows(self, ids: torch.Tensor) -> torch.Tensor:
        if self.emb is not None:
            return self.emb[ids]
        return self.items[ids, : self.hidden]

    def step(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One GRU step: x [B, E], h [B, H] -> h' [B, H]."""
        H = self.hidden
        a = x @ self.wx + self.b
        rz = torch.sigmoid(a[:, : 2 * H] + h @ self.wh[:, : 2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = torch.tanh(a[:, 2 * H :] + (r * h) @ self.wh[:, 2 * H :])
        return h + z * (n - h)

    def forward(self, inputs: torch.Tensor, h: torch.Tensor, cols: Optional[torch.Tensor],
                mask_in: Optional[torch.Tensor], mask_h: Optional[torch.Tensor],
                mask_h_on_state: bool = True):
        """A training step's forward pass: scores [B, M] over `cols` (all items when None)
        from o = h' ⊙ mH, and the state carried to the next step: o with `mask_h_on_state`
        (GRU4Rec, TrainOptions.dropoutHiddenOn 'state'), else h' (dropout on the scores'
        input only, 'scores')."""
        x = self.input_rows(inputs)
        if mask_in is not None:
            x = x * mask_in
        h_new = self.step(x, h)
        o = h_new * mask_h if mask_h is not None else h_new
        w = self.items if cols is None else self.items[cols]
        S = o @ w[:, : self.hidden].t() + w[:, self.hidden]
        return S, (o if mask_h_on_state else h_new)

    @torch.no_grad()
    def scores(self, prefix, dtype=torch.float64) -> torch.Tensor:
        """Scores of every item after `prefix` (no dropout): the Scorer of src/model/js-scorer.ts."""
        H = self.hidden
        wx, wh, b = self.wx.to(dtype), self.wh.to(dtype), self.b.to(dtype)
        src = (self.emb if self.emb is not None else self.items[:, :H]).to(dtype)
        h = torch.zeros(1, H, dtype=dtype)
        for i in prefix:
            x = src[int(i)].unsqueeze(0)
            a = x @ wx + b
            rz = torch.sigmoid(a[:, : 2 * H] + h @ wh[:, : 2 * H])
            r, z = rz[:, :H], rz[:, H:]
            n = torch.tanh(a[:, 2 * H :] + (r * h) @ wh[:, 2 * H :])
            h = h + z * (n - h)
        items = self.items.to(dtype)
        return (h @ items[:, :H].t() + items[:, H]).squeeze(0)


def cross_entropy(S: torch.Tensor, log_q: Optional[torch.Tensor], hits: Optional[torch.Tensor]) -> torch.Tensor:
    """Sum over rows of −log softmax(S − logQ)[b, b] (sampled: targets on the diagonal)."""
    z = S if log_q is None else S - log_q
    if hits is not None:
        z = z.masked_fill(hits, -1e9)
    B = S.shape[0]
    diag = torch.arange(B)
    return (torch.logsumexp(z, dim=1) - z[diag, diag]).sum()


def cross_entropy_full(S: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Full softmax over the catalogue: column = item id."""
    return nn.functional.cross_entropy(S, targets, reduction="sum")


def bpr_max(S: torch.Tensor, target_col: torch.Tensor, hits: Optional[torch.Tensor], reg: float,
            elu: bool) -> torch.Tensor:
    """Sum over rows of BPR-max (Hidasi & Karatzoglou 2018) with the score regulariser."""
    B, M = S.shape
    r = nn.functional.elu(S) if elu else S
    own = torch.zeros(B, M, dtype=torch.bool)
    own[torch.arange(B), target_col] = True
    e = r.masked_fill(own, -torch.inf)
    if hits is not None:
        e = e.masked_fill(hits, -1e9)
    s = torch.softmax(e, dim=1)  # 0 on the target's own column
    rt = r[torch.arange(B), target_col].unsqueeze(1)
    P = (s * torch.sigmoid(rt - r)).sum(1) + 1e-24
    Q = (s * r * r).sum(1)
    return (-torch.log(P) + reg * Q).sum()
