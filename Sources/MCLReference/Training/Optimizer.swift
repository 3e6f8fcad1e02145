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

    /// One optimiser step on every named parameter.
    public mutating func step(_ parameters: inout NamedMatrices<T>, gradients: NamedMatrices<T>) {
        switch self {
        case var .sgd(o): o.step(&parameters, gradients: gradients); self = .sgd(o)
        case var .adam(o): o.step(&parameters, gradients: gradients); self = .adam(o)
        }
    }
}
