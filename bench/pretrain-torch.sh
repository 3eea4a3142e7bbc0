#!/bin/sh
# The PyTorch pretraining job (pretrain/) against `localrec pretrain` at the same
# settings (GRU_EVAL_DEFAULTS, but one-step training: the job has no BPTT, so the TS side
# runs with bptt=1), both scored by `localrec eval --model` on ml-small-last5
# (train only), and the job's events/s with 1 and 2 processes (gloo, one thread each).
# Numbers, not pass/fail: see the README's "Pretraining with PyTorch" section.
#
#   sh bench/pretrain-torch.sh [OUT_DIR] [PARAMS]      (PARAMS e.g. 'epochs=10,seed=0')
set -eu
cd "$(dirname "$0")/.."
out=${1:-.cache/pretrain-torch}
params=${2:-seed=0}
data=data/movielens-small/ratings.csv.gz
py=${LOCALREC_PYTHON:-/usr/bin/python3}
mkdir -p "$out"
export PYTHONPATH=pretrain OMP_NUM_THREADS=1

npx tsx cli/localrec.ts pretrain --data "$data" --out "$out/ts.bin" --no-population --precision f32 --params "bptt=1,$params" | tee "$out/ts.txt"
"$py" -m localrec_pretrain --data "$data" --out "$out/py1.bin" --params "$params" --threads 1 --json "$out/py1.json"
"$py" -m localrec_pretrain.launch --standalone --nproc_per_node 2 -m localrec_pretrain \
  --data "$data" --out "$out/py2.bin" --params "$params" --threads 1 --json "$out/py2.json"
for m in ts py1 py2; do
  npx tsx cli/localrec.ts eval --data "$data" --models sr+itemknn --model "$out/$m.bin" --json "$out/eval-$m.json" | tail -4
done
node -e '
const fs = require("node:fs");
const dir = process.argv[1];
for (const m of ["ts", "py1", "py2"]) {
  const r = JSON.parse(fs.readFileSync(`${dir}/eval-${m}.json`, "utf8")).models["gru-file"];
  const t = r.test["NDCG@10"];
  const speed = m === "ts" ? "" : ` · ${Math.round(JSON.parse(fs.readFileSync(`${dir}/${m}.json`, "utf8")).eventsPerSecond)} events/s`;
  console.log(`${m}: test NDCG@10 ${t.mean.toFixed(4)} ± ${t.se.toFixed(4)} · valid ${r.valid["NDCG@10"].mean.toFixed(4)}${speed}`);
}' "$out"
