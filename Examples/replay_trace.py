#!/usr/bin/env python3
"""Replays the steps recorded by `mcl-ref trace` in numpy (float64) and checks them.

For every recorded step (or the one chosen with --stage/--step) it loads the model and optimiser
state *before* the step and the traced views, recomputes the NT-Xent loss and every gradient,
applies the optimiser with the step's learning rate, and compares with the traced loss.npy,
grad/*.npy and state_after/*.npy. One line per tensor, like `mcl-ref check`; exit 0 when every
tensor is within tolerance, 1 otherwise.

    mcl-ref trace --samples 256 --epochs 2 --batch-size 32 --stages 2 --out /tmp/trace
    python3 Examples/replay_trace.py /tmp/trace                 # exit 0
    python3 Examples/replay_trace.py /tmp/trace --broken        # positive left out of the denominator: exit 1
    mcl-ref trace --dataset trifeature --samples 64 --epochs 1 --batch-size 16 --conv-widths 4,8 --out /tmp/cnn
    python3 Examples/replay_trace.py /tmp/cnn                   # the CNN encoder: exit 0

Tolerances (|numpy − traced| ≤ atol + rtol·|traced|; the trace is mcl-ref in float32, numpy is
float64, so the differences are mcl-ref's float32 rounding):
  loss            atol 1e-5, rtol 1e-5      NT-Xent of O(1) logits
  gradients       atol 1e-4·max|g|, rtol 1e-3   backprop through NT-Xent, L2-normalise and two
                                            BatchNorms, whose backward cancels (as the simclr_step fixture)
  state_after     atol 2e-5, rtol 1e-5      parameters after one optimiser step and BatchNorm buffers;
                                            Adam moves each element by ≈ lr whatever the error of g
  pre-BN biases   grad atol 1e-4·max|g|; after Adam atol 2.5·lr: a Linear bias that reaches a
                  BatchNorm through affine layers only has gradient 0 analytically, so both sides
                  hold rounding noise, which Adam normalises to a move of up to lr in either direction
                  (see Fixtures/README.md, "Gradients that are analytically zero")

Both encoders are replayed: the MLP, and the CNN of image traces (`"encoder": "cnn"` in trace.json's
configuration, e.g. `mcl-ref trace --dataset trifeature`; Conv2d 3×3 with padding 1 by im2col,
BatchNorm2d over (N, H, W), global average pooling, with the layer plan and image shape taken from
trace.json's `conv_widths` and `sample_shape`). A trace of an encoder this script does not know is
refused with one line on stderr and exit 2. Conv biases feed a BatchNorm2d, so like the pre-BN
Linear biases their gradient is zero analytically and gets the same tolerances.

usage: replay_trace.py TRACE_DIR [--stage J] [--step S] [--broken]
"""
import argparse
import json
import os
import sys

import numpy as np

BROKEN = False
EPS_BN, MOMENTUM_BN = 1e-5, 0.1


def load_named(folder):
    return {f[:-4]: np.load(os.path.join(folder, f)).astype(np.float64) for f in os.listdir(folder) if f.endswith(".npy")}


def layers(state, net):
    """[(index, kind)] of one Sequential from its state_dict names: BatchNorm, Linear, or ReLU (no parameters)."""
    idx = sorted({int(k.split(".")[1]) for k in state if k.startswith(net + ".")})
    out = []
    for i in range(idx[-1] + 1):
        p = f"{net}.{i}."
        out.append((p, "bn" if p + "running_mean" in state else "linear" if p + "weight" in state else "relu"))
    return out


