#!/usr/bin/env bash
# Benchmarks the fast GEMM against the reference loops and numpy's OpenBLAS in the same run, for 1
# and 2 threads, and prints a markdown table. A benchmark, not a test: timings depend on the load of
# the machine (re-run on a quiet machine; each number is already a median of timed samples).
#
#   scripts/bench.sh            # builds release, then measures (a few minutes)
#   REPEATS=21 scripts/bench.sh
#
# Shapes are C = M×N with inner K (mcl-ref's --shape MxNxK): the square sizes plus the MLP shapes
# 256×512·512×128 (256x128x512), 512×64·64×512 (512x512x64), 2048×32·32×128 (2048x128x32).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS="${REPEATS:-11}"
SIZES="128,256,512,1024,2048"
REF_SIZES="128,256,512"              # the reference kernel is slow: only up to 512
SHAPES=(--shape 256x128x512 --shape 512x512x64 --shape 2048x128x32)
BIN=.build/release/mcl-ref

swift build -c release >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for t in 1 2; do
    "$BIN" bench matmul --sizes "$SIZES" "${SHAPES[@]}" --threads "$t" --repeats "$REPEATS" --json > "$tmp/fast$t.json"
    "$BIN" bench matmul --sizes "$REF_SIZES" "${SHAPES[@]}" --threads "$t" --repeats 3 --reference --json > "$tmp/ref$t.json"
    python3 scripts/bench_openblas.py --sizes "$SIZES" "${SHAPES[@]}" --threads "$t" --repeats "$REPEATS" --json > "$tmp/blas$t.json"
done

python3 - "$tmp" <<'PY'
import json, sys, os
d = sys.argv[1]
def load(name, kernel):
    rows = json.load(open(os.path.join(d, name)))["matmul"]
    return {(r["m"], r["n"], r["k"]): r["gflops"] for r in rows if r.get("kernel", kernel) == kernel}
def label(m, n, k):
    return f"{m}³" if m == n == k else f"{m}×{k}·{k}×{n} (M={m},N={n},K={k})"
for t in (1, 2):
    fast, ref, blas = load(f"fast{t}.json", "fast"), load(f"ref{t}.json", "reference"), load(f"blas{t}.json", "openblas")
    print(f"\n**{t} thread{'s' if t > 1 else ''}** (GFLOPS, median)\n")
    print("| shape | fast | reference | OpenBLAS | fast / OpenBLAS |")
    print("|---|---:|---:|---:|---:|")
    for key in fast:
        r = ref.get(key)
        b = blas.get(key)
        ratio = f"{fast[key] / b:.2f}×" if b else "–"
        print(f"| {label(*key)} | {fast[key]:.1f} | {f'{r:.1f}' if r else '–'} | {b if b else '–'} | {ratio} |")
PY
