/// K-means clustering with scikit-learn's `KMeans` semantics (Lloyd's algorithm), used by MCL to
/// turn each stage's representations Z_j into cluster assignments Y_j (paper Sec. 4.1).
///
/// Dimension legend: M samples, D features, K clusters.
///
/// Objective: minimise the inertia Σ_i ‖x_i − c_{label_i}‖² over labels and centroids.
///
/// Algorithm (one restart), as scikit-learn's `_kmeans_single_lloyd`:
/// 1. Initial centroids: k-means++ (`KMeans+PlusPlus.swift`) or the given K×D matrix.
/// 2. Repeat for iteration t = 1 … maxIterations:
///    a. E-step: label_i ← argmin_j ‖x_i − c_j‖² (ties → lowest j; `NearestCentroid.swift`).
///    b. M-step: c_j,new ← mean of {x_i : label_i = j}; empty clusters are relocated (below).
///    c. If the labels equal the previous iteration's: *strict* convergence, stop.
///       Else if Σ_j ‖c_j,new − c_j,old‖² ≤ tol_abs: stop (converged by tolerance).
/// 3. Unless strictly converged, a final E-step against the final centroids.
/// 4. inertia = Σ_i ‖x_i − c_{label_i}‖² (direct distances, `Double`).
/// The reported centroids are those of the last M-step; `iterations` is the number of E/M rounds.
///
/// Tolerance: tol_abs = `tolerance` × (1/D) Σ_d Var(X[:, d]) (population variance), as scikit-learn.
///
/// Empty clusters (scikit-learn's policy, made deterministic): when the M-step leaves clusters
/// e_1 < e_2 < … < e_n empty, the n samples farthest from their current (pre-step) centroid — sorted by
/// distance descending, ties by lowest sample index — are taken in that order; sample number r is
/// removed from its cluster's sum and becomes the sole member of e_r's sum (its label is not
/// changed, as in scikit-learn; the next E-step reassigns it). A donor cluster left with no samples
/// keeps its previous centroid (scikit-learn would leave a zero vector there).
///
/// Restarts: `nInit` independent k-means++ runs, restart r seeded `RNG(seed: seed, stream: r)`; the
/// lowest inertia wins, ties → the earliest restart. With explicit centroids there is one run.
///
/// Precision: X is converted to `Double` once; every distance, sum and centroid is computed in
/// `Double`. The result's `centroids` are rounded to `T`; `centroidsDouble` keeps the exact values.
///
/// Complexity: O(nInit · iterations · M·K·D) time (GEMM-bound), O(M·D + M·K) memory.
public struct KMeans<T: MCLFloat>: Sendable {
    /// How the centroids of a run start.
    public enum Initialization: Sendable {
        /// Greedy k-means++ (Arthur & Vassilvitskii 2007, scikit-learn variant): see `KMeans+PlusPlus.swift`.
        case kMeansPlusPlus
        /// These K×D centroids; the run is then deterministic Lloyd (no randomness at all).
        case centroids(Matrix<T>)
    }

    /// K, the number of clusters (≥ 1, ≤ M).
    public var clusterCount: Int
    /// Starting centroids; default k-means++.
    public var initialization: Initialization
    /// Number of k-means++ restarts (scikit-learn `n_init`; default 1, its "auto" for k-means++).
    /// Ignored (1) for explicit centroids.
    public var nInit: Int
    /// Maximum Lloyd iterations per restart (default 300).
    public var maxIterations: Int
    /// Relative tolerance on the total squared centroid shift (default 1e-4), scaled by the mean
    /// per-feature variance of X.
    public var tolerance: Double
    /// L2-normalise the rows of X before clustering (the official MCL code does; default false).
    /// The centroids then live in the normalised space (explicit initial centroids are normalised
    /// too; the Lloyd means themselves are not re-normalised), and `KMeansResult.predict` normalises.
    public var normalizeRows: Bool
    /// Seed of the k-means++ draws.
    public var seed: UInt64
    /// GEMM-based (`.fast`) or direct (`.reference`) assignment; the labels are identical either way.
    public var kernel: Kernel

    public init(
        clusterCount: Int, initialization: Initialization = .kMeansPlusPlus, nInit: Int = 1,
        maxIterations: Int = 300, tolerance: Double = 1e-4, normalizeRows: Bool = false,
        seed: UInt64 = 0, kernel: Kernel = .fast
    ) {
        self.clusterCount = clusterCount
        self.initialization = initialization
        self.nInit = nInit
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.normalizeRows = normalizeRows
        self.seed = seed
        self.kernel = kernel
    }