def cnn_plan(state, config, sample_shape):
    """The layer plan of Sequential.cnnEncoder (trace.json conventions) followed by the head."""
    c, h, w = sample_shape
    plan, i = [], 0
    for k, width in enumerate(config["conv_widths"]):
        stride = 1 if k == 0 else 2
        plan.append((f"encoder.{i}.", ("conv", stride, c)))
        plan += [(f"encoder.{i + 1}.", "bn2d"), (f"encoder.{i + 2}.", "relu")]
        c, i = width, i + 3
    plan += [(f"encoder.{i}.", "pool"), (f"encoder.{i + 1}.", "flatten"), (f"encoder.{i + 2}.", "linear")]
    return plan + layers(state, "head")


def plan_of(state, config, sample_shape):
    if config.get("encoder", "mlp") == "cnn":
        return cnn_plan(state, config, sample_shape)
    return layers(state, "encoder") + layers(state, "head")


def kind_of(kind):
    return kind[0] if isinstance(kind, tuple) else kind


def im2col(x, stride):
    """x (N, C, H, W) → columns (N, C·3·3, OH·OW) of 3×3 windows with zero padding 1 (PyTorch's unfold)."""
    n, c, h, w = x.shape
    oh, ow = (h - 1) // stride + 1, (w - 1) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((n, c, 3, 3, oh, ow))
    for i in range(3):
        for j in range(3):
            cols[:, :, i, j] = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
    return cols.reshape(n, c * 9, oh * ow), oh, ow


def col2im(dcols, shape, stride, oh, ow):
    """The adjoint of im2col: sums window gradients back into an (N, C, H, W) input gradient."""
    n, c, h, w = shape
    dxp = np.zeros((n, c, h + 2, w + 2))
    d = dcols.reshape(n, c, 3, 3, oh, ow)
    for i in range(3):
        for j in range(3):
            dxp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += d[:, :, i, j]
    return dxp[:, :, 1:-1, 1:-1]


def ntxent(z, tau, labels):
    n = z.shape[0]
    b = n // 2
    norm = np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    u = z / norm
    logits = u @ u.T / tau
    pos = np.concatenate([np.arange(b, n), np.arange(b)])
    keep = ~np.eye(n, dtype=bool)
    if labels is not None:
        lab = np.concatenate([labels, labels])
        keep &= lab[:, None] == lab[None, :]
    keep[np.arange(n), pos] = not BROKEN           # --broken: the positive left out of the denominator
    masked = np.where(keep, logits, -np.inf)
    mx = masked.max(axis=1, keepdims=True)
    lse = (mx + np.log(np.exp(masked - mx).sum(axis=1, keepdims=True)))[:, 0]
    loss = (lse - logits[np.arange(n), pos]).mean()
    g = np.exp(masked - lse[:, None])
    g[np.arange(n), pos] -= 1.0
    du = (g + g.T) @ u / (n * tau)
    return loss, (du - u * (u * du).sum(axis=1, keepdims=True)) / norm


