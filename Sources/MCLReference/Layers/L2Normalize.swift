/// Row-wise L2 normalisation, as `torch.nn.functional.normalize(x, p: 2, dim: 1, eps: 1e-12)`.
///
/// Dimension legend: B batch, D features.
///
///     forward:   y_i = x_i / max(‖x_i‖, ε)
///     backward:  if ‖x_i‖ > ε:  dx_i = (dy_i − y_i·⟨y_i, dy_i⟩) / ‖x_i‖
///                otherwise:     dx_i = dy_i / ε        (the denominator is the constant ε)
///
/// The first branch is the Jacobian of x/‖x‖, (I − y yᵀ)/‖x‖, applied to dy: it removes the radial
/// component, so a loss of y alone gives gradients orthogonal to x. The clamp keeps zero rows finite
/// (they map to zero). At exactly ‖x‖ = ε the second branch is used.
public struct L2Normalize<T: MCLFloat>: Equatable, Sendable {
    /// ε in max(‖x‖, ε); 1e-12 as PyTorch. (In Float32 this only guards exact zeros.)
    public var eps: T

    @inlinable public init(eps: T = 1e-12) { self.eps = eps }

    /// What backward needs: the output y and the per-row denominators max(‖x_i‖, ε).
    public struct Cache: Sendable {
        public let output: Matrix<T>
        public let denominators: [T]
        /// true where ‖x_i‖ > ε (the normalising branch).
        public let normalised: [Bool]
        @inlinable public init(output: Matrix<T>, denominators: [T], normalised: [Bool]) {
            self.output = output; self.denominators = denominators; self.normalised = normalised
        }
    }

    /// No parameters.
    public struct Gradients: Equatable, Sendable { @inlinable public init() {} }

    /// y_i = x_i / max(‖x_i‖, ε).
    /// - Shape: x B×D → y B×D.
    @inlinable public func forward(_ x: Matrix<T>) -> (output: Matrix<T>, cache: Cache) {
        let norms = rowNorms(x)
        let normalised = norms.map { $0 > eps }
        let denominators = norms.map { Swift.max($0, eps) }
        // Divide (not multiply by a reciprocal) so unit-norm rows come out as exactly as possible.
        var y = x
        let d = x.cols
        for i in 0..<x.rows { for j in 0..<d { y.storage[i * d + j] = x.storage[i * d + j] / denominators[i] } }
        return (y, Cache(output: y, denominators: denominators, normalised: normalised))
    }

    /// dx_i = (dy_i − y_i⟨y_i, dy_i⟩)/‖x_i‖, or dy_i/ε for rows with ‖x_i‖ ≤ ε.
    /// - Shape: dy B×D → dx B×D.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        let y = cache.output
        precondition(dOut.rows == y.rows && dOut.cols == y.cols,
                     "L2Normalize.backward: dy is \(dOut.shapeDescription), expected \(y.shapeDescription)")
        let dots = rowDots(y, dOut)
        var dx = dOut
        let d = y.cols
        for i in 0..<y.rows {
            let r = cache.denominators[i]
            let proj = cache.normalised[i] ? dots[i] : 0
            for j in 0..<d {
                let k = i * d + j
                dx.storage[k] = (dOut.storage[k] - y.storage[k] * proj) / r
            }
        }
        return (dx, Gradients())
    }
}
