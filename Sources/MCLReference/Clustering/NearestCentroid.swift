/// Nearest-centroid assignment, the E-step of Lloyd's algorithm:
///
///     label_i = argmin_j ‖x_i − c_j‖²,   ties → the lowest j.
///
/// Dimension legend: M samples, D features, K centroids.
///
/// Two implementations with the same contract:
/// - `.reference`: for every (i, j) the *direct* squared distance Σ_d (x_id − c_jd)² in `Double`
///   (`_squaredDistance`), O(M·K·D) scalar work.
/// - `.fast`: the expanded form ‖x‖² − 2 x·c + ‖c‖² with x·c from one GEMM (M×D · D×K), then a guard
///   that makes the labels **identical** to `.reference`. In `Double` with D-term sums, both the
///   expanded value d̃_ij and the direct value δ_ij are within
///       e_ij = 2 (D + 8) u (‖x_i‖ + ‖c_j‖)²,   u = 2⁻⁵³,
///   of the exact distance (standard γ_D summation bounds; Cauchy–Schwarz for the dot product), so
///   the direct arg-min j* satisfies d̃_{ij*} − e_{ij*} ≤ min_l (d̃_il + e_il). Every j passing that
///   test is a *candidate*; with one candidate it is the label, otherwise the candidates are
///   re-ranked by the direct distance exactly as `.reference` does. The labels therefore agree bit
///   for bit on all finite inputs (near-ties included), whatever order the GEMM sums in.
///
/// Everything is computed in `Double`; inputs are converted once.

/// Squared Euclidean distance Σ_d (a_d − b_d)² over `d` contiguous values, in `Double`, summed in a
/// fixed order: four partial sums over d ≡ 0, 1, 2, 3 (mod 4), combined as (s0 + s1) + (s2 + s3).
/// The fixed order makes the result independent of threads and of the caller; the four lanes only
/// shorten the dependency chain.
@inlinable
public func _squaredDistance(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ d: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var j = 0
    while j + 4 <= d {
        let t0 = a[j] - b[j], t1 = a[j + 1] - b[j + 1], t2 = a[j + 2] - b[j + 2], t3 = a[j + 3] - b[j + 3]
        s0 += t0 * t0; s1 += t1 * t1; s2 += t2 * t2; s3 += t3 * t3
        j += 4
    }
    if j < d { let t = a[j] - b[j]; s0 += t * t }
    if j + 1 < d { let t = a[j + 1] - b[j + 1]; s1 += t * t }
    if j + 2 < d { let t = a[j + 2] - b[j + 2]; s2 += t * t }
    return (s0 + s1) + (s2 + s3)
}

/// Squared norm of each row, Σ_d x_id², with `_squaredDistance`'s summation order (against zero).
/// - Shape: x M×D → M.
@inlinable
public func _rowSquaredNorms(_ x: Matrix<Double>) -> [Double] {
    let d = x.cols
    let zeros = [Double](repeating: 0, count: max(d, 1))
    var out = [Double](repeating: 0, count: x.rows)
    x.storage.withUnsafeBufferPointer { px in
        zeros.withUnsafeBufferPointer { pz in
            for i in 0..<x.rows { out[i] = _squaredDistance(px.baseAddress! + i * d, pz.baseAddress!, d) }
        }
    }
    return out
}

/// Labels of the nearest centroid for every row of `x` (ties → lowest centroid index).
///
/// - Parameters:
///   - x: samples, M×D.
///   - centroids: K×D, K ≥ 1.
///   - kernel: `.reference` (direct distances) or `.fast` (GEMM + exactness guard); both return the
///     same labels (see the file comment).
/// - Returns: M labels in 0..<K.
/// - Precondition: equal D; finite values.
/// - Complexity: O(M·K·D) (`.fast`: one GEMM plus O(M·K) and a direct re-rank of near-ties).
@inlinable
public func nearestCentroidLabels<T: MCLFloat>(
    _ x: Matrix<T>, centroids: Matrix<T>, kernel: Kernel = .fast
) -> [Int] {
    _nearestCentroid(x.converted(to: Double.self), centroids: centroids.converted(to: Double.self),
                     xNorms: nil, kernel: kernel).labels
}

