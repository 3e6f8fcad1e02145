/// A dense matrix of `rows × cols` scalars in row-major order, stored contiguously in `storage`
/// (element (i, j) at `storage[i * cols + j]`). A value type: copies are cheap until written.
///
/// Images (N, C, H, W) are carried as `rows = N`, `cols = C·H·W` with the spatial shape kept by the
/// layer that needs it.
public struct Matrix<Scalar: MCLFloat>: Equatable, Sendable {
    public let rows: Int
    public let cols: Int
    public var storage: [Scalar]

    /// A `rows × cols` matrix filled with `value`.
    @inlinable public init(rows: Int, cols: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.storage = [Scalar](repeating: value, count: rows * cols)
    }

    /// A `rows × cols` matrix over `storage` in row-major order.
    @inlinable public init(rows: Int, cols: Int, storage: [Scalar]) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape \(rows)×\(cols)")
        precondition(storage.count == rows * cols,
                     "Matrix: \(storage.count) elements do not fill \(rows)×\(cols) = \(rows * cols)")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// A matrix from nested rows (all of equal length), e.g. `Matrix([[1, 2], [3, 4]])`.
    @inlinable public init(_ nested: [[Scalar]]) {
        let c = nested.first?.count ?? 0
        for (i, r) in nested.enumerated() {
            precondition(r.count == c, "Matrix: row \(i) has \(r.count) elements, row 0 has \(c)")
        }
        self.init(rows: nested.count, cols: c, storage: nested.flatMap { $0 })
    }

    @inlinable public static func zeros(_ rows: Int, _ cols: Int) -> Matrix { Matrix(rows: rows, cols: cols) }

    /// The identity-like matrix with ones on the main diagonal.
    @inlinable public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m.storage[i * n + i] = 1 }
        return m
    }

    @inlinable public var count: Int { rows * cols }
    @inlinable public var shape: (rows: Int, cols: Int) { (rows, cols) }
    @inlinable public var shapeDescription: String { "\(rows)×\(cols)" }

    @inlinable public subscript(i: Int, j: Int) -> Scalar {
        get {
            precondition(i >= 0 && i < rows && j >= 0 && j < cols,
                         "Matrix: index (\(i), \(j)) out of range for \(rows)×\(cols)")
            return storage[i * cols + j]
        }
        set {
            precondition(i >= 0 && i < rows && j >= 0 && j < cols,
                         "Matrix: index (\(i), \(j)) out of range for \(rows)×\(cols)")
            storage[i * cols + j] = newValue
        }
    }

    /// Row `i` as an array.
    @inlinable public func row(_ i: Int) -> [Scalar] {
        precondition(i >= 0 && i < rows, "Matrix.row: \(i) out of range for \(rows) rows")
        return Array(storage[(i * cols)..<((i + 1) * cols)])
    }

    /// The rows at `indices`, in that order: shape `indices.count × cols`.
    @inlinable public func gatherRows<C: Collection>(_ indices: C) -> Matrix where C.Element == Int {
        var out = [Scalar]()
        out.reserveCapacity(indices.count * cols)
        for i in indices {
            precondition(i >= 0 && i < rows, "Matrix.gatherRows: row \(i) out of range for \(rows) rows")
            out.append(contentsOf: storage[(i * cols)..<((i + 1) * cols)])
        }
        return Matrix(rows: indices.count, cols: cols, storage: out)
    }

    /// Columns `range` of every row: shape `rows × range.count`.
    @inlinable public func columns(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= cols,
                     "Matrix.columns: \(range) out of range for \(cols) columns")
        var out = [Scalar]()
        out.reserveCapacity(rows * range.count)
        for i in 0..<rows { out.append(contentsOf: storage[(i * cols + range.lowerBound)..<(i * cols + range.upperBound)]) }
        return Matrix(rows: rows, cols: range.count, storage: out)
    }

    /// The transpose, materialised (`cols × rows`). Kernels take transpose flags instead; this is for
    /// tests and small bookkeeping.
    @inlinable public func transposed() -> Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t.storage[j * rows + i] = storage[i * cols + j] } }
        return t
    }

    /// The same values in another precision (rounded to nearest when narrowing).
    @inlinable public func converted<T: MCLFloat>(to: T.Type = T.self) -> Matrix<T> {
        Matrix<T>(rows: rows, cols: cols, storage: storage.map { T($0) })
    }

    /// Row-wise concatenation `[a | b | …]` (paper Eq. 5 uses it to integrate stages): all parts must
    /// have the same number of rows.
    @inlinable public static func hconcat(_ parts: [Matrix]) -> Matrix {
        guard let first = parts.first else { return Matrix(rows: 0, cols: 0) }
        for (p, m) in parts.enumerated() {
            precondition(m.rows == first.rows,
                         "Matrix.hconcat: part \(p) has \(m.rows) rows, part 0 has \(first.rows)")
        }
        let total = parts.reduce(0) { $0 + $1.cols }
        var out = [Scalar]()
        out.reserveCapacity(first.rows * total)
        for i in 0..<first.rows {
            for m in parts { out.append(contentsOf: m.storage[(i * m.cols)..<((i + 1) * m.cols)]) }
        }
        return Matrix(rows: first.rows, cols: total, storage: out)
    }

    /// Stacks matrices with equal column counts on top of each other.
    @inlinable public static func vconcat(_ parts: [Matrix]) -> Matrix {
        guard let first = parts.first else { return Matrix(rows: 0, cols: 0) }
        for (p, m) in parts.enumerated() {
            precondition(m.cols == first.cols,
                         "Matrix.vconcat: part \(p) has \(m.cols) columns, part 0 has \(first.cols)")
        }
        return Matrix(rows: parts.reduce(0) { $0 + $1.rows }, cols: first.cols,
                      storage: parts.flatMap { $0.storage })
    }

    /// True when every element is finite (no NaN, no ±∞).
    @inlinable public var isFinite: Bool { storage.allSatisfy { $0.isFinite } }
}

extension Matrix: CustomStringConvertible {
    public var description: String {
        var s = "Matrix<\(Scalar.precisionName)> \(rows)×\(cols)"
        let shown = min(rows, 6)
        for i in 0..<shown {
            let r = storage[(i * cols)..<(i * cols + min(cols, 8))].map { "\($0)" }.joined(separator: ", ")
            s += "\n  [\(r)\(cols > 8 ? ", …" : "")]"
        }
        if rows > shown { s += "\n  …" }
        return s
    }
}
