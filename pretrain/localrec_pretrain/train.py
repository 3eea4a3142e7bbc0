"""The data-parallel pretraining job.

    torchrun --nproc_per_node P -m localrec_pretrain --data log.csv.gz --out model.bin

Every process (rank r of P) reads the log in a streaming pass and keeps its shard of
users (data.py), runs its own session-parallel stream of B/P slots over them
(src/train/batcher.ts, tail 'wrap': a slot whose session ends takes the next one, after
the last the order starts again), draws its own shared negatives ∝ pop^alpha from the
global item counts (src/train/sampler.ts), and computes its rows' mean loss.
DistributedDataParallel averages the gradients over the processes (gloo on CPU, NCCL on
GPUs), so a step is one step of the global batch of B rows; every process then applies
the same update: Adagrad with momentum (src/model/optimizer.ts), item rows updated
sparsely (only the rows some process touched: inputs, targets, negatives), the GRU
weights densely, the learning rate decaying linearly to lr·lrEnd.

Checkpoints (--checkpoint DIR, every epoch): rank 0 writes the weights and optimiser
state, every rank its stream position, hidden state and generators; `--resume` carries
on from the last complete one with the same number of processes, and gives the same
model as a run that was never stopped.
"""

import argparse
import json
import math
import os
import sys
import time
from typing import Optional

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .data import Columns, InvalidInput, Sequences, prepare, sessionise_users
from .model import Gru4Rec, bpr_max, cross_entropy, cross_entropy_full
from .modelfile import write_model

# GRU_EVAL_DEFAULTS (src/train/eval-factory.ts): what `localrec pretrain` trains with
DEFAULTS = {
    "hiddenSize": 100, "epochs": 10, "batchSize": 128, "negatives": 128, "loss": 0, "lr": 0.05,
    "lrEnd": 0, "momentum": 0.3, "dropoutEmbedding": 0.1, "dropoutHidden": 0.3, "sampleAlpha": 0.5,
    "logQ": 1, "bprReg": 1, "elu": 0, "separate": 0, "seed": 0, "eps": 1e-6, "maxLossFactor": 100,
    "fullSoftmaxMaxItems": 0,
    # truncated BPTT window (TrainOptions.bptt): this job trains one step deep only
    "bptt": 1,
    # where the hidden dropout applies (TrainOptions.dropoutHiddenOn): 0 on the carried
    # state too (GRU4Rec), 1 on the scores' input only
    "dropoutHiddenOn": 0,
}


class SessionStream:
    """batcher.ts `SessionStream` over this rank's sequences (ordered by first event
    time, ties by the sequence's global index)."""

    def __init__(self, seqs: Sequences, rows: int) -> None:
        lengths = np.diff(seqs.offsets)
        ids = np.nonzero(lengths >= 2)[0]
        first = seqs.times[seqs.offsets[ids]] if len(ids) else np.zeros(0)
        index = seqs.index[ids] if seqs.index is not None else ids
        self.order = ids[np.lexsort((index, first))]
        if len(self.order) == 0:
            raise InvalidInput("a process has no sequence of two or more events to train on")
        self.items, self.offsets = seqs.items, seqs.offsets
        self.rows = rows
        self.next = 0
        self.pos = np.zeros(rows, dtype=np.int64)
        self.end = np.zeros(rows, dtype=np.int64)
        for r in range(rows):
            self._take(r)
        self.fresh = True

    def _take(self, r: int) -> None:
        s = self.order[self.next]
        self.next = (self.next + 1) % len(self.order)
        self.pos[r], self.end[r] = self.offsets[s], self.offsets[s + 1]

    def step(self):
        """(inputs, targets, reset rows) of the next step."""
        done = np.nonzero(self.pos + 1 >= self.end)[0]
        for r in done.tolist():
            self._take(r)
        inputs = self.items[self.pos]
        targets = self.items[self.pos + 1]
        self.pos += 1
        resets = done if len(done) and not self.fresh else None
        self.fresh = False
        return torch.from_numpy(inputs.astype(np.int64)), torch.from_numpy(targets.astype(np.int64)), resets

    def state(self) -> dict:
        return {"next": self.next, "pos": self.pos.copy(), "end": self.end.copy(), "fresh": self.fresh}

    def load(self, s: dict) -> None:
        self.next, self.pos, self.end, self.fresh = s["next"], s["pos"].copy(), s["end"].copy(), s["fresh"]


