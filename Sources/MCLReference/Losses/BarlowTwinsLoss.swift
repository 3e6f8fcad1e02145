/// The Barlow Twins loss (Zbontar et al. 2021, Eq. 1 and Algorithm 1).
///
/// Dimension legend: N samples, D embedding width.
///
/// Each view is normalised per dimension over the batch, exactly as the official code's
/// `nn.BatchNorm1d(D, affine=False)` in training mode (facebookresearch/barlowtwins `main.py`):
///
///     μ_d = (1/N)·Σ_n z_nd,   σ²_d = (1/N)·Σ_n (z_nd − μ_d)²   (biased),   z̃ = (z − μ)/√(σ² + ε),  ε = 1e-5
///
/// then the cross-correlation of the two views and the loss are
///
///     C = z̃₁ᵀ·z̃₂ / N                                  (D×D)
///     L = Σ_i (1 − C_ii)² + λ·Σ_{i≠j} C_ij²,           λ = 5·10⁻³ by default
///
/// (the paper's λ = 5·10⁻³; its code's default is 0.0051, lightly's 5e-3). Each view has its own
/// statistics. lightly's `BarlowTwinsLoss` has differed over time: first (z − mean)/std with the
/// *unbiased* std and no ε (the paper's pseudocode), later a `batch_norm` over both views stacked
/// (statistics mixed across views; fixed in lightly PR #1806, Feb 2025, to per-view `batch_norm`,
/// which is what we do). With the unbiased std every C_ij would be (N − 1)/N times ours (ignoring ε).
///
/// Backward: with G = ∂L/∂C (G_ii = −2(1 − C_ii), G_ij = 2λ·C_ij for i ≠ j),
///
///     dz̃₁ = z̃₂·Gᵀ / N,    dz̃₂ = z̃₁·G / N,
///
/// then each through the batch-norm backward (`BatchNorm1d.backward` with γ = 1, β = 0), which
/// accounts for μ and σ² depending on every row.
public struct BarlowTwinsLoss<T: MCLFloat>: Equatable, Sendable {
    /// λ, the weight of the off-diagonal (redundancy-reduction) term.
    public var lambda: T
    /// ε added to the batch variance (PyTorch BatchNorm1d's default).
    public var eps: T

    @inlinable public init(lambda: T = 5e-3, eps: T = 1e-5) {
        precondition(lambda >= 0, "BarlowTwinsLoss: lambda must be ≥ 0, got \(lambda)")
        precondition(eps >= 0, "BarlowTwinsLoss: eps must be ≥ 0, got \(eps)")
        self.lambda = lambda; self.eps = eps
    }

    public struct Output: Sendable {
        public var loss: T
        /// Σ_i (1 − C_ii)², the invariance term.
        public var onDiagonal: T
        /// Σ_{i≠j} C_ij², the redundancy term before λ.
        public var offDiagonal: T
        /// C, D×D.
        public var crossCorrelation: Matrix<T>
        /// dL/dz₁, N×D.
        public var dZ1: Matrix<T>
        /// dL/dz₂, N×D.
        public var dZ2: Matrix<T>
        @inlinable public init(loss: T, onDiagonal: T, offDiagonal: T, crossCorrelation: Matrix<T>, dZ1: Matrix<T>, dZ2: Matrix<T>) {
            self.loss = loss; self.onDiagonal = onDiagonal; self.offDiagonal = offDiagonal
            self.crossCorrelation = crossCorrelation; self.dZ1 = dZ1; self.dZ2 = dZ2
        }
    }

    /// Loss and its gradients w.r.t. both views' embeddings. Needs N ≥ 2 (a batch variance).
    /// - Shape: z1 N×D, z2 N×D → crossCorrelation D×D, dZ1 N×D, dZ2 N×D.
    @inlinable public func callAsFunction(_ z1: Matrix<T>, _ z2: Matrix<T>) -> Output {
        precondition(z1.rows >= 2 && z1.cols >= 1, "BarlowTwinsLoss: z1 is \(z1.shapeDescription), expected N×D with N ≥ 2")
        precondition(z2.rows == z1.rows && z2.cols == z1.cols,
                     "BarlowTwinsLoss: z2 is \(z2.shapeDescription), expected \(z1.shapeDescription) like z1")
        let n = z1.rows, d = z1.cols
        var bn1 = BatchNorm1d<T>(numFeatures: d, eps: eps), bn2 = bn1
        let (a, cache1) = bn1.forward(z1, mode: .train)   // z̃₁ (γ = 1, β = 0: y = x̂)
        let (b, cache2) = bn2.forward(z2, mode: .train)   // z̃₂
        var c = matmul(a, b, transA: .transpose, kernel: .reference)   // z̃₁ᵀ z̃₂, summed in Double
        scale(&c, by: 1 / T(n))
        var on = 0.0, off = 0.0
        var g = Matrix<T>(rows: d, cols: d)
        let lam = Double(lambda)
        for i in 0..<d {
            for j in 0..<d {
                let cij = Double(c[i, j])
                if i == j {
                    on += (1 - cij) * (1 - cij)
                    g[i, j] = T(-2 * (1 - cij))
                } else {
                    off += cij * cij
                    g[i, j] = T(2 * lam * cij)
                }
            }
        }
        var dA = matmul(b, g, transB: .transpose, kernel: .reference)   // z̃₂·Gᵀ
        var dB = matmul(a, g, kernel: .reference)                        // z̃₁·G
        scale(&dA, by: 1 / T(n)); scale(&dB, by: 1 / T(n))
        return Output(loss: T(on + lam * off), onDiagonal: T(on), offDiagonal: T(off), crossCorrelation: c,
                      dZ1: bn1.backward(dA, cache1).dInput, dZ2: bn2.backward(dB, cache2).dInput)
    }
}
