#!/usr/bin/env python3
"""Reads a `train --out` run's stage<j>.safetensors with plain numpy (no torch, no safetensors
package) and, optionally, runs its encoders to check that the weights mean what PyTorch would make
of them.

    mcl-ref train --samples 256 --epochs 2 --stages 2 --out /tmp/run
    python3 Examples/load_safetensors.py /tmp/run
    python3 Examples/load_safetensors.py /tmp/run --data Xt.npy --expect /tmp/run/integrated_test_representations.npy

Without --data: parses every stage<j>.safetensors by the format (8-byte little-endian header
length, JSON header, raw little-endian data), checks each tensor against stage<j>_weights/<name>.npy
(same shape, dtype and bytes) and prints the state dict. With --data X.npy (raw samples, as given
to `mcl-ref encode`): standardises them with the run's input_mean.npy / input_std.npy, applies every
stage's encoder in eval mode in float64 numpy — Linear as x @ W.T + b, Conv2d on (O, C, kh, kw)
weights, BatchNorm with running statistics — concatenates the stages (Eq. 5) and compares with
--expect (|numpy - expected| <= 1e-4 + 1e-4 |expected|; the run is float32). Exit 0 when everything
agrees, 1 otherwise.

In PyTorch the same file loads with
    from safetensors.torch import load_file
    model.load_state_dict(load_file("stage0.safetensors"), strict=True)
for the nn.Sequential shown in README.md ("Loading the weights in PyTorch").
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "|u1", "BOOL": "|b1"}
EPS_BN = 1e-5


def read_safetensors(path):
    """{name: array} and the metadata of a .safetensors file, checked against the format."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors, end = {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, stop = e["data_offsets"]
        assert begin == end, f"{path}: {name} starts at {begin}, expected {end}"
        dtype = np.dtype(DTYPES[e["dtype"]])
        shape = tuple(e["shape"])
        assert stop - begin == int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, f"{path}: {name} size"
        tensors[name] = np.frombuffer(data[begin:stop], dtype=dtype).reshape(shape)
        end = stop
    assert end == len(data), f"{path}: {len(data) - end} trailing bytes"
    return tensors, meta


def encoder_forward(state, x):
    """f(x) in eval mode for the encoder.* entries of one stage (float64)."""
    idx = sorted({int(k.split(".")[1]) for k in state if k.startswith("encoder.")})
    h = x
    conv_seen = 0
    for i in range(idx[-1] + 1):
        p = f"encoder.{i}."
        if p + "running_mean" in state:  # BatchNorm1d / BatchNorm2d
            shape = (1, -1, 1, 1) if h.ndim == 4 else (1, -1)
            g, b, m, v = (state[p + k].astype(np.float64).reshape(shape) for k in ("weight", "bias", "running_mean", "running_var"))
            h = (h - m) / np.sqrt(v + EPS_BN) * g + b
        elif p + "weight" in state and state[p + "weight"].ndim == 4:  # Conv2d(3x3, padding 1)
            w, b = state[p + "weight"].astype(np.float64), state[p + "bias"].astype(np.float64)
            stride = 1 if conv_seen == 0 else 2
            conv_seen += 1
            n, c, hh, ww = h.shape
            kh, kw = w.shape[2:]
            xp = np.pad(h, ((0, 0), (0, 0), (1, 1), (1, 1)))
            oh, ow = (hh + 2 - kh) // stride + 1, (ww + 2 - kw) // stride + 1
            out = np.zeros((n, w.shape[0], oh, ow)) + b.reshape(1, -1, 1, 1)
            for a in range(kh):
                for d in range(kw):
                    patch = xp[:, :, a:a + stride * (oh - 1) + 1:stride, d:d + stride * (ow - 1) + 1:stride]
                    out += np.einsum("oc,ncyx->noyx", w[:, :, a, d], patch)
            h = out
        elif p + "weight" in state:  # Linear (after global average pooling and flatten for the CNN)
            if h.ndim == 4:
                h = h.mean(axis=(2, 3))
            h = h @ state[p + "weight"].astype(np.float64).T + state[p + "bias"].astype(np.float64)
        else:  # ReLU; the CNN's pooling and flatten (no parameters) follow a ReLU, where max(h, 0) changes nothing
            h = np.maximum(h, 0.0)
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--data", help="raw samples to encode, (N, D) or (N, C, H, W)")
    ap.add_argument("--expect", help="the representations mcl-ref computed for --data")
    args = ap.parse_args()
    with open(os.path.join(args.run, "checkpoint.json")) as f:
        checkpoint = json.load(f)
    ok = True
    stages = []
    for j in range(checkpoint["completed_stages"]):
        state, meta = read_safetensors(os.path.join(args.run, f"stage{j}.safetensors"))
        stages.append(state)
        print(f"stage{j}.safetensors  metadata {meta}  {len(state)} tensors")
        for name, t in state.items():
            npy = np.load(os.path.join(args.run, f"stage{j}_weights", name + ".npy"))
            same = npy.shape == t.shape and npy.dtype == t.dtype and npy.tobytes() == t.tobytes()
            ok &= same
            print(f"  {'OK  ' if same else 'FAIL'} {name:32s} {str(t.dtype):8s} {t.shape}")
    if args.data:
        x = np.load(args.data).astype(np.float64)
        kind = checkpoint["input"]["standardization"]
        if kind != "none":
            mean = np.load(os.path.join(args.run, "input_mean.npy"))
            std = np.load(os.path.join(args.run, "input_std.npy"))
            if kind == "per-column":
                x = (x - mean) / std
            else:
                shape = (1, -1, 1, 1)
                x = (x - mean.reshape(shape)) * np.where(std > 0, 1 / np.where(std > 0, std, 1), 1).reshape(shape)
        z = np.concatenate([encoder_forward(s, x) for s in stages], axis=1)
        print(f"encoded {args.data}: {z.shape} ({kind} standardisation, {len(stages)} stages)")
        if args.expect:
            ref = np.load(args.expect).astype(np.float64)
            diff = np.abs(z - ref) if z.shape == ref.shape else np.array([np.inf])
            good = bool((diff <= 1e-4 + 1e-4 * np.abs(ref)).all()) if z.shape == ref.shape else False
            ok &= good
            print(f"{'OK  ' if good else 'FAIL'} vs {args.expect}  max_abs={diff.max():.2e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
