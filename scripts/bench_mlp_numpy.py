#!/usr/bin/env python3
"""Median time of one SimCLR training step in numpy (OpenBLAS), the same step `mcl-ref bench mlp` times.

The model and step are Examples/numpy_backend.py's (encoder Linear-BN-ReLU-Linear, head
Linear-BN-ReLU-Linear, NT-Xent, backward, Adam) — the implementation `mcl-ref check` verifies
against the fixtures — run in float32 on 2B random views. Timing method identical to mcl-ref's:
one warm-up call that calibrates a batch so each sample lasts >= 2 ms, then the median of
`--repeats` samples. A benchmark, not a test.

    python3 scripts/bench_mlp_numpy.py --batch-size 256 --threads 1 --json
"""
import argparse
import importlib.util
import json
import os

from bench_timing import median_seconds_per_call


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--input-width", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--rep-width", type=int, default=16)
    p.add_argument("--head-hidden", type=int, default=64)
    p.add_argument("--embedding", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=11)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    import numpy as np  # noqa: E402  (after the thread count is set)

    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("numpy_backend", os.path.join(here, "..", "Examples", "numpy_backend.py"))
    nb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nb)

    rng = np.random.default_rng(0)
    f32 = np.float32

    def linear(prefix, i, o):
        bound = 1 / np.sqrt(i)
        return {prefix + ".weight": rng.uniform(-bound, bound, (o, i)).astype(f32),
                prefix + ".bias": rng.uniform(-bound, bound, o).astype(f32)}

    def bn(prefix, n):
        return {prefix + ".weight": np.ones(n, f32), prefix + ".bias": np.zeros(n, f32)}

    params = {**linear("encoder.0", a.input_width, a.hidden), **bn("encoder.1", a.hidden),
              **linear("encoder.3", a.hidden, a.rep_width),
              **linear("head.0", a.rep_width, a.head_hidden), **bn("head.1", a.head_hidden),
              **linear("head.3", a.head_hidden, a.embedding)}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    views = rng.standard_normal((2 * a.batch_size, a.input_width)).astype(f32)
    state = {"t": 0, "loss": 0.0}
    tau = f32(0.5)

    def step():
        _, loss, g = nb.forward_backward(params, views, tau)
        state["t"] += 1
        t = state["t"]
        for k in params:                     # torch.optim.Adam, lr 1e-3
            m[k] = f32(0.9) * m[k] + f32(0.1) * g[k]
            v[k] = f32(0.999) * v[k] + f32(0.001) * g[k] * g[k]
            params[k] = params[k] - f32(1e-3 / (1 - 0.9 ** t)) * m[k] / (np.sqrt(v[k] / f32(1 - 0.999 ** t)) + f32(1e-8))
        state["loss"] = float(loss)

    sec = median_seconds_per_call(step, a.repeats)
    assert np.isfinite(state["loss"]), "loss diverged"
    dtypes = {str(x.dtype) for x in params.values()}
    assert dtypes == {"float32"}, f"the step left float32: {dtypes}"
    if a.json:
        print(json.dumps({"train_step": {"batch_size": a.batch_size, "threads": a.threads,
                                         "ms_per_step": round(sec * 1e3, 2),
                                         "samples_per_second": round(a.batch_size / sec)}}))
    else:
        print(f"numpy SimCLR step B={a.batch_size}, {a.threads} threads: {sec * 1e3:.3f} ms/step, "
              f"{a.batch_size / sec:.0f} samples/s")


if __name__ == "__main__":
    main()