class Adagrad:
    """optimizer.ts `adagrad` with momentum: acc += g²; v = μ·v + lr·g/√(acc + ε); w −= v.
    Row-wise (sparse) for item matrices: only the given rows move, state included."""

    def __init__(self, params: dict, lr: float, momentum: float, eps: float) -> None:
        self.params, self.lr, self.momentum, self.eps = params, lr, momentum, eps
        self.acc = {k: torch.zeros_like(p) for k, p in params.items()}
        self.vel = {k: torch.zeros_like(p) for k, p in params.items()} if momentum > 0 else None

    @torch.no_grad()
    def update(self, name: str, rows: Optional[torch.Tensor] = None) -> None:
        p = self.params[name]
        g = p.grad
        if rows is not None:
            g = g[rows]
            acc = self.acc[name][rows] + g * g
            self.acc[name][rows] = acc
            u = self.lr * g / torch.sqrt(acc + self.eps)
            if self.vel is not None:
                u = self.momentum * self.vel[name][rows] + u
                self.vel[name][rows] = u
            p[rows] -= u
            return
        self.acc[name].add_(g * g)
        u = self.lr * g / torch.sqrt(self.acc[name] + self.eps)
        if self.vel is not None:
            u = self.vel[name].mul_(self.momentum).add_(u)
        p.sub_(u)

    def state(self) -> dict:
        return {"acc": self.acc, "vel": self.vel}

    def load(self, s: dict) -> None:
        for k in self.acc:
            self.acc[k].copy_(s["acc"][k])
            if self.vel is not None:
                self.vel[k].copy_(s["vel"][k])


class Diverged(RuntimeError):
    """TRAINING_DIVERGED: the loss became NaN/∞ or exploded; no model is written."""


def parse_params(text: Optional[str]) -> dict:
    p = dict(DEFAULTS)
    if not text:
        return p
    for part in text.split(","):
        k, _, v = part.partition("=")
        k = k.strip()
        if k not in p:
            raise SystemExit(f"unknown parameter '{k}' ({', '.join(p)})")
        try:
            p[k] = float(v)
        except ValueError:
            raise SystemExit(f"parameter {k} needs a number")
    for k in ("hiddenSize", "epochs", "batchSize", "negatives", "loss", "elu", "separate", "seed",
              "fullSoftmaxMaxItems", "bptt", "dropoutHiddenOn"):
        p[k] = int(p[k])
    if p["bptt"] != 1:
        raise SystemExit(
            f"bptt={p['bptt']}: this PyTorch job trains one step deep only (bptt=1); "
            "backpropagation through time is in the TypeScript trainer (`localrec pretrain`)")
    if p["dropoutHiddenOn"] not in (0, 1):
        raise SystemExit(
            f"dropoutHiddenOn={p['dropoutHiddenOn']}: 0 (hidden dropout on the carried state "
            "too) or 1 (on the scores' input only)")
    return p


