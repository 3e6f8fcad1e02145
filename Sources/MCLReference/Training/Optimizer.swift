/// The optimiser a stage trains with, chosen by name (`--optimizer sgd|adam|adamw`).
/// A thin enum over the concrete optimisers so the trainer can hold either.
public enum OptimizerKind: String, Sendable, CaseIterable {
    case sgd, adam, adamw
}

public enum Optimizer<T: MCLFloat>: Sendable {
    case sgd(SGD<T>)
    case adam(Adam<T>)

    /// SGD uses momentum 0.9; Adam/AdamW PyTorch's defaults (β = 0.9, 0.999, ε = 1e-8).
    public init(_ kind: OptimizerKind, lr: Double, weightDecay: Double) {
        switch kind {
        case .sgd: self = .sgd(SGD(lr: T(lr), momentum: 0.9, weightDecay: T(weightDecay)))
        case .adam: self = .adam(Adam(lr: T(lr), weightDecay: T(weightDecay)))
        case .adamw: self = .adam(Adam.adamW(lr: T(lr), weightDecay: T(weightDecay)))
        }
    }

    public var lr: Double {
        get {
            switch self {
            case let .sgd(o): return Double(o.lr)
            case let .adam(o): return Double(o.lr)
            }
        }
        set {
            switch self {
            case var .sgd(o): o.lr = T(newValue); self = .sgd(o)
            case var .adam(o): o.lr = T(newValue); self = .adam(o)
            }
        }
    }

    /// Updates the tensor at `position` in place.
    @inlinable public mutating func update(_ p: inout [T], gradient: [T], position: Int) {
        switch self {
        case var .sgd(o):
            self = .adam(Adam())  // release the payload so its buffers are updated without a copy
            o.update(&p, gradient: gradient, position: position); self = .sgd(o)
        case var .adam(o):
            self = .sgd(SGD(lr: 0))
            o.update(&p, gradient: gradient, position: position); self = .adam(o)
        }
    }

    /// One optimiser step on every trainable tensor of `model`, gradients by position.
    @inlinable public mutating func step(_ model: inout ContrastiveModel<T>, gradients: [[T]]) {
        model.updateParameters { k, p in update(&p, gradient: gradients[k], position: k) }
    }

    /// One step on a plain list of tensors (tests and fixtures), gradients by position.
    @inlinable public mutating func step(_ tensors: inout [[T]], gradients: [[T]]) {
        precondition(tensors.count == gradients.count, "Optimizer.step: \(tensors.count) tensors, \(gradients.count) gradients")
        for k in tensors.indices { update(&tensors[k], gradient: gradients[k], position: k) }
    }

    /// The optimiser's state with PyTorch's names, for traces and checkpoints (Adam: `<param>.exp_avg`,
    /// `.exp_avg_sq`, `.step`; SGD: `.momentum_buffer`), in parameter order. Empty before the first step.
    @inlinable public func namedState(like parameters: NamedMatrices<T>) -> NamedMatrices<T> {
        switch self {
        case let .sgd(o): return o.namedState(like: parameters)
        case let .adam(o): return o.namedState(like: parameters)
        }
    }

    /// Restores `namedState` for parameters named, in position order, `names`.
    @inlinable public mutating func loadNamedState(_ list: NamedMatrices<T>, names: [String]) throws {
        switch self {
        case var .sgd(o): try o.loadNamedState(list, names: names); self = .sgd(o)
        case var .adam(o): try o.loadNamedState(list, names: names); self = .adam(o)
        }
    }
}
