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
        var y = x
        y.storage.withUnsafeMutableBufferPointer { p in
            for i in p.indices { let v = p[i]; p[i] = v > 0 || v.isNaN ? v : 0 }
        }
        return (y, Cache(output: y))
    }

    /// dx = dy where x > 0, else 0.
    /// - Shape: dy B×C → dx B×C.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        precondition(dOut.rows == cache.output.rows && dOut.cols == cache.output.cols,
                     "ReLU.backward: dy is \(dOut.shapeDescription), expected \(cache.output.shapeDescription)")
        var dx = dOut
        dx.storage.withUnsafeMutableBufferPointer { pd in
            cache.output.storage.withUnsafeBufferPointer { py in
                for i in pd.indices where !(py[i] > 0) { pd[i] = 0 }
            }
        }
        return (dx, Gradients())
    }
}
