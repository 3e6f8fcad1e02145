#!/usr/bin/env python3
"""Independent float64 recomputation of the mcl-ref oracle fixtures, in plain numpy.

For every case directory under the given fixture roots (default: f32/ and f64/ next to this
script) this reads manifest.json and the committed *input* tensors, recomputes every output in
float64 from the formulas (not from the Swift code), and writes it as expected_<name>.npy beside
the Swift output. GoldenTests.swift then compares mcl-ref's outputs with these files.

Regenerate (numpy is needed only here, never to build or test):

    swift build -c release
    .build/release/mcl-ref fixtures --out Fixtures/golden/f64 --precision f64
    .build/release/mcl-ref fixtures --out Fixtures/golden/f32 --precision f32
    python3 Fixtures/golden/make_golden.py

RNG-driven outputs cannot be recomputed without transcribing the generator: for the cluster-batch
sampler this script checks invariants instead (every batch from one group, batches disjoint within
and across ranks, exact coverage of the kept set) and writes only the group sequence, which the
round-robin order determines without randomness.
"""
import json
import os
import sys

import numpy as np

from make_golden_analysis import ANALYSIS_COMPONENTS
from make_golden_baselines import BASELINE_COMPONENTS, fd_step


def load(case_dir, manifest, name):
    for e in manifest["inputs"] + manifest["outputs"]:
        if e["name"] == name:
            return np.load(os.path.join(case_dir, e["file"])).astype(
                np.float64 if e["dtype"].startswith("<f") else np.int64)
    raise KeyError(name)


# ---- kernels and layers ---------------------------------------------------------------------

def gemm(inp, p):
    a, b, c = inp("a"), inp("b"), inp("c")
    opa = a.T if p["trans_a"] else a
    opb = b.T if p["trans_b"] else b
    return {"c_out": p["alpha"] * (opa @ opb) + p["beta"] * c}


def linear(inp, p):
    x, w, b, dy = inp("x"), inp("weight"), inp("bias"), inp("d_out")
    return {"y": x @ w.T + b, "d_x": dy @ w, "d_weight": dy.T @ x, "d_bias": dy.sum(axis=0)}


def relu(inp, p):
    x, dy = inp("x"), inp("d_out")
    return {"y": np.where(x > 0, x, 0.0), "d_x": np.where(x > 0, dy, 0.0)}


def bn_forward(x, gamma, beta, eps):
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * rstd
    return gamma * xhat + beta, (xhat, rstd, gamma), mu, var


def bn_backward(dy, cache):
    xhat, rstd, gamma = cache
    n = dy.shape[0]
    g = dy * gamma
    dx = rstd / n * (n * g - g.sum(axis=0) - xhat * (g * xhat).sum(axis=0))
    return dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)


def batchnorm(inp, p):
    x, dy = inp("x"), inp("d_out")
    y, cache, mu, var = bn_forward(x, inp("weight"), inp("bias"), p["eps"])
    m, n = p["momentum"], x.shape[0]
    dx, dg, db = bn_backward(dy, cache)
    return {"y": y,
            "running_mean_out": (1 - m) * inp("running_mean") + m * mu,
            "running_var_out": (1 - m) * inp("running_var") + m * var * n / (n - 1),
            "d_x": dx, "d_weight": dg, "d_bias": db}


def l2n_forward(x, eps=1e-12):
    norm = np.maximum(np.sqrt((x * x).sum(axis=1, keepdims=True)), eps)
    return x / norm, norm


def l2n_backward(dy, y, norm):
    return (dy - y * (y * dy).sum(axis=1, keepdims=True)) / norm


def l2_normalize(inp, p):
    x, dy = inp("x"), inp("d_out")
    y, norm = l2n_forward(x, p["eps"])
    return {"y": y, "d_x": l2n_backward(dy, y, norm)}


# ---- image layers (NCHW), written as direct window loops, not im2col ------------------------