    /// Clusters the rows of `x`.
    /// - Shape: x M×D → centroids K×D, labels M.
    /// - Throws: `ClusteringError` naming the values when M < K, K < 1, nInit < 1, maxIterations < 1,
    ///   tolerance < 0 or not finite, the explicit centroids are not K×D, or x is not finite.
    @inlinable
    public func fit(_ x: Matrix<T>) throws -> KMeansResult<T> {
        try validate(x)
        let data = (normalizeRows ? l2NormalizedRows(x) : x).converted(to: Double.self)
        let tolAbs = tolerance * _meanFeatureVariance(data)
        let xNorms = _rowSquaredNorms(data)

        switch initialization {
        case .centroids(let c):
            var init0 = c.converted(to: Double.self)
            if normalizeRows { init0 = l2NormalizedRows(init0) }
            let run = _lloyd(data, xNorms: xNorms, initial: init0, maxIterations: maxIterations,
                             tolAbs: tolAbs, kernel: kernel)
            return KMeansResult(run: run, restart: 0, absoluteTolerance: tolAbs, normalizeRows: normalizeRows)
        case .kMeansPlusPlus:
            var best: _LloydRun?
            var bestRestart = 0
            for r in 0..<nInit {
                var rng = RNG(seed: seed, stream: UInt64(r))
                let init0 = _kMeansPlusPlus(data, xNorms: xNorms, k: clusterCount, rng: &rng)
                let run = _lloyd(data, xNorms: xNorms, initial: init0, maxIterations: maxIterations,
                                 tolAbs: tolAbs, kernel: kernel)
                if best == nil || run.inertia < best!.inertia { best = run; bestRestart = r }
            }
            return KMeansResult(run: best!, restart: bestRestart, absoluteTolerance: tolAbs,
                                normalizeRows: normalizeRows)
        }
    }

    @inlinable
    func validate(_ x: Matrix<T>) throws {
        guard clusterCount >= 1 else { throw ClusteringError("n_clusters=\(clusterCount) should be >= 1") }
        guard x.rows >= clusterCount else {
            throw ClusteringError("n_samples=\(x.rows) should be >= n_clusters=\(clusterCount)")
        }
        guard nInit >= 1 else { throw ClusteringError("n_init=\(nInit) should be >= 1") }
        guard maxIterations >= 1 else { throw ClusteringError("max_iter=\(maxIterations) should be >= 1") }
        guard tolerance >= 0, tolerance.isFinite else {
            throw ClusteringError("tol=\(tolerance) should be a finite number >= 0")
        }
        guard x.isFinite else { throw ClusteringError("Input X contains NaN or infinity") }
        if case .centroids(let c) = initialization {
            guard c.rows == clusterCount, c.cols == x.cols else {
                throw ClusteringError("The shape of the initial centers (\(c.rows), \(c.cols)) does not match "
                                      + "the number of clusters \(clusterCount) and features \(x.cols)")
            }
            guard c.isFinite else { throw ClusteringError("The initial centers contain NaN or infinity") }
        }
    }
}

/// A fitted K-means model: the record of the winning restart.
public struct KMeansResult<T: MCLFloat>: Sendable {
    /// K×D centroids rounded to `T`.
    public let centroids: Matrix<T>
    /// K×D centroids as computed (`Double`).
    public let centroidsDouble: Matrix<Double>
    /// Cluster of each sample, M values in 0..<K.
    public let labels: [Int]
    /// Σ_i ‖x_i − c_{label_i}‖² in `Double` (on the normalised rows when `normalizeRows`).
    public let inertia: Double
    /// Lloyd iterations (E/M rounds) of the winning restart.
    public let iterations: Int
    /// True when the run stopped before `maxIterations` ran out, by either criterion.
    public let converged: Bool
    /// True when it stopped because the labels did not change.
    public let strictConvergence: Bool
    /// Index of the winning restart (0 with explicit centroids).
    public let restart: Int
    /// tol_abs = tolerance × mean per-feature variance of X.
    public let absoluteTolerance: Double
    /// Whether the model normalises rows before assigning them.
    public let normalizeRows: Bool

    @inlinable
    init(run: _LloydRun, restart: Int, absoluteTolerance: Double, normalizeRows: Bool) {
        self.centroids = run.centroids.converted(to: T.self)
        self.centroidsDouble = run.centroids
        self.labels = run.labels
        self.inertia = run.inertia
        self.iterations = run.iterations
        self.converged = run.converged
        self.strictConvergence = run.strict
        self.restart = restart
        self.absoluteTolerance = absoluteTolerance
        self.normalizeRows = normalizeRows
    }

    /// The nearest centroid of each row of `x` (scikit-learn `predict`), normalising rows first when
    /// the model was fitted with `normalizeRows`.
    /// - Shape: x N×D → N labels.
    @inlinable
    public func predict(_ x: Matrix<T>, kernel: Kernel = .fast) -> [Int] {
        precondition(x.cols == centroidsDouble.cols,
                     "KMeansResult.predict: x is \(x.shapeDescription), centroids \(centroidsDouble.shapeDescription)")
        let data = (normalizeRows ? l2NormalizedRows(x) : x).converted(to: Double.self)
        return _nearestCentroid(data, centroids: centroidsDouble, xNorms: nil, kernel: kernel).labels
    }
}

/// The outcome of one Lloyd run (implementation detail, not API).
public struct _LloydRun: Sendable {
    public var centroids: Matrix<Double>
    public var labels: [Int]
    public var inertia: Double
    public var iterations: Int
    public var converged: Bool
    public var strict: Bool

