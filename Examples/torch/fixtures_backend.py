#!/usr/bin/env python3
"""A PyTorch backend for mcl-ref's fixtures: torch.nn modules, torch.nn.functional and autograd.

For every case under --fixtures whose component it knows, it loads the inputs, computes every output
listed in the manifest with torch in the inputs' precision (float64 for ``fixtures --precision f64``,
float32 for f32) and writes ``OUT/<case>/<file>``. Then

    mcl-ref check --reference FIXTURES --candidate OUT --allow-missing

must exit 0. Components and what computes them (COMPONENTS below):

    gemm               torch.addmm(c, op(a), op(b), beta=, alpha=)
    Linear, ReLU, BatchNorm1d/2d, Conv2d, MaxPool2d, AvgPool2d
                       the nn module, forward, then ``y.backward(d_out)`` (vector-Jacobian product)
    L2Normalize        F.normalize(x, dim=1, eps=1e-12)
    NTXent             F.normalize, logits u·uᵀ/τ, F.cross_entropy over the other 2B−1 rows with the
                       inadmissible negatives set to −inf (Eq. 3); autograd for dL/dz
    IFMNTXent          the same cross-entropy twice, plain and with the cosines shifted by ∓ε (positive
                       down, negatives up: IFM's closed-form perturbation), (plain + α·perturbed)/(1 + α)
    DebiasedNTXent     DCL: exp of the logits, Ng = torch.clamp((neg − τ⁺·N·pos)/(1 − τ⁺), min=N·e^(−1/τ))
                       (no gradient where the bound is taken), −log(pos/(pos + Ng)); autograd for dL/dz
    TemperatureScheduleNTXent  τ(e) by torch.cos, masked NT-Xent at each τ(e)
    FDStep             an nn.Sequential viewmaker on [views, noise], torch.tanh budget, autograd through
                       views + δ, torch.optim.SGD for the encoder and for the viewmaker on −L
    LinearProbe        nn.Linear + F.cross_entropy + (l2/2)·‖W‖²
    KMeans             Lloyd with torch.cdist / index_add_ (scikit-learn's stopping rule)
    PseudoLabels       torch.unique(return_inverse=True, return_counts=True)
    ClusterBatchSampler  cluster_batch_sampler.ClusterBatchSampler (ranks as DistributedSampler)
    SimCLR, MoCo       nn.Sequential encoder + head, torch.optim.Adam, MoCo key model by
                       torch._foreach_mul_/add_ style momentum update, queue as a tensor
    BYOL, BarlowTwins  the same modules (BYOL: + predictor, a projection_head, and a target model under
                       no_grad), a forward pass per view, autograd, torch.optim.SGD; BYOL's target by the
                       EMA τ·target + (1 − τ)·online after the step
    CLIP               the same image model and models.TextTower (nn.Embedding, mean over the non-padding
                       tokens, nn.Sequential), logit_scale an nn.Parameter, F.cross_entropy over
                       s·a·tᵀ and its transpose with the other groups' pairs at −inf (Eq. 3 both ways),
                       autograd, torch.optim.SGD on all of them, then logit_scale.clamp_(0, ln 100)
    BYOLLoss, BarlowTwinsLoss, L21Penalty, SymmetricEigen, CovarianceSpectrum, MinMaxDistanceRatio
                       torch.linalg / torch.cov / nn.BatchNorm1d(affine=False) / autograd

usage: fixtures_backend.py --fixtures DIR --out DIR [--case NAME ...]
Prints one line per case (``covered`` or ``skipped: why``) on stderr and exits 0.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_batch_sampler import ClusterBatchSampler  # noqa: E402
from models import TextTower, contrastive_model, projection_head  # noqa: E402


def leaf(a):
    return torch.from_numpy(np.ascontiguousarray(a)).clone().requires_grad_(True)


def vjp(module, x, d_out, **params):
    """Forward ``module`` on x, backpropagate d_out; returns y, dx and {param: grad}."""
    x = leaf(x)
    y = module(x)
    y.backward(torch.from_numpy(d_out))
    out = {"y": y, "d_x": x.grad}
    for name, p in module.named_parameters():
        out["d_" + name] = p.grad
    return out


def set_params(module, inp, names):
    with torch.no_grad():
        for n in names:
            getattr(module, n).copy_(torch.from_numpy(inp[n]))
    return module


# --- layers -----------------------------------------------------------------------------------------

def gemm(inp, p):
    a, b, c = (torch.from_numpy(inp[k]) for k in "abc")
    a = a.T if p["trans_a"] else a
    b = b.T if p["trans_b"] else b
    return {"c_out": torch.addmm(c, a, b, beta=p["beta"], alpha=p["alpha"])}


def linear(inp, p):
    x = inp["x"]
    m = nn.Linear(p["in_features"], p["out_features"], dtype=torch.from_numpy(x).dtype)
    return vjp(set_params(m, inp, ["weight", "bias"]), x, inp["d_out"])


def relu(inp, p):
    return vjp(nn.ReLU(), inp["x"], inp["d_out"])


def batchnorm(inp, p, cls):
    x = inp["x"]
    m = cls(x.shape[1], eps=p["eps"], momentum=p["momentum"], dtype=torch.from_numpy(x).dtype).train()
    set_params(m, inp, ["weight", "bias", "running_mean", "running_var"])
    out = vjp(m, x, inp["d_out"])
    out["running_mean_out"], out["running_var_out"] = m.running_mean, m.running_var
    return out


def conv2d(inp, p):
    x = inp["x"]
    m = nn.Conv2d(p["in_channels"], p["out_channels"], p["kernel_size"], stride=p["stride"],
                  padding=p["padding"], dtype=torch.from_numpy(x).dtype)
    return vjp(set_params(m, inp, ["weight", "bias"]), x, inp["d_out"])


def pool(inp, p, cls):
    return vjp(cls(p["kernel_size"], stride=p["stride"], padding=p["padding"]), inp["x"], inp["d_out"])


def l2_normalize(inp, p):
    x = leaf(inp["x"])
    y = F.normalize(x, p=2, dim=p["dim"], eps=p["eps"])
    y.backward(torch.from_numpy(inp["d_out"]))
    return {"y": y, "d_x": x.grad}


# --- losses -----------------------------------------------------------------------------------------

def ntxent_layout(n, labels=None):
    """The NT-Xent layout of 2B rows: each row's positive (i ± B) and its admissible negatives (every other
    row but itself and its positive; with ``labels``, B pseudo labels, only rows of the anchor's label, Eq. 3)."""
    positive = torch.arange(n).roll(n // 2)
    negative = ~torch.eye(n, dtype=torch.bool)
    negative[torch.arange(n), positive] = False
    if labels is not None:
        lab = torch.as_tensor(labels).repeat(2)
        negative &= lab[:, None] == lab[None, :]
    return positive, negative


def ntxent_loss(z, tau, labels=None, reduction="mean", margin=0.0):
    """SimCLR's NT-Xent over z = [view a; view b] (2B×D); the positive stays in the denominator.

    With ``labels`` (B pseudo labels) a negative counts only if its label equals the anchor's
    (paper Eq. 3). ``margin`` ε' lowers the positive's cosine and raises every negative's by ε'
    before dividing by τ (IFM's perturbed logits). Returns the loss and the number of admissible
    negatives per anchor."""
    n = z.shape[0]
    positive, negative = ntxent_layout(n, labels)
    u = F.normalize(z, dim=1)
    cos = u @ u.T
    if margin:
        cos = cos + margin * (negative.to(cos.dtype) - F.one_hot(positive, n).to(cos.dtype))
    logits = (cos / tau).masked_fill(~(negative | F.one_hot(positive, n).bool()), float("-inf"))
    return F.cross_entropy(logits, positive, reduction=reduction), negative.sum(1)


def ntxent(inp, p):
    z = leaf(inp["z"])
    per_anchor, counts = ntxent_loss(z, p["temperature"], inp.get("pseudo_labels") if p["masked"] else None,
                                     reduction="none")
    loss = per_anchor.mean()
    loss.backward()
    return {"loss": loss, "per_anchor_loss": per_anchor, "d_z": z.grad, "admissible_negatives": counts}


def ifm_ntxent(inp, p):
    """IFM (Robinson et al. 2021): the plain NT-Xent and the one at the worst-case ±ε cosine shift
    (closed form), combined per anchor as (plain + α·perturbed)/(1 + α) as in the official code."""
    z = leaf(inp["z"])
    labels = inp.get("pseudo_labels") if p["masked"] else None
    plain, counts = ntxent_loss(z, p["temperature"], labels, reduction="none")
    perturbed, _ = ntxent_loss(z, p["temperature"], labels, reduction="none", margin=p["epsilon"])
    per_anchor = (plain + p["alpha"] * perturbed) / (1 + p["alpha"])
    loss = per_anchor.mean()
    loss.backward()
    return {"loss": loss, "per_anchor_loss": per_anchor, "d_z": z.grad, "admissible_negatives": counts}


def dcl_ntxent(inp, p):
    """Debiased contrastive loss (Chuang et al. 2020): Ng = max((Σ_neg e^ℓ − τ⁺·N·e^ℓp)/(1 − τ⁺), N·e^(−1/τ));
    torch.clamp passes no gradient where the bound is taken."""
    z = leaf(inp["z"])
    tau, tp = p["temperature"], p["tau_plus"]
    positive, negative = ntxent_layout(z.shape[0], inp.get("pseudo_labels") if p["masked"] else None)
    u = F.normalize(z, dim=1)
    sim = torch.exp(u @ u.T / tau)                      # |ℓ| ≤ 1/τ: no overflow
    pos = sim.gather(1, positive[:, None]).squeeze(1)
    count = negative.sum(1)
    n_neg = count.to(z.dtype)
    neg = (sim * negative).sum(1)
    ng = torch.clamp((neg - tp * n_neg * pos) / (1 - tp), min=n_neg * math.exp(-1 / tau))
    per_anchor = -torch.log(pos / (pos + ng))
    loss = per_anchor.mean()
    loss.backward()
    return {"loss": loss, "per_anchor_loss": per_anchor, "d_z": z.grad, "admissible_negatives": count}


def ts_ntxent(inp, p):
    """Cosine temperature schedule (Kukleva et al. 2023), τ set once per epoch, and the masked NT-Xent at each τ(e)."""
    z = torch.from_numpy(inp["z"])
    lo, hi, period = p["tau_min"], p["tau_max"], p["period_epochs"]
    e = torch.arange(int(p["epochs"]), dtype=torch.float64)
    taus = (lo + 0.5 * (hi - lo) * (1 + torch.cos(2 * math.pi * e / period))).to(z.dtype)
    losses = torch.stack([ntxent_loss(z, t.item(), inp["pseudo_labels"])[0] for t in taus])
    return {"temperatures": taus, "losses": losses}


def linear_probe(inp, p):
    x = torch.from_numpy(inp["features"])
    m = set_params(nn.Linear(x.shape[1], p["classes"], dtype=x.dtype), inp, ["weight", "bias"])
    logits = m(x)
    loss = F.cross_entropy(logits, torch.from_numpy(inp["labels"])) + p["l2"] / 2 * m.weight.pow(2).sum()
    loss.backward()
    return {"logits": logits, "loss": loss, "d_weight": m.weight.grad, "d_bias": m.bias.grad}


def byol_regression(pred, target):
    """‖p̂ − ẑ‖² = 2 − 2·cos(p, z) per sample; the target is a stop-gradient."""
    return (F.normalize(pred, dim=1) - F.normalize(target.detach(), dim=1)).pow(2).sum(1)


def byol_ema_decay(p):
    """τ = 1 − (1 − τ_base)·(cos(π·k/K) + 1)/2 (BYOL's cosine schedule of the target's decay)."""
    return 1 - (1 - p["ema_base"]) * (math.cos(math.pi * min(p["step"], p["total_steps"]) / p["total_steps"]) + 1) / 2


def byol(inp, p):
    t = {k: torch.from_numpy(v) for k, v in inp.items()}
    p1, p2 = leaf(inp["prediction_1"]), leaf(inp["prediction_2"])

    per_sample = byol_regression(p1, t["target_2"]) + byol_regression(p2, t["target_1"])
    loss = per_sample.mean()
    loss.backward()
    tau = byol_ema_decay(p)
    target = t["target_weight"].clone()
    target.mul_(tau).add_(t["online_weight"], alpha=1 - tau)      # the EMA update of BYOL's target network
    return {"loss": loss, "per_sample_loss": per_sample, "d_prediction_1": p1.grad, "d_prediction_2": p2.grad,
            "ema_decay": torch.tensor(tau, dtype=t["online_weight"].dtype), "target_weight_after": target}


def barlow_loss(z1, z2, lam, eps):
    """Σ_i (1 − C_ii)² + λ·Σ_i≠j C_ij², C = BN(z1)ᵀ·BN(z2)/B with BatchNorm1d(affine=False) per view."""
    n, d = z1.shape
    bn = nn.BatchNorm1d(d, eps=eps, affine=False, dtype=z1.dtype).train()
    c = bn(z1).T @ bn(z2) / n
    on_diag = (torch.diagonal(c) - 1).pow(2).sum()
    off_diag = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    return on_diag + lam * off_diag, c


def barlow_twins(inp, p):
    z1, z2 = leaf(inp["z1"]), leaf(inp["z2"])
    loss, c = barlow_loss(z1, z2, p["lambda"], p["eps"])
    loss.backward()
    return {"loss": loss, "cross_correlation": c, "d_z1": z1.grad, "d_z2": z2.grad}


def l21(inp, p):
    w = leaf(inp["weight"])
    norms = torch.linalg.vector_norm(w, dim=0)
    value = p["lambda"] * norms.sum()
    value.backward()                       # torch's norm backward is 0 where the norm is 0
    with torch.no_grad():
        shrink = torch.clamp(1 - p["step_size"] * p["lambda"] / norms, min=0)
        prox = w * torch.where(norms > 0, shrink, torch.zeros_like(norms))
        active = torch.nonzero(norms > p["active_threshold"] * norms.max()).flatten()
    return {"column_norms": norms, "value": value, "gradient": w.grad, "proximal_weight": prox,
            "active_columns": active}


# --- analysis ---------------------------------------------------------------------------------------

def symmetric_eigen(inp, p):
    a = torch.from_numpy(inp["a"]).double()
    return {"eigenvalues": torch.linalg.eigvalsh(a).flip(0)}


def covariance_spectrum(inp, p):
    x = torch.from_numpy(inp["x"]).double()
    cov = torch.cov(x.T)
    ev = torch.linalg.eigvalsh(cov).flip(0)
    spectrum = ev.clamp(min=0) / ev.clamp(min=0).sum()
    q = spectrum[spectrum > 0]
    return {"covariance": cov, "eigenvalues": ev, "spectrum": spectrum,
            "effective_rank": torch.exp(-(q * q.log()).sum())}


def min_max_distance_ratio(inp, p):
    def ratios(x):
        d = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")
        off = ~torch.eye(len(x), dtype=torch.bool)
        far = d.masked_fill(~off, float("-inf")).max(1).values
        near = d.masked_fill(~off, float("inf")).min(1).values
        r = (far - near) / near
        return r, r.mean()

    x = torch.from_numpy(inp["x"]).double()
    raw, mean_raw = ratios(x)
    nrm, mean_nrm = ratios(F.normalize(x, dim=1, eps=1e-12))
    return {"per_query_raw": raw, "mean_raw": mean_raw, "per_query_normalized": nrm, "mean_normalized": mean_nrm}


# --- clustering and sampling ------------------------------------------------------------------------

def kmeans(inp, p):
    x = torch.from_numpy(inp["x"])
    c = torch.from_numpy(inp["init_centroids"]).clone()
    k = p["n_clusters"]
    tol = p["tol"] * x.var(0, unbiased=False).mean()
    labels, it = None, 0
    for it in range(1, p["max_iter"] + 1):
        new = torch.cdist(x, c, compute_mode="donot_use_mm_for_euclid_dist").argmin(1)
        if labels is not None and torch.equal(new, labels):
            break
        labels = new
        counts = torch.bincount(labels, minlength=k).to(x.dtype)
        sums = torch.zeros_like(c).index_add_(0, labels, x)
        moved = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], c)
        shift = (moved - c).pow(2).sum()
        c = moved
        if shift <= tol:
            labels = torch.cdist(x, c, compute_mode="donot_use_mm_for_euclid_dist").argmin(1)
            break
    inertia = (x - c[labels]).pow(2).sum()
    return {"centroids": c, "labels": labels, "inertia": inertia, "iterations": torch.tensor(it)}


