/// NT-Xent (SimCLR) — paper Eq. 1 — and its feature-aware masked form, paper Eq. 3.
///
/// Dimension legend: B samples, 2B views, D embedding width.
///
/// Input: raw embeddings z, 2B×D, rows 0..<B the first view of samples 0..<B and rows B..<2B the
/// second view. With u = L2Normalize(z) (ε = 1e-12), anchors = keys = u, positive of row i is i ± B,
/// row i itself is excluded, and the other 2B − 2 rows are negatives:
///
///     loss_i = −u_i·u_{p(i)}/τ + log Σ_{j≠i} exp(u_i·u_j/τ),   loss = mean over the 2B anchors.
///
/// With pseudo labels y (one per sample; views i and i + B share y_i), a negative j enters anchor i's
/// denominator only if y_j = y_i (Eq. 3: 1[ŷ = ŷ⁻]); the positive always stays. With all labels equal
/// this is exactly the plain loss. Multi-stage pseudo labels (Eq. 2, a tuple of cluster ids) must be
/// encoded as one `Int` per sample by the caller (equal tuples ↔ equal ints).
///
/// Backward: u is both anchor and key, so dL/du = dQ + dK from the core, then through L2Normalize.
public struct NTXent<T: MCLFloat>: Equatable, Sendable {
    /// τ; 0.5 as lightly's default.
    public var temperature: T
    /// Plain NT-Xent, or the IFM / debiased (DCL) form on the same logits (InfoNCEVariant.swift).
    public var variant: InfoNCEVariant

    @inlinable public init(temperature: T = 0.5, variant: InfoNCEVariant = .plain) {
        precondition(temperature > 0, "NTXent: temperature must be positive, got \(temperature)")
        self.temperature = temperature
        self.variant = variant
    }

    public struct Output: Sendable {
        public var loss: T
        /// loss_i, 2B.
        public var perAnchorLoss: [T]
        /// Negatives in each anchor's denominator, 2B (2B − 2 when unmasked).
        public var admissibleNegatives: [Int]
        /// dL/dz, 2B×D.
        public var dEmbeddings: Matrix<T>
        @inlinable public init(loss: T, perAnchorLoss: [T], admissibleNegatives: [Int], dEmbeddings: Matrix<T>) {
            self.loss = loss; self.perAnchorLoss = perAnchorLoss
            self.admissibleNegatives = admissibleNegatives; self.dEmbeddings = dEmbeddings
        }
    }

    /// Loss and dL/dz for two stacked views, optionally masked by pseudo labels (Eq. 3).
    /// - Shape: z 2B×D, pseudoLabels B → dEmbeddings 2B×D.
    @inlinable public func callAsFunction(_ z: Matrix<T>, pseudoLabels: [Int]? = nil) -> Output {
        precondition(z.rows >= 2 && z.rows % 2 == 0, "NTXent: z is \(z.shapeDescription), expected 2B×D with B ≥ 1")
        let b = z.rows / 2, n = z.rows
        if let y = pseudoLabels { precondition(y.count == b, "NTXent: \(y.count) pseudo labels for B=\(b) samples") }
        let normalize = L2Normalize<T>()
        let (u, cache) = normalize.forward(z)
        let positives = (0..<n).map { $0 < b ? $0 + b : $0 - b }
        let labels = pseudoLabels.map { $0 + $0 }
        let mask = InfoNCE.Mask.make(anchors: n, keys: n, excludedColumns: (0..<n).map { $0 },
                                     anchorLabels: labels, keyLabels: labels)
        let core = InfoNCE.loss(anchors: u, keys: u, positives: positives, mask: mask, temperature: temperature,
                                     variant: variant)
        let dU = add(core.dAnchors, core.dKeys)
        let dZ = normalize.backward(dU, cache).dInput
        return Output(loss: core.loss, perAnchorLoss: core.perAnchorLoss,
                      admissibleNegatives: core.admissibleNegatives, dEmbeddings: dZ)
    }
}
