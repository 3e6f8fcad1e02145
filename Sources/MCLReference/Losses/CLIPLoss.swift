/// CLIP's symmetric two-tower InfoNCE.
///
/// Dimension legend: N pairs, D embedding width.
///
/// With a = L2Normalize(image), t = L2Normalize(text) and S = a·tᵀ/τ (τ = 1/logit_scale, fixed here):
///
///     loss = ½·(mean_i CE(S_i,:, i) + mean_i CE(Sᵀ_i,:, i))
///
/// Positive pairs lie on the diagonal. With labels (paper Eq. 3 in the multimodal setting), pair j is
/// a negative for anchor i only if labels[j] = labels[i], in both directions (image i against the
/// texts of its own group; text i against the images of its own group).
///
/// **Logit scale.** CLIP learns s = 1/τ as s = exp(θ). The gradient w.r.t. θ comes with every call
/// (`dLogScale`): the logits s·aᵢ·tⱼ are bilinear in (a, t), so Σᵢⱼ ∂L/∂logitᵢⱼ·logitᵢⱼ = Σ a ⊙ ∂L/∂a
/// (∂L/∂a w.r.t. the *normalised* image embedding), and ∂L/∂θ = s·∂L/∂s = Σᵢⱼ ∂L/∂logitᵢⱼ·logitᵢⱼ.
/// The clamp s ≤ 100 is not in this function: as CLIP/OpenCLIP, θ is clamped to [0, ln 100] *after*
/// each optimiser update (a projection, Training/CLIP.swift), so the gradient here is the unclamped one.
public struct CLIPLoss<T: MCLFloat>: Equatable, Sendable {
    public var temperature: T

    @inlinable public init(temperature: T = 0.07) {
        precondition(temperature > 0, "CLIPLoss: temperature must be positive, got \(temperature)")
        self.temperature = temperature
    }

    public struct Output: Sendable {
        public var loss: T
        /// Image→text per-anchor losses, N.
        public var perAnchorLossImageToText: [T]
        /// Text→image per-anchor losses, N.
        public var perAnchorLossTextToImage: [T]
        /// Image→text admissible negatives per anchor, N.
        public var admissibleNegatives: [Int]
        public var dImage: Matrix<T>
        public var dText: Matrix<T>
        /// ∂L/∂θ for s = 1/τ = exp(θ) (see the type's doc comment).
        public var dLogScale: T
        @inlinable public init(loss: T, perAnchorLossImageToText: [T], perAnchorLossTextToImage: [T],
                               admissibleNegatives: [Int], dImage: Matrix<T>, dText: Matrix<T>, dLogScale: T = 0) {
            self.loss = loss; self.perAnchorLossImageToText = perAnchorLossImageToText
            self.perAnchorLossTextToImage = perAnchorLossTextToImage
            self.admissibleNegatives = admissibleNegatives; self.dImage = dImage; self.dText = dText
            self.dLogScale = dLogScale
        }
    }

    /// - Shape: image N×D, text N×D, labels N → dImage N×D, dText N×D.
    @inlinable public func callAsFunction(image: Matrix<T>, text: Matrix<T>, labels: [Int]? = nil) -> Output {
        let n = image.rows
        precondition(text.rows == n && text.cols == image.cols,
                     "CLIPLoss: image \(image.shapeDescription) and text \(text.shapeDescription) differ")
        let normalize = L2Normalize<T>()
        let (a, ca) = normalize.forward(image)
        let (t, ct) = normalize.forward(text)
        let mask = InfoNCE.Mask.make(anchors: n, keys: n, anchorLabels: labels, keyLabels: labels)
        let diag = Array(0..<n)
        let i2t = InfoNCE.loss(anchors: a, keys: t, positives: diag, mask: mask, temperature: temperature)
        let t2i = InfoNCE.loss(anchors: t, keys: a, positives: diag, mask: mask, temperature: temperature)
        var da = add(i2t.dAnchors, t2i.dKeys); scale(&da, by: 0.5)
        var dt = add(i2t.dKeys, t2i.dAnchors); scale(&dt, by: 0.5)
        var dTheta = 0.0   // Σ a ⊙ ∂L/∂a, in Double, row-major order
        for k in 0..<a.count { dTheta += Double(a.storage[k]) * Double(da.storage[k]) }
        return Output(loss: T((Double(i2t.loss) + Double(t2i.loss)) / 2),
                      perAnchorLossImageToText: i2t.perAnchorLoss, perAnchorLossTextToImage: t2i.perAnchorLoss,
                      admissibleNegatives: i2t.admissibleNegatives,
                      dImage: normalize.backward(da, ca).dInput, dText: normalize.backward(dt, ct).dInput,
                      dLogScale: T(dTheta))
    }
}
