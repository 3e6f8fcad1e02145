#!/usr/bin/env bash
# The CNN training step (`mcl-ref bench train`: cifar-mnist-like 16×16, conv widths 16,32,64, B = 256,
# SimCLR, Adam) against the same step in PyTorch eager (scripts/bench_cnn_torch.py), 1 and 2 threads,
# runs interleaved in one go; prints a markdown table of images/s (median of RUNS runs each) and
# the ratio. A benchmark, not a test. scripts/bench_step.sh runs it after its MLP table.
#
#   scripts/bench_cnn.sh                     # RUNS=3
#   RUNS=5 PYTHON=/work/venv-torch/bin/python scripts/bench_cnn.sh
#   BIN_BEFORE=/tmp/mcl-ref-old scripts/bench_cnn.sh   # adds a column for an older binary
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
PYTHON="${PYTHON:-python3}"
BIN="${BIN:-.build/release/mcl-ref}"
BIN_BEFORE="${BIN_BEFORE:-}"
[ -n "${NO_BUILD:-}" ] || swift build -c release >&2
"$PYTHON" -c "import torch" 2>/dev/null || { echo "bench_cnn.sh: $PYTHON has no torch (set PYTHON=…)" >&2; exit 2; }
ips() { python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_second"])'; }
median() { python3 -c 'import statistics,sys; print(round(statistics.median(float(v) for v in sys.argv[1:])))' "$@"; }
header="| threads | mcl-ref images/s | PyTorch eager images/s | mcl-ref / PyTorch |"
rule="|---:|---:|---:|---:|"
if [ -n "$BIN_BEFORE" ]; then
    header="| threads | mcl-ref before | mcl-ref images/s | PyTorch eager images/s | mcl-ref / PyTorch |"
    rule="|---:|---:|---:|---:|---:|"
fi
echo "$header"
echo "$rule"
for t in 1 2; do
    ours=(); theirs=(); before=()
    for _ in $(seq "$RUNS"); do
        [ -z "$BIN_BEFORE" ] || before+=("$("$BIN_BEFORE" bench train --threads "$t" --json | ips)")
        ours+=("$("$BIN" bench train --threads "$t" --json | ips)")
        theirs+=("$("$PYTHON" scripts/bench_cnn_torch.py --threads "$t" --json | ips)")
    done
    o=$(median "${ours[@]}"); p=$(median "${theirs[@]}")
    ratio=$(python3 -c "print(f'{$o / $p:.2f}×')")
    if [ -n "$BIN_BEFORE" ]; then
        echo "| $t | $(median "${before[@]}") | $o | $p | $ratio |"
    else
        echo "| $t | $o | $p | $ratio |"
    fi
done
echo
echo "(median of $RUNS interleaved runs of 10 timed steps after 2 warm-up steps; $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