/// The assignment on `Double` data, also returning each sample's direct squared distance to its
/// centroid. `xNorms` (from `_rowSquaredNorms`) may be passed to avoid recomputing it every
/// iteration. Parallel over rows; results do not depend on the thread count.
@inlinable
public func _nearestCentroid(
    _ x: Matrix<Double>, centroids c: Matrix<Double>, xNorms: [Double]?, kernel: Kernel
) -> (labels: [Int], distances: [Double]) {
    let m = x.rows, k = c.rows, d = x.cols
    precondition(c.cols == d, "nearestCentroid: x is \(x.shapeDescription) but centroids are \(c.shapeDescription)")
    precondition(k >= 1, "nearestCentroid: no centroids")
    var labels = [Int](repeating: 0, count: m)
    var dist = [Double](repeating: 0, count: m)
    if m == 0 { return (labels, dist) }
    let chunk = 256
    let chunks = (m + chunk - 1) / chunk

    switch kernel {
    case .reference:
        x.storage.withUnsafeBufferPointer { px in
            c.storage.withUnsafeBufferPointer { pc in
                labels.withUnsafeMutableBufferPointer { pl in
                    dist.withUnsafeMutableBufferPointer { pd in
                        let px = px.baseAddress!, pc = pc.baseAddress!
                        let pl = pl.baseAddress!, pd = pd.baseAddress!
                        Parallel.forEach(chunks) { ch in
                            for i in (ch * chunk)..<min(m, (ch + 1) * chunk) {
                                var best = 0
                                var bestD = _squaredDistance(px + i * d, pc, d)
                                for j in 1..<k {
                                    let dj = _squaredDistance(px + i * d, pc + j * d, d)
                                    if dj < bestD { bestD = dj; best = j }
                                }
                                pl[i] = best; pd[i] = bestD
                            }
                        }
                    }
                }
            }
        }
    case .fast:
        let xn = xNorms ?? _rowSquaredNorms(x)
        let cn = _rowSquaredNorms(c)
        let dot = matmul(x, c, transB: .transpose, kernel: .fast)  // M×K, x_i · c_j
        let unit = 0x1.0p-53
        let slack = 2.0 * Double(d + 8) * unit
        x.storage.withUnsafeBufferPointer { px in
            c.storage.withUnsafeBufferPointer { pc in
                dot.storage.withUnsafeBufferPointer { pg in
                    labels.withUnsafeMutableBufferPointer { pl in
                        dist.withUnsafeMutableBufferPointer { pd in
                            let px = px.baseAddress!, pc = pc.baseAddress!, pg = pg.baseAddress!
                            let pl = pl.baseAddress!, pd = pd.baseAddress!
                            Parallel.forEach(chunks) { ch in
                                var approx = [Double](repeating: 0, count: k)
                                var err = [Double](repeating: 0, count: k)
                                for i in (ch * chunk)..<min(m, (ch + 1) * chunk) {
                                    let nx = xn[i].squareRoot()
                                    var upper = Double.infinity
                                    for j in 0..<k {
                                        approx[j] = xn[i] + cn[j] - 2 * pg[i * k + j]
                                        let r = nx + cn[j].squareRoot()
                                        err[j] = slack * r * r
                                        upper = min(upper, approx[j] + err[j])
                                    }
                                    var best = -1
                                    var bestD = Double.infinity
                                    var candidates = 0
                                    var only = 0
                                    for j in 0..<k where approx[j] - err[j] <= upper {
                                        candidates += 1; only = j
                                    }
                                    if candidates == 1 {
                                        best = only
                                        bestD = _squaredDistance(px + i * d, pc + only * d, d)
                                    } else {
                                        for j in 0..<k where approx[j] - err[j] <= upper {
                                            let dj = _squaredDistance(px + i * d, pc + j * d, d)
                                            if best < 0 || dj < bestD { bestD = dj; best = j }
                                        }
                                    }
                                    pl[i] = best; pd[i] = bestD
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return (labels, dist)
}
