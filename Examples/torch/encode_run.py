#!/usr/bin/env python3
"""Loads a `mcl-ref train --out` run into torch.nn modules and checks it encodes like `mcl-ref encode`.

For every stage j: builds the encoder + projection head that checkpoint.json's configuration describes
(models.py: MLP or CNN encoder), loads ``stage<j>.safetensors`` with ``load_state_dict(strict=True)``
(every entry, PyTorch names, shapes and dtypes — a missing, extra or mis-shaped tensor is an error),
switches to eval mode (BatchNorm uses its running statistics), standardises the raw samples with the
run's ``input_mean.npy`` / ``input_std.npy`` (per column, or per channel for images; none when the run
has no such files) and encodes them in float32 like the run. The stages are concatenated (paper Eq. 5)
and compared with ``--expect`` (normally the output of ``mcl-ref encode --run RUN --data X``).

Tolerance: |torch − expected| ≤ atol + rtol·|expected| with atol = 1e-5·max|expected|, rtol = 1e-4 —
the f32 tolerance of the fixtures' layers (Linear, Conv2d, BatchNorm: 1e-5, gradients 1e-5·max),
here for a forward pass through a few layers whose sums torch orders differently from mcl-ref.

usage: encode_run.py RUN --data X.npy --expect Z.npy [--json]      exit 0 pass, 1 mismatch, 2 bad input
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import ContrastiveModel, cnn_encoder, mlp_encoder, projection_head  # noqa: E402


def load_state(path):
    try:
        from safetensors.torch import load_file
        return load_file(path)
    except ImportError:                       # the format is simple enough to read without the package
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        from load_safetensors import read_safetensors
        return {k: torch.from_numpy(v.copy()) for k, v in read_safetensors(path)[0].items()}


def build_model(cfg, sample_shape):
    bn = cfg["batch_norm"]
    if cfg.get("encoder", "mlp") == "cnn":
        encoder = cnn_encoder(sample_shape[0], cfg["conv_widths"], cfg["representation_width"])
    else:
        encoder = mlp_encoder(int(np.prod(sample_shape)), cfg["encoder_hidden"], cfg["representation_width"], bn)
    return ContrastiveModel(encoder, projection_head(cfg["representation_width"], cfg["head_hidden"],
                                                     cfg["embedding_width"], bn))


def standardise(run, x, how):
    mean_f, std_f = os.path.join(run, "input_mean.npy"), os.path.join(run, "input_std.npy")
    if how == "none" or not os.path.exists(mean_f):
        return x
    mean, std = np.load(mean_f), np.load(std_f)
    if how == "per-channel":                  # (v − μ_c)·(1/σ_c), σ_c = 0 meaning a multiplier of 1
        inv = np.where(std == 0, 1.0, 1.0 / np.where(std == 0, 1.0, std))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return ((x - mean.reshape(shape)) * inv.reshape(shape)).astype(np.float32)
    return ((x - mean) / np.where(std == 0, 1.0, std)).astype(np.float32)


def encode(run, x):
    with open(os.path.join(run, "checkpoint.json")) as f:
        ck = json.load(f)
    cfg, inp = ck["configuration"], ck["input"]
    x = standardise(run, x.astype(np.float64), inp.get("standardization", "none"))
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if cfg.get("encoder", "mlp") != "cnn":
        x = x.reshape(len(x), -1)
    zs = []
    for j in range(ck["completed_stages"]):
        model = build_model(cfg, inp["sample_shape"])
        model.load_state_dict(load_state(os.path.join(run, f"stage{j}.safetensors")), strict=True)
        model.eval()
        with torch.no_grad():
            zs.append(model.encoder(x))
    return torch.cat(zs, dim=1).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run")
    ap.add_argument("--data", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    try:
        z, e = encode(a.run, np.load(a.data)), np.load(a.expect)
    except (OSError, KeyError, ValueError, RuntimeError) as err:
        print(f"encode_run.py: {a.run}: {err}", file=sys.stderr)
        sys.exit(2)
    if z.shape != e.shape:
        print(f"FAIL shape {z.shape} vs expected {e.shape}")
        sys.exit(1)
    e64, d = e.astype(np.float64), np.abs(z.astype(np.float64) - e.astype(np.float64))
    atol, rtol = 1e-5 * np.abs(e64).max(), 1e-4
    ok = bool((d <= atol + rtol * np.abs(e64)).all())
    res = {"run": a.run, "passed": ok, "shape": list(z.shape), "max_abs": float(d.max()),
           "max_abs_over_max": float(d.max() / np.abs(e64).max()), "atol": atol, "rtol": rtol}
    print(json.dumps(res) if a.json else
          f"{'OK  ' if ok else 'FAIL'} {a.run}: {z.shape[0]}×{z.shape[1]} max_abs={d.max():.3g} "
          f"({d.max() / np.abs(e64).max():.2g}·max) atol={atol:.3g} rtol={rtol:g}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
