"""Independent float64 recomputations of the SparseHead-paper fixtures (imported by make_golden.py).

BYOL, Barlow Twins, the L2,1 penalty, eigenvalues (numpy.linalg.eigh, LAPACK's divide and conquer),
the covariance spectrum with its effective rank, and the min-max distance ratio of Eq. 9 — each
written from the formulas in the case's manifest, not from the Swift code.
"""
import numpy as np


def _unit(x, eps=1e-12):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), eps)


def byol(inp, p):
    p1, p2, z1, z2 = inp("prediction_1"), inp("prediction_2"), inp("target_1"), inp("target_2")
    b = p1.shape[0]

    def direction(pred, target):
        norm = np.maximum(np.linalg.norm(pred, axis=1, keepdims=True), 1e-12)
        u, v = pred / norm, _unit(target)
        per = ((u - v) ** 2).sum(axis=1)                     # = 2 − 2·cos
        du = -2.0 * v / b                                    # d[(1/B)·Σ ℓ]/dû
        dp = (du - u * (u * du).sum(axis=1, keepdims=True)) / norm
        return per, dp

    per1, dp1 = direction(p1, z2)
    per2, dp2 = direction(p2, z1)
    step = min(p["step"], p["total_steps"])
    tau = 1 - (1 - p["ema_base"]) * (np.cos(np.pi * step / p["total_steps"]) + 1) / 2
    after = tau * inp("target_weight") + (1 - tau) * inp("online_weight")
    return {"loss": np.array((per1 + per2).mean()), "per_sample_loss": per1 + per2,
            "d_prediction_1": dp1, "d_prediction_2": dp2, "ema_decay": np.array(tau), "target_weight_after": after}


def barlow_twins(inp, p):
    z1, z2 = inp("z1"), inp("z2")
    n, d = z1.shape
    lam, eps = p["lambda"], p["eps"]

    def bn(z):
        mu = z.mean(axis=0)
        rstd = 1 / np.sqrt(((z - mu) ** 2).mean(axis=0) + eps)
        return (z - mu) * rstd, rstd

    def bn_back(g, zhat, rstd):
        return rstd / n * (n * g - g.sum(axis=0) - zhat * (g * zhat).sum(axis=0))

    a, ra = bn(z1)
    b, rb = bn(z2)
    c = a.T @ b / n
    eye = np.eye(d)
    off = c * (1 - eye)
    loss = ((1 - np.diag(c)) ** 2).sum() + lam * (off ** 2).sum()
    g = 2 * lam * off - 2 * np.diag(1 - np.diag(c))        # dL/dC
    return {"loss": np.array(loss), "cross_correlation": c,
            "d_z1": bn_back(b @ g.T / n, a, ra), "d_z2": bn_back(a @ g / n, b, rb)}


def l21_penalty(inp, p):
    w = inp("weight")
    lam, eta, thr = p["lambda"], p["step_size"], p["active_threshold"]
    norms = np.sqrt((w ** 2).sum(axis=0))
    safe = np.where(norms > 0, norms, 1.0)
    grad = np.where(norms > 0, lam * w / safe, 0.0)
    shrink = np.where(norms > eta * lam, 1 - eta * lam / safe, 0.0)
    return {"column_norms": norms, "value": np.array(lam * norms.sum()), "gradient": grad,
            "proximal_weight": w * shrink,
            "active_columns": np.flatnonzero(norms > thr * norms.max()).astype(np.int64)}


def symmetric_eigen(inp, p):
    return {"eigenvalues": np.linalg.eigh(inp("a"))[0][::-1].copy()}


def covariance_spectrum(inp, p):
    x = inp("x")
    c = np.cov(x, rowvar=False)
    lam = np.linalg.eigh(c)[0][::-1].copy()
    q = np.maximum(lam, 0) / np.maximum(lam, 0).sum()
    nz = q[q > 0]
    return {"covariance": c, "eigenvalues": lam, "spectrum": q,
            "effective_rank": np.array(np.exp(-(nz * np.log(nz)).sum()))}


def min_max_distance_ratio(inp, p):
    def ratios(x):
        dist = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
        np.fill_diagonal(dist, np.nan)
        lo, hi = np.nanmin(dist, axis=1), np.nanmax(dist, axis=1)
        return (hi - lo) / lo

    x = inp("x")
    raw, unit = ratios(x), ratios(_unit(x))
    return {"per_query_raw": raw, "mean_raw": np.array(raw.mean()),
            "per_query_normalized": unit, "mean_normalized": np.array(unit.mean())}


ANALYSIS_COMPONENTS = {"BYOLLoss": byol, "BarlowTwinsLoss": barlow_twins, "L21Penalty": l21_penalty,
                       "SymmetricEigen": symmetric_eigen, "CovarianceSpectrum": covariance_spectrum,
                       "MinMaxDistanceRatio": min_max_distance_ratio}
