#!/usr/bin/env bash
# One SimCLR training step of the MLP model (the demo's shapes), mcl-ref vs numpy/OpenBLAS, measured in
# the same run for 1 and 2 threads; prints a markdown table. A benchmark, not a test.
#
#   scripts/bench_mlp.sh                  # B = 256 (the demo) and B = 1024
#   BATCHES="64 256" scripts/bench_mlp.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BATCHES="${BATCHES:-256 1024}"
BIN=.build/release/mcl-ref
swift build -c release >&2
echo "| B | threads | mcl-ref ms/step | numpy ms/step | mcl-ref samples/s | numpy samples/s | speed-up |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for b in $BATCHES; do
    for t in 1 2; do
        ours=$("$BIN" bench mlp --batch-size "$b" --threads "$t" --json)
        theirs=$(python3 scripts/bench_mlp_numpy.py --batch-size "$b" --threads "$t" --json)
        python3 - "$b" "$t" "$ours" "$theirs" <<'PY'
import json, sys
b, t, o, n = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])["train_step"], json.loads(sys.argv[4])["train_step"]
print(f"| {b} | {t} | {o['ms_per_step']:.2f} | {n['ms_per_step']:.2f} | {o['samples_per_second']} | "
      f"{n['samples_per_second']} | {n['ms_per_step'] / o['ms_per_step']:.1f}× |")
PY
    done
done
