import Foundation

/// DCL — the debiased contrastive loss of Chuang et al., "Debiased Contrastive Learning", NeurIPS 2020
/// (their Eq. 6 with the estimator g of Eq. 5; official code chingyaoc/DCL, main.py).
///
/// In a self-supervised batch some "negatives" share the anchor's (unknown) class. With τ⁺ the prior
/// probability that a random sample has the anchor's class, the negative term is replaced by an
/// estimate of what it would be over true negatives only. Per anchor i with positive logit ℓ_p and
/// N admissible negatives with logits ℓ_j (ℓ = cos/τ):
///
///     pos = e^{ℓ_p},   neg = Σ_j e^{ℓ_j},
///     Ng  = max( (neg − τ⁺·N·pos) / (1 − τ⁺),  N·e^{−1/τ} ),
///     loss_i = −log( pos / (pos + Ng) ).
///
/// The clamp keeps Ng at or above its smallest possible value (every cosine ≥ −1, so each term of neg
/// is ≥ e^{−1/τ}); without it the estimate can go negative and the log undefined.
/// Defaults (official code): τ⁺ = 0.1, τ = 0.5. With τ⁺ = 0 and no clamp active this is exactly the
/// plain InfoNCE/NT-Xent loss (positive in the denominator).
///
/// Here N is the number of *admissible* negatives of the anchor: 2B − 2 for plain SimCLR (as the
/// official code), fewer under MCL's Eq. 3 mask, the admissible queue entries for MoCo. An anchor
/// with no admissible negative has Ng = 0 and loss 0, as in the plain core.
///
/// Not the *decoupled* contrastive loss (Yeh et al., ECCV 2022, also abbreviated DCL), which keeps
/// every negative but removes the positive pair from the denominator: loss = −ℓ_p + log Σ_j e^{ℓ_j}.
/// The debiased loss keeps pos in the denominator and changes the negative sum instead.
///
/// Gradient w.r.t. the logits, D = pos + Ng:
///
///     not clamped:  ∂/∂ℓ_j = e^{ℓ_j} / ((1 − τ⁺)·D),   ∂/∂ℓ_p = pos·(1 − τ⁺N/(1 − τ⁺))/D − 1
///     clamped:      ∂/∂ℓ_j = 0,                        ∂/∂ℓ_p = pos/D − 1
///
/// (clamped means the estimate is strictly below the bound; at equality the gradient passes, as
/// `torch.clamp` does).
public enum DebiasedContrastive {
    /// τ⁺ of the official code.
    public static let defaultTauPlus = 0.1

    /// One anchor's loss and ∂loss_i/∂ℓ_ij, given the exponentials e_j = e^{ℓ_j − μ} (0 on masked
    /// columns) computed by the InfoNCE core with its row maximum μ. Works in the shifted units: pos,
    /// neg and the bound N·e^{−1/τ} are all multiplied by e^{−μ}, which leaves the loss unchanged.
    /// - Shape: e `count`, gradient `count` (written).
    @inlinable public static func row<T: MCLFloat>(e: UnsafeMutablePointer<Double>, count m: Int, positive p: Int,
                                                   maxLogit mu: Double, positiveLogit: Double, negatives: Int,
                                                   tauPlus: Double, temperature tau: Double,
                                                   gradient out: UnsafeMutablePointer<T>) -> Double {
        let pos = e[p]
        var neg = 0.0
        for j in 0..<m where j != p { neg += e[j] }
        let n = Double(negatives)
        let estimate = (neg - tauPlus * n * pos) / (1 - tauPlus)
        let bound = n * Double.exp(-1 / tau - mu)
        let clamped = estimate < bound
        let ng = clamped ? bound : estimate
        let d = pos + ng
        let inverse = 1 / d
        if clamped {
            for j in 0..<m { out[j] = 0 }
            out[p] = T(pos * inverse - 1)
        } else {
            let scale = inverse / (1 - tauPlus)
            for j in 0..<m { out[j] = T(e[j] * scale) }
            out[p] = T(pos * (1 - tauPlus * n / (1 - tauPlus)) * inverse - 1)
        }
        // −log(pos/d) with pos = e^{ℓ_p − μ}: log d − (ℓ_p − μ).
        return Double.log(d) - (positiveLogit - mu)
    }
}
