#!/bin/sh
# Training speed side by side: `localrec bench train` (Node, the library's WebAssembly
# SIMD step), the same training in headless Chromium's worker (bench/train-browser.ts,
# WASM backend), and the official GRU4Rec on PyTorch (CPU, one thread), one epoch of the
# ml-small-last5 training split each, at identical settings (100 units, tied embedding,
# batch 128, 128 shared negatives ∝ pop^0.5, cross-entropy with logQ, dropout 0.1 / 0.3,
# Adagrad lr 0.05, momentum 0.3, one-step training: bptt 1 as GRU4Rec does), ROUNDS
# alternating runs in one window with the load printed before each. Chromium needs
# `npm run build` first.
#
# The official code is not part of this project (its licence forbids that): clone it
# yourself and point GRU4REC_DIR at it. It needs pandas and joblib beside torch
# (Debian: python3-torch python3-pandas python3-joblib).
#
#   GRU4REC_DIR=/path/to/GRU4Rec_PyTorch_Official sh bench/train-vs-gru4rec.sh [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
: "${GRU4REC_DIR:?set GRU4REC_DIR to a checkout of github.com/hidasib/GRU4Rec_PyTorch_Official}"
rounds=${1:-3}
py=${LOCALREC_PYTHON:-/usr/bin/python3}
tsv=${TMPDIR:-/tmp}/localrec-ml-train.tsv
npx tsx bench/gru4rec-data.ts "$tsv"
# (input, next item) pairs in one epoch: events minus one per user. GRU4Rec's own "e/s"
# counts padded minibatch rows; the real rate is pairs / epoch seconds.
pairs=$(awk -F'\t' 'NR > 1 { n++; if (!($1 in u)) { u[$1] = 1; s++ } } END { print n - s }' "$tsv")
echo "# $pairs training pairs per epoch"
params=layers=100,batch_size=128,n_sample=128,loss=cross-entropy,constrained_embedding=True,dropout_p_embed=0.1,dropout_p_hidden=0.3,momentum=0.3,learning_rate=0.05,sample_alpha=0.5,logq=1.0,n_epochs=1,elu_param=0
i=0
while [ "$i" -lt "$rounds" ]; do
  echo "# round $((i + 1)) · load $(cut -d' ' -f1-3 /proc/loadavg)"
  npx tsx cli/localrec.ts bench train --params bptt=1 --repeat 1 --score-reps 500 |
    grep -E 'training:|step kernels|kept hidden' | sed 's/^/node: /'
  echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
  npx tsx bench/train-browser.ts --backends wasm --params bptt=1 | grep -E '^wasm' |
    sed -E 's/^(wasm -> wasm)[^0-9]*([0-9,]+ events\/s \(engine\)).*(step-simd=[a-z-]+).*/chromium worker: \2 \3/'
  echo "# load $(cut -d' ' -f1-3 /proc/loadavg)"
  secs=$(OMP_NUM_THREADS=1 "$py" "$GRU4REC_DIR/run.py" "$tsv" -ps "$params" -d cpu |
    sed -n 's/^Epoch1 .*(\([0-9.]*\)s).*/\1/p')
  awk -v p="$pairs" -v s="$secs" 'BEGIN { printf "gru4rec: %.0f events/s (%s s for the epoch)\n", p / s, s }'
  i=$((i + 1))
done