def pseudo_labels(inp, p):
    history = torch.from_numpy(inp["history"])
    counts = torch.from_numpy(inp["cluster_counts"])
    value = torch.zeros(history.shape[1], dtype=torch.int64)
    for s in range(history.shape[0]):              # stage 0 is the most significant digit
        value = value * counts[s] + history[s]
    groups, dense, sizes = torch.unique(value, sorted=True, return_inverse=True, return_counts=True)
    return {"tuples": history.T, "mixed_radix": value, "dense": dense, "group_values": groups, "group_sizes": sizes}


def cluster_batch_sampler(inp, p):
    out = {}
    for r in range(p["world_size"]):
        s = ClusterBatchSampler(inp["pseudo_labels"], p["batch_size"], p["sampler_seed"],
                                num_replicas=p["world_size"], rank=r)
        for e in range(p["epochs"]):
            bg = s.batches_with_groups(e)
            out[f"batches_epoch{e}_rank{r}"] = torch.tensor([b for _, b in bg], dtype=torch.int64)
            out[f"groups_epoch{e}_rank{r}"] = torch.tensor([g for g, _ in bg], dtype=torch.int64)
    return out


# --- whole training steps ---------------------------------------------------------------------------

def load_state(module, inp, prefix):
    """Loads ``prefix + <state_dict name>`` inputs into module (strict: every parameter must be there)."""
    state = module.state_dict()
    for name in list(state):
        if prefix + name in inp:
            state[name] = torch.from_numpy(inp[prefix + name])
    module.load_state_dict(state, strict=True)
    return module.train()


