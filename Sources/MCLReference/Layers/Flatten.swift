/// PyTorch's `nn.Flatten()`: (B, C, H, W) → (B, C·H·W). Here every activation is already a
/// B×(C·H·W) matrix in NCHW order, so forward and backward return their argument unchanged; the
/// layer exists for shape bookkeeping and so that layer indices (and state-dict names) line up with
/// the equivalent PyTorch `nn.Sequential`.
public struct Flatten<T: MCLFloat>: Equatable, Sendable {
    /// The (C, H, W) shape being flattened (documentation and checking only).
    public let inputShape: ImageShape

    @inlinable public init(inputShape: ImageShape) { self.inputShape = inputShape }

    /// C·H·W.
    @inlinable public var outputWidth: Int { inputShape.count }

    public struct Cache: Sendable { @inlinable public init() {} }
    public struct Gradients: Equatable, Sendable { @inlinable public init() {} }

    /// - Shape: x B×(C·H·W) → y B×(C·H·W) (same storage).
    @inlinable public func forward(_ x: Matrix<T>) -> (output: Matrix<T>, cache: Cache) {
        precondition(x.cols == inputShape.count, "Flatten.forward: x is \(x.shapeDescription), expected B×\(inputShape.count) (\(inputShape))")
        return (x, Cache())
    }

    /// - Shape: dy B×(C·H·W) → dx B×(C·H·W).
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        precondition(dOut.cols == inputShape.count, "Flatten.backward: dy is \(dOut.shapeDescription), expected B×\(inputShape.count)")
        return (dOut, Gradients())
    }
}
