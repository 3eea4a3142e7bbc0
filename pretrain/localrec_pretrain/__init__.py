"""Distributed pretraining of localrec's GRU4Rec model with PyTorch.

Reads an interaction log (CSV / CSV.gz) in a streaming pass, applies localrec's
offline-protocol filters and ordering (docs/PROTOCOL.md), trains the model of
src/model (same GRU equations, losses, sampler and session-parallel batches) with
DistributedDataParallel, and writes localrec's own model file (src/model/serialize.ts,
format 2) that `createRecommender({ pretrained })` and `localrec eval --model` load.

Modules, in dependency order:
  rng        the TypeScript Rng (mulberry32), so a seed gives localrec's initial weights
  data       streaming CSV reader, protocol filters / order / split, sessionisation
  model      the GRU4Rec maths on torch tensors: init, step, scores, losses
  modelfile  the LRGR model file: write and read (checksum, format 1 and 2)
  train      the data-parallel job: sampler, session stream, optimiser, checkpoints, CLI
"""

__all__ = ["rng", "data", "model", "modelfile", "train"]
