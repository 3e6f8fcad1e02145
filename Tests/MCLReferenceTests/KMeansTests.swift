import XCTest
@testable import MCLReference

/// Gaussian blobs: `perCluster` samples around each of `centers.count` centres, std `spread`.
func makeBlobs(centers: [[Double]], perCluster: Int, spread: Double, rng: inout RNG) -> (Matrix<Double>, [Int]) {
    var rows: [[Double]] = []
    var truth: [Int] = []
    for (c, centre) in centers.enumerated() {
        for _ in 0..<perCluster {
            rows.append(centre.map { $0 + spread * rng.normal() })
            truth.append(c)
        }
    }
    return (Matrix(rows), truth)
}

/// True when two labelings induce the same partition (equal up to a relabelling).
func samePartition(_ a: [Int], _ b: [Int]) -> Bool {
    guard a.count == b.count else { return false }
    var ab: [Int: Int] = [:], ba: [Int: Int] = [:]
    for (x, y) in zip(a, b) {
        if let v = ab[x], v != y { return false }
        if let v = ba[y], v != x { return false }
        ab[x] = y; ba[y] = x
    }
    return true
}

final class KMeansTests: XCTestCase {
    // MARK: A plain transcription of Lloyd's algorithm (scikit-learn's loop), written independently.

    struct PlainLloyd { var labels: [Int]; var centers: [[Double]]; var iterations: Int; var strict: Bool; var inertia: Double }

