/// Augmentations for vector data that keep every labelled feature intact (the paper's premise:
/// positives share all features, so what is suppressed is not destroyed by the views).
///
/// view = dropout_p(x + σ·ε), ε ~ N(0, I): Gaussian noise, then feature dropout that zeroes each
/// coordinate with probability p and scales survivors by 1/(1 − p) (inverted dropout, so the
/// expected view equals x). Draws come from the caller's RNG, row by row, noise before dropout.
public struct VectorAugmentation: Sendable, Equatable {
    /// Standard deviation σ of the additive Gaussian noise.
    public var noiseStd: Double
    /// Probability p that a coordinate is zeroed.
    public var dropout: Double

    public init(noiseStd: Double = 0.3, dropout: Double = 0) {
        precondition(noiseStd >= 0, "VectorAugmentation: noise σ must be ≥ 0, got \(noiseStd)")
        precondition(dropout >= 0 && dropout < 1, "VectorAugmentation: dropout must be in [0, 1), got \(dropout)")
        self.noiseStd = noiseStd
        self.dropout = dropout
    }

    /// One augmented view of every row of `x`.
    /// - Shape: x N×D → N×D.
    public func apply<T: MCLFloat>(_ x: Matrix<T>, rng: inout RNG) -> Matrix<T> {
        var out = x
        let keepScale = 1 / (1 - dropout)
        for i in 0..<out.count {
            var v = Double(out.storage[i])
            if noiseStd > 0 { v += noiseStd * rng.normal() }
            if dropout > 0 { v = rng.nextDouble() < dropout ? 0 : v * keepScale }
            out.storage[i] = T(v)
        }
        return out
    }
}
