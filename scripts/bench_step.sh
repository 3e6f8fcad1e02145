#!/usr/bin/env bash
# The training step against PyTorch and JAX, measured in the same run; prints one markdown table.
# A benchmark, not a test: timings depend on the machine's load (each number is a median).
#
#   scripts/bench_step.sh                       # builds release, then ~1–3 minutes
#   BATCHES="128 256" THREADS=1 scripts/bench_step.sh
#   MCL_BIN=/tmp/old-mcl-ref scripts/bench_step.sh   # time another mcl-ref build (before/after)
#   CNN=0 scripts/bench_step.sh                 # MLP table only (the CNN block runs scripts/bench_cnn.sh)
#
# MLP step: `mcl-ref bench mlp` (encoder Linear-BN-ReLU-Linear 32→128→16, head Linear-BN-ReLU-Linear
# 16→64→32, NT-Xent τ 0.5 over the 2B views, backward, Adam lr 1e-3, Float32) against the same step
# in PyTorch eager (scripts/bench_step_torch.py) and JAX jit (scripts/bench_step_jax.py), at each B
# and thread count. Same method everywhere: one warm-up call, then the median of REPEATS samples,
# each a batch of calls lasting ≥ 2 ms. The peers start from mcl-ref's own weights and views
# (`bench mlp --export`), so the step-0 losses must agree: the table marks ✓ when they are within
# 1e-4 relative (Float32 sums in different orders), and ✗ with the values otherwise.
#
# Threads: every process is pinned to cores 0..t−1 with taskset; mcl-ref gets --threads t, PyTorch
# torch.set_num_threads(t); JAX has no thread-count call, so for t = 1 it also gets
# XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" (for t = 2 the
# pinning alone limits it).
#
# Peers, not in git: PyTorch from TORCH_PY (default /work/venv-torch/bin/python; `pip install torch
# --index-url https://download.pytorch.org/whl/cpu` in any venv), JAX from JAX_PY (default
# /work/venv-jax/bin/python; `python3 -m venv /work/venv-jax && /work/venv-jax/bin/pip install jax`).
# A peer that does not import is skipped with a note, not an error.
set -euo pipefail
cd "$(dirname "$0")/.."
BATCHES="${BATCHES:-128 256 1024}"
THREADS="${THREADS:-1 2}"
REPEATS="${REPEATS:-11}"
TORCH_PY="${TORCH_PY:-/work/venv-torch/bin/python}"
JAX_PY="${JAX_PY:-/work/venv-jax/bin/python}"
if [ -z "${MCL_BIN:-}" ]; then
    swift build -c release --product mcl-ref >&2
    MCL_BIN=.build/release/mcl-ref
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

have() { "$1" -c "import $2" >/dev/null 2>&1; }
peers=()
if have "$TORCH_PY" torch; then peers+=(torch); else echo "note: PyTorch skipped ($TORCH_PY cannot import torch)" >&2; fi
if have "$JAX_PY" jax; then peers+=(jax); else echo "note: JAX skipped ($JAX_PY cannot import jax)" >&2; fi
pin() { local t=$1; shift; if command -v taskset >/dev/null; then taskset -c "0-$((t - 1))" "$@"; else "$@"; fi; }

# ---- MLP step (bench mlp) vs PyTorch eager and JAX jit ----
for b in $BATCHES; do
    for t in $THREADS; do
        echo "MLP step B=$b threads=$t" >&2
        dir="$tmp/init-$b"
        pin "$t" "$MCL_BIN" bench mlp --batch-size "$b" --threads "$t" --repeats "$REPEATS" --export "$dir" --json > "$tmp/mcl-$b-$t.json"
        for peer in "${peers[@]}"; do
            if [ "$peer" = torch ]; then py="$TORCH_PY"; else py="$JAX_PY"; fi
            pin "$t" "$py" "scripts/bench_step_$peer.py" --batch-size "$b" --threads "$t" --repeats "$REPEATS" \
                --init "$dir" --json > "$tmp/$peer-$b-$t.json" || echo "note: $peer failed at B=$b, $t threads" >&2
        done
    done
done

python3 - "$tmp" "$BATCHES" "$THREADS" <<'PY'
import json, os, sys
d, batches, threads = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def load(name):
    p = os.path.join(d, name)
    return json.load(open(p))["train_step"] if os.path.exists(p) and os.path.getsize(p) else None
print("| B | threads | mcl-ref ms/step | PyTorch eager ms/step | JAX jit ms/step | PyTorch / mcl-ref | JAX / mcl-ref | step-0 loss |")
print("|---:|---:|---:|---:|---:|---:|---:|---|")
for b in batches:
    for t in threads:
        ours = load(f"mcl-{b}-{t}.json")
        cells, ratios, losses = [], [], []
        for peer in ("torch", "jax"):
            r = load(f"{peer}-{b}-{t}.json")
            cells.append(f"{r['ms_per_step']:.2f}" if r else "—")
            ratios.append(f"{r['ms_per_step'] / ours['ms_per_step']:.2f}×" if r else "—")
            if r:
                ok = abs(r["loss_step0"] - ours["loss_step0"]) <= 1e-4 * abs(ours["loss_step0"])
                losses.append("✓" if ok else f"✗ {peer} {r['loss_step0']:.6f}")
        loss = f"{ours['loss_step0']:.5f} " + " ".join(losses)
        print(f"| {b} | {t} | {ours['ms_per_step']:.2f} | {cells[0]} | {cells[1]} | {ratios[0]} | {ratios[1]} | {loss} |")
PY

# ---- CNN step (bench train) vs PyTorch eager: scripts/bench_cnn.sh with the same binary and Python ----
if [ "${CNN:-1}" != 0 ] && have "$TORCH_PY" torch; then
    echo
    echo "CNN step (bench train, cifar-mnist-like 16×16, B = 256), images/s" >&2
    NO_BUILD=1 BIN="$MCL_BIN" PYTHON="$TORCH_PY" RUNS="${CNN_RUNS:-3}" scripts/bench_cnn.sh
elif [ "${CNN:-1}" != 0 ]; then
    echo "note: CNN block skipped ($TORCH_PY cannot import torch)" >&2
fi
