import Foundation

/// A user's data failed validation: one line naming the file (or flag) and the problem.
public struct DataError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Loads and validates a user's arrays: `X` float32/float64 of shape (N, D) and labels integer of
/// shape (N,) or (N, F) — one column per labelled feature.
///
/// Checks (each failure a `DataError` naming the file): X is 2-D, non-empty and finite (no NaN/±∞);
/// labels are integers (int/uint/bool arrays, or floats holding whole numbers), 1-D or 2-D, with N
/// rows matching X; no negative label; every feature has at least two classes; the number of
/// feature names (when given) equals F.
public enum UserData {
    public static func load<T: MCLFloat>(data path: String, labels labelsPath: String, featureNames: [String]?,
                                         as: T.Type = T.self) throws -> LabeledData<T> {
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
        let labels = try loadLabels(labelsPath, rows: x.rows)
        let names = featureNames ?? (labels.count == 1 ? ["label"] : (0..<labels.count).map { "feature\($0)" })
        guard names.count == labels.count else {
            throw DataError("--feature-names: \(names.count) names given but \(labelsPath) has \(labels.count) label columns")
        }
        return LabeledData(x: x, labels: labels, featureNames: names)
    }

    /// Labels as one array per feature, validated against `rows` samples.
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
            if let neg = column.firstIndex(where: { $0 < 0 }) {
                throw DataError("\(path): label at row \(neg), column \(j) is \(column[neg]) (labels must be ≥ 0)")
            }
            if let maxLabel = column.max(), maxLabel > 1_000_000 {
                throw DataError("\(path): label \(maxLabel) in column \(j) is too large (at most 1000000 classes)")
            }
            if Set(column).count < 2 {
                throw DataError("\(path): label column \(j) has a single class (\(column.first ?? 0)); "
                    + "a feature needs at least two classes to be evaluated")
            }
            features.append(column)
        }
        return features
    }
}