def windows(h, w, k, s):
    """(oy, ox, row slice, column slice) of every k×k window at stride s (floor mode)."""
    for oy in range((h - k) // s + 1):
        for ox in range((w - k) // s + 1):
            yield oy, ox, slice(oy * s, oy * s + k), slice(ox * s, ox * s + k)


def conv2d(inp, p):
    x, wt, bias, dy = inp("x"), inp("weight"), inp("bias"), inp("d_out")
    k, s, pad = p["kernel_size"], p["stride"], p["padding"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    B, _, H, W = xp.shape
    y = np.zeros(p["output_shape"])
    dxp, dw = np.zeros_like(xp), np.zeros_like(wt)
    for oy, ox, rs, cs in windows(H, W, k, s):
        patch = xp[:, :, rs, cs]                                   # B, C, k, k
        y[:, :, oy, ox] = np.einsum("bcuv,ocuv->bo", patch, wt) + bias
        g = dy[:, :, oy, ox]                                        # B, O
        dw += np.einsum("bo,bcuv->ocuv", g, patch)
        dxp[:, :, rs, cs] += np.einsum("bo,ocuv->bcuv", g, wt)
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return {"y": y, "d_x": dx, "d_weight": dw, "d_bias": dy.sum(axis=(0, 2, 3))}


def batchnorm2d(inp, p):
    """BatchNorm2d = BatchNorm1d over the (B·H·W) × C matrix of channel values."""
    x, dy = inp("x"), inp("d_out")
    B, C, H, W = x.shape
    flat = lambda t: t.transpose(0, 2, 3, 1).reshape(-1, C)
    unflat = lambda t: t.reshape(B, H, W, C).transpose(0, 3, 1, 2)
    y, cache, mu, var = bn_forward(flat(x), inp("weight"), inp("bias"), p["eps"])
    m, n = p["momentum"], B * H * W
    dx, dg, db = bn_backward(flat(dy), cache)
    return {"y": unflat(y),
            "running_mean_out": (1 - m) * inp("running_mean") + m * mu,
            "running_var_out": (1 - m) * inp("running_var") + m * var * n / (n - 1),
            "d_x": unflat(dx), "d_weight": dg, "d_bias": db}


def pool2d(inp, p, kind):
    x, dy = inp("x"), inp("d_out")
    k, s = p["kernel_size"], p["stride"]
    B, C, H, W = x.shape
    y, dx = np.zeros(p["output_shape"]), np.zeros_like(x)
    for oy, ox, rs, cs in windows(H, W, k, s):
        win = x[:, :, rs, cs].reshape(B, C, k * k)
        g = dy[:, :, oy, ox]
        if kind == "max":
            arg = win.argmax(axis=2)                                # first maximum in row-major window order
            y[:, :, oy, ox] = win.max(axis=2)
            for b in range(B):
                for c in range(C):
                    dx[b, c, oy * s + arg[b, c] // k, ox * s + arg[b, c] % k] += g[b, c]
        else:
            y[:, :, oy, ox] = win.mean(axis=2)
            dx[:, :, rs, cs] += (g / (k * k))[:, :, None, None]
    return {"y": y, "d_x": dx}


# ---- losses ---------------------------------------------------------------------------------

def ntxent_loss(z, tau, labels=None):
    """Per-anchor NT-Xent (SimCLR, positive in the denominator), its mean, dL/dz, admissible counts."""
    n = z.shape[0]
    b = n // 2
    u, norm = l2n_forward(z)
    logits = u @ u.T / tau
    pos = np.concatenate([np.arange(b, n), np.arange(0, b)])
    allowed = ~np.eye(n, dtype=bool)
    if labels is not None:
        lab = np.concatenate([labels, labels])
        allowed &= lab[:, None] == lab[None, :]
    allowed[np.arange(n), pos] = True
    admissible = allowed.sum(axis=1) - 1
    masked = np.where(allowed, logits, -np.inf)
    mx = masked.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(masked - mx).sum(axis=1))
    per = lse - logits[np.arange(n), pos]
    s = np.exp(masked - lse[:, None])
    s[np.arange(n), pos] -= 1.0
    g = s / n
    du = (g @ u + g.T @ u) / tau
    return per.mean(), per, l2n_backward(du, u, norm), admissible


def ntxent(inp, p):
    labels = inp("pseudo_labels") if p["masked"] else None
    loss, per, dz, adm = ntxent_loss(inp("z"), p["temperature"], labels)
    return {"loss": np.array(loss), "per_anchor_loss": per, "d_z": dz, "admissible_negatives": adm}


def linear_probe(inp, p):
    x, y, w, b = inp("features"), inp("labels"), inp("weight"), inp("bias")
    n = x.shape[0]
    z = x @ w.T + b
    mx = z.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(z - mx).sum(axis=1))
    loss = (lse - z[np.arange(n), y]).mean() + 0.5 * p["l2"] * (w * w).sum()
    dz = np.exp(z - lse[:, None])
    dz[np.arange(n), y] -= 1.0
    dz /= n
    return {"logits": z, "loss": np.array(loss), "d_weight": dz.T @ x + p["l2"] * w, "d_bias": dz.sum(axis=0)}


# ---- clustering -----------------------------------------------------------------------------

def kmeans(inp, p):
    """Lloyd from the given centroids with scikit-learn's stopping rule (see the manifest)."""
    x, c = inp("x"), inp("init_centroids").copy()
    k = p["n_clusters"]
    tol_abs = p["tol"] * x.var(axis=0).mean()
    old = None
    strict = False
    it = 0
    for it in range(1, p["max_iter"] + 1):
        d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        labels = d.argmin(axis=1)  # ties -> lowest index
        counts = np.bincount(labels, minlength=k)
        assert counts.min() > 0, "empty cluster: this fixture is meant to avoid the relocation rule"
        new = np.stack([x[labels == j].mean(axis=0) for j in range(k)])
        shift = ((new - c) ** 2).sum()
        c = new
        if old is not None and np.array_equal(labels, old):
            strict = True
            break
        if shift <= tol_abs:
            break
        old = labels
    if not strict:
        labels = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    inertia = ((x - c[labels]) ** 2).sum()
    return {"centroids": c, "labels": labels, "inertia": np.array(inertia), "iterations": np.array(it)}


def pseudo_labels(inp, p):
    hist, ks = inp("history"), inp("cluster_counts")
    v = np.zeros(hist.shape[1], dtype=np.int64)
    for s in range(len(ks)):
        v = v * ks[s] + hist[s]
    values, dense, sizes = np.unique(v, return_inverse=True, return_counts=True)
    return {"tuples": hist.T.copy(), "mixed_radix": v, "dense": dense.reshape(-1),
            "group_values": values, "group_sizes": sizes}


def sampler(inp, p, case_dir, manifest):
    """Invariants only (the shuffles come from xoshiro256**); returns the RNG-free group order."""
    labels = inp("pseudo_labels")
    b, w = p["batch_size"], p["world_size"]
    sizes = np.bincount(labels)
    per_rank = sizes // (b * w)  # batches each rank draws from each group
    expected_groups = []
    for rnd in range(per_rank.max()):
        expected_groups += [g for g in range(len(sizes)) if rnd < per_rank[g]]
    out = {}
    for epoch in range(p["epochs"]):
        seen = []
        for r in range(w):
            batches = np.load(os.path.join(case_dir, f"batches_epoch{epoch}_rank{r}.npy"))
            groups = np.load(os.path.join(case_dir, f"groups_epoch{epoch}_rank{r}.npy"))
            assert batches.shape == (per_rank.sum(), b), (batches.shape, per_rank)
            for batch, g in zip(batches, groups):
                assert (labels[batch] == g).all(), f"epoch {epoch} rank {r}: batch {batch} is not pure group {g}"
            seen.append(batches.reshape(-1))
            out[f"groups_epoch{epoch}_rank{r}"] = np.array(expected_groups, dtype=np.int64)
        allidx = np.concatenate(seen)
        assert len(np.unique(allidx)) == len(allidx), f"epoch {epoch}: batches overlap"
        kept = np.bincount(labels[allidx], minlength=len(sizes))
        assert (kept == per_rank * b * w).all(), f"epoch {epoch}: kept {kept}, expected {per_rank * b * w}"
    return out


# ---- the SimCLR step ------------------------------------------------------------------------

LAYERS = {"encoder": ["linear", "bn", "relu", "linear"], "head": ["linear", "bn", "relu", "linear"]}


def nets_forward(params, nets, x):
    """The forward of a list of (prefix, layer kinds): Linear, BatchNorm1d (train mode, eps 1e-5), ReLU."""
    caches, h = [], x
    for net, kinds in nets:
        for i, kind in enumerate(kinds):
            pre = f"{net}.{i}."
            if kind == "linear":
                caches.append(("linear", pre, h))
                h = h @ params[pre + "weight"].T + params[pre + "bias"]
            elif kind == "bn":
                h, cache, _, _ = bn_forward(h, params[pre + "weight"], params[pre + "bias"], 1e-5)
                caches.append(("bn", pre, cache))
            else:
                caches.append(("relu", pre, h > 0))
                h = np.where(h > 0, h, 0.0)
    return h, caches


def nets_backward(params, caches, d):
    """Backward through `caches` of nets_forward: parameter gradients by name, and dL/d(input)."""
    grads = {}
    for kind, pre, cache in reversed(caches):
        if kind == "linear":
            grads[pre + "weight"] = d.T @ cache
            grads[pre + "bias"] = d.sum(axis=0)
            d = d @ params[pre + "weight"]
        elif kind == "bn":
            d, grads[pre + "weight"], grads[pre + "bias"] = bn_backward(d, cache)
        else:
            d = np.where(cache, d, 0.0)
    return grads, d


def model_forward(params, x):
    return nets_forward(params, list(LAYERS.items()), x)


def model_backward(params, caches, dz):
    return nets_backward(params, caches, dz)[0]


def adam_update(params, grads, m, v2, t, lr=1e-2, b1=0.9, b2=0.999, eps=1e-8):
    for n in params:
        g = grads[n]
        m[n] = b1 * m[n] + (1 - b1) * g
        v2[n] = b2 * v2[n] + (1 - b2) * g * g
        params[n] = params[n] - (lr / (1 - b1 ** t)) * m[n] / (np.sqrt(v2[n]) / np.sqrt(1 - b2 ** t) + eps)


def simclr(inp, p, names):
    params = {n: inp("param." + n) for n in names}
    va, vb = inp("views_a"), inp("views_b")
    tau, lr, b1, b2, eps = p["temperature"], 1e-2, 0.9, 0.999, 1e-8
    m = {n: np.zeros_like(v) for n, v in params.items()}
    v2 = {n: np.zeros_like(v) for n, v in params.items()}
    out, losses = {}, []
    for s in range(va.shape[0]):
        z, caches = model_forward(params, np.concatenate([va[s], vb[s]]))
        loss, _, dz, _ = ntxent_loss(z, tau)
        grads = model_backward(params, caches, dz)
        adam_update(params, grads, m, v2, s + 1, lr=lr, b1=b1, b2=b2, eps=eps)
        losses.append(loss)
        if s == 0:
            out["embedding"] = z
            out["loss"] = np.array(loss)
            out.update({"grad." + n: grads[n] for n in names})
            out.update({"param_after." + n: params[n].copy() for n in names})
    out["losses_next"] = np.array(losses[1:])
    return out


def moco(inp, p, names):
    """MoCo-v2 with the queue masked by pseudo labels (Eq. 3), written from the formulas."""
    params = {n: inp("param." + n) for n in names}
    keyp = {n: inp("key_param." + n) for n in names}
    va, vb, labels = inp("views_a"), inp("views_b"), inp("batch_labels")
    queue, qlab = inp("queue").copy(), inp("queue_labels").copy()
    tau, mom, L = p["temperature"], p["momentum"], p["queue_length"]
    m = {n: np.zeros_like(v) for n, v in params.items()}
    v2 = {n: np.zeros_like(v) for n, v in params.items()}
    out, losses, ptr = {}, [], 0
    for s in range(va.shape[0]):
        keyp = {n: mom * keyp[n] + (1 - mom) * params[n] for n in names}
        zq, caches = model_forward(params, va[s])
        zk, _ = model_forward(keyp, vb[s])
        k, _ = l2n_forward(zk)
        q, qnorm = l2n_forward(zq)
        b = q.shape[0]
        logits = np.concatenate([(q * k).sum(axis=1, keepdims=True), q @ queue.T], axis=1) / tau
        allowed = np.concatenate([np.ones((b, 1), bool), qlab[None, :] == labels[s][:, None]], axis=1)
        masked = np.where(allowed, logits, -np.inf)
        mx = masked.max(axis=1, keepdims=True)
        lse = mx[:, 0] + np.log(np.exp(masked - mx).sum(axis=1))
        loss = (lse - logits[:, 0]).mean()
        sm = np.exp(masked - lse[:, None])
        sm[:, 0] -= 1.0
        g = sm / b
        dq = (g[:, :1] * k + g[:, 1:] @ queue) / tau
        grads = model_backward(params, caches, l2n_backward(dq, q, qnorm))
        if s == 0:
            out["query_embedding"] = zq
            out["loss"] = np.array(loss)
            out.update({"grad." + n: grads[n] for n in names})
        adam_update(params, grads, m, v2, s + 1, lr=1e-2)
        if s == 0:
            out.update({"param_after." + n: params[n].copy() for n in names})
        for i in range(b):
            queue[ptr], qlab[ptr] = k[i], labels[s][i]
            ptr = (ptr + 1) % L
        losses.append(loss)
    out["losses_next"] = np.array(losses[1:])
    out.update({"key_param_after." + n: keyp[n] for n in names})
    out["queue_after"] = queue
    out["queue_labels_after"] = qlab
    out["queue_pointer_after"] = np.array(ptr)
    return out


# ---- BYOL and Barlow Twins steps (a pass per view, SGD) -----------------------------------------

PREDICTOR = [("predictor", ["linear", "bn", "relu", "linear"])]


def two_view_outputs(params, names, grads, z_a, z_b, loss, lr):
    out = {"embedding": np.concatenate([z_a, z_b]), "loss": np.array(loss)}
    out.update({"grad." + n: grads[n] for n in names})
    out.update({"param_after." + n: params[n] - lr * grads[n] for n in names})
    return out


def byol_step(inp, p, names):
    """One BYOL step from the formulas: online + predictor per view, target (no gradient), SGD, EMA."""
    params = {n: inp("param." + n) for n in names}
    model_names = [n for n in names if not n.startswith("predictor.")]
    target = {n: inp("target_param." + n) for n in model_names}
    va, vb, lr, b = inp("views_a"), inp("views_b"), p["lr"], inp("views_a").shape[0]
    z_a, c_a = model_forward(params, va)
    z_b, c_b = model_forward(params, vb)
    p_a, pc_a = nets_forward(params, PREDICTOR, z_a)
    p_b, pc_b = nets_forward(params, PREDICTOR, z_b)
    t_a, _ = model_forward(target, va)
    t_b, _ = model_forward(target, vb)

    def direction(pred, targ):
        u, norm = l2n_forward(pred)
        v, _ = l2n_forward(targ)
        return ((u - v) ** 2).sum(axis=1), l2n_backward(-2.0 * v / b, u, norm)

    per_a, dp_a = direction(p_a, t_b)
    per_b, dp_b = direction(p_b, t_a)
    loss = (per_a + per_b).mean()
    grads = {}
    for pc, dp, c in ((pc_a, dp_a, c_a), (pc_b, dp_b, c_b)):
        gp, dz = nets_backward(params, pc, dp)
        gm, _ = nets_backward(params, c, dz)
        for n, g in list(gp.items()) + list(gm.items()):
            grads[n] = grads.get(n, 0) + g
    out = two_view_outputs(params, names, grads, z_a, z_b, loss, lr)
    step, total = min(p["step"], p["total_steps"]), p["total_steps"]
    tau = 1 - (1 - p["ema_base"]) * (np.cos(np.pi * step / total) + 1) / 2
    out.update({"target_param_after." + n: tau * target[n] + (1 - tau) * out["param_after." + n] for n in model_names})
    return out


def barlow_step(inp, p, names):
    """One Barlow Twins step from the formulas: a pass per view, per-view batch norm, C, SGD."""
    params = {n: inp("param." + n) for n in names}
    va, vb, lr, lam, eps = inp("views_a"), inp("views_b"), p["lr"], p["lambda"], p["eps"]
    z_a, c_a = model_forward(params, va)
    z_b, c_b = model_forward(params, vb)
    n, d = z_a.shape
    ones, zeros = np.ones(d), np.zeros(d)
    a, ca, _, _ = bn_forward(z_a, ones, zeros, eps)
    bb, cb, _, _ = bn_forward(z_b, ones, zeros, eps)
    c = a.T @ bb / n
    diag = np.diag(c)
    loss = ((1 - diag) ** 2).sum() + lam * ((c ** 2).sum() - (diag ** 2).sum())
    g = 2 * lam * c
    g[np.diag_indices(d)] = -2 * (1 - diag)
    grads = {}
    for dzhat, cache, caches in ((bb @ g.T / n, ca, c_a), (a @ g / n, cb, c_b)):
        dz = bn_backward(dzhat, cache)[0]
        gm, _ = nets_backward(params, caches, dz)
        for k, v in gm.items():
            grads[k] = grads.get(k, 0) + v
    return two_view_outputs(params, names, grads, z_a, z_b, loss, lr)


TEXT_MLP = [("text.mlp", ["linear", "relu", "linear"])]


def masked_ce(logits, allowed):
    """Mean over rows of −log softmax(logits over admissible columns)[i, i], and dL/dlogits."""
    n = logits.shape[0]
    masked = np.where(allowed, logits, -np.inf)
    mx = masked.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(masked - mx).sum(axis=1))
    loss = (lse - np.diag(logits)).mean()
    d = np.exp(masked - lse[:, None])
    d[np.arange(n), np.arange(n)] -= 1.0
    return loss, d / n


def clip_step(inp, p, names):
    """One CLIP step from the formulas: both towers, masked symmetric CE at scale exp(θ), SGD, clamp."""
    params = {n: inp("param." + n) for n in names}
    x, captions, labels, lr = inp("images"), inp("captions"), inp("pseudo_labels"), p["lr"]
    z, img_caches = model_forward(params, x)
    emb = params["text.embedding.weight"]
    real = captions != 0
    counts = np.maximum(real.sum(axis=1), 1)
    onehot = np.zeros((captions.shape[0], emb.shape[0]))          # B×V: how often caption b holds token v
    for b in range(captions.shape[0]):
        for t in captions[b][real[b]]:
            onehot[b, t] += 1.0
    pool = onehot / counts[:, None]                                # u = pool @ emb
    y, text_caches = nets_forward(params, TEXT_MLP, pool @ emb)
    a, na = l2n_forward(z)
    t, nt = l2n_forward(y)
    s = np.exp(params["logit_scale"])
    logits = s * a @ t.T
    allowed = labels[:, None] == labels[None, :]
    allowed[np.diag_indices(len(labels))] = True
    l_i2t, d_i2t = masked_ce(logits, allowed)
    l_t2i, d_t2i = masked_ce(logits.T, allowed.T)
    loss = 0.5 * (l_i2t + l_t2i)
    dlogits = 0.5 * (d_i2t + d_t2i.T)
    grads = {"logit_scale": np.array((dlogits * logits).sum())}
    da = s * dlogits @ t
    dt = s * dlogits.T @ a
    grads.update(nets_backward(params, img_caches, l2n_backward(da, a, na))[0])
    g_text, du = nets_backward(params, text_caches, l2n_backward(dt, t, nt))
    grads.update(g_text)
    grads["text.embedding.weight"] = pool.T @ du
    out = {"image_embedding": z, "text_embedding": y, "loss": np.array(loss)}
    out.update({"grad." + n: grads[n] for n in names})
    after = {n: params[n] - lr * grads[n] for n in names}
    after["logit_scale"] = np.clip(after["logit_scale"], 0.0, p["max_log_scale"])
    out.update({"param_after." + n: after[n] for n in names})
    return out


# ---- driver ---------------------------------------------------------------------------------

COMPONENTS = {"gemm": gemm, "Linear": linear, "ReLU": relu, "BatchNorm1d": batchnorm,
              "L2Normalize": l2_normalize, "NTXent": ntxent, "LinearProbe": linear_probe,
              "KMeans": kmeans, "PseudoLabels": pseudo_labels, "Conv2d": conv2d, "BatchNorm2d": batchnorm2d,
              "MaxPool2d": lambda inp, p: pool2d(inp, p, "max"), "AvgPool2d": lambda inp, p: pool2d(inp, p, "avg")}
COMPONENTS.update(ANALYSIS_COMPONENTS)  # BYOL, Barlow Twins, L2,1, eigen-spectra, Eq. 9: make_golden_analysis.py
COMPONENTS.update(BASELINE_COMPONENTS)  # IFM, DCL, temperature schedule: make_golden_baselines.py


def process(case_dir):
    with open(os.path.join(case_dir, "manifest.json")) as f:
        manifest = json.load(f)
    p = manifest["params"]
    inp = lambda name: load(case_dir, manifest, name)
    comp = manifest["component"]
    if comp in COMPONENTS:
        out = COMPONENTS[comp](inp, p)
    elif comp == "ClusterBatchSampler":
        out = sampler(inp, p, case_dir, manifest)
    elif comp == "SimCLR":
        names = [e["name"][len("param."):] for e in manifest["inputs"] if e["name"].startswith("param.")]
        out = simclr(inp, p, names)
    elif comp == "MoCo":
        names = [e["name"][len("param."):] for e in manifest["inputs"] if e["name"].startswith("param.")]
        out = moco(inp, p, names)
    elif comp == "FDStep":
        names = [e["name"][len("param."):] for e in manifest["inputs"] if e["name"].startswith("param.")]
        vm_names = [e["name"][len("viewmaker_param."):] for e in manifest["inputs"] if e["name"].startswith("viewmaker_param.")]
        out = fd_step(inp, p, names, vm_names)
    elif comp == "CLIP":
        names = [e["name"][len("param."):] for e in manifest["inputs"] if e["name"].startswith("param.")]
        out = clip_step(inp, p, names)
    elif comp in ("BYOL", "BarlowTwins"):
        names = [e["name"][len("param."):] for e in manifest["inputs"] if e["name"].startswith("param.")]
        out = (byol_step if comp == "BYOL" else barlow_step)(inp, p, names)
    else:
        raise SystemExit(f"{case_dir}: no numpy recomputation for component {comp!r} — add one")
    listed = {e["name"]: e for e in manifest["outputs"]}
    for name, value in out.items():
        e = listed[name]
        value = np.asarray(value)
        assert list(value.shape) == e["shape"], f"{case_dir}/{name}: shape {value.shape} vs manifest {e['shape']}"
        dtype = np.float64 if e["dtype"].startswith("<f") else np.int64
        np.save(os.path.join(case_dir, "expected_" + e["file"]), value.astype(dtype))
    missing = sorted(set(listed) - set(out))
    print(f"{case_dir}: {len(out)} expected outputs" + (f" (not recomputed: {', '.join(missing)})" if missing else ""))


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    roots = argv[1:] or [os.path.join(here, "f32"), os.path.join(here, "f64")]
    for root in roots:
        for case in sorted(os.listdir(root)):
            d = os.path.join(root, case)
            if os.path.isfile(os.path.join(d, "manifest.json")):
                process(d)


if __name__ == "__main__":
    main(sys.argv)
