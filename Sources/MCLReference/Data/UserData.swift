import Foundation

/// A user's data failed validation: one line naming the file and the problem. When the problem is
/// in a setting rather than a file, `setting` names it (`UserFiles` field), so a front end can name
/// its own option for it (the CLI prefixes `--feature-names:`).
public struct DataError: Error, CustomStringConvertible {
    public enum Setting: Sendable { case featureNames }
    public var message: String
    public var setting: Setting?
    public init(_ message: String, setting: Setting? = nil) { self.message = message; self.setting = setting }
    public var description: String { message }
}

/// Loads and validates a user's arrays: `X` float32/float64 of shape (N, D) and labels integer of
/// shape (N,) or (N, F) — one column per labelled feature.
///
/// Checks (each failure a `DataError` naming the file): X is 2-D, non-empty and finite (no NaN/±∞);
/// labels are integers (int/uint/bool arrays, or floats holding whole numbers), 1-D or 2-D, with N
/// rows matching X; every feature has at least two classes; the number of feature names (when
/// given) equals F.
///
/// Label values are encoded per column like scikit-learn's `LabelEncoder` (`LabelEncoder.swift`):
/// the sorted distinct values become classes 0..<k, whatever their size or sign; the mapping is
/// kept in `LabeledData.classValues`. A test file is encoded with its training file's mapping
/// (`classValues`), and a value the training file does not have is an error.
public enum UserData {
    /// - Parameter classValues: the training file's classes per feature, to encode a test file with;
    ///   nil fits the classes of this file.
    public static func load<T: MCLFloat>(data path: String, labels labelsPath: String, featureNames: [String]?,
                                         classValues: [[Int]]? = nil, as: T.Type = T.self) throws -> LabeledData<T> {
        let xArray = try NPY.read(path)
        guard xArray.shape.count == 2 else {
            throw DataError("\(path): expected a 2-D array (N, D) of samples, got shape \(NPYArray.describe(xArray.shape))")
        }
        guard xArray.dtype.isFloatingPoint else {
            throw DataError("\(path): expected float32 or float64 samples, got dtype \(xArray.dtype.descr)")
        }
        guard xArray.shape[0] > 0, xArray.shape[1] > 0 else {
            throw DataError("\(path): the array is empty (shape \(NPYArray.describe(xArray.shape)))")
        }
        let x: Matrix<T> = try xArray.asMatrix()
        if let bad = x.storage.firstIndex(where: { !$0.isFinite }) {
            throw DataError("\(path): value at row \(bad / x.cols), column \(bad % x.cols) is \(x.storage[bad]) "
                + "(every value must be finite)")
        }
        let (labels, classes) = try encodedLabels(labelsPath, rows: x.rows, featureNames: featureNames, classValues: classValues)
        return LabeledData(x: x, labels: labels.classes, featureNames: labels.names, classValues: classes)
    }

    /// The label file read, checked against the feature names (or the training file's column
    /// count, when `classValues` is given) and encoded to dense classes; the names default to
    /// `label` (one column) or `feature0`, `feature1`, ….
    static func encodedLabels(_ labelsPath: String, rows: Int, featureNames: [String]?,
                              classValues: [[Int]]?) throws -> (labels: (classes: [[Int]], names: [String]), classValues: [[Int]]) {
        let raw = try loadLabels(labelsPath, rows: rows)
        if let classValues, raw.count != classValues.count {
            throw DataError("\(labelsPath): \(raw.count) label columns, the training labels have \(classValues.count)")
        }
        let names = featureNames ?? (raw.count == 1 ? ["label"] : (0..<raw.count).map { "feature\($0)" })
        guard names.count == raw.count else {
            throw DataError("\(names.count) names given for the label columns, but \(labelsPath) has \(raw.count) label columns",
                            setting: .featureNames)
        }
        var classes: [[Int]] = [], values: [[Int]] = []
        for (j, column) in raw.enumerated() {
            let encoder = classValues.map { LabelEncoder(classes: $0[j]) } ?? LabelEncoder(fitting: column)
            switch encoder.transform(column) {
            case let .success(k): classes.append(k)
            case let .failure(u):
                throw DataError("\(labelsPath): label \(u.value) at row \(u.row), column \(j) does not occur in the "
                    + "training labels (classes of \(names[j]): \(describeValues(encoder.classes)))")
            }
            values.append(encoder.classes)
        }
        return ((classes, names), values)
    }

    /// Up to 10 values, then an ellipsis and the count.
    static func describeValues(_ v: [Int]) -> String {
        v.count <= 10 ? v.map(String.init).joined(separator: ", ")
            : v.prefix(10).map(String.init).joined(separator: ", ") + ", … (\(v.count) values)"
    }

    /// Label values as one array per feature (as in the file, not yet encoded), validated against
    /// `rows` samples.
    public static func loadLabels(_ path: String, rows: Int) throws -> [[Int]] {
        let array = try NPY.read(path)
        guard array.shape.count == 1 || array.shape.count == 2 else {
            throw DataError("\(path): labels must be 1-D (N,) or 2-D (N, F), got shape \(NPYArray.describe(array.shape))")
        }
        let n = array.shape[0], f = array.shape.count == 2 ? array.shape[1] : 1
        guard n == rows else {
            throw DataError("\(path): \(n) labels for \(rows) samples (the first dimensions must match)")
        }
        guard f > 0 else { throw DataError("\(path): no label columns (shape \(NPYArray.describe(array.shape)))") }
        var flat: [Int]
        if array.dtype.isFloatingPoint {
            let values = try array.asDoubles()
            flat = []
            flat.reserveCapacity(values.count)
            for (i, v) in values.enumerated() {
                guard v.isFinite, v.rounded() == v, abs(v) < 1e15 else {
                    throw DataError("\(path): label at row \(i / f), column \(i % f) is \(v), not an integer")
                }
                flat.append(Int(v))
            }
        } else {
            flat = try array.asInts().values
        }
        var features: [[Int]] = []
        for j in 0..<f {
            let column = (0..<n).map { flat[$0 * f + j] }
            if Set(column).count < 2 {
                throw DataError("\(path): label column \(j) has a single class (\(column.first ?? 0)); "
                    + "a feature needs at least two classes to be evaluated")
            }
            features.append(column)
        }
        return features
    }
}