def log(rank: int, text: str) -> None:
    if rank == 0:
        print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict:
    p = parse_params(args.params)
    backend = args.backend or ("nccl" if torch.cuda.is_available() else "gloo")
    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group(backend)
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}") if backend == "nccl" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if args.threads:
        torch.set_num_threads(args.threads)
    B = p["batchSize"]
    if B < world:
        raise SystemExit(f"batchSize {B} is smaller than the number of processes {world}")
    rows = B // world + (1 if rank < B % world else 0)

    t_read = time.perf_counter()
    data = prepare(args.data, Columns(args.user_col, args.item_col, args.time_col),
                   min_item=args.min_item, min_user=args.min_user, shard=(rank, world))
    fit = data.full if args.all else data.train
    if args.session_gap:
        fit = sessionise_users(fit, args.session_gap)
    N = data.num_items
    read_seconds = time.perf_counter() - t_read

    def all_sum(x: torch.Tensor) -> torch.Tensor:
        if distributed:
            x = x.to(device)
            dist.all_reduce(x)
        return x.cpu()

    # global item counts and training events (every rank the same numbers)
    counts = all_sum(torch.from_numpy(np.bincount(fit.items, minlength=N).astype(np.float64)))
    lengths = np.diff(fit.offsets)
    local_events = int(np.maximum(lengths - 1, 0).sum())
    events = int(all_sum(torch.tensor([local_events], dtype=torch.float64)).item())
    steps_per_epoch = math.ceil(events / B)
    alpha = p["sampleAlpha"]
    w = torch.where(counts > 0, counts ** alpha, torch.tensor(1.0 if alpha == 0 else 0.0, dtype=torch.float64))
    if w.sum() == 0:
        w = torch.ones(N, dtype=torch.float64)
    probs = w / w.sum()
    S_neg = p["negatives"]
    full = p["fullSoftmaxMaxItems"] >= N
    log_q = None
    if p["loss"] == 0 and p["logQ"] > 0 and not full:
        expected = rows * counts / max(counts.sum().item(), 1) + S_neg * torch.clamp(probs, min=1e-12)
        log_q = (p["logQ"] * torch.log(torch.clamp(expected, min=1e-9))).to(torch.float32).to(device)

    model = Gru4Rec(N, p["hiddenSize"], "separate" if p["separate"] else "tied", p["hiddenSize"], seed=p["seed"]).to(device)
    ddp = DistributedDataParallel(model) if distributed else model
    params = {k: v for k, v in (("items", model.items), ("emb", model.emb), ("wx", model.wx), ("wh", model.wh), ("b", model.b)) if v is not None}
    opt = Adagrad(params, p["lr"], p["momentum"], p["eps"])
    stream = SessionStream(fit, rows)
    gen = torch.Generator().manual_seed(p["seed"] * 1000003 + rank)
    H, E = p["hiddenSize"], model.input_size
    h = torch.zeros(rows, H, device=device)
    start_epoch = 1

    ckpt = args.checkpoint
    if ckpt and args.resume and os.path.exists(os.path.join(ckpt, "latest.json")):
        with open(os.path.join(ckpt, "latest.json")) as f:
            latest = json.load(f)
        if latest["world"] != world:
            raise SystemExit(f"checkpoint was written by {latest['world']} processes, this job has {world}")
        shared = torch.load(os.path.join(ckpt, f"shared-{latest['epoch']}.pt"))
        own = torch.load(os.path.join(ckpt, f"rank{rank}-{latest['epoch']}.pt"))
        with torch.no_grad():
            for k, v in params.items():
                v.copy_(shared["params"][k])
        opt.load(shared["opt"])
        stream.load(own["stream"])
        gen.set_state(own["gen"])
        h = own["h"].to(device)
        start_epoch = latest["epoch"] + 1
        log(rank, f"resumed from {ckpt} after epoch {latest['epoch']}")

    log(rank, f"{world} process(es) ({backend}, {device.type}) · {N} items · {events} training events · "
              f"{steps_per_epoch} steps/epoch of {B} rows ({rows} per process) · read {read_seconds:.1f} s")
    max_loss = p["maxLossFactor"] * (math.log(2) if p["loss"] == 1 else math.log(max(N if full else B + S_neg, 2)))
    total_steps = p["epochs"] * steps_per_epoch
    step_no = (start_epoch - 1) * steps_per_epoch
    t0 = time.perf_counter()
    trained = 0
    history = []
    for epoch in range(start_epoch, p["epochs"] + 1):
        loss_sum = torch.zeros((), dtype=torch.float64)
        for step in range(steps_per_epoch):
            if args.simulate_kill_at_step and step_no == args.simulate_kill_at_step:
                os._exit(137)  # as a killed process: no cleanup, no checkpoint
            if p["lrEnd"] != 1:
                done = (epoch - 1 + step / steps_per_epoch) / p["epochs"]
                opt.lr = p["lr"] * (1 - (1 - p["lrEnd"]) * done)
            inputs, targets, resets = stream.step()
            if resets is not None:
                h[torch.from_numpy(resets)] = 0
            cols = None if full else torch.cat([targets, torch.multinomial(probs, S_neg, True, generator=gen)]) if S_neg else targets
            mask_in = _dropout((rows, E), p["dropoutEmbedding"], gen)
            mask_h = _dropout((rows, H), p["dropoutHidden"], gen)
            d = lambda x: None if x is None else x.to(device)
            S, o = ddp(d(inputs), h, d(cols), d(mask_in), d(mask_h), p["dropoutHiddenOn"] == 0)
            if full:
                loss = (cross_entropy_full(S, d(targets)) if p["loss"] == 0 else
                        bpr_max(S, d(targets), None, p["bprReg"], bool(p["elu"])))
            else:
                hits = (cols.unsqueeze(0) == targets.unsqueeze(1))
                hits[torch.arange(rows), torch.arange(rows)] = False
                hits = d(hits) if hits.any() else None
                if p["loss"] == 0:
                    loss = cross_entropy(S, None if log_q is None else log_q[d(cols)], hits)
                else:
                    loss = bpr_max(S, torch.arange(rows, device=device), hits, p["bprReg"], bool(p["elu"]))
            for v in params.values():
                v.grad = None
            # d(mean over the global batch): DDP averages the processes' gradients
            (loss * (world / B)).backward()
            h = o.detach()
            # rows some process touched: their weights and optimiser state move
            touched = torch.zeros(N, device=device)
            touched[d(inputs)] = 1
            if cols is not None:
                touched[d(cols)] = 1
            else:
                touched[:] = 1
            if distributed:
                dist.all_reduce(touched)
            rows_t = torch.nonzero(touched).squeeze(1)
            opt.update("items", rows_t)
            if "emb" in params:
                t_in = torch.zeros(N, device=device)
                t_in[d(inputs)] = 1
                if distributed:
                    dist.all_reduce(t_in)
                opt.update("emb", torch.nonzero(t_in).squeeze(1))
            for k in ("wx", "wh", "b"):
                opt.update(k)
            loss_sum += loss.detach().double().cpu()
            step_no += 1
            trained += B  # rows of the global batch
        epoch_loss = all_sum(loss_sum.reshape(1)).item() / (steps_per_epoch * B)
        if not math.isfinite(epoch_loss) or epoch_loss > max_loss or not all(torch.isfinite(v).all() for v in params.values()):
            raise Diverged(f"loss is not finite (epoch {epoch})")
        seconds = time.perf_counter() - t0
        history.append({"epoch": epoch, "loss": epoch_loss})
        log(rank, f"epoch {epoch} loss {epoch_loss:.4f} {trained / seconds:.0f} events/s")
        if ckpt:
            _checkpoint(ckpt, epoch, rank, world, params, opt, stream, gen, h, distributed)
    seconds = time.perf_counter() - t0
    result = {"world": world, "events": events, "steps": total_steps, "history": history,
              "trainSeconds": seconds, "readSeconds": read_seconds,
              "eventsPerSecond": trained / max(seconds, 1e-9)}
    if rank == 0 and args.out:
        arrays = model.arrays()
        # as fit.ts counts them: every row of every step
        meta = {"trainedEvents": total_steps * B, "epochs": p["epochs"], "seed": p["seed"]}
        size = write_model(args.out, model.config, arrays, data.vocab, meta)
        print(f"wrote {args.out}: {size} bytes · {N} items · {events} events × {p['epochs']} epochs in "
              f"{seconds:.1f} s ({result['eventsPerSecond']:.0f} events/s, {world} process(es), {backend})", flush=True)
    if rank == 0 and args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if distributed:
        # No destroy_process_group(): with torch 1.13's gloo it hung one rank at exit in
        # about 1 run in 5 on a loaded 2-core machine (after the model was written); the
        # process exits right after this (__main__), which frees the group.
        dist.barrier()
    return result


