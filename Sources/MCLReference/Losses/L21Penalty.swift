/// The SparseHead penalty λ·‖W‖₂,₁ (SparseHead paper, Sec. 6, Eq. 12) on the weight of the projection
/// head's last Linear layer, and the two ways to optimise it.
///
/// Dimension legend: O output features (rows), I input features (columns), PyTorch's out×in layout.
///
///     R(W) = λ·Σ_j ‖W[:, j]‖₂
///
/// A column j holds everything the head reads from input feature j (the representation r_j for a
/// linear head), so driving a whole column to zero switches that feature off for the loss — the
/// "support" S = {j : W[:, j] ≠ 0} of the paper's Sec. 5.
///
/// ‖·‖₂ is not differentiable at 0, so there are two treatments, both here:
///
/// - `gradient` (sub-gradient): ∂R/∂W[:, j] = λ·W[:, j]/‖W[:, j]‖₂, and 0 for a zero column (the
///   minimum-norm element of the sub-differential λ·{v : ‖v‖ ≤ 1}). Added to the loss gradient before
///   the optimiser step, it is what autograd on `loss + λ·W.norm(dim=0).sum()` does in PyTorch
///   (whose norm backward is 0 at 0) — i.e. what the paper did with Adam. Columns shrink but, with
///   Adam's per-element normalisation, hover around ‖·‖ ≈ lr·√O instead of reaching exactly 0.
/// - `proximal` (group soft-threshold): after the optimiser step on the loss alone, with step size
///   η·λ,  W[:, j] ← max(0, 1 − η·λ/‖W[:, j]‖₂)·W[:, j],  the exact minimiser of
///   ½‖W − V‖²_F + η·λ·‖W‖₂,₁ (proximal gradient / ISTA). Columns with ‖W[:, j]‖₂ ≤ η·λ become exactly 0.
///
/// Which the trainer should use: **the sub-gradient by default**, because it is the paper's method
/// (the penalty is a term of the loss, optimised by Adam with weight decay 1e-6) and so the one whose
/// results Table 1 reports; it is also the only one that composes with Adam as the paper's code does.
/// The proximal step is the principled choice for plain SGD (it is then proximal gradient descent, with
/// its convergence guarantees, and gives exact zeros); after an Adam step it acts like AdamW's
/// decoupled weight decay — a defensible variant, but not the paper's. Count active columns with a
/// threshold relative to the largest column (`activeColumns`), so that both treatments are comparable.
public struct L21Penalty<T: MCLFloat>: Equatable, Sendable {
    /// λ; the paper's 1e-4 by default.
    public var lambda: T

    @inlinable public init(lambda: T = 1e-4) {
        precondition(lambda >= 0, "L21Penalty: lambda must be ≥ 0, got \(lambda)")
        self.lambda = lambda
    }

    /// ‖W[:, j]‖₂ for every input column j, summed in `Double`.
    /// - Shape: W O×I → I.
    @inlinable public static func columnNorms(_ w: Matrix<T>) -> [Double] {
        var sq = [Double](repeating: 0, count: w.cols)
        for i in 0..<w.rows { for j in 0..<w.cols { let v = Double(w[i, j]); sq[j] += v * v } }
        return sq.map { $0.squareRoot() }
    }

    /// R(W) = λ·Σ_j ‖W[:, j]‖₂.
    /// - Shape: W O×I → scalar.
    @inlinable public func value(_ w: Matrix<T>) -> T {
        T(Double(lambda) * L21Penalty.columnNorms(w).reduce(0, +))
    }

    /// The sub-gradient λ·W[:, j]/‖W[:, j]‖₂, 0 for a column that is exactly zero.
    /// - Shape: W O×I → O×I.
    @inlinable public func gradient(_ w: Matrix<T>) -> Matrix<T> {
        let norms = L21Penalty.columnNorms(w)
        var g = Matrix<T>(rows: w.rows, cols: w.cols)
        for j in 0..<w.cols where norms[j] > 0 {
            let s = Double(lambda) / norms[j]
            for i in 0..<w.rows { g[i, j] = T(s * Double(w[i, j])) }
        }
        return g
    }

    /// The proximal (group soft-threshold) step with step size `stepSize` η: each column scaled by
    /// max(0, 1 − η·λ/‖W[:, j]‖₂); columns with ‖W[:, j]‖₂ ≤ η·λ (zero columns included) become exactly 0.
    /// - Shape: W O×I → O×I.
    @inlinable public func proximal(_ w: Matrix<T>, stepSize: Double) -> Matrix<T> {
        precondition(stepSize >= 0, "L21Penalty.proximal: stepSize must be ≥ 0, got \(stepSize)")
        let norms = L21Penalty.columnNorms(w)
        let t = stepSize * Double(lambda)
        var out = w
        for j in 0..<w.cols {
            let s = norms[j] > t ? 1 - t / norms[j] : 0
            for i in 0..<w.rows { out[i, j] = s == 0 ? 0 : T(s * Double(w[i, j])) }
        }
        return out
    }

    /// Which input columns of W are active: ‖W[:, j]‖₂ > threshold·max_k ‖W[:, k]‖₂.
    ///
    /// The threshold is relative (default 1e-2: a column with less than 1% of the strongest column's
    /// norm counts as switched off) because the losses that follow the head are invariant to its scale
    /// (NT-Xent and BYOL L2-normalise z, Barlow Twins batch-normalises it), so only relative column norms
    /// mean anything. With the proximal step the switched-off columns are exactly 0 and any threshold in
    /// (0, 1) gives the same answer; with the sub-gradient + Adam they hover at roughly lr·√O (Adam moves
    /// every element by ≈ lr per step), so whether they fall below the threshold depends on lr — one
    /// more reason to prefer the proximal step when the count of active columns is the point.
    /// An all-zero W has no active column.
    /// - Shape: W O×I → ascending column indices.
    @inlinable public static func activeColumns(_ w: Matrix<T>, threshold: Double = 1e-2) -> [Int] {
        precondition(threshold >= 0 && threshold < 1, "L21Penalty.activeColumns: threshold=\(threshold) must be in [0, 1)")
        let norms = columnNorms(w)
        let top = norms.max() ?? 0
        guard top > 0 else { return [] }
        return norms.indices.filter { norms[$0] > threshold * top }
    }
}