def load_model(inp, prefix, p):
    dtype = torch.from_numpy(inp[prefix + "encoder.0.weight"]).dtype
    model = contrastive_model(p["input_width"] if "input_width" in p else 6, [10], 5, 8, 4, dtype=dtype)
    return load_state(model, inp, prefix)


def simclr_step(inp, p):
    model = load_model(inp, "param.", p)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    va, vb = torch.from_numpy(inp["views_a"]), torch.from_numpy(inp["views_b"])
    out, losses = {}, []
    for s in range(va.shape[0]):
        opt.zero_grad()
        z = model(torch.cat([va[s], vb[s]]))
        loss, _ = ntxent_loss(z, p["temperature"])
        loss.backward()
        if s == 0:
            out["embedding"], out["loss"] = z, loss
            out.update({"grad." + n: q.grad.clone() for n, q in model.named_parameters()})
        else:
            losses.append(loss.detach())
        opt.step()
        if s == 0:
            out.update({"param_after." + n: q.detach().clone() for n, q in model.named_parameters()})
    out["losses_next"] = torch.stack(losses)
    return out


def moco_step(inp, p):
    model, key_model = load_model(inp, "param.", p), load_model(inp, "key_param.", p)
    key_model.requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    queue = torch.from_numpy(inp["queue"]).clone()
    queue_labels = torch.from_numpy(inp["queue_labels"]).clone()
    va, vb = torch.from_numpy(inp["views_a"]), torch.from_numpy(inp["views_b"])
    batch_labels = torch.from_numpy(inp["batch_labels"])
    m, tau, ptr = p["momentum"], p["temperature"], 0
    out, losses = {}, []
    for s in range(p["steps"]):
        with torch.no_grad():                           # key model ← m·key + (1 − m)·query, then keys
            for kq, q in zip(key_model.parameters(), model.parameters()):
                kq.mul_(m).add_(q, alpha=1 - m)
            k = F.normalize(key_model(vb[s]), dim=1)
        opt.zero_grad()
        q = model(va[s])
        qn = F.normalize(q, dim=1)
        logits = torch.cat([(qn * k).sum(1, keepdim=True), qn @ queue.T], dim=1) / tau
        same = batch_labels[s][:, None] == queue_labels[None, :]          # Eq. 3 over the queue
        logits = torch.cat([logits[:, :1], logits[:, 1:].masked_fill(~same, float("-inf"))], dim=1)
        loss = F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.int64))
        loss.backward()
        if s == 0:
            out["query_embedding"], out["loss"] = q, loss
            out.update({"grad." + n: w.grad.clone() for n, w in model.named_parameters()})
        else:
            losses.append(loss.detach())
        opt.step()
        if s == 0:
            out.update({"param_after." + n: w.detach().clone() for n, w in model.named_parameters()})
        for i in range(len(k)):                          # enqueue in order, ring buffer
            queue[ptr], queue_labels[ptr] = k[i], batch_labels[s][i]
            ptr = (ptr + 1) % len(queue)
    out.update({"key_param_after." + n: w.clone() for n, w in key_model.named_parameters()})
    out.update({"losses_next": torch.stack(losses), "queue_after": queue, "queue_labels_after": queue_labels,
                "queue_pointer_after": torch.tensor(ptr, dtype=torch.int64)})
    return out