    func plainLloyd(_ x: [[Double]], _ c0: [[Double]], maxIter: Int, tolAbs: Double) -> PlainLloyd {
        func dist(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        func assign(_ c: [[Double]]) -> [Int] {
            x.map { p in
                var best = 0
                for j in 1..<c.count where dist(p, c[j]) < dist(p, c[best]) { best = j }
                return best
            }
        }
        var centers = c0
        var old = [Int](repeating: -1, count: x.count)
        var labels = old
        var strict = false
        var it = 0
        while it < maxIter {
            it += 1
            labels = assign(centers)
            var newC = centers.map { $0.map { _ in 0.0 } }
            var n = [Int](repeating: 0, count: centers.count)
            for (i, l) in labels.enumerated() { n[l] += 1; for d in 0..<x[i].count { newC[l][d] += x[i][d] } }
            for j in 0..<newC.count { precondition(n[j] > 0, "test data must not empty a cluster"); newC[j] = newC[j].map { $0 / Double(n[j]) } }
            let shift = zip(newC, centers).reduce(0) { $0 + dist($1.0, $1.1) }
            centers = newC
            if labels == old { strict = true; break }
            if shift <= tolAbs { break }
            old = labels
        }
        if !strict { labels = assign(centers) }
        let inertia = labels.enumerated().reduce(0) { $0 + dist(x[$1.offset], centers[$1.element]) }
        return PlainLloyd(labels: labels, centers: centers, iterations: it, strict: strict, inertia: inertia)
    }

    func testExplicitInitReproducesPlainLloyd() throws {
        for seed in UInt64(1)...8 {
            var rng = RNG(seed: seed)
            let k = 2 + rng.int(below: 4)
            let centres = (0..<k).map { _ in (0..<5).map { _ in 4 * rng.normal() } }
            let (x, _) = makeBlobs(centers: centres, perCluster: 30, spread: 1.5, rng: &rng)
            // Initial centroids: k distinct samples.
            let picks = Array(rng.permutation(x.rows).prefix(k))
            let c0 = x.gatherRows(picks)
            for kernel in Kernel.allCases {
                let result = try KMeans<Double>(clusterCount: k, initialization: .centroids(c0), kernel: kernel).fit(x)
                let rows = (0..<x.rows).map { x.row($0) }
                let plain = plainLloyd(rows, (0..<k).map { c0.row($0) }, maxIter: 300,
                                       tolAbs: 1e-4 * _meanFeatureVariance(x))
                XCTAssertEqual(result.labels, plain.labels, "seed \(seed) \(kernel)")
                XCTAssertEqual(result.iterations, plain.iterations, "seed \(seed) \(kernel)")
                XCTAssertEqual(result.strictConvergence, plain.strict, "seed \(seed) \(kernel)")
                XCTAssertEqual(result.inertia, plain.inertia, accuracy: 1e-9 * plain.inertia, "seed \(seed)")
                for j in 0..<k {
                    for d in 0..<5 {
                        XCTAssertEqual(result.centroidsDouble[j, d], plain.centers[j][d], accuracy: 1e-12, "seed \(seed)")
                    }
                }
            }
        }
    }

    func testFastAssignmentEqualsReferenceIncludingExactTies() {
        for seed in UInt64(1)...20 {
            var rng = RNG(seed: seed)
            let m = 50 + rng.int(below: 200), d = 1 + rng.int(below: 40), k = 1 + rng.int(below: 12)
            // Integer-valued data and centroids make many exact ties (and duplicate centroids).
            let x = Matrix<Double>(rows: m, cols: d, storage: (0..<(m * d)).map { _ in Double(rng.int(below: 3)) })
            var c = Matrix<Double>(rows: k, cols: d, storage: (0..<(k * d)).map { _ in Double(rng.int(below: 3)) })
            if k > 1 { for j in 0..<d { c[k - 1, j] = c[0, j] } }  // duplicate centroid: tie → lower index
            let ref = nearestCentroidLabels(x, centroids: c, kernel: .reference)
            let fast = nearestCentroidLabels(x, centroids: c, kernel: .fast)
            XCTAssertEqual(ref, fast, "seed \(seed)")
            if k > 1 { XCTAssertFalse(ref.contains(k - 1), "seed \(seed): duplicate centroid must lose the tie") }
            // Continuous data, large offset (cancellation in the expanded form).
            let y = Matrix<Double>(rows: m, cols: d, storage: (0..<(m * d)).map { _ in 1e3 + rng.normal() })
            let cy = y.gatherRows(Array(rng.permutation(m).prefix(k)))
            XCTAssertEqual(nearestCentroidLabels(y, centroids: cy, kernel: .reference),
                           nearestCentroidLabels(y, centroids: cy, kernel: .fast), "seed \(seed)")
        }
    }

    func testResultDoesNotDependOnKernelOrThreadCount() throws {
        let saved = Parallel.maxThreads
        defer { Parallel.maxThreads = saved }
        for seed in UInt64(1)...4 {
            var rng = RNG(seed: seed)
            let x: Matrix<Float> = rng.normalMatrix(700, 6)  // > 2 row chunks, so work is really split
            var results: [KMeansResult<Float>] = []
            for (kernel, threads) in [(Kernel.fast, 1), (.fast, 2), (.reference, 1), (.reference, 3)] {
                Parallel.maxThreads = threads
                results.append(try KMeans<Float>(clusterCount: 7, nInit: 2, seed: seed, kernel: kernel).fit(x))
            }
            for r in results.dropFirst() {
                XCTAssertEqual(r.labels, results[0].labels, "seed \(seed)")
                XCTAssertEqual(r.centroidsDouble, results[0].centroidsDouble, "seed \(seed)")
                XCTAssertEqual(r.inertia, results[0].inertia, "seed \(seed)")
                XCTAssertEqual(r.iterations, results[0].iterations, "seed \(seed)")
            }
        }
    }

    func testReferenceAssignmentIsPlainArgmin() {
        let x = Matrix<Float>([[0, 0], [1, 1], [2, 2], [0.5, 0.5]])
        let c = Matrix<Float>([[0, 0], [2, 2], [1, 1]])
        // (0.5, 0.5) is equidistant from (0,0) and (1,1): lowest index 0 wins.
        XCTAssertEqual(nearestCentroidLabels(x, centroids: c, kernel: .reference), [0, 2, 1, 0])
        XCTAssertEqual(nearestCentroidLabels(x, centroids: c, kernel: .fast), [0, 2, 1, 0])
    }

    func testKMeansPlusPlusRecoversSeparatedBlobsAndIsDeterministic() throws {
        for seed in UInt64(1)...6 {
            var rng = RNG(seed: seed + 100)
            let centres = [[0.0, 0, 0], [20, 0, 0], [0, 20, 0], [0, 0, 20], [20, 20, 20]]
            let (x, truth) = makeBlobs(centers: centres, perCluster: 40, spread: 0.5, rng: &rng)
            let km = KMeans<Double>(clusterCount: 5, nInit: 3, seed: seed)
            let a = try km.fit(x), b = try km.fit(x)
            XCTAssertTrue(samePartition(a.labels, truth), "seed \(seed)")
            XCTAssertEqual(a.labels, b.labels, "seed \(seed)")
            XCTAssertEqual(a.centroidsDouble, b.centroidsDouble, "seed \(seed)")
            XCTAssertTrue(a.converged && a.strictConvergence, "seed \(seed)")
            // Inertia is Σ‖x − c_label‖².
            var inertia = 0.0
            for i in 0..<x.rows { for d in 0..<3 { let t = x[i, d] - a.centroidsDouble[a.labels[i], d]; inertia += t * t } }
            XCTAssertEqual(a.inertia, inertia, accuracy: 1e-9 * inertia)
            XCTAssertEqual(a.predict(x), a.labels)
        }
    }

    func testBestOfRestartsHasLowestInertia() throws {
        var rng = RNG(seed: 9)
        let x: Matrix<Double> = rng.normalMatrix(120, 4)
        let best = try KMeans<Double>(clusterCount: 6, nInit: 5, seed: 3).fit(x)
        // Restart r alone is reproduced by running k-means++ with the same stream.
        var inertias: [Double] = []
        for r in 0..<5 {
            var g = RNG(seed: 3, stream: UInt64(r))
            let c0 = _kMeansPlusPlus(x, xNorms: _rowSquaredNorms(x), k: 6, rng: &g)
            inertias.append(try KMeans<Double>(clusterCount: 6, initialization: .centroids(c0)).fit(x).inertia)
        }
        XCTAssertEqual(best.inertia, inertias.min()!)
        XCTAssertEqual(best.restart, inertias.firstIndex(of: inertias.min()!)!)
    }

    func testKMeansPlusPlusPicksDistinctSamplesWhenPossible() {
        for seed in UInt64(1)...10 {
            var rng = RNG(seed: seed)
            let x: Matrix<Double> = rng.normalMatrix(40, 3)
            var g = RNG(seed: seed, stream: 77)
            let c = _kMeansPlusPlus(x, xNorms: _rowSquaredNorms(x), k: 8, rng: &g)
            let rows = Set((0..<8).map { c.row($0) })
            XCTAssertEqual(rows.count, 8, "seed \(seed)")
            for j in 0..<8 { XCTAssertTrue((0..<40).contains { x.row($0) == c.row(j) }, "seed \(seed)") }
        }
    }

    func testEmptyClusterGetsFarthestPoint() throws {
        // Centroid 2 is far from everything, so the first E-step leaves it empty. The farthest sample
        // from its centre (10, 0 … from centre 0 at 0.5) is relocated into cluster 2.
        let x = Matrix<Double>([[0], [1], [10], [11], [30]])
        let c0 = Matrix<Double>([[0.5], [10.5], [1000]])
        let dist = [0.25, 0.25, 0.25, 0.25, 19.5 * 19.5]
        let labels = [0, 0, 1, 1, 1]
        let updated = _updateCentroids(x, labels: labels, distances: dist, old: c0)
        XCTAssertEqual(updated.storage, [0.5, 10.5, 30])
        let result = try KMeans<Double>(clusterCount: 3, initialization: .centroids(c0)).fit(x)
        XCTAssertEqual(result.labels, [0, 0, 1, 1, 2])
        XCTAssertEqual(result.centroidsDouble.storage, [0.5, 10.5, 30])
    }

    func testLooseToleranceStopsEarlyAndReassigns() throws {
        var rng = RNG(seed: 5)
        let x: Matrix<Double> = rng.normalMatrix(200, 2)
        let c0 = x.gatherRows([0, 1, 2, 3])
        let r = try KMeans<Double>(clusterCount: 4, initialization: .centroids(c0), tolerance: 1e6).fit(x)
        XCTAssertEqual(r.iterations, 1)
        XCTAssertTrue(r.converged)
        XCTAssertFalse(r.strictConvergence)
        XCTAssertEqual(r.labels, nearestCentroidLabels(x, centroids: r.centroidsDouble))
        let capped = try KMeans<Double>(clusterCount: 4, initialization: .centroids(c0), maxIterations: 1,
                                        tolerance: 0).fit(x)
        XCTAssertFalse(capped.converged)
    }

    func testNormalizeRowsClustersDirections() throws {
        // Two directions at very different scales: normalised, they form two tight clusters.
        var rows: [[Float]] = []
        for i in 0..<20 { let s = Float(1 + i * 10); rows.append([s, 0.01 * s]); rows.append([0.01 * s, s]) }
        let x = Matrix(rows)
        let r = try KMeans<Float>(clusterCount: 2, normalizeRows: true, seed: 1).fit(x)
        XCTAssertTrue(samePartition(r.labels, (0..<40).map { $0 % 2 }))
        let n = l2NormalizedRows(x)
        for i in 0..<40 { XCTAssertEqual(Double(n[i, 0] * n[i, 0] + n[i, 1] * n[i, 1]), 1, accuracy: 1e-6) }
        XCTAssertEqual(l2NormalizedRows(Matrix<Float>([[0, 0]])).storage, [0, 0])
        XCTAssertEqual(r.predict(Matrix<Float>([[5, 0], [0, 500]])), [r.labels[0], r.labels[1]])
    }

    func testValidationErrorsNameValues() {
        let x = Matrix<Double>(rows: 3, cols: 2)
        XCTAssertThrowsError(try KMeans<Double>(clusterCount: 5).fit(x)) {
            XCTAssertEqual("\($0)", "n_samples=3 should be >= n_clusters=5")
        }
        XCTAssertThrowsError(try KMeans<Double>(clusterCount: 0).fit(x)) {
            XCTAssertEqual("\($0)", "n_clusters=0 should be >= 1")
        }
        XCTAssertThrowsError(try KMeans<Double>(clusterCount: 2, nInit: 0).fit(x))
        XCTAssertThrowsError(try KMeans<Double>(clusterCount: 2, tolerance: -1).fit(x))
        XCTAssertThrowsError(try KMeans<Double>(clusterCount: 2, initialization: .centroids(Matrix(rows: 3, cols: 2))).fit(x)) {
            XCTAssertTrue("\($0)".contains("(3, 2)"))
        }
        XCTAssertThrowsError(try KMeans<Double>(clusterCount: 2).fit(Matrix([[0, .nan], [1, 1]])))
    }
}
