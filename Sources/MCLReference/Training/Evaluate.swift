/// Linear evaluation (paper Sec. 5.3) and kNN of frozen representations, per labelled feature.
///
/// For each feature: a multinomial logistic regression fitted on the standardised train
/// representations with L-BFGS (`LinearProbe`), accuracy on the held-out test set; and k-nearest-
/// neighbour accuracy (cosine similarity, majority vote).
/// - Shape: train M×R, test M′×R; labels one array per feature.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func evaluateRepresentations<T: MCLFloat>(
    train: Matrix<T>, trainLabels: [[Int]], test: Matrix<T>, testLabels: [[Int]], knnK: Int
) throws -> FeatureScores {
    precondition(trainLabels.count == testLabels.count, "evaluate: \(trainLabels.count) vs \(testLabels.count) features")
    var probe: [Double] = [], knn: [Double] = []
    for f in trainLabels.indices {
        let classes = max(trainLabels[f].max() ?? 0, testLabels[f].max() ?? 0) + 1
        probe.append(try linearProbeAccuracy(trainX: train, trainY: trainLabels[f], testX: test,
                                             testY: testLabels[f], classCount: classes).accuracy)
        knn.append(try knnAccuracy(trainX: train, trainY: trainLabels[f], testX: test, testY: testLabels[f],
                                   k: knnK, metric: .cosine))
    }
    return FeatureScores(probe: probe, knn: knn)
}
