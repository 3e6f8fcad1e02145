/// Invalid input to an evaluation entry point (linear probe, kNN); the message names the values.
public struct EvaluationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Per-feature standardisation fitted on training features and applied unchanged to test features
/// (scikit-learn `StandardScaler` semantics):
///
///     x'_id = (x_id − μ_d) / σ_d,   μ_d = mean_i x_id,   σ_d = √(mean_i (x_id − μ_d)²)  (population).
///
/// A (near-)constant column gets σ_d = 1, so it maps to x − μ (zero on the training set) instead of
/// dividing by 0. "Constant" uses scikit-learn's rounding-aware test: Var ≤ M·ε·Var + (M·|μ|·ε)², with
/// ε = 2⁻⁵² — a variance that small is rounding noise of the two-pass computation.
/// Statistics are computed two-pass in `Double`.
///
/// Dimension legend: M training samples, D features.
public struct Standardizer: Sendable, Equatable {
    /// μ, D values.
    public let mean: [Double]
    /// σ (1 for constant columns), D values.
    public let scale: [Double]

    /// Fits μ and σ on `x`.
    /// - Shape: x M×D, M ≥ 1.
    /// - Complexity: O(M·D).
    @inlinable
    public init<T: MCLFloat>(fitting x: Matrix<T>) {
        precondition(x.rows >= 1, "Standardizer: cannot fit on 0 samples")
        let m = x.rows, d = x.cols
        var mu = [Double](repeating: 0, count: d)
        for i in 0..<m { for j in 0..<d { mu[j] += Double(x.storage[i * d + j]) } }
        for j in 0..<d { mu[j] /= Double(m) }
        var v = [Double](repeating: 0, count: d)
        for i in 0..<m { for j in 0..<d { let t = Double(x.storage[i * d + j]) - mu[j]; v[j] += t * t } }
        let eps = Double.ulpOfOne
        var sigma = [Double](repeating: 1, count: d)
        for j in 0..<d {
            let variance = v[j] / Double(m)
            let bound = Double(m) * eps * variance + (Double(m) * abs(mu[j]) * eps) * (Double(m) * abs(mu[j]) * eps)
            sigma[j] = variance <= bound ? 1 : variance.squareRoot()
        }
        mean = mu
        scale = sigma
    }

    /// A standardiser with given μ and σ (e.g. read back from a run directory).
    /// - Precondition: equal counts, every σ finite and > 0.
    public init(mean: [Double], scale: [Double]) {
        precondition(mean.count == scale.count && scale.allSatisfy { $0 > 0 && $0.isFinite },
                     "Standardizer: \(mean.count) means and \(scale.count) scales (each finite and > 0)")
        self.mean = mean
        self.scale = scale
    }

    /// (x − μ) / σ, computed in `Double` and rounded to `T`.
    /// - Shape: x N×D → N×D (D must match the fit).
    @inlinable
    public func transform<T: MCLFloat>(_ x: Matrix<T>) -> Matrix<T> {
        let d = mean.count
        precondition(x.cols == d, "Standardizer.transform: x is \(x.shapeDescription), fitted on \(d) features")
        var out = x
        for i in 0..<x.rows {
            for j in 0..<d { out.storage[i * d + j] = T((Double(x.storage[i * d + j]) - mean[j]) / scale[j]) }
        }
        return out
    }
}
