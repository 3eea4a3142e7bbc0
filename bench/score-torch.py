"""PyTorch's top-20 from a kept hidden state, the reference for bench/score.ts:
`h @ W.T + b` then `torch.topk(20)`, one thread, random weights. One JSON line.

    /usr/bin/python3 bench/score-torch.py [--items 3496] [--hidden 100] [--reps 3000]
"""
import argparse
import json
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--items", type=int, default=3496)
ap.add_argument("--hidden", type=int, default=100)
ap.add_argument("--reps", type=int, default=3000)
a = ap.parse_args()
torch.set_num_threads(1)
g = torch.Generator().manual_seed(1)
w = torch.rand(a.items, a.hidden, generator=g) - 0.5
b = torch.rand(a.items, generator=g) - 0.5
h = torch.rand(1, a.hidden, generator=g) - 0.5
with torch.no_grad():
    for _ in range(100):
        torch.topk(h @ w.T + b, 20)
    t = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        torch.topk(h @ w.T + b, 20)
        t.append((time.perf_counter() - t0) * 1e3)
t.sort()
q = lambda p: round(t[min(len(t) - 1, int(p * len(t)))], 4)
print(json.dumps({"system": "pytorch", "torch": torch.__version__, "items": a.items,
                  "hidden": a.hidden, "top20Ms": {"median": q(0.5), "p95": q(0.95)}}))
