/// Stochastic gradient descent with momentum, PyTorch's `torch.optim.SGD` (dampening 0 by default).
///
/// For each parameter p with gradient g, at step t (first step t = 1):
///
///     g ← g + wd·p                                   (weight decay as an L2 term)
///     buf ← g                       if t = 1
///     buf ← μ·buf + (1 − dampening)·g   otherwise    (momentum μ ≠ 0 only)
///     g ← g + μ·buf  (nesterov)   or   g ← buf
///     p ← p − lr·g
///
/// State per parameter: `<name>.momentum_buffer` (only when μ ≠ 0, after the first step).
public struct SGD<T: MCLFloat>: Sendable {
    public var lr: T
    public var momentum: T
    public var dampening: T
    public var weightDecay: T
    public var nesterov: Bool
    /// Momentum buffers by parameter name.
    public var momentumBuffers: [String: Matrix<T>] = [:]

    @inlinable public init(lr: T, momentum: T = 0, dampening: T = 0, weightDecay: T = 0, nesterov: Bool = false) {
        precondition(lr >= 0 && momentum >= 0 && weightDecay >= 0, "SGD: lr=\(lr), momentum=\(momentum), weightDecay=\(weightDecay) must be ≥ 0")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: nesterov needs momentum > 0 and dampening 0")
        self.lr = lr; self.momentum = momentum; self.dampening = dampening
        self.weightDecay = weightDecay; self.nesterov = nesterov
    }

    /// Updates one parameter in place.
    /// - Shape: parameter and gradient of equal shape.
    @inlinable public mutating func update(_ p: inout Matrix<T>, gradient: Matrix<T>, name: String) {
        precondition(p.rows == gradient.rows && p.cols == gradient.cols,
                     "SGD: \(name) is \(p.shapeDescription), gradient is \(gradient.shapeDescription)")
        var g = gradient
        if weightDecay != 0 { axpy(weightDecay, p, &g) }
        if momentum != 0 {
            var buf: Matrix<T>
            if let old = momentumBuffers[name] {
                buf = old
                scale(&buf, by: momentum)
                axpy(1 - dampening, g, &buf)
            } else {
                buf = g
            }
            momentumBuffers[name] = buf
            if nesterov { axpy(momentum, buf, &g) } else { g = buf }
        }
        axpy(-lr, g, &p)
    }

    /// One step on every parameter; `gradients` must have the names and order of `parameters`.
    @inlinable public mutating func step(_ parameters: inout NamedMatrices<T>, gradients: NamedMatrices<T>) {
        precondition(parameters.count == gradients.count, "SGD.step: \(parameters.count) parameters, \(gradients.count) gradients")
        for i in parameters.indices {
            precondition(parameters[i].name == gradients[i].name,
                         "SGD.step: parameter \(parameters[i].name) paired with gradient \(gradients[i].name)")
            update(&parameters[i].value, gradient: gradients[i].value, name: parameters[i].name)
        }
    }

    /// State for checkpoints: `<name>.momentum_buffer`, sorted by name.
    @inlinable public func state() -> NamedMatrices<T> {
        momentumBuffers.keys.sorted().map { ("\($0).momentum_buffer", momentumBuffers[$0]!) }
    }

    /// Restores `state()` output (replaces all buffers).
    @inlinable public mutating func loadState(_ list: NamedMatrices<T>) throws {
        var buffers = [String: Matrix<T>]()
        for (name, value) in list {
            guard name.hasSuffix(".momentum_buffer") else { throw StateLoadingError.unexpected([name]) }
            buffers[String(name.dropLast(".momentum_buffer".count))] = value
        }
        momentumBuffers = buffers
    }
}
