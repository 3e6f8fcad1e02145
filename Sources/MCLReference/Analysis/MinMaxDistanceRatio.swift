/// The min-max distance ratio of the SparseHead paper, Eq. 9 (after Beyer et al. 1999, "When is
/// 'nearest neighbor' meaningful?"): how much farther the farthest sample is than the nearest one.
///
/// Dimension legend: N samples, D features.
///
/// For each query x_i against the other N − 1 samples,
///
///     δmin_i = min_{j≠i} ‖x_i − x_j‖₂,   δmax_i = max_{j≠i} ‖x_i − x_j‖₂,   M_i = (δmax_i − δmin_i)/δmin_i,
///
/// and the reported value is the mean of M_i over the queries. Large M: neighbours are meaningfully
/// closer than the rest; M → 0 as the dimension grows for i.i.d. data (the paper's Lemma 5.7).
/// The paper states it for embeddings z; `normalized: true` first L2-normalises every row
/// (x/max(‖x‖, 1e-12), as `L2Normalize`), the geometry NT-Xent and BYOL see.
///
/// A query with a duplicate (δmin_i = 0) has M_i = +∞; it is reported in `duplicateQueries` and left
/// out of the mean (which is NaN only if every query has a duplicate).
///
/// Distances are computed from the differences x_i − x_j in `Double` — not as ‖a‖² − 2a·b + ‖b‖²,
/// which cancels badly for exactly the near pairs that decide δmin. Queries run in parallel, each in a
/// fixed order, so the bits do not depend on the thread count. Complexity O(N²·D).
public struct MinMaxDistanceRatio: Sendable, Equatable {
    /// M_i per query, N (+∞ for a query with a duplicate).
    public var perQuery: [Double]
    /// Mean of the finite M_i.
    public var mean: Double
    /// Queries with δmin = 0, excluded from the mean.
    public var duplicateQueries: Int

    /// Eq. 9 over the rows of `x`, optionally L2-normalised first. Requires N ≥ 2 and finite entries.
    /// - Shape: x N×D → perQuery N.
    public init<T: MCLFloat>(_ x: Matrix<T>, normalized: Bool) {
        precondition(x.rows >= 2 && x.cols >= 1, "MinMaxDistanceRatio: x is \(x.shapeDescription), expected N×D with N ≥ 2, D ≥ 1")
        precondition(x.isFinite, "MinMaxDistanceRatio: x \(x.shapeDescription) has a NaN or infinite entry")
        let n = x.rows, d = x.cols
        var rows = x.converted(to: Double.self)
        if normalized { rows = L2Normalize<Double>().forward(rows).output }
        var ratios = [Double](repeating: 0, count: n)
        rows.storage.withUnsafeBufferPointer { p in
            ratios.withUnsafeMutableBufferPointer { out in
                let out = out.baseAddress!
                Parallel.forEach(n) { i in
                    var lo = Double.infinity, hi = 0.0
                    for j in 0..<n where j != i {
                        var s = 0.0
                        for k in 0..<d { let diff = p[i * d + k] - p[j * d + k]; s += diff * diff }
                        let dist = s.squareRoot()
                        lo = Swift.min(lo, dist); hi = Swift.max(hi, dist)
                    }
                    out[i] = lo > 0 ? (hi - lo) / lo : .infinity
                }
            }
        }
        let finite = ratios.filter { $0.isFinite }
        perQuery = ratios
        duplicateQueries = n - finite.count
        mean = finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
    }
}