def _dropout(shape, p: float, gen: torch.Generator) -> Optional[torch.Tensor]:
    """Inverted dropout mask (rng.ts `fillDropoutMask`): 0 with probability p, else 1/(1−p)."""
    if p <= 0:
        return None
    return (torch.rand(shape, generator=gen) >= p).to(torch.float32) / (1 - p)


def _checkpoint(path, epoch, rank, world, params, opt, stream, gen, h, distributed) -> None:
    """Every rank writes its part, then rank 0 points latest.json at the epoch: a job
    killed while writing resumes from the previous complete checkpoint."""
    os.makedirs(path, exist_ok=True)

    def save(obj, name):
        tmp = os.path.join(path, f".{name}.tmp")
        torch.save(obj, tmp)
        os.replace(tmp, os.path.join(path, name))

    save({"stream": stream.state(), "gen": gen.get_state(), "h": h.cpu()}, f"rank{rank}-{epoch}.pt")
    if rank == 0:
        save({"params": {k: v.detach().cpu() for k, v in params.items()},
              "opt": {"acc": {k: v.cpu() for k, v in opt.acc.items()},
                      "vel": {k: v.cpu() for k, v in opt.vel.items()} if opt.vel else None}},
             f"shared-{epoch}.pt")
    if distributed:
        dist.barrier()
    if rank == 0:
        tmp = os.path.join(path, ".latest.json.tmp")
        with open(tmp, "w") as f:
            json.dump({"epoch": epoch, "world": world}, f)
        os.replace(tmp, os.path.join(path, "latest.json"))
        for old in os.listdir(path):  # keep the latest two epochs
            for prefix in ("shared-", *(f"rank{r}-" for r in range(world))):
                if old.startswith(prefix) and old.endswith(".pt") and int(old[len(prefix):-3]) < epoch - 1:
                    os.remove(os.path.join(path, old))


