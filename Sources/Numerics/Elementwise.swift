/// Elementwise and broadcast operations, and row/column reductions, for the layers and losses.
///
/// Dimension legend: N rows (batch), C columns (features).
///
/// Determinism: every reduction visits its inputs in one fixed order (rows top to bottom, columns left
/// to right) on one thread, and sums are accumulated in `Double` before rounding once to `T`. Results
/// therefore do not depend on the thread count, and Float32 sums lose no more than one rounding.
/// These ops are memory-bound and small next to the GEMMs, so they stay single-threaded.

// MARK: - Elementwise maps

extension Matrix {
    /// `f` applied to every element.
    /// - Shape: N×C → N×C.
    @inlinable public func map(_ f: (Scalar) -> Scalar) -> Matrix {
        Matrix(rows: rows, cols: cols, storage: storage.map(f))
    }

    /// `f(self[i, j], other[i, j])` for every element.
    /// - Shape: N×C, N×C → N×C.
    @inlinable public func zipMap(_ other: Matrix, _ f: (Scalar, Scalar) -> Scalar) -> Matrix {
        precondition(rows == other.rows && cols == other.cols,
                     "Matrix.zipMap: shapes \(shapeDescription) and \(other.shapeDescription) differ")
        var out = self
        out.storage.withUnsafeMutableBufferPointer { o in
            other.storage.withUnsafeBufferPointer { b in
                for i in 0..<o.count { o[i] = f(o[i], b[i]) }
            }
        }
        return out
    }

    /// A 1×n matrix holding `vector` (how bias-like vectors appear in named parameter lists).
    /// - Shape: n → 1×n.
    @inlinable public static func rowVector(_ vector: [Scalar]) -> Matrix {
        Matrix(rows: 1, cols: vector.count, storage: vector)
    }
}

/// a + b elementwise.
/// - Shape: N×C, N×C → N×C.
@inlinable public func add<T: MCLFloat>(_ a: Matrix<T>, _ b: Matrix<T>) -> Matrix<T> {
    precondition(a.rows == b.rows && a.cols == b.cols, "add: shapes \(a.shapeDescription) and \(b.shapeDescription) differ")
    return a.zipMap(b, +)
}

/// a − b elementwise.
/// - Shape: N×C, N×C → N×C.
@inlinable public func subtract<T: MCLFloat>(_ a: Matrix<T>, _ b: Matrix<T>) -> Matrix<T> {
    precondition(a.rows == b.rows && a.cols == b.cols, "subtract: shapes \(a.shapeDescription) and \(b.shapeDescription) differ")
    return a.zipMap(b, -)
}

/// a ⊙ b (Hadamard product).
/// - Shape: N×C, N×C → N×C.
@inlinable public func hadamard<T: MCLFloat>(_ a: Matrix<T>, _ b: Matrix<T>) -> Matrix<T> {
    precondition(a.rows == b.rows && a.cols == b.cols, "hadamard: shapes \(a.shapeDescription) and \(b.shapeDescription) differ")
    return a.zipMap(b, *)
}

/// α·x.
/// - Shape: N×C → N×C.
@inlinable public func scaled<T: MCLFloat>(_ x: Matrix<T>, by alpha: T) -> Matrix<T> {
    x.map { $0 * alpha }
}

/// x ← α·x in place.
/// - Shape: N×C.
@inlinable public func scale<T: MCLFloat>(_ x: inout Matrix<T>, by alpha: T) {
    x.storage.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count { p[i] *= alpha }
    }
}

/// y ← α·x + y in place (BLAS axpy).
/// - Shape: x N×C, y N×C.
@inlinable public func axpy<T: MCLFloat>(_ alpha: T, _ x: Matrix<T>, _ y: inout Matrix<T>) {
    precondition(x.rows == y.rows && x.cols == y.cols, "axpy: x is \(x.shapeDescription), y is \(y.shapeDescription)")
    y.storage.withUnsafeMutableBufferPointer { py in
        x.storage.withUnsafeBufferPointer { px in
            for i in 0..<py.count { py[i] += alpha * px[i] }
        }
    }
}

// MARK: - Broadcasts

/// x + 1·vᵀ: adds `v[j]` to every element of column j (e.g. a bias).
/// - Shape: x N×C, v C → N×C.
@inlinable public func addRowVector<T: MCLFloat>(_ x: Matrix<T>, _ v: [T]) -> Matrix<T> {
    var out = x
    addRowVector(&out, v)
    return out
}

/// x ← x + 1·vᵀ in place.
/// - Shape: x N×C, v C.
@inlinable public func addRowVector<T: MCLFloat>(_ x: inout Matrix<T>, _ v: [T]) {
    precondition(v.count == x.cols, "addRowVector: vector has \(v.count) elements, matrix is \(x.shapeDescription)")
    let c = x.cols
    x.storage.withUnsafeMutableBufferPointer { p in
        for i in 0..<x.rows { for j in 0..<c { p[i * c + j] += v[j] } }
    }
}

