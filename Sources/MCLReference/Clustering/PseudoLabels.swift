/// Pseudo labels of MCL stage j (paper Eq. 2):
///
///     ŷ_(i,j) = [y_(i,0), …, y_(i,j−1)],
///
/// the tuple of sample i's cluster ids in all earlier stages. Two samples share a pseudo label iff
/// they fell in the same cluster at every earlier stage; the groups are the cells of the product
/// partition. Stage 0 has the empty tuple: one group holding every sample.
///
/// Encodings:
/// - **Mixed radix** (the official code's integer): with radices K_0 … K_{j−1},
///       v = (((0·K_0 + y_0)·K_1 + y_1)·K_2 + y_2) …  i.e. `label = label * K_s + y_s` for s = 0 … j−1,
///   so y_0 is the most significant digit. The map tuple ↔ v is a bijection from
///   [0, K_0) × … × [0, K_{j−1}) onto [0, Π K_s) (`mixedRadix(_:radices:)`, `tuple(mixedRadix:radices:)`).
/// - **Dense ids** 0..<G: the G distinct mixed-radix values present, numbered in ascending order of v
///   (equivalently, lexicographic order of the tuples). Empty cells of the product get no id.
///
/// Difference from the published script (official-code-notes §3): its loop over earlier stages
/// reloads the *latest* stage's cluster file for every s, so its integer is
/// y_{j−1}·(K^{j−1} + … + K + 1) and its groups are just the latest stage's clusters.
/// `publishedScriptMixedRadix` reproduces that for comparison; this type implements Eq. 2.
///
/// Dimension legend: M samples, j earlier stages, G non-empty groups.
public struct PseudoLabels: Sendable, Equatable {
    /// K_s of each earlier stage s = 0 … j−1.
    public let radices: [Int]
    /// Mixed-radix value of each sample (M values in 0..<Π K_s).
    public let mixedRadixValues: [Int]
    /// Dense group id of each sample (M values in 0..<G), ascending in the mixed-radix value.
    public let labels: [Int]
    /// Mixed-radix value of each dense group id, strictly ascending (G values).
    public let groupValues: [Int]
    /// Number of samples in each dense group (G values, each ≥ 1, summing to M).
    public let groupSizes: [Int]

    /// G, the number of non-empty groups.
    public var groupCount: Int { groupValues.count }
    /// M, the number of samples.
    public var sampleCount: Int { labels.count }
    /// Π K_s, the number of possible groups (K^N in Eq. 4 when all K_s = K); `Int.max` if it overflows.
    public var possibleGroupCount: Int {
        var p = 1
        for k in radices {
            let (q, overflow) = p.multipliedReportingOverflow(by: k)
            if overflow { return Int.max }
            p = q
        }
        return p
    }

    /// Pseudo labels from the cluster-id history of the stages before the current one.
    ///
    /// - Parameters:
    ///   - history: `history[s]` = the M cluster ids of stage s (s = 0 … j−1); may be empty (stage 0).
    ///   - clusterCounts: K_s for each stage, same count as `history`.
    ///   - sampleCount: M; required when `history` is empty, otherwise checked against it.
    /// - Throws: `ClusteringError` when the stages disagree in length, an id is outside 0..<K_s, a
    ///   K_s < 1, or Π K_s overflows `Int`.
    /// - Complexity: O(M·j + M log M).
    public init(history: [[Int]], clusterCounts: [Int], sampleCount: Int? = nil) throws {
        guard history.count == clusterCounts.count else {
            throw ClusteringError("history has \(history.count) stages but clusterCounts has \(clusterCounts.count)")
        }
        let m = sampleCount ?? history.first?.count ?? 0
        if history.isEmpty && sampleCount == nil {
            throw ClusteringError("sampleCount is required when the history is empty (stage 0)")
        }
        var total = 1
        for (s, k) in clusterCounts.enumerated() {
            guard k >= 1 else { throw ClusteringError("n_clusters=\(k) of stage \(s) should be >= 1") }
            let (p, overflow) = total.multipliedReportingOverflow(by: k)
            guard !overflow else {
                throw ClusteringError("the product of cluster counts \(clusterCounts) overflows Int")
            }
            total = p
        }
        for (s, ids) in history.enumerated() {
            guard ids.count == m else {
                throw ClusteringError("stage \(s) has \(ids.count) cluster ids, expected n_samples=\(m)")
            }
            if let bad = ids.firstIndex(where: { $0 < 0 || $0 >= clusterCounts[s] }) {
                throw ClusteringError("stage \(s): cluster id \(ids[bad]) of sample \(bad) is outside 0..<\(clusterCounts[s])")
            }
        }
        var values = [Int](repeating: 0, count: m)
        for (s, ids) in history.enumerated() {
            let k = clusterCounts[s]
            for i in 0..<m { values[i] = values[i] * k + ids[i] }
        }
        self.init(radices: clusterCounts, mixedRadixValues: values)
    }

