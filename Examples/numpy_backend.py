#!/usr/bin/env python3
"""A toy numpy "backend" checked against the mcl-ref oracle.

It implements the SimCLR step of the MLP encoder + head (NT-Xent, BatchNorm, Adam) and Lloyd's
K-means, reads each fixture's inputs, and writes its outputs to a candidate directory laid out like
the fixtures (<out>/<case>/<file> for every output in the manifest). Then:

    mcl-ref check --reference FIXTURES --candidate OUT --case simclr_step --case kmeans_lloyd

exits 0. With --broken the NT-Xent denominator leaves the positive out (the DCL form, a classic
slip when porting SimCLR) and the check exits 1.

usage: numpy_backend.py --fixtures DIR --out DIR [--broken]
"""
import argparse
import json
import os

import numpy as np

BROKEN = False


def ntxent(z, tau):
    """Mean NT-Xent over 2B anchors and dL/dz (rows 0..B-1 view a, B..2B-1 view b)."""
    n = z.shape[0]
    norm = np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    u = z / norm
    logits = u @ u.T / tau
    pos = np.roll(np.arange(n), n // 2)
    keep = ~np.eye(n, dtype=bool)
    if BROKEN:
        keep[np.arange(n), pos] = False          # bug: positive left out of the denominator
    masked = np.where(keep, logits, -np.inf)
    mx = masked.max(axis=1, keepdims=True)
    lse = (mx + np.log(np.exp(masked - mx).sum(axis=1, keepdims=True)))[:, 0]
    loss = (lse - logits[np.arange(n), pos]).mean()
    g = np.exp(masked - lse[:, None])
    g[np.arange(n), pos] -= 1.0
    du = (g + g.T) @ u / (n * tau)
    return loss, (du - u * (u * du).sum(axis=1, keepdims=True)) / norm


def batchnorm(x, gamma, beta, eps=1e-5):
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    def backward(dy):
        g = dy * gamma
        dx = (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
        return dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)
    return gamma * xhat + beta, backward


def forward_backward(p, x, tau):
    """Linear-BN-ReLU-Linear encoder, Linear-BN-ReLU-Linear head; returns z, loss, grads by name."""
    tape, h = [], x
    for net in ("encoder", "head"):
        tape.append(("lin", f"{net}.0", h)); h = h @ p[f"{net}.0.weight"].T + p[f"{net}.0.bias"]
        h, bn_back = batchnorm(h, p[f"{net}.1.weight"], p[f"{net}.1.bias"]); tape.append(("bn", f"{net}.1", bn_back))
        tape.append(("relu", None, h > 0)); h = np.maximum(h, 0.0)
        tape.append(("lin", f"{net}.3", h)); h = h @ p[f"{net}.3.weight"].T + p[f"{net}.3.bias"]
    loss, d = ntxent(h, tau)
    grads = {}
    for kind, name, saved in reversed(tape):
        if kind == "lin":
            grads[name + ".weight"], grads[name + ".bias"] = d.T @ saved, d.sum(axis=0)
            d = d @ p[name + ".weight"]
        elif kind == "bn":
            d, grads[name + ".weight"], grads[name + ".bias"] = saved(d)
        else:
            d = d * saved
    return h, loss, grads


def simclr_step(inp, params):
    names = [k[len("param."):] for k in inp if k.startswith("param.")]
    p = {k: inp["param." + k] for k in names}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    out, losses = {}, []
    for s in range(inp["views_a"].shape[0]):            # step s feeds views_a[s], views_b[s]
        z, loss, g = forward_backward(p, np.concatenate([inp["views_a"][s], inp["views_b"][s]]), params["temperature"])
        for k in names:                                  # torch.optim.Adam, step t = s + 1
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            p[k] = p[k] - lr / (1 - b1 ** (s + 1)) * m[k] / (np.sqrt(v[k] / (1 - b2 ** (s + 1))) + eps)
        losses.append(loss)
        if s == 0:
            out.update(embedding=z, loss=loss, **{"grad." + k: g[k] for k in names},
                       **{"param_after." + k: p[k].copy() for k in names})
    out["losses_next"] = np.array(losses[1:])
    return out


def kmeans_lloyd(inp, params):
    x, c = inp["x"], inp["init_centroids"]
    tol = params["tol"] * x.var(axis=0).mean()
    old = None
    for it in range(1, params["max_iter"] + 1):
        labels = ((x[:, None] - c[None]) ** 2).sum(axis=2).argmin(axis=1)
        new = np.stack([x[labels == j].mean(axis=0) for j in range(len(c))])
        shift, c = ((new - c) ** 2).sum(), new
        if old is not None and (labels == old).all():
            break
        if shift <= tol:
            labels = ((x[:, None] - c[None]) ** 2).sum(axis=2).argmin(axis=1)
            break
        old = labels
    return {"centroids": c, "labels": labels, "inertia": ((x - c[labels]) ** 2).sum(), "iterations": it}


CASES = {"simclr_step": simclr_step, "kmeans_lloyd": kmeans_lloyd}


def main():
    global BROKEN
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--broken", action="store_true")
    args = ap.parse_args()
    BROKEN = args.broken
    for case, run in CASES.items():
        with open(os.path.join(args.fixtures, case, "manifest.json")) as f:
            manifest = json.load(f)
        inp = {e["name"]: np.load(os.path.join(args.fixtures, case, e["file"])).astype(
            np.float64 if e["dtype"].startswith("<f") else np.int64) for e in manifest["inputs"]}
        result = run(inp, manifest["params"])
        os.makedirs(os.path.join(args.out, case), exist_ok=True)
        for e in manifest["outputs"]:
            np.save(os.path.join(args.out, case, e["file"]), np.asarray(result[e["name"]]).astype(np.dtype(e["dtype"])))
    print("mcl-ref check --reference %s --candidate %s %s" % (
        args.fixtures, args.out, " ".join("--case " + c for c in CASES)))


if __name__ == "__main__":
    main()