def sgd_step_outputs(named, opt, loss, embedding):
    """Records loss, embedding and every gradient, takes the SGD step, records the parameters after it."""
    out = {"embedding": embedding, "loss": loss}
    out.update({"grad." + n: w.grad.clone() for n, w in named})
    opt.step()
    out.update({"param_after." + n: w.detach().clone() for n, w in named})
    return out


def byol_step(inp, p):
    """One BYOL step: online model + predictor per view (own BatchNorm statistics), target model
    without gradient, symmetrised regression loss, torch.optim.SGD, then the target's EMA update."""
    model, target = load_model(inp, "param.", p), load_model(inp, "target_param.", p)
    dtype = next(model.parameters()).dtype
    predictor = load_state(projection_head(4, 6, 4, dtype=dtype), inp, "param.predictor.")
    target.requires_grad_(False)
    named = list(model.named_parameters()) + [("predictor." + n, w) for n, w in predictor.named_parameters()]
    opt = torch.optim.SGD([w for _, w in named], lr=p["lr"], momentum=0, weight_decay=0)
    va, vb = torch.from_numpy(inp["views_a"]), torch.from_numpy(inp["views_b"])
    opt.zero_grad()
    z_a, z_b = model(va), model(vb)
    with torch.no_grad():
        t_a, t_b = target(va), target(vb)
    loss = (byol_regression(predictor(z_a), t_b) + byol_regression(predictor(z_b), t_a)).mean()
    loss.backward()
    out = sgd_step_outputs(named, opt, loss, torch.cat([z_a, z_b]))
    tau = byol_ema_decay(p)
    with torch.no_grad():
        for tw, w in zip(target.parameters(), model.parameters()):
            tw.mul_(tau).add_(w, alpha=1 - tau)
    out.update({"target_param_after." + n: w.clone() for n, w in target.named_parameters()})
    return out


