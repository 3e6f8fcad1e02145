/// k-nearest-neighbour classification of representations (the SparseHead paper reports 5-NN accuracy).
///
/// Dimension legend: N training samples, Q test samples, D features.
///
/// Similarity:
/// - `.cosine`: s(q, x) = q̂ · x̂ with rows L2-normalised (`l2NormalizedRows`; a zero row has
///   similarity 0 to everything).
/// - `.euclidean`: s(q, x) = −‖q − x‖², as ‖q‖² − 2 q·x + ‖x‖² negated.
/// Both in `Double`, the dot products by GEMM over chunks of `chunkSize` test rows, so memory is
/// O(chunkSize·N) whatever Q is.
///
/// Neighbours: the k training samples of largest similarity, ties → lowest training index (ties are
/// among the *computed* similarities; values equal only up to rounding may order either way).
/// Vote (unweighted majority): the label with the most neighbours; ties → the larger summed
/// similarity of its neighbours, then the lowest label.
public enum KNNMetric: String, Sendable, CaseIterable {
    case cosine, euclidean
}

/// Predicted labels of the test rows by k-NN vote (see `KNNMetric` for the rules).
/// - Parameters: trainX N×D, trainY N labels ≥ 0, testX Q×D, k in 1...N, chunkSize ≥ 1.
/// - Throws: `EvaluationError` naming the values when shapes disagree, k is out of range or a label is
///   negative.
/// - Complexity: O(Q·N·D) (GEMM) + O(Q·N·k) selection; memory O(chunkSize·N).
@inlinable
public func knnPredict<T: MCLFloat>(
    trainX: Matrix<T>, trainY: [Int], testX: Matrix<T>, k: Int = 5, metric: KNNMetric = .cosine,
    chunkSize: Int = 256
) throws -> [Int] {
    let n = trainX.rows
    guard trainY.count == n else { throw EvaluationError("\(trainY.count) train labels for n_samples=\(n)") }
    guard testX.cols == trainX.cols else {
        throw EvaluationError("train has \(trainX.cols) features but test has \(testX.cols)")
    }
    guard k >= 1 && k <= n else { throw EvaluationError("n_neighbors=\(k) should be in 1...n_samples_fit=\(n)") }
    guard chunkSize >= 1 else { throw EvaluationError("chunkSize=\(chunkSize) should be >= 1") }
    if let bad = trainY.firstIndex(where: { $0 < 0 }) {
        throw EvaluationError("label \(trainY[bad]) of train sample \(bad) should be >= 0")
    }
    let classes = (trainY.max() ?? 0) + 1
    var train = trainX.converted(to: Double.self)
    var test = testX.converted(to: Double.self)
    if metric == .cosine { train = l2NormalizedRows(train); test = l2NormalizedRows(test) }
    let trainNorms = metric == .euclidean ? _rowSquaredNorms(train) : []
    let testNorms = metric == .euclidean ? _rowSquaredNorms(test) : []
    let q = test.rows
    var predictions = [Int](repeating: 0, count: q)
    var start = 0
    while start < q {
        let end = min(q, start + chunkSize)
        let block = test.gatherRows(start..<end)
        let sims = matmul(block, train, transB: .transpose)  // (end−start)×N dot products
        predictions.withUnsafeMutableBufferPointer { pp in
            let pp = pp.baseAddress!
            Parallel.forEach(end - start) { r in
                // Top-k by (similarity desc, index asc), kept sorted in a small array.
                var topS = [Double](), topI = [Int]()
                topS.reserveCapacity(k + 1); topI.reserveCapacity(k + 1)
                for j in 0..<n {
                    var s = sims.storage[r * n + j]
                    if metric == .euclidean { s = -(testNorms[start + r] + trainNorms[j] - 2 * s) }
                    if topS.count == k && !(s > topS[k - 1]) { continue }  // equal: the earlier index stays
                    var pos = topS.count
                    while pos > 0 && s > topS[pos - 1] { pos -= 1 }
                    topS.insert(s, at: pos); topI.insert(j, at: pos)
                    if topS.count > k { topS.removeLast(); topI.removeLast() }
                }
                var votes = [Int](repeating: 0, count: classes)
                var mass = [Double](repeating: 0, count: classes)
                for (s, j) in zip(topS, topI) { votes[trainY[j]] += 1; mass[trainY[j]] += s }
                var best = 0
                for c in 1..<max(classes, 1) {
                    if votes[c] > votes[best] || (votes[c] == votes[best] && mass[c] > mass[best]) { best = c }
                }
                pp[start + r] = best
            }
        }
        start = end
    }
    return predictions
}

/// k-NN accuracy on the test set: the fraction of `knnPredict` predictions equal to `testY`.
/// - Throws: as `knnPredict`, or when `testY.count != testX.rows`.
@inlinable
public func knnAccuracy<T: MCLFloat>(
    trainX: Matrix<T>, trainY: [Int], testX: Matrix<T>, testY: [Int], k: Int = 5,
    metric: KNNMetric = .cosine, chunkSize: Int = 256
) throws -> Double {
    guard testY.count == testX.rows else { throw EvaluationError("\(testY.count) test labels for \(testX.rows) rows") }
    let p = try knnPredict(trainX: trainX, trainY: trainY, testX: testX, k: k, metric: metric, chunkSize: chunkSize)
    guard !p.isEmpty else { return 0 }
    return Double(zip(p, testY).filter { $0 == $1 }.count) / Double(p.count)
}
