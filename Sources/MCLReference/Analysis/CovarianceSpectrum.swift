import Foundation

/// The eigen-spectrum of a representation's covariance and its effective rank — the SparseHead paper's
/// Sec. 4 and Fig. 1/3 (log-scale spectra of C_r and C_z over the test set).
///
/// Dimension legend: N samples, D features.
///
///     μ = (1/N)·Σ_n x_n,   C = (X − μ)ᵀ(X − μ)/(N − 1)                 (D×D, like `np.cov(X, rowvar=False)`)
///     λ₁ ≥ … ≥ λ_D  the eigenvalues of C                                (`SymmetricEigen`, cyclic Jacobi)
///     p_k = max(λ_k, 0) / Σ_l max(λ_l, 0)                               (the normalised spectrum, sums to 1)
///     effective rank = exp(−Σ_k p_k·log p_k),   0·log 0 = 0              (Roy & Vetterli 2007)
///
/// The effective rank is D for an isotropic representation and 1 when all variance lies on one
/// direction: a smooth count of the dimensions in use, the quantity dimensional collapse lowers.
/// The raw λ_k are kept as computed; only the normalised spectrum clamps them at 0 (C is positive
/// semi-definite, so a negative λ_k is rounding, of size ≈ ε·‖C‖). The 1/(N − 1) does not affect p or
/// the effective rank. A representation with no variance at all (every row equal) has p = 0 and
/// effective rank 0.
///
/// Centring and the covariance are computed in `Double` (two-pass mean, then GEMM, whose bits do not
/// depend on the thread count); complexity O(N·D²) + O(D³) per Jacobi sweep.
public struct CovarianceSpectrum: Sendable, Equatable {
    /// λ of C, descending, D.
    public var eigenvalues: [Double]
    /// p, D (all 0 when the total variance is 0).
    public var normalized: [Double]
    /// exp(entropy of p).
    public var effectiveRank: Double

    /// The spectrum of the covariance of the rows of `x`. Requires N ≥ 2, D ≥ 1, finite entries.
    /// - Shape: x N×D → eigenvalues D, normalized D.
    public init<T: MCLFloat>(of x: Matrix<T>) {
        precondition(x.rows >= 2 && x.cols >= 1, "CovarianceSpectrum: x is \(x.shapeDescription), expected N×D with N ≥ 2, D ≥ 1")
        precondition(x.isFinite, "CovarianceSpectrum: x \(x.shapeDescription) has a NaN or infinite entry")
        self.init(eigenvalues: SymmetricEigen(CovarianceSpectrum.covariance(x)).eigenvalues)
    }

    /// The normalised spectrum and effective rank of given eigenvalues (sorted descending here).
    /// - Shape: eigenvalues D → normalized D.
    public init(eigenvalues: [Double]) {
        let lambda = eigenvalues.sorted(by: >)
        let clamped = lambda.map { max($0, 0) }
        let total = clamped.reduce(0, +)
        self.eigenvalues = lambda
        if total > 0 {
            normalized = clamped.map { $0 / total }
            let entropy = normalized.reduce(0.0) { $1 > 0 ? $0 - $1 * Foundation.log($1) : $0 }
            effectiveRank = Foundation.exp(entropy)
        } else {
            normalized = [Double](repeating: 0, count: lambda.count)
            effectiveRank = 0
        }
    }

    /// C = (X − μ)ᵀ(X − μ)/(N − 1), in `Double`, exactly symmetric.
    /// - Shape: x N×D → D×D.
    public static func covariance<T: MCLFloat>(_ x: Matrix<T>) -> Matrix<Double> {
        precondition(x.rows >= 2, "CovarianceSpectrum.covariance: x is \(x.shapeDescription), need N ≥ 2")
        let n = x.rows, d = x.cols
        var centred = x.converted(to: Double.self)
        let mean = columnSumsDouble(centred).map { $0 / Double(n) }
        for i in 0..<n { for j in 0..<d { centred.storage[i * d + j] -= mean[j] } }
        var c = matmul(centred, centred, transA: .transpose)
        let scale = 1 / Double(n - 1)
        for i in 0..<d {
            for j in i..<d {
                let v = (c[i, j] + c[j, i]) / 2 * scale   // GEMM does not promise c_ij == c_ji bit for bit
                c[i, j] = v; c[j, i] = v
            }
        }
        return c
    }
}
