/// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, in scikit-learn's greedy form).
///
/// With D²(x) the squared distance from x to the nearest centre chosen so far and L = 2 + ⌊ln K⌋
/// local trials:
/// 1. The first centre is sample `rng.int(below: M)` (uniform).
/// 2. For each further centre: draw L values r_t = U[0, 1) · Σ_i D²(x_i) (one `nextDouble()` each, in
///    order); candidate t is the first index i with cumsum_i(D²) ≥ r_t (clipped to M − 1). For each
///    candidate the potential Σ_i min(D²(x_i), ‖x_i − cand‖²) is computed; the candidate with the
///    lowest potential (ties → the earliest trial) becomes the centre and D² is updated to its
///    minimum.
/// Samples at distance 0 are never drawn unless the whole potential is 0 (then sample 0 is).
///
/// Distances are direct (`_squaredDistance`, `Double`), cumulative sums sequential in index order,
/// so the seeding is a deterministic function of (X, K, RNG state) on every machine and thread count.
///
/// - Shape: x M×D → K×D centres (copies of K samples).
/// - Complexity: O(K · L · M · D).
@inlinable
public func _kMeansPlusPlus(_ x: Matrix<Double>, xNorms: [Double], k: Int, rng: inout RNG) -> Matrix<Double> {
    let m = x.rows, d = x.cols
    precondition(k >= 1 && k <= m, "k-means++: n_clusters=\(k) with n_samples=\(m)")
    let trials = 2 + Int(Double.log(Double(k)))
    var centers = Matrix<Double>(rows: k, cols: d)
    func copyRow(_ i: Int, to c: Int) {
        for j in 0..<d { centers.storage[c * d + j] = x.storage[i * d + j] }
    }
    let first = rng.int(below: m)
    copyRow(first, to: 0)
    var closest = _distancesToSample(x, sample: first)
    var potential = closest.reduce(0, +)

    for c in 1..<k {
        var cumsum = [Double](repeating: 0, count: m)
        var run = 0.0
        for i in 0..<m { run += closest[i]; cumsum[i] = run }
        var bestPot = Double.infinity
        var bestCandidate = 0
        var bestDist: [Double] = []
        for _ in 0..<trials {
            let r = rng.nextDouble() * potential
            // First index with cumsum ≥ r (binary search, searchsorted side="left").
            var lo = 0, hi = m
            while lo < hi { let mid = (lo + hi) / 2; if cumsum[mid] < r { lo = mid + 1 } else { hi = mid } }
            let cand = min(lo, m - 1)
            var dist = _distancesToSample(x, sample: cand)
            var pot = 0.0
            for i in 0..<m { dist[i] = min(dist[i], closest[i]); pot += dist[i] }
            if pot < bestPot { bestPot = pot; bestCandidate = cand; bestDist = dist }
        }
        copyRow(bestCandidate, to: c)
        closest = bestDist
        potential = bestPot
    }
    return centers
}

/// ‖x_i − x_s‖² for every i (direct, `Double`), parallel over row chunks.
@inlinable
public func _distancesToSample(_ x: Matrix<Double>, sample s: Int) -> [Double] {
    let m = x.rows, d = x.cols
    var out = [Double](repeating: 0, count: m)
    let chunk = 512
    x.storage.withUnsafeBufferPointer { px in
        out.withUnsafeMutableBufferPointer { po in
            let px = px.baseAddress!, po = po.baseAddress!
            Parallel.forEach((m + chunk - 1) / chunk) { ch in
                for i in (ch * chunk)..<min(m, (ch + 1) * chunk) {
                    po[i] = _squaredDistance(px + i * d, px + s * d, d)
                }
            }
        }
    }
    return out
}