def step(state, views, tau, labels, plan, sample_shape):
    """Forward in train mode, loss, backward: (loss, grads by name, new running stats by name)."""
    tape, h, buffers = [], views, {}
    if kind_of(plan[0][1]) == "conv":                     # image rows (C·H·W, C order) → NCHW
        h = views.reshape(views.shape[0], *sample_shape)
    for p, kind in plan:
        k = kind_of(kind)
        if k == "linear":
            tape.append((p, k, h))
            h = h @ state[p + "weight"].T + state[p + "bias"]
        elif k == "conv":
            _, stride, channels = kind
            assert h.ndim == 4 and h.shape[1] == channels, f"{p}: input {h.shape}, expected {channels} channels"
            weight = state[p + "weight"].reshape(state[p + "bias"].shape[0], -1)
            cols, oh, ow = im2col(h, stride)
            tape.append((p, k, (cols, h.shape, stride, oh, ow)))
            h = (weight @ cols + state[p + "bias"][:, None]).reshape(h.shape[0], -1, oh, ow)
        elif k in ("bn", "bn2d"):
            axes = (0,) if k == "bn" else (0, 2, 3)
            shape = (1, -1) if k == "bn" else (1, -1, 1, 1)
            count = h.size // h.shape[1]
            mu, var = h.mean(axis=axes), h.var(axis=axes)
            rstd = 1 / np.sqrt(var + EPS_BN)
            xhat = (h - mu.reshape(shape)) * rstd.reshape(shape)
            tape.append((p, k, (xhat, rstd, axes, shape)))
            buffers[p + "running_mean"] = (1 - MOMENTUM_BN) * state[p + "running_mean"] + MOMENTUM_BN * mu
            buffers[p + "running_var"] = (1 - MOMENTUM_BN) * state[p + "running_var"] + MOMENTUM_BN * var * count / (count - 1)
            buffers[p + "num_batches_tracked"] = state[p + "num_batches_tracked"] + 1
            h = state[p + "weight"].reshape(shape) * xhat + state[p + "bias"].reshape(shape)
        elif k == "pool":
            tape.append((p, k, h.shape))
            h = h.mean(axis=(2, 3))
        elif k == "flatten":
            continue
        else:
            tape.append((p, k, h > 0))
            h = np.maximum(h, 0.0)
    loss, d = ntxent(h, tau, labels)
    grads = {}
    for p, k, saved in reversed(tape):
        if k == "linear":
            grads[p + "weight"], grads[p + "bias"] = d.T @ saved, d.sum(axis=0)
            d = d @ state[p + "weight"]
        elif k == "conv":
            cols, shape, stride, oh, ow = saved
            dy = d.reshape(d.shape[0], d.shape[1], -1)
            weight = state[p + "weight"].reshape(d.shape[1], -1)
            grads[p + "weight"] = np.einsum("nol,nkl->ok", dy, cols).reshape(state[p + "weight"].shape)
            grads[p + "bias"] = dy.sum(axis=(0, 2))
            d = col2im(np.einsum("ok,nol->nkl", weight, dy), shape, stride, oh, ow)
        elif k in ("bn", "bn2d"):
            xhat, rstd, axes, shape = saved
            g = d * state[p + "weight"].reshape(shape)
            grads[p + "weight"], grads[p + "bias"] = (d * xhat).sum(axis=axes), d.sum(axis=axes)
            d = rstd.reshape(shape) * (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True))
        elif k == "pool":
            n, c, hh, ww = saved
            d = np.broadcast_to(d[:, :, None, None] / (hh * ww), saved).copy()
        else:
            d = d * saved
    return loss, grads, buffers


def pre_bn_biases(plan):
    """Linear and conv biases whose output reaches a BatchNorm through Linear layers only (gradient 0 analytically)."""
    out = set()
    for i, (p, kind) in enumerate(plan):
        if kind_of(kind) not in ("linear", "conv"):
            continue
        for q, nxt in plan[i + 1:]:
            if kind_of(nxt) == "linear":
                continue
            if kind_of(nxt) in ("bn", "bn2d"):
                out.add(p + "bias")
            break
    return out


def optimizer_step(config, lr, params, grads, opt):
    """The configured optimiser (torch semantics) on every parameter; returns the new parameters."""
    kind, wd = config["optimizer"], config["weight_decay"]
    new = {}
    for name, p in params.items():
        g = grads[name].copy()
        if kind == "sgd":
            if wd:
                g += wd * p
            buf = opt.get(name + ".momentum_buffer")
            buf = g if buf is None else 0.9 * buf + g
            new[name] = p - lr * buf
            continue
        b1, b2, eps = 0.9, 0.999, 1e-8
        if wd and kind == "adam":
            g += wd * p
        if wd and kind == "adamw":
            p = p * (1 - lr * wd)
        t = int(opt.get(name + ".step", 0)) + 1
        m = b1 * opt.get(name + ".exp_avg", 0.0) + (1 - b1) * g
        v = b2 * opt.get(name + ".exp_avg_sq", 0.0) + (1 - b2) * g * g
        new[name] = p - lr / (1 - b1 ** t) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
    return new