/// x·diag(v): multiplies column j by `v[j]` (e.g. BatchNorm's γ).
/// - Shape: x N×C, v C → N×C.
@inlinable public func scaleColumns<T: MCLFloat>(_ x: Matrix<T>, by v: [T]) -> Matrix<T> {
    precondition(v.count == x.cols, "scaleColumns: vector has \(v.count) elements, matrix is \(x.shapeDescription)")
    var out = x
    let c = x.cols
    out.storage.withUnsafeMutableBufferPointer { p in
        for i in 0..<x.rows { for j in 0..<c { p[i * c + j] *= v[j] } }
    }
    return out
}

/// diag(s)·x: multiplies row i by `s[i]` (e.g. per-row normalisation).
/// - Shape: x N×C, s N → N×C.
@inlinable public func scaleRows<T: MCLFloat>(_ x: Matrix<T>, by s: [T]) -> Matrix<T> {
    precondition(s.count == x.rows, "scaleRows: vector has \(s.count) elements, matrix is \(x.shapeDescription)")
    var out = x
    let c = x.cols
    out.storage.withUnsafeMutableBufferPointer { p in
        for i in 0..<x.rows { for j in 0..<c { p[i * c + j] *= s[i] } }
    }
    return out
}

// MARK: - Reductions (fixed order, accumulated in Double)

/// Σ_i x[i, j] for every column j, rows added top to bottom.
/// - Shape: x N×C → C.
@inlinable public func columnSums<T: MCLFloat>(_ x: Matrix<T>) -> [T] {
    columnSumsDouble(x).map { T($0) }
}

/// Column sums in `Double`, rows added top to bottom (for callers that keep accumulating).
/// - Shape: x N×C → C.
@inlinable public func columnSumsDouble<T: MCLFloat>(_ x: Matrix<T>) -> [Double] {
    var acc = [Double](repeating: 0, count: x.cols)
    let c = x.cols
    x.storage.withUnsafeBufferPointer { p in
        acc.withUnsafeMutableBufferPointer { a in
            for i in 0..<x.rows { for j in 0..<c { a[j] += Double(p[i &* c &+ j]) } }
        }
    }
    return acc
}

/// (1/N)·Σ_i x[i, j] for every column j. Requires N ≥ 1.
/// - Shape: x N×C → C.
@inlinable public func columnMeans<T: MCLFloat>(_ x: Matrix<T>) -> [T] {
    precondition(x.rows >= 1, "columnMeans: matrix \(x.shapeDescription) has no rows")
    let n = Double(x.rows)
    return columnSumsDouble(x).map { T($0 / n) }
}

/// Σ_j x[i, j] for every row i, columns added left to right.
/// - Shape: x N×C → N.
@inlinable public func rowSums<T: MCLFloat>(_ x: Matrix<T>) -> [T] {
    var out = [T](repeating: 0, count: x.rows)
    let c = x.cols
    x.storage.withUnsafeBufferPointer { p in
        for i in 0..<x.rows {
            var s = 0.0
            for j in 0..<c { s += Double(p[i * c + j]) }
            out[i] = T(s)
        }
    }
    return out
}

/// Σ_j a[i, j]·b[i, j] for every row i (row-wise dot products).
/// - Shape: a N×C, b N×C → N.
@inlinable public func rowDots<T: MCLFloat>(_ a: Matrix<T>, _ b: Matrix<T>) -> [T] {
    precondition(a.rows == b.rows && a.cols == b.cols, "rowDots: shapes \(a.shapeDescription) and \(b.shapeDescription) differ")
    var out = [T](repeating: 0, count: a.rows)
    let c = a.cols
    a.storage.withUnsafeBufferPointer { pa in
        b.storage.withUnsafeBufferPointer { pb in
            for i in 0..<a.rows {
                var s = 0.0
                for j in 0..<c { s += Double(pa[i * c + j]) * Double(pb[i * c + j]) }
                out[i] = T(s)
            }
        }
    }
    return out
}

/// Euclidean norm ‖x[i, :]‖₂ of every row, computed as √(Σ_j x²) in `Double`. (Squares of `Float`
/// values cannot overflow a `Double`, so no scaling is needed.)
/// - Shape: x N×C → N.
@inlinable public func rowNorms<T: MCLFloat>(_ x: Matrix<T>) -> [T] {
    var out = [T](repeating: 0, count: x.rows)
    let c = x.cols
    x.storage.withUnsafeBufferPointer { p in
        for i in 0..<x.rows {
            var s = 0.0
            for j in 0..<c { let v = Double(p[i * c + j]); s += v * v }
            out[i] = T(s.squareRoot())
        }
    }
    return out
}

/// Σ over all elements, row-major order, in `Double`.
/// - Shape: x N×C → scalar.
@inlinable public func sumAll<T: MCLFloat>(_ x: Matrix<T>) -> Double {
    var s = 0.0
    for v in x.storage { s += Double(v) }
    return s
}

/// max |a − b| over all elements (for tests and diagnostics).
/// - Shape: N×C, N×C → scalar.
@inlinable public func maxAbsDifference<T: MCLFloat>(_ a: Matrix<T>, _ b: Matrix<T>) -> Double {
    precondition(a.rows == b.rows && a.cols == b.cols, "maxAbsDifference: shapes \(a.shapeDescription) and \(b.shapeDescription) differ")
    var m = 0.0
    for i in 0..<a.count { m = Swift.max(m, abs(Double(a.storage[i]) - Double(b.storage[i]))) }
    return m
}
