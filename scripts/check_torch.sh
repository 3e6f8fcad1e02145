#!/usr/bin/env bash
# Checks the PyTorch implementation in Examples/torch/ against mcl-ref, end to end (issue 16):
#   1. the fixture backend in float64 and float32: mcl-ref check --allow-missing (every case it covers);
#   2. weights both ways: stage<j>.safetensors of an MLP and a CNN `train --out` run loaded into
#      torch.nn modules (strict=True), test data encoded in eval mode = `mcl-ref encode`;
#   3. one MCL stage (cluster-batch, stage 1) under DistributedDataParallel on 2 gloo processes vs
#      `mcl-ref trace --world-size 2`: each rank's batches exactly, loss/gradients/parameters per step.
# mcl-ref: $MCL_REF or a release build. Python: $PYTHON if it imports torch, else a virtual environment at ${TORCH_VENV:-.venv-torch}
# (outside git: .gitignore) with PyTorch's CPU build (or PyPI's torch when that index is unreachable).
# Not part of .ci/run: the Swift package and its tests never need Python.
# Ends with "N passed, M failed"; exit status 0 only if nothing failed.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/check_torch.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
passed=0; failed=0
result() {  # name, status
    if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "PASS $1"; else failed=$((failed + 1)); echo "FAIL $1 (exit $2)"; fi
}

PY=${PYTHON:-}
if [ -z "$PY" ] || ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
    VENV=${TORCH_VENV:-$ROOT/.venv-torch}
    if ! "$VENV/bin/python" -c 'import torch, numpy' 2>/dev/null; then
        echo "check_torch: installing PyTorch (CPU) and numpy into $VENV" >&2
        if ! python3 -m venv "$VENV"; then   # Debian ships venv separately
            command -v apt-get >/dev/null && { apt-get update -qq && apt-get install -y -qq python3-venv; } >&2
            rm -rf "$VENV"
            python3 -m venv "$VENV" || { echo "check_torch: cannot create $VENV"; echo "0 passed, 1 failed"; exit 1; }
        fi
        "$VENV/bin/pip" install -q numpy torch --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
            || "$VENV/bin/pip" install -q numpy torch \
            || { echo "check_torch: pip install torch failed"; echo "0 passed, 1 failed"; exit 1; }
        "$VENV/bin/pip" install -q safetensors 2>/dev/null || true   # optional: encode_run.py parses the file itself without it
    fi
    PY=$VENV/bin/python
fi
"$PY" -c 'import torch; print("check_torch: torch", torch.__version__, file=__import__("sys").stderr)'

# mcl-ref: $MCL_REF if given (a built binary), else a release build of this checkout.
M=${MCL_REF:-}
if [ -z "$M" ]; then
    swift build -c release >&2 || { echo "check_torch: swift build failed"; echo "0 passed, 1 failed"; exit 1; }
    M=$ROOT/.build/release/mcl-ref
fi

# 1. Fixtures, both precisions.
for p in f64 f32; do
    "$M" fixtures --out "$WORK/ref_$p" --precision "$p" >/dev/null 2>&1
    "$PY" Examples/torch/fixtures_backend.py --fixtures "$WORK/ref_$p" --out "$WORK/cand_$p" 2>"$WORK/cover_$p.txt"
    grep -c '^covered' "$WORK/cover_$p.txt" | sed "s/^/check_torch: $p cases covered: /" >&2
    grep '^skipped' "$WORK/cover_$p.txt" >&2
    "$M" check --reference "$WORK/ref_$p" --candidate "$WORK/cand_$p" --allow-missing > "$WORK/check_$p.txt"
    st=$?
    grep -v '^OK' "$WORK/check_$p.txt" | head -20
    echo "check_torch: $p: $(grep -c '^OK' "$WORK/check_$p.txt") tensors OK, $(grep -c '^FAIL' "$WORK/check_$p.txt") FAIL, $(grep -c '^SKIP' "$WORK/check_$p.txt") SKIP" >&2
    result "fixtures $p (mcl-ref check)" $st
done

