import Foundation

/// Eigen-decomposition A = V·diag(λ)·Vᵀ of a real symmetric matrix by the cyclic Jacobi method, in
/// Float64 (Golub & Van Loan, Matrix Computations, Sec. 8.5; the rotation in Rutishauser's form).
///
/// Dimension legend: n the order of A.
///
/// A sweep visits every pair p < q in row-major order and, unless a_pq is negligible, applies the
/// rotation J(p, q, θ) that zeroes a_pq:
///
///     θ = (a_qq − a_pp)/(2·a_pq),   t = sign(θ)/(|θ| + √(θ² + 1)),   c = 1/√(t² + 1),   s = t·c
///     a_pp ← a_pp − t·a_pq,   a_qq ← a_qq + t·a_pq,   a_pq ← 0
///     for r ∉ {p, q}:  a_rp ← a_rp − s·(a_rq + τ·a_rp),   a_rq ← a_rq + s·(a_rp − τ·a_rq),   τ = s/(1 + c)
///     V ← V·J   (the same update on the columns p, q of V)
///
/// t is the smaller root of t² + 2θt − 1 = 0, so every rotation angle is ≤ π/4 (this is what makes the
/// cyclic method converge, quadratically in the end); for |θ| > 1e150, t = 1/(2θ) avoids overflowing θ².
/// a_pq is negligible when |a_pq| ≤ ε·√(|a_pp|·|a_qq|) (relative to its diagonal) or
/// |a_pq| ≤ ε·‖A‖_F/n (absolute), ε = 2⁻⁵²; the method stops after the first sweep that rotates
/// nothing. Neglecting such entries moves an eigenvalue by at most ≈ ε·‖A‖_F, the size of the rounding
/// of the rotations themselves.
///
/// Output: eigenvalues in **descending** order (ties keep the order of their diagonal positions), the
/// matching eigenvectors as the columns of V, each with its largest-magnitude component positive (the
/// first one if several), so the result is deterministic. Repeated eigenvalues have no unique
/// eigenvectors; V is then one orthonormal basis of the eigenspace.
///
/// Complexity: O(n³) per sweep (n²/2 rotations of O(n) work); typically 6–10 sweeps. Single-threaded,
/// so the bits never depend on the thread count.
public struct SymmetricEigen: Sendable, Equatable {
    /// λ₁ ≥ λ₂ ≥ … ≥ λ_n.
    public var eigenvalues: [Double]
    /// n×n; column k is the unit eigenvector of eigenvalues[k].
    public var eigenvectors: Matrix<Double>
    /// Jacobi sweeps run, the last of which rotated nothing.
    public var sweeps: Int

    /// Sweeps after which the solver gives up (never reached in practice: convergence is quadratic).
    public static let maxSweeps = 100

    /// Decomposes the symmetric matrix `a`. Requires a square, finite matrix whose asymmetry
    /// max|a_ij − a_ji| is at most 1e-10·max|a_ij| (it is then symmetrised as (A + Aᵀ)/2).
    /// - Shape: a n×n → eigenvalues n, eigenvectors n×n.
    public init<T: MCLFloat>(_ a: Matrix<T>) {
        precondition(a.rows == a.cols, "SymmetricEigen: matrix is \(a.shapeDescription), expected square")
        precondition(a.isFinite, "SymmetricEigen: matrix \(a.shapeDescription) has a NaN or infinite entry")
        let n = a.rows
        var m = a.converted(to: Double.self)
        let largest = m.storage.reduce(0.0) { max($0, abs($1)) }
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let asym = abs(m[i, j] - m[j, i])
                precondition(asym <= 1e-10 * largest,
                             "SymmetricEigen: matrix is not symmetric: |a[\(i),\(j)] − a[\(j),\(i)]| = \(asym) (max |a| = \(largest))")
                let mean = (m[i, j] + m[j, i]) / 2
                m[i, j] = mean; m[j, i] = mean
            }
        }
        var v = Matrix<Double>.identity(n)
        let eps = Double.ulpOfOne
        // ‖A‖_F as max|a|·‖A/max|a|‖_F, so that squares neither overflow (|a| ~ 1e200) nor underflow.
        let frobenius = largest > 0 ? largest * m.storage.reduce(0.0) { $0 + ($1 / largest) * ($1 / largest) }.squareRoot() : 0
        let absoluteFloor = eps * frobenius / Double(max(n, 1))
        var sweeps = 0, converged = false
        while !converged && sweeps < SymmetricEigen.maxSweeps {
            sweeps += 1
            converged = true
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) {
                    let apq = abs(m[p, q])
                    if apq <= absoluteFloor || apq <= eps * abs(m[p, p]).squareRoot() * abs(m[q, q]).squareRoot() {
                        continue
                    }
                    converged = false
                    SymmetricEigen._rotate(&m, &v, p, q)
                }
            }
        }
        precondition(converged, "SymmetricEigen: no convergence after \(SymmetricEigen.maxSweeps) sweeps (n = \(n))")
        // Sort descending; equal eigenvalues keep their diagonal order.
        let order = (0..<n).map { ($0, m[$0, $0]) }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map { $0.0 }
        var vectors = Matrix<Double>(rows: n, cols: n)
        for (k, src) in order.enumerated() {
            var pivot = 0
            for r in 0..<n where abs(v[r, src]) > abs(v[pivot, src]) { pivot = r }
            let sign: Double = v[pivot, src] < 0 ? -1 : 1
            for r in 0..<n { vectors[r, k] = sign * v[r, src] }
        }
        self.eigenvalues = order.map { m[$0, $0] }
        self.eigenvectors = vectors
        self.sweeps = sweeps
    }

    /// One Jacobi rotation in the (p, q) plane, zeroing m[p, q] and accumulating it into v.
    /// Not API: called only by `init`.
    private static func _rotate(_ m: inout Matrix<Double>, _ v: inout Matrix<Double>, _ p: Int, _ q: Int) {
        let n = m.rows
        let apq = m[p, q]
        let theta = (m[q, q] - m[p, p]) / (2 * apq)
        let t: Double
        if abs(theta) > 1e150 {
            t = 1 / (2 * theta)
        } else {
            t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
        }
        let c = 1 / (t * t + 1).squareRoot()
        let s = t * c
        let tau = s / (1 + c)
        m[p, p] -= t * apq
        m[q, q] += t * apq
        m[p, q] = 0; m[q, p] = 0
        for r in 0..<n where r != p && r != q {
            let arp = m[r, p], arq = m[r, q]
            let newP = arp - s * (arq + tau * arp)
            let newQ = arq + s * (arp - tau * arq)
            m[r, p] = newP; m[p, r] = newP
            m[r, q] = newQ; m[q, r] = newQ
        }
        for r in 0..<n {
            let vrp = v[r, p], vrq = v[r, q]
            v[r, p] = vrp - s * (vrq + tau * vrp)
            v[r, q] = vrq + s * (vrp - tau * vrq)
        }
    }
}