def barlow_step(inp, p):
    """One Barlow Twins step: a pass per view, the cross-correlation loss, torch.optim.SGD."""
    model = load_model(inp, "param.", p)
    named = list(model.named_parameters())
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=0, weight_decay=0)
    va, vb = torch.from_numpy(inp["views_a"]), torch.from_numpy(inp["views_b"])
    opt.zero_grad()
    z_a, z_b = model(va), model(vb)
    loss, _ = barlow_loss(z_a, z_b, p["lambda"], p["eps"])
    loss.backward()
    return sgd_step_outputs(named, opt, loss, torch.cat([z_a, z_b]))


def fd_step(inp, p):
    """FD: an nn.Sequential viewmaker on torch.cat([views, noise], 1), the budget by torch.tanh and a
    mean over each row (official get_delta), NT-Xent of views + δ; one backward of L, then the
    encoder's torch.optim.SGD step on L and the viewmaker's on −L (its gradients negated, as the
    official view_maker_loss = −encoder_loss)."""
    model = load_model(inp, "param.", p)
    dtype = next(model.parameters()).dtype
    x, noise = torch.from_numpy(inp["views"]), torch.from_numpy(inp["noise"])
    d, h = x.shape[1], inp["viewmaker_param.0.weight"].shape[0]
    viewmaker = nn.Sequential(nn.Linear(2 * d, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, d)).to(dtype)
    load_state(viewmaker, inp, "viewmaker_param.")
    enc_opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=0, weight_decay=0)
    vm_opt = torch.optim.SGD(viewmaker.parameters(), lr=p["viewmaker_lr"], momentum=0, weight_decay=0)
    t = torch.tanh(viewmaker(torch.cat([x, noise], dim=1)))
    delta = t * p["budget"] / (t.abs().mean(dim=1, keepdim=True) + p["stabilizer"])
    views = x + delta
    loss, _ = ntxent_loss(model(views), p["temperature"])
    loss.backward()
    out = {"delta": delta, "perturbed_views": views, "loss": loss}
    out.update({"grad." + n: w.grad.clone() for n, w in model.named_parameters()})
    out.update({"viewmaker_grad." + n: w.grad.clone() for n, w in viewmaker.named_parameters()})
    enc_opt.step()
    for w in viewmaker.parameters():
        w.grad.neg_()                                    # the viewmaker minimises −L
    vm_opt.step()
    out.update({"param_after." + n: w.detach().clone() for n, w in model.named_parameters()})
    out.update({"viewmaker_param_after." + n: w.detach().clone() for n, w in viewmaker.named_parameters()})
    return out


