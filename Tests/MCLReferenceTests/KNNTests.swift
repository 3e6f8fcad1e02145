import XCTest
@testable import MCLReference

final class KNNTests: XCTestCase {
    /// Brute-force transcription: all similarities by plain loops, full sort, vote.
    func bruteForce(_ train: Matrix<Double>, _ ytr: [Int], _ test: Matrix<Double>, k: Int, metric: KNNMetric) -> [Int] {
        func norm(_ v: [Double]) -> [Double] {
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return n > 0 ? v.map { $0 / n } : v
        }
        return (0..<test.rows).map { i in
            let q = test.row(i)
            let sims: [(Double, Int)] = (0..<train.rows).map { j in
                let x = train.row(j)
                switch metric {
                case .cosine: return (zip(norm(q), norm(x)).reduce(0) { $0 + $1.0 * $1.1 }, j)
                case .euclidean: return (-zip(q, x).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }, j)
                }
            }
            let top = sims.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }.prefix(k)
            var votes: [Int: (Int, Double)] = [:]
            for (s, j) in top { let v = votes[ytr[j]] ?? (0, 0); votes[ytr[j]] = (v.0 + 1, v.1 + s) }
            return votes.sorted { a, b in
                a.value.0 != b.value.0 ? a.value.0 > b.value.0 : (a.value.1 != b.value.1 ? a.value.1 > b.value.1 : a.key < b.key)
            }.first!.key
        }
    }

    func testMatchesBruteForceAndIsChunkInvariant() throws {
        for seed in UInt64(1)...10 {
            var rng = RNG(seed: seed)
            let n = 5 + rng.int(below: 80), q = 1 + rng.int(below: 40), d = 1 + rng.int(below: 10)
            let k = 1 + rng.int(below: min(n, 9))
            let train: Matrix<Double> = rng.normalMatrix(n, d), test: Matrix<Double> = rng.normalMatrix(q, d)
            let ytr = (0..<n).map { _ in rng.int(below: 4) }
            for metric in KNNMetric.allCases {
                let expected = bruteForce(train, ytr, test, k: k, metric: metric)
                for chunk in [1, 7, 1000] {
                    let got = try knnPredict(trainX: train, trainY: ytr, testX: test, k: k, metric: metric, chunkSize: chunk)
                    XCTAssertEqual(got, expected, "seed \(seed) \(metric) chunk \(chunk)")
                }
            }
        }
    }

    func testTieBreaking() throws {
        // Query (1, 0). Cosine similarities: two train points of label 1 at 1.0 and 0.0 (sum 1), two of
        // label 0 at 0.8 each (sum 1.6): 2–2 vote, label 0 wins on summed similarity.
        let train = Matrix<Double>([[1, 0], [0, 1], [0.8, 0.6], [0.8, -0.6]])
        let ytr = [1, 1, 0, 0]
        XCTAssertEqual(try knnPredict(trainX: train, trainY: ytr, testX: Matrix([[1, 0]]), k: 4), [0])
        // Full symmetry: equal counts and sums → lowest label.
        let sym = Matrix<Double>([[0, 1], [0, -1]])
        XCTAssertEqual(try knnPredict(trainX: sym, trainY: [3, 2], testX: Matrix([[1, 0]]), k: 2), [2])
        // Equal similarity at the k-th place: the lower training index is the neighbour.
        XCTAssertEqual(try knnPredict(trainX: sym, trainY: [3, 2], testX: Matrix([[1, 0]]), k: 1), [3])
    }

    func testSeparatedClustersAndValidation() throws {
        var rng = RNG(seed: 4)
        let (train, ytr) = makeBlobs(centers: [[5, 0, 0], [0, 5, 0], [0, 0, 5]], perCluster: 30, spread: 0.3, rng: &rng)
        let (test, yte) = makeBlobs(centers: [[5, 0, 0], [0, 5, 0], [0, 0, 5]], perCluster: 10, spread: 0.3, rng: &rng)
        XCTAssertEqual(try knnAccuracy(trainX: train.converted(to: Float.self), trainY: ytr,
                                       testX: test.converted(to: Float.self), testY: yte), 1)
        XCTAssertThrowsError(try knnAccuracy(trainX: train, trainY: ytr, testX: test, testY: yte, k: 0)) {
            XCTAssertEqual("\($0)", "n_neighbors=0 should be in 1...n_samples_fit=90")
        }
        XCTAssertThrowsError(try knnPredict(trainX: train, trainY: [0], testX: test))
    }
}