    @inlinable
    public init(centroids: Matrix<Double>, labels: [Int], inertia: Double, iterations: Int,
                converged: Bool, strict: Bool) {
        self.centroids = centroids; self.labels = labels; self.inertia = inertia
        self.iterations = iterations; self.converged = converged; self.strict = strict
    }
}

/// (1/D) Σ_d Var(x[:, d]), population variance, two-pass in `Double`.
@inlinable
public func _meanFeatureVariance(_ x: Matrix<Double>) -> Double {
    let m = x.rows, d = x.cols
    guard m > 0, d > 0 else { return 0 }
    var mean = [Double](repeating: 0, count: d)
    for i in 0..<m { for j in 0..<d { mean[j] += x.storage[i * d + j] } }
    for j in 0..<d { mean[j] /= Double(m) }
    var v = [Double](repeating: 0, count: d)
    for i in 0..<m { for j in 0..<d { let t = x.storage[i * d + j] - mean[j]; v[j] += t * t } }
    var total = 0.0
    for j in 0..<d { total += v[j] / Double(m) }
    return total / Double(d)
}

/// Lloyd's algorithm from `initial` centroids; see `KMeans` for the exact steps.
/// - Shape: x M×D, initial K×D.
@inlinable
public func _lloyd(
    _ x: Matrix<Double>, xNorms: [Double], initial: Matrix<Double>, maxIterations: Int,
    tolAbs: Double, kernel: Kernel
) -> _LloydRun {
    let m = x.rows, d = x.cols, k = initial.rows
    var centers = initial
    var labelsOld = [Int](repeating: -1, count: m)
    var labels = labelsOld
    var strict = false
    var converged = false
    var iterations = 0
    for _ in 0..<maxIterations {
        iterations += 1
        let (newLabels, dist) = _nearestCentroid(x, centroids: centers, xNorms: xNorms, kernel: kernel)
        labels = newLabels
        let newCenters = _updateCentroids(x, labels: labels, distances: dist, old: centers)
        var shift = 0.0
        for j in 0..<(k * d) { let t = newCenters.storage[j] - centers.storage[j]; shift += t * t }
        centers = newCenters
        if labels == labelsOld { strict = true; converged = true; break }
        if shift <= tolAbs { converged = true; break }
        labelsOld = labels
    }
    var finalDist: [Double]
    if !strict {
        (labels, finalDist) = _nearestCentroid(x, centroids: centers, xNorms: xNorms, kernel: kernel)
    } else {
        finalDist = _directDistances(x, centroids: centers, labels: labels)
    }
    var inertia = 0.0
    for i in 0..<m { inertia += finalDist[i] }
    return _LloydRun(centroids: centers, labels: labels, inertia: inertia, iterations: iterations,
                     converged: converged, strict: strict)
}

/// ‖x_i − c_{label_i}‖² for every i (direct, `Double`).
@inlinable
public func _directDistances(_ x: Matrix<Double>, centroids c: Matrix<Double>, labels: [Int]) -> [Double] {
    let d = x.cols
    var out = [Double](repeating: 0, count: x.rows)
    x.storage.withUnsafeBufferPointer { px in
        c.storage.withUnsafeBufferPointer { pc in
            for i in 0..<x.rows { out[i] = _squaredDistance(px.baseAddress! + i * d, pc.baseAddress! + labels[i] * d, d) }
        }
    }
    return out
}

/// The M-step with scikit-learn's empty-cluster relocation (see `KMeans`).
/// - Parameters: `distances[i]` = ‖x_i − old_{label_i}‖², the E-step's distances.
@inlinable
public func _updateCentroids(
    _ x: Matrix<Double>, labels: [Int], distances: [Double], old: Matrix<Double>
) -> Matrix<Double> {
    let m = x.rows, d = x.cols, k = old.rows
    var sums = Matrix<Double>(rows: k, cols: d)
    var counts = [Int](repeating: 0, count: k)
    for i in 0..<m {
        let l = labels[i]
        counts[l] += 1
        for j in 0..<d { sums.storage[l * d + j] += x.storage[i * d + j] }
    }
    let empty = (0..<k).filter { counts[$0] == 0 }
    if !empty.isEmpty {
        // Farthest samples first; ties → lowest index. Sorting indices by (−distance, index).
        let far = (0..<m).sorted { a, b in
            distances[a] != distances[b] ? distances[a] > distances[b] : a < b
        }
        for (r, e) in empty.enumerated() where r < far.count {
            let i = far[r]
            let donor = labels[i]
            for j in 0..<d {
                sums.storage[donor * d + j] -= x.storage[i * d + j]
                sums.storage[e * d + j] = x.storage[i * d + j]
            }
            counts[donor] -= 1
            counts[e] = 1
        }
    }
    var centers = Matrix<Double>(rows: k, cols: d)
    for l in 0..<k {
        if counts[l] == 0 {
            for j in 0..<d { centers.storage[l * d + j] = old.storage[l * d + j] }
        } else {
            let n = Double(counts[l])
            for j in 0..<d { centers.storage[l * d + j] = sums.storage[l * d + j] / n }
        }
    }
    return centers
}
