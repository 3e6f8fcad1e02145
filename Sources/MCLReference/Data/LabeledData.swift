/// A data set whose samples carry one integer label per named feature.
///
/// Legend: N samples, D = sampleShape.reduce(*) values per sample, F features.
/// Vectors have `sampleShape == [D]`; images `[C, H, W]` stored flat (C·H·W per row).
public struct LabeledData<T: MCLFloat>: Sendable {
    /// Samples, one per row. Shape N×D.
    public var x: Matrix<T>
    /// `labels[f][i]` is sample i's class for feature f; each array has N entries, classes 0..<classCount.
    public var labels: [[Int]]
    /// One name per feature, e.g. `["easy", "hard"]`.
    public var featureNames: [String]
    /// Shape of one sample: `[D]` for vectors, `[C, H, W]` for images.
    public var sampleShape: [Int]
    /// The standardisation already applied to `x` (train statistics), when there was one; a run
    /// directory stores it so new data can be encoded the same way.
    public var standardization: InputStandardization?
    /// `classValues[f][k]` is the value class k of feature f had in the user's label file (the
    /// `LabelEncoder` mapping, ascending); nil when the classes are the label values themselves
    /// (built-in data).
    public var classValues: [[Int]]?

    public init(x: Matrix<T>, labels: [[Int]], featureNames: [String], sampleShape: [Int]? = nil,
                classValues: [[Int]]? = nil) {
        precondition(labels.count == featureNames.count,
                     "LabeledData: \(labels.count) label arrays but \(featureNames.count) feature names")
        for (f, l) in labels.enumerated() {
            precondition(l.count == x.rows, "LabeledData: feature \(f) has \(l.count) labels for \(x.rows) samples")
        }
        let shape = sampleShape ?? [x.cols]
        precondition(shape.reduce(1, *) == x.cols, "LabeledData: sample shape \(shape) does not hold \(x.cols) values")
        self.x = x
        self.labels = labels
        self.featureNames = featureNames
        self.sampleShape = shape
        if let classValues {
            precondition(classValues.count == labels.count,
                         "LabeledData: \(classValues.count) class-value lists for \(labels.count) features")
        }
        self.classValues = classValues
    }

    public var count: Int { x.rows }
    public var featureCount: Int { featureNames.count }
    /// Number of classes of each feature: 1 + its largest label.
    public var classCounts: [Int] { labels.map { ($0.max() ?? -1) + 1 } }

    /// The samples at `indices`, in that order, with their labels.
    public func subset(_ indices: [Int]) -> LabeledData {
        LabeledData(x: x.gatherRows(indices), labels: labels.map { l in indices.map { l[$0] } },
                    featureNames: featureNames, sampleShape: sampleShape, classValues: classValues)
    }

    /// A seeded random split: the first `testCount` of a permutation go to test, the rest to train
    /// (each part keeps the original order of its samples).
    public func split(testFraction: Double, seed: UInt64) -> (train: LabeledData, test: LabeledData) {
        precondition(testFraction > 0 && testFraction < 1, "split: test fraction \(testFraction) outside (0, 1)")
        var rng = RNG(seed: seed, stream: RNGStream.dataSplit)
        let perm = rng.permutation(count)
        let testCount = min(count - 1, max(1, Int((Double(count) * testFraction).rounded())))
        return (subset(perm[testCount...].sorted()), subset(perm[..<testCount].sorted()))
    }
}
