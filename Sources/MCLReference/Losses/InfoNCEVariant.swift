/// Which loss an InfoNCE-based objective (SimCLR's NT-Xent, MoCo's InfoNCE) computes on its logits:
/// the plain loss, or one of the paper's loss-side baselines (workshop version, Sec. 5.2 / Table 3,
/// and issue 14). All keep the core's layout — positives, Eq. 3 masks, queue — so each combines with
/// MCL stages.
public enum InfoNCEVariant: Equatable, Sendable {
    /// −ℓ_p + log Σ_j e^{ℓ_j} (paper Eq. 1 / Eq. 3).
    case plain
    /// IFM (Losses/IFM.swift): (plain + α·adversarial)/(1 + α) with cosines shifted by ε.
    case ifm(epsilon: Double, alpha: Double)
    /// DCL, the debiased loss (Losses/DebiasedContrastive.swift) with class prior τ⁺ ∈ [0, 1).
    case debiased(tauPlus: Double)

    /// Short name for tables and progress: "plain", "IFM ε=0.1 α=1", "DCL τ⁺=0.1".
    public var description: String {
        switch self {
        case .plain: return "plain"
        case .ifm(let e, let a): return "IFM ε=\(e) α=\(a)"
        case .debiased(let t): return "DCL τ⁺=\(t)"
        }
    }
}

extension InfoNCE {
    /// The core loss with `variant` applied (see `InfoNCE.loss`).
    /// - Shape: anchors N×D, keys M×D, positives N, mask N×M → dAnchors N×D, dKeys M×D.
    @inlinable public static func loss<T: MCLFloat>(anchors q: Matrix<T>, keys k: Matrix<T>, positives: [Int],
                                                    mask: Mask, temperature tau: T, variant: InfoNCEVariant) -> Output<T> {
        switch variant {
        case .plain:
            return loss(anchors: q, keys: k, positives: positives, mask: mask, temperature: tau)
        case .ifm(let epsilon, let alpha):
            return IFM.loss(anchors: q, keys: k, positives: positives, mask: mask, temperature: tau,
                            epsilon: T(epsilon), alpha: T(alpha))
        case .debiased(let tauPlus):
            precondition(tauPlus >= 0 && tauPlus < 1, "DCL: tau_plus must be in [0, 1), got \(tauPlus)")
            return loss(anchors: q, keys: k, positives: positives, mask: mask, temperature: tau, debiasedPrior: tauPlus)
        }
    }
}
