"""Independent float64 recomputations of issue 14's loss-side baseline fixtures (imported by make_golden.py).

IFM (Robinson et al. 2021), the debiased contrastive loss DCL (Chuang et al. 2020) and the cosine
temperature schedule TS (Kukleva et al. 2023) on the NT-Xent layout, each written from the formulas
in the case's manifest (params "loss", "schedule"), not from the Swift code. Gradients are derived
by hand per anchor from the loss as a function of its logits, then taken through u = z/‖z‖.
"""
import numpy as np


def _layout(z, labels):
    """Unit rows u, the norm, each anchor's positive column and the admissible-negative mask."""
    n = z.shape[0]
    b = n // 2
    norm = np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    u = z / norm
    pos = np.concatenate([np.arange(b, n), np.arange(0, b)])
    neg = ~np.eye(n, dtype=bool)
    neg[np.arange(n), pos] = False
    if labels is not None:
        lab = np.concatenate([labels, labels])
        neg &= lab[:, None] == lab[None, :]
    return u, norm, pos, neg


def _through_normalisation(dlogits, u, norm, tau):
    """dL/dz from dL/dℓ (N×N, already divided by the number of anchors) with ℓ = u·uᵀ/τ."""
    du = (dlogits @ u + dlogits.T @ u) / tau
    return (du - u * (du * u).sum(axis=1, keepdims=True)) / norm


def _ce_shifted(cos, pos, neg, tau, shift):
    """Per-anchor CE with the positive cosine lowered and the negatives raised by `shift`, and dCE/dcos·τ."""
    n = cos.shape[0]
    logits = np.where(neg, (cos + shift) / tau, -np.inf)
    logits[np.arange(n), pos] = (cos[np.arange(n), pos] - shift) / tau
    mx = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - mx)
    s = e.sum(axis=1, keepdims=True)
    per = mx[:, 0] + np.log(s[:, 0]) - logits[np.arange(n), pos]
    d = e / s
    d[np.arange(n), pos] -= 1.0
    return per, d


def ifm_ntxent(inp, p):
    z = inp("z")
    labels = inp("pseudo_labels") if p["masked"] else None
    tau, eps, alpha = p["temperature"], p["epsilon"], p["alpha"]
    u, norm, pos, neg = _layout(z, labels)
    cos = u @ u.T
    per0, d0 = _ce_shifted(cos, pos, neg, tau, 0.0)
    per1, d1 = _ce_shifted(cos, pos, neg, tau, eps)
    per = (per0 + alpha * per1) / (1 + alpha)
    dlogits = (d0 + alpha * d1) / (1 + alpha) / z.shape[0]
    return {"loss": np.array(per.mean()), "per_anchor_loss": per,
            "d_z": _through_normalisation(dlogits, u, norm, tau), "admissible_negatives": neg.sum(axis=1)}


def dcl_ntxent(inp, p):
    z = inp("z")
    labels = inp("pseudo_labels") if p["masked"] else None
    tau, tp = p["temperature"], p["tau_plus"]
    u, norm, pos, neg = _layout(z, labels)
    n = z.shape[0]
    cos = u @ u.T
    per = np.zeros(n)
    dlogits = np.zeros((n, n))
    for i in range(n):
        # Unshifted exponentials: |logits| ≤ 1/τ = 2 here, so nothing overflows.
        ep = np.exp(cos[i, pos[i]] / tau)
        en = np.where(neg[i], np.exp(cos[i] / tau), 0.0)
        N = neg[i].sum()
        est = (en.sum() - tp * N * ep) / (1 - tp)
        bound = N * np.exp(-1 / tau)
        clamped = est < bound
        ng = bound if clamped else est
        D = ep + ng
        per[i] = -np.log(ep / D)
        # d/dℓ_p of log(ep + ng) − ℓ_p, and d/dℓ_j of log(ep + ng) (zero when ng is the constant bound).
        dp = ep / D if clamped else ep * (1 - tp * N / (1 - tp)) / D
        dlogits[i] = 0.0 if clamped else en / ((1 - tp) * D)
        dlogits[i, pos[i]] = dp - 1.0
    return {"loss": np.array(per.mean()), "per_anchor_loss": per,
            "d_z": _through_normalisation(dlogits / n, u, norm, tau), "admissible_negatives": neg.sum(axis=1)}


def ts_ntxent(inp, p):
    z, labels = inp("z"), inp("pseudo_labels")
    lo, hi, T = p["tau_min"], p["tau_max"], p["period_epochs"]
    taus = np.array([lo + 0.5 * (hi - lo) * (1 + np.cos(2 * np.pi * e / T)) for e in range(int(p["epochs"]))])
    u, _, pos, neg = _layout(z, labels)
    cos = u @ u.T
    losses = np.array([_ce_shifted(cos, pos, neg, t, 0.0)[0].mean() for t in taus])
    return {"temperatures": taus, "losses": losses}


BASELINE_COMPONENTS = {"IFMNTXent": ifm_ntxent, "DebiasedNTXent": dcl_ntxent, "TemperatureScheduleNTXent": ts_ntxent}


# ---- FD: the viewmaker step ------------------------------------------------------------------

def fd_step(inp, p, names, vm_names):
    """One FD step written from the manifest: viewmaker MLP on [views, noise], the L1 budget, NT-Xent of
    the perturbed views, SGD on the encoder, SGD on −L for the viewmaker (make_golden.py's nets)."""
    from make_golden import nets_forward, nets_backward, ntxent_loss, LAYERS
    params = {n: inp("param." + n) for n in names}
    vm = {"viewmaker." + n: inp("viewmaker_param." + n) for n in vm_names}
    x, noise = inp("views"), inp("noise")
    eps, kappa, tau, lr, vlr = p["budget"], p["stabilizer"], p["temperature"], p["lr"], p["viewmaker_lr"]
    vm_layers = [("viewmaker", ["linear", "relu", "linear", "relu", "linear"])]
    y, vm_caches = nets_forward(vm, vm_layers, np.concatenate([x, noise], axis=1))
    t = np.tanh(y)
    m = np.abs(t).mean(axis=1, keepdims=True)
    delta = t * eps / (m + kappa)
    views = x + delta
    z, caches = nets_forward(params, list(LAYERS.items()), views)
    loss, _, dz, _ = ntxent_loss(z, tau)
    grads, dviews = nets_backward(params, caches, dz)
    # Budget backward, derived from delta_d = eps·t_d/(m + κ), m = (1/D)Σ|t_k|:
    # dL/dt_d = eps/(m+κ)·g_d − eps/(m+κ)²·(1/D)·sign(t_d)·Σ_k g_k t_k, then dL/dy = dL/dt·(1 − t²).
    D = x.shape[1]
    g = dviews
    dt = eps / (m + kappa) * g - eps / (m + kappa) ** 2 / D * np.sign(t) * (g * t).sum(axis=1, keepdims=True)
    vm_grads, _ = nets_backward(vm, vm_caches, dt * (1 - t * t))
    out = {"delta": delta, "perturbed_views": views, "loss": np.array(loss)}
    out.update({"grad." + n: grads[n] for n in names})
    out.update({"param_after." + n: params[n] - lr * grads[n] for n in names})
    out.update({"viewmaker_grad." + n: vm_grads["viewmaker." + n] for n in vm_names})
    out.update({"viewmaker_param_after." + n: vm["viewmaker." + n] + vlr * vm_grads["viewmaker." + n] for n in vm_names})
    return out
