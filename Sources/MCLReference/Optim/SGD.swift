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
/// Parameters are addressed by position (Models/Parameters.swift); names appear only in
/// `namedState`/`loadNamedState`, as PyTorch's `<name>.momentum_buffer` (only when μ ≠ 0, after the
/// first step).
public struct SGD<T: MCLFloat>: Sendable {
    public var lr: T
    public var momentum: T
    public var dampening: T
    public var weightDecay: T
    public var nesterov: Bool
    /// Momentum buffers by parameter position; nil before the first step.
    public var momentumBuffers: [[T]?] = []

    @inlinable public init(lr: T, momentum: T = 0, dampening: T = 0, weightDecay: T = 0, nesterov: Bool = false) {
        precondition(lr >= 0 && momentum >= 0 && weightDecay >= 0, "SGD: lr=\(lr), momentum=\(momentum), weightDecay=\(weightDecay) must be ≥ 0")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: nesterov needs momentum > 0 and dampening 0")
        self.lr = lr; self.momentum = momentum; self.dampening = dampening
        self.weightDecay = weightDecay; self.nesterov = nesterov
    }

    /// Updates the tensor at `position` in place.
    /// - Shape: parameter and gradient of equal length.
    @inlinable public mutating func update(_ p: inout [T], gradient: [T], position: Int) {
        precondition(p.count == gradient.count, "SGD: parameter \(position) has \(p.count) values, its gradient \(gradient.count)")
        var g = gradient
        if weightDecay != 0 { for i in g.indices { g[i] += weightDecay * p[i] } }
        if momentum != 0 {
            if position >= momentumBuffers.count {
                momentumBuffers += [[T]?](repeating: nil, count: position + 1 - momentumBuffers.count)
            }
            var buf: [T]
            if var old = momentumBuffers[position] {
                momentumBuffers[position] = nil
                for i in old.indices { old[i] = momentum * old[i] + (1 - dampening) * g[i] }
                buf = old
            } else {
                buf = g
            }
            momentumBuffers[position] = buf
            if nesterov { for i in g.indices { g[i] += momentum * buf[i] } } else { g = buf }
        }
        for i in p.indices { p[i] += -lr * g[i] }
    }

    /// `<name>.momentum_buffer` (shaped like the parameter) for each parameter that has one.
    @inlinable public func namedState(like parameters: NamedMatrices<T>) -> NamedMatrices<T> {
        parameters.enumerated().compactMap { k, p in
            guard k < momentumBuffers.count, let b = momentumBuffers[k] else { return nil }
            return ("\(p.name).momentum_buffer", Matrix(rows: p.value.rows, cols: p.value.cols, storage: b))
        }
    }

    /// Restores `namedState` output for parameters named (in position order) `names`; replaces all buffers.
    @inlinable public mutating func loadNamedState(_ list: NamedMatrices<T>, names: [String]) throws {
        let position = Dictionary(names.enumerated().map { ($0.element + ".momentum_buffer", $0.offset) },
                                  uniquingKeysWith: { a, _ in a })
        var buffers = [[T]?](repeating: nil, count: names.count)
        for (name, value) in list {
            guard let k = position[name] else { throw StateLoadingError.unexpected([name]) }
            buffers[k] = value.storage
        }
        momentumBuffers = buffers
    }
}
