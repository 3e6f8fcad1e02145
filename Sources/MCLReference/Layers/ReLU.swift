/// Rectified linear unit, PyTorch's `nn.ReLU`.
///
/// Dimension legend: B batch, C features.
///
///     forward:   y = max(x, 0)
///     backward:  dx = dy · 1[x > 0]      (the subgradient at x = 0 is taken as 0, as in PyTorch)
public struct ReLU<T: MCLFloat>: Equatable, Sendable {
    @inlinable public init() {}

    /// What backward needs: the output y (y > 0 exactly where x > 0).
    public struct Cache: Sendable {
        public let output: Matrix<T>
        @inlinable public init(output: Matrix<T>) { self.output = output }
    }

    /// ReLU has no parameters.
    public struct Gradients: Equatable, Sendable { @inlinable public init() {} }

    /// y = max(x, 0) elementwise (NaN propagates).
    /// - Shape: x B×C → y B×C.
    @inlinable public func forward(_ x: Matrix<T>) -> (output: Matrix<T>, cache: Cache) {
        // Selects, not branches (`v == v` is false only for NaN), so the loop vectorises; the output
        // is written once instead of copied and then overwritten.
        let storage = x.storage.withUnsafeBufferPointer { px in
            [T](unsafeUninitializedCapacity: px.count) { py, count in
                for i in 0..<px.count { let v = px[i]; py[i] = v > 0 ? v : (v == v ? 0 : v) }
                count = px.count
            }
        }
        let y = Matrix(rows: x.rows, cols: x.cols, storage: storage)
        return (y, Cache(output: y))
    }

    /// dx = dy where x > 0, else 0.
    /// - Shape: dy B×C → dx B×C.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        precondition(dOut.rows == cache.output.rows && dOut.cols == cache.output.cols,
                     "ReLU.backward: dy is \(dOut.shapeDescription), expected \(cache.output.shapeDescription)")
        let storage = dOut.storage.withUnsafeBufferPointer { pd in
            cache.output.storage.withUnsafeBufferPointer { py in
                [T](unsafeUninitializedCapacity: pd.count) { pdx, count in
                    for i in 0..<pd.count { pdx[i] = py[i] > 0 ? pd[i] : 0 }
                    count = pd.count
                }
            }
        }
        return (Matrix(rows: dOut.rows, cols: dOut.cols, storage: storage), Gradients())
    }
}