    /// Pseudo labels from precomputed mixed-radix values (each in 0..<Π radices; not re-validated).
    public init(radices: [Int], mixedRadixValues values: [Int]) {
        let distinct = Array(Set(values)).sorted()
        var dense: [Int: Int] = [:]
        for (g, v) in distinct.enumerated() { dense[v] = g }
        var sizes = [Int](repeating: 0, count: distinct.count)
        let labels = values.map { dense[$0]! }
        for l in labels { sizes[l] += 1 }
        self.radices = radices
        self.mixedRadixValues = values
        self.labels = labels
        self.groupValues = distinct
        self.groupSizes = sizes
    }

    /// The Eq. 2 tuple [y_(i,0), …, y_(i,j−1)] of sample `i`.
    public func tuple(ofSample i: Int) -> [Int] {
        PseudoLabels.tuple(mixedRadix: mixedRadixValues[i], radices: radices)
    }

    /// Sample indices of dense group `g`, ascending.
    public func members(ofGroup g: Int) -> [Int] {
        precondition(g >= 0 && g < groupCount, "PseudoLabels.members: group \(g) outside 0..<\(groupCount)")
        return labels.indices.filter { labels[$0] == g }
    }

    /// All groups' members: `groups()[g]` = sample indices of group g, ascending. O(M).
    public func groups() -> [[Int]] {
        var out = groupSizes.map { n -> [Int] in var a = [Int](); a.reserveCapacity(n); return a }
        for (i, g) in labels.enumerated() { out[g].append(i) }
        return out
    }

    /// v = Σ_s y_s · Π_{t>s} K_t (`label = label * K_s + y_s`, y_0 most significant).
    /// - Precondition: equal lengths, 0 ≤ y_s < K_s.
    public static func mixedRadix(_ tuple: [Int], radices: [Int]) -> Int {
        precondition(tuple.count == radices.count, "mixedRadix: \(tuple.count) digits for \(radices.count) radices")
        var v = 0
        for (y, k) in zip(tuple, radices) {
            precondition(y >= 0 && y < k, "mixedRadix: digit \(y) outside 0..<\(k)")
            v = v * k + y
        }
        return v
    }

    /// The inverse of `mixedRadix`: digits peeled from the least significant (last stage) end.
    /// - Precondition: 0 ≤ value < Π K_s.
    public static func tuple(mixedRadix value: Int, radices: [Int]) -> [Int] {
        var v = value
        var digits = [Int](repeating: 0, count: radices.count)
        for s in stride(from: radices.count - 1, through: 0, by: -1) {
            digits[s] = v % radices[s]
            v /= radices[s]
        }
        precondition(v == 0 && value >= 0, "tuple(mixedRadix:): \(value) outside 0..<\(radices.reduce(1, *))")
        return digits
    }

    /// What the published MCL script stores at stage j (for comparison only; see the type comment):
    /// its loop runs `label = label * K + y_latest` j times with the latest stage's ids `latest`,
    /// giving y_latest · (K^{j−1} + … + 1).
    public static func publishedScriptMixedRadix(latest: [Int], clusterCount k: Int, stage j: Int) -> [Int] {
        latest.map { y in
            var v = 0
            for _ in 0..<j { v = v * k + y }
            return v
        }
    }
}