def clip_loss(image, text, logit_scale, labels):
    """CLIP's symmetric InfoNCE at scale s = exp(logit_scale); with B pseudo labels a pair (i, j) counts
    only if labels[i] = labels[j] (the diagonal always), in both directions (paper Eq. 3)."""
    logits = logit_scale.exp() * F.normalize(image, dim=1, eps=1e-12) @ F.normalize(text, dim=1, eps=1e-12).T
    logits = logits.masked_fill(labels[:, None] != labels[None, :], float("-inf"))
    target = torch.arange(len(logits))
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def clip_step(inp, p):
    """One CLIP step: image tower (the encoder + head, train mode) and text tower, the masked CLIP loss,
    one backward, torch.optim.SGD over both towers and the logit scale, then OpenCLIP's clamp."""
    model = load_model(inp, "param.", p)
    dtype = next(model.parameters()).dtype
    (vocabulary, word_width), (hidden, _) = inp["param.text.embedding.weight"].shape, inp["param.text.mlp.0.weight"].shape
    text = load_state(TextTower(vocabulary, word_width, hidden, inp["param.text.mlp.2.weight"].shape[0], dtype=dtype),
                      inp, "param.text.")
    logit_scale = nn.Parameter(torch.tensor(inp["param.logit_scale"]))
    named = (list(model.named_parameters()) + [("text." + n, w) for n, w in text.named_parameters()]
             + [("logit_scale", logit_scale)])
    opt = torch.optim.SGD([w for _, w in named], lr=p["lr"], momentum=0, weight_decay=0)
    opt.zero_grad()
    z, y = model(torch.from_numpy(inp["images"])), text(torch.from_numpy(inp["captions"]))
    loss = clip_loss(z, y, logit_scale, torch.from_numpy(inp["pseudo_labels"]))
    loss.backward()
    out = {"image_embedding": z, "text_embedding": y, "loss": loss}
    out.update({"grad." + n: w.grad.clone() for n, w in named})
    opt.step()
    with torch.no_grad():
        logit_scale.clamp_(0, p["max_log_scale"])
    out.update({"param_after." + n: w.detach().clone() for n, w in named})
    return out