def main(argv=None) -> int:
    a = argparse.ArgumentParser(prog="localrec_pretrain", description=__doc__.split("\n\n")[0])
    a.add_argument("--data", required=True, help="interaction log, .csv or .csv.gz")
    a.add_argument("--out", help="model file to write (localrec format 2)")
    a.add_argument("--user-col"), a.add_argument("--item-col"), a.add_argument("--time-col")
    a.add_argument("--min-item", type=int, default=5)
    a.add_argument("--min-user", type=int, default=3)
    a.add_argument("--all", action="store_true", help="train on every interaction, not only the protocol training part")
    a.add_argument("--session-gap", type=float, default=0,
                   help="cut each user's history into sessions after this much inactivity (the log's time unit); 0 = whole histories")
    a.add_argument("--params", help="GRU settings as `localrec pretrain --params`, e.g. 'epochs=10,batchSize=128'")
    a.add_argument("--checkpoint", help="checkpoint directory (written every epoch)")
    a.add_argument("--resume", action="store_true", help="continue from the checkpoint directory's latest epoch")
    a.add_argument("--backend", choices=["gloo", "nccl"], help="default: nccl when CUDA is available, else gloo")
    a.add_argument("--threads", type=int, default=0, help="torch threads per process (default: torch's)")
    a.add_argument("--json", help="write a run summary (events/s, losses) here")
    a.add_argument("--simulate-kill-at-step", type=int, default=0, help=argparse.SUPPRESS)
    args = a.parse_args(argv)
    try:
        run(args)
    except (InvalidInput, Diverged) as e:
        print(f"localrec_pretrain: {e}", file=sys.stderr)
        return 2 if isinstance(e, InvalidInput) else 1
    return 0
