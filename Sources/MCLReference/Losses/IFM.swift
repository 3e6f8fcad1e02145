/// IFM — implicit feature modification, Robinson et al., "Can contrastive learning avoid shortcut
/// solutions?", NeurIPS 2021 (official code joshr17/IFM, moco-master).
///
/// The adversary moves each positive embedding away from its anchor and each negative towards it,
/// within an ε-ball, to remove whatever features currently separate them. For L2-normalised
/// embeddings the worst case has a closed form on the logits: the positive's cosine lowered by ε and
/// every negative's raised by ε, before dividing by τ:
///
///     ℓ_adv = [cos_p − ε, cos_j + ε, …] / τ
///
/// and the training loss combines the plain and the perturbed InfoNCE as the official code does
/// (main_moco.py, `--method ifm`):
///
///     loss = (InfoNCE(ℓ) + α·InfoNCE(ℓ_adv)) / (1 + α)
///
/// Defaults (official code): ε = 0.1, α = 1. Both terms share masks, positives and negatives, so IFM
/// works unchanged under MCL's Eq. 3 mask and with MoCo's queue; it needs negatives (a method without
/// them has nothing to perturb). The gradient is the same combination of the two cores' gradients
/// (ε is a constant shift of the logits).
public enum IFM {
    /// ε of the official code.
    public static let defaultEpsilon = 0.1
    /// α of the official code.
    public static let defaultAlpha = 1.0

    /// The combined loss on the InfoNCE core's layout (see `InfoNCE.loss`); `admissibleNegatives` are
    /// those of the plain term (the same for both).
    /// - Shape: anchors N×D, keys M×D, positives N, mask N×M → dAnchors N×D, dKeys M×D.
    @inlinable public static func loss<T: MCLFloat>(anchors q: Matrix<T>, keys k: Matrix<T>, positives: [Int],
                                                    mask: InfoNCE.Mask, temperature tau: T,
                                                    epsilon: T, alpha: T) -> InfoNCE.Output<T> {
        precondition(alpha >= 0, "IFM: alpha must be ≥ 0, got \(alpha)")
        let plain = InfoNCE.loss(anchors: q, keys: k, positives: positives, mask: mask, temperature: tau)
        let adversarial = InfoNCE.loss(anchors: q, keys: k, positives: positives, mask: mask, temperature: tau, shift: epsilon)
        let w = 1 / (1 + alpha)
        func mix(_ a: Matrix<T>, _ b: Matrix<T>) -> Matrix<T> {
            var out = a
            for i in 0..<out.count { out.storage[i] = w * (a.storage[i] + alpha * b.storage[i]) }
            return out
        }
        let perAnchor = zip(plain.perAnchorLoss, adversarial.perAnchorLoss).map { w * ($0 + alpha * $1) }
        return InfoNCE.Output(loss: w * (plain.loss + alpha * adversarial.loss), perAnchorLoss: perAnchor,
                              admissibleNegatives: plain.admissibleNegatives,
                              dAnchors: mix(plain.dAnchors, adversarial.dAnchors), dKeys: mix(plain.dKeys, adversarial.dKeys))
    }
}