COMPONENTS = {
    "gemm": gemm, "Linear": linear, "ReLU": relu,
    "BatchNorm1d": lambda i, p: batchnorm(i, p, nn.BatchNorm1d),
    "BatchNorm2d": lambda i, p: batchnorm(i, p, nn.BatchNorm2d),
    "Conv2d": conv2d,
    "MaxPool2d": lambda i, p: pool(i, p, nn.MaxPool2d), "AvgPool2d": lambda i, p: pool(i, p, nn.AvgPool2d),
    "L2Normalize": l2_normalize, "NTXent": ntxent, "LinearProbe": linear_probe,
    "KMeans": kmeans, "PseudoLabels": pseudo_labels, "ClusterBatchSampler": cluster_batch_sampler,
    "SimCLR": simclr_step, "MoCo": moco_step, "BYOL": byol_step, "BarlowTwins": barlow_step,
    "IFMNTXent": ifm_ntxent, "DebiasedNTXent": dcl_ntxent, "TemperatureScheduleNTXent": ts_ntxent,
    "FDStep": fd_step, "CLIP": clip_step,
    "BYOLLoss": byol, "BarlowTwinsLoss": barlow_twins, "L21Penalty": l21,
    "SymmetricEigen": symmetric_eigen, "CovarianceSpectrum": covariance_spectrum,
    "MinMaxDistanceRatio": min_max_distance_ratio,
}


def run_case(case_dir, out_dir):
    with open(os.path.join(case_dir, "manifest.json")) as f:
        man = json.load(f)
    fn = COMPONENTS.get(man["component"])
    if fn is None:
        return False, f"component {man['component']} not implemented"
    inp = {i["name"]: np.load(os.path.join(case_dir, i["file"])) for i in man["inputs"]}
    result = fn(inp, man["params"])
    os.makedirs(out_dir, exist_ok=True)
    for o in man["outputs"]:
        t = result[o["name"]]
        a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        if o["dtype"] == "<i8":
            a = a.astype(np.int64)
        np.save(os.path.join(out_dir, o["file"]), a.reshape(o["shape"]).copy(order="C"))
    return True, f"{len(man['outputs'])} outputs"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--case", action="append")
    a = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    cases = a.case or sorted(d for d in os.listdir(a.fixtures) if os.path.isfile(os.path.join(a.fixtures, d, "manifest.json")))
    for c in cases:
        ok, what = run_case(os.path.join(a.fixtures, c), os.path.join(a.out, c))
        print(f"{'covered' if ok else 'skipped'} {c}: {what}", file=sys.stderr)


if __name__ == "__main__":
    main()
