#!/usr/bin/env bash
# Benchmarks the fast GEMM against the reference loops and numpy's OpenBLAS in the same run, for 1
# and 2 threads, and prints a markdown table. A benchmark, not a test: timings depend on the load of
# the machine (re-run on a quiet machine; each number is already a median of timed samples).
#
#   scripts/bench.sh            # builds release, then measures (a few minutes)
#   REPEATS=21 scripts/bench.sh
#   CLOCK=cpu scripts/bench.sh  # 1-thread rows timed by process CPU time (a loaded, shared machine)
#
# The header names the CPU, its caches and the GEMM blocking mcl-ref derived from them (KC/MC/NC,
# see Sources/Numerics/GEMM+Blocking.swift). Runs unattended in about 2–3 minutes after the build.
#
# Shapes are C = M×N with inner K (mcl-ref's --shape MxNxK): the square sizes plus the MLP shapes
# 256×512·512×128 (256x128x512), 512×64·64×512 (512x512x64), 2048×32·32×128 (2048x128x32).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS="${REPEATS:-11}"
CLOCK="${CLOCK:-wall}"
SIZES="128,256,512,1024,2048"
REF_SIZES="128,256,512"              # the reference kernel is slow: only up to 512
SHAPES=(--shape 256x128x512 --shape 512x512x64 --shape 2048x128x32)
BIN=.build/release/mcl-ref

swift build -c release >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for t in 1 2; do
    clock=wall
    if [ "$t" = 1 ]; then clock="$CLOCK"; fi
    "$BIN" bench matmul --sizes "$SIZES" "${SHAPES[@]}" --threads "$t" --repeats "$REPEATS" --clock "$clock" --json > "$tmp/fast$t.json"
    "$BIN" bench matmul --sizes "$REF_SIZES" "${SHAPES[@]}" --threads "$t" --repeats 3 --reference --json > "$tmp/ref$t.json"
    python3 scripts/bench_openblas.py --sizes "$SIZES" "${SHAPES[@]}" --threads "$t" --repeats "$REPEATS" --clock "$clock" --json > "$tmp/blas$t.json"
done

python3 - "$tmp" "$CLOCK" <<'PY'
import json, sys, os
d, clock = sys.argv[1], sys.argv[2]
head = json.load(open(os.path.join(d, "fast1.json")))
c, b = head["caches"], head["blocking"]
def size(x):
    return "none" if x is None else (f"{x >> 20} MB" if x % (1 << 20) == 0 else f"{x >> 10} KB")
print(f"CPU: {head['cpu']}; caches L1d {size(c['l1d'])}, L2 {size(c['l2'])}, L3 {size(c['l3'])}"
      + ("" if c["detected"] else " (not reported by the OS: defaults)"))
print(f"GEMM blocking (Float32, derived from the caches): tile {b['mr']}×{b['nr']}, KC={b['kc']} MC={b['mc']} NC={b['nc']}")
print(f"1-thread clock: {clock}" + (" (process CPU time)" if clock == "cpu" else ""))
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