def compare(what, got, ref, atol, rtol):
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got.shape != ref.shape:
        print(f"FAIL {what}  shape {got.shape} vs traced {ref.shape}")
        return False
    diff = np.abs(got - ref)
    ok = bool((diff <= atol + rtol * np.abs(ref)).all())
    print(f"{'OK  ' if ok else 'FAIL'} {what}  max_abs={diff.max(initial=0):.2e}  (atol={atol:.2e} rtol={rtol:.0e})")
    return ok


def replay(trace, stage, entry, config, sample_shape):
    d = os.path.join(trace, entry["dir"])
    state = load_named(os.path.join(trace, entry["state_before"]))
    opt = load_named(os.path.join(trace, entry["optimizer_before"])) if entry["optimizer_before"] else {}
    views = np.load(os.path.join(d, "views.npy")).astype(np.float64)
    mask = os.path.join(d, "mask_labels.npy")
    labels = np.load(mask) if os.path.exists(mask) else None
    plan = plan_of(state, config, sample_shape)
    loss, grads, buffers = step(state, views, config["temperature"], labels, plan, sample_shape)
    at = f"stage{stage['stage']}/step{entry['step']}"
    ok = compare(f"{at}/loss", loss, np.load(os.path.join(d, "loss.npy")), 1e-5, 1e-5)
    traced_grads = load_named(os.path.join(d, "grad"))
    scale = max(np.abs(g).max() for g in traced_grads.values())
    for name in sorted(traced_grads):
        ok &= compare(f"{at}/grad/{name}", grads[name], traced_grads[name], 1e-4 * scale, 1e-3)
    params = {k: state[k] for k in traced_grads}
    new = optimizer_step(config, entry["lr"], params, grads, opt)
    after = load_named(os.path.join(d, "state_after"))
    zero = pre_bn_biases(plan)
    for name in sorted(after):
        value = new.get(name, buffers.get(name))
        atol = 2.5 * entry["lr"] if name in zero else 2e-5
        ok &= compare(f"{at}/state_after/{name}", value, after[name], atol, 1e-5)
    return ok


def refusal(index):
    """Why this script cannot replay the trace (None when it can)."""
    config = index["configuration"]
    method = config.get("method", "simclr")
    if method != "simclr":
        return (f"method '{method}' is not one this script replays (simclr); a MoCo trace's step is described "
                "in trace.json conventions.moco_step and checked by the moco_step fixture")
    encoder = config.get("encoder", "mlp")
    if encoder not in ("mlp", "cnn"):
        return f"encoder '{encoder}' is not one this script replays (mlp, cnn)"
    shape = index.get("sample_shape")
    if encoder == "cnn" and (not isinstance(shape, list) or len(shape) != 3):
        return f"a cnn trace needs 'sample_shape' [C, H, W] in trace.json (got {shape}; written by mcl-ref since it records it)"
    return None


def main():
    global BROKEN
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--stage", type=int)
    ap.add_argument("--step", type=int)
    ap.add_argument("--broken", action="store_true")
    args = ap.parse_args()
    BROKEN = args.broken
    with open(os.path.join(args.trace, "trace.json")) as f:
        index = json.load(f)
    config = index["configuration"]
    unsupported = refusal(index)
    if unsupported:
        print(f"replay_trace.py: {args.trace}: {unsupported}", file=sys.stderr)
        return 2
    ok, replayed = True, 0
    for stage in index["stages"]:
        if args.stage is not None and stage["stage"] != args.stage:
            continue
        for entry in stage.get("recorded_steps", []):
            if args.step is not None and entry["step"] != args.step:
                continue
            ok &= replay(args.trace, stage, entry, config, index.get("sample_shape"))
            replayed += 1
    if replayed == 0:
        print("no recorded step matches", file=sys.stderr)
        return 2
    print(f"{replayed} steps replayed: {'all within tolerance' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