# 2. Weights both ways: an MLP run and a CNN run.
"$PY" - "$WORK" <<'PYEOF'
import sys, numpy as np
w = sys.argv[1]; r = np.random.default_rng(0)
np.save(f"{w}/vx.npy", r.normal(size=(160, 12)).astype(np.float32)); np.save(f"{w}/vy.npy", r.integers(0, 3, 160))
np.save(f"{w}/vxt.npy", r.normal(size=(40, 12)).astype(np.float32)); np.save(f"{w}/vyt.npy", r.integers(0, 3, 40))
np.save(f"{w}/ix.npy", r.uniform(0, 255, size=(96, 3, 8, 8)).astype(np.float32)); np.save(f"{w}/iy.npy", r.integers(0, 2, 96))
np.save(f"{w}/ixt.npy", r.uniform(0, 255, size=(24, 3, 8, 8)).astype(np.float32)); np.save(f"{w}/iyt.npy", r.integers(0, 2, 24))
PYEOF
"$M" train --data "$WORK/vx.npy" --labels "$WORK/vy.npy" --test-data "$WORK/vxt.npy" --test-labels "$WORK/vyt.npy" \
    --epochs 2 --batch-size 32 --stages 2 --clusters 2 --kmeans-restarts 1 --quiet --out "$WORK/run_mlp" >/dev/null
"$M" train --data "$WORK/ix.npy" --labels "$WORK/iy.npy" --test-data "$WORK/ixt.npy" --test-labels "$WORK/iyt.npy" \
    --epochs 1 --batch-size 16 --stages 2 --clusters 2 --conv-widths 4,8 --kmeans-restarts 1 --quiet --out "$WORK/run_cnn" >/dev/null
for kind in mlp cnn; do
    data=$WORK/vxt.npy; [ $kind = cnn ] && data=$WORK/ixt.npy
    "$M" encode --run "$WORK/run_$kind" --data "$data" --out "$WORK/z_$kind.npy" >/dev/null
    "$PY" Examples/torch/encode_run.py "$WORK/run_$kind" --data "$data" --expect "$WORK/z_$kind.npy"
    result "weights $kind (load_state_dict strict, eval encode = mcl-ref encode)" $?
done

# 3. One stage under DDP on 2 processes vs trace --world-size 2.
"$M" trace --data "$WORK/vx.npy" --labels "$WORK/vy.npy" --test-data "$WORK/vxt.npy" --test-labels "$WORK/vyt.npy" \
    --epochs 2 --batch-size 8 --stages 2 --clusters 2 --sampler cluster-batch --kmeans-restarts 1 --quiet \
    --world-size 2 --first-steps 8 --steps-every 1000 --out "$WORK/trace_ddp" >/dev/null
# ddp_stage.py exits 3 when a worker process dies before the results are gathered (a signal such as
# SIGABRT from gloo's C++ side under load); its stderr (faulthandler's stacks per rank) is then shown
# here, and a crash in the teardown after the results were written is a warning line, not a failure.
ddp() {  # label, expected exit status, ddp_stage.py arguments…
    local label=$1 want=$2; shift 2
    "$PY" Examples/torch/ddp_stage.py "$WORK/trace_ddp" --stage 1 --steps 8 "$@" > "$WORK/ddp.txt" 2> "$WORK/ddp_err.txt"
    local st=$?
    if [ $st -eq "$want" ]; then
        [ "$want" -eq 0 ] && cat "$WORK/ddp.txt" || echo "(expected to fail) $(tail -1 "$WORK/ddp.txt")"
        grep '^ddp_stage.py: warning' "$WORK/ddp_err.txt" >&2
    else
        cat "$WORK/ddp.txt"
        echo "check_torch: ddp_stage.py${*:+ $*} exited $st (expected $want); its stderr:" >&2
        sed 's/^/  | /' "$WORK/ddp_err.txt" | tail -60 >&2
    fi
    [ $st -eq "$want" ]; result "$label" $?
}
ddp "DDP stage 1, 2 ranks (batches exact, loss/grad/params per step)" 0
ddp "DDP without the gradient all-reduce (--broken) is caught (exit 1)" 1 --broken

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
