#!/bin/sh
# Top-20 from a kept hidden state, localrec (bench/score.ts) and PyTorch
# (bench/score-torch.py, Debian's python3-torch, one thread) side by side: ROUNDS
# alternating runs of each in one window, the load printed before each run.
#
#   sh bench/score-vs-torch.sh [ITEMS] [HIDDEN] [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
items=${1:-3496}
hidden=${2:-100}
rounds=${3:-3}
py=${LOCALREC_PYTHON:-/usr/bin/python3}
i=0
while [ "$i" -lt "$rounds" ]; do
  echo "# round $((i + 1)) · load $(cut -d' ' -f1-3 /proc/loadavg)"
  npx tsx bench/score.ts --items "$items" --hidden "$hidden"
  OMP_NUM_THREADS=1 "$py" bench/score-torch.py --items "$items" --hidden "$hidden"
  i=$((i + 1))
done
