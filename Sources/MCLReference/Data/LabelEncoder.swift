/// Dense class indices for one label column, as scikit-learn's `LabelEncoder` makes them: the
/// distinct values sorted ascending are the classes, and value `classes[k]` becomes class k.
///
/// Labels {7, 500, 999999} become classes {0, 1, 2}: the probe and kNN then allocate per class, so
/// time and memory depend on the number of distinct values, not on their size. Fitting uses a
/// hash set and a sort, O(N log k); transforming a dictionary look-up per value.
public struct LabelEncoder: Sendable, Equatable {
    /// The distinct label values, ascending; class k stands for `classes[k]`.
    public let classes: [Int]
    private let index: [Int: Int]

    /// The encoder of the distinct values in `values`.
    public init(fitting values: [Int]) {
        self.init(classes: Array(Set(values)).sorted())
    }

    /// The encoder with these classes (strictly ascending), e.g. a training file's, to encode a test file.
    public init(classes: [Int]) {
        precondition(zip(classes, classes.dropFirst()).allSatisfy { $0 < $1 }, "LabelEncoder: classes must be strictly ascending")
        self.classes = classes
        var index: [Int: Int] = [:]
        for (k, v) in classes.enumerated() { index[v] = k }
        self.index = index
    }

    /// The class of every value, or the position of the first value that is not a class.
    public func transform(_ values: [Int]) -> Result<[Int], UnknownLabel> {
        var out: [Int] = []
        out.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            guard let k = index[v] else { return .failure(UnknownLabel(row: i, value: v)) }
            out.append(k)
        }
        return .success(out)
    }

    /// A value `transform` found no class for, and its row.
    public struct UnknownLabel: Error, Sendable {
        public var row: Int
        public var value: Int
    }
}
