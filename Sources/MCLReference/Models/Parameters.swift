/// Trainable parameters by position.
///
/// The training step and the optimisers never see a parameter's name: they walk the tensors in one
/// fixed order — PyTorch's `model.parameters()` order (layers in order; within a layer `weight`, then
/// `bias`) — and keep optimiser state at the same positions, as llm.c does with its flat buffers.
/// Names (`encoder.0.weight`, …) exist only at the edges: state dicts, checkpoints, traces, fixtures
/// (`parameterNames` gives the name of each position).
///
/// A tensor here is its flat storage (`[T]`), row-major: a Linear weight H×D is H·D numbers.

extension Layer {
    /// How many trainable tensors the layer has (2 for Linear, Conv2d and BatchNorm; 0 otherwise).
    @inlinable public var parameterTensorCount: Int {
        switch self {
        case .linear, .batchNorm1d, .conv2d, .batchNorm2d: return 2
        case .relu, .l2Normalize, .maxPool2d, .avgPool2d, .globalAvgPool, .flatten: return 0
        }
    }

    /// Calls `body` on each trainable tensor's storage, in place, weight before bias.
    ///
    /// The layer is taken out of `self` before its storage is mutated, so the arrays are uniquely
    /// referenced and updated without a copy.
    @inlinable public mutating func updateParameters(_ body: (inout [T]) -> Void) {
        switch self {
        case .linear(var l):
            self = .flatten(Flatten(inputShape: ImageShape(channels: 1, height: 1, width: 1)))
            body(&l.weight.storage); body(&l.bias)
            self = .linear(l)
        case .batchNorm1d(var l):
            self = .flatten(Flatten(inputShape: ImageShape(channels: 1, height: 1, width: 1)))
            body(&l.weight); body(&l.bias)
            self = .batchNorm1d(l)
        case .conv2d(var l):
            self = .flatten(Flatten(inputShape: ImageShape(channels: 1, height: 1, width: 1)))
            body(&l.weight.storage); body(&l.bias)
            self = .conv2d(l)
        case .batchNorm2d(var l):
            self = .flatten(Flatten(inputShape: ImageShape(channels: 1, height: 1, width: 1)))
            body(&l.weight); body(&l.bias)
            self = .batchNorm2d(l)
        case .relu, .l2Normalize, .maxPool2d, .avgPool2d, .globalAvgPool, .flatten:
            return
        }
    }

    /// The trainable tensors' storages, weight before bias.
    @inlinable public var parameterTensors: [[T]] {
        switch self {
        case .linear(let l): return [l.weight.storage, l.bias]
        case .batchNorm1d(let l): return [l.weight, l.bias]
        case .conv2d(let l): return [l.weight.storage, l.bias]
        case .batchNorm2d(let l): return [l.weight, l.bias]
        case .relu, .l2Normalize, .maxPool2d, .avgPool2d, .globalAvgPool, .flatten: return []
        }
    }

    /// A layer's gradients in the order of `parameterTensors`.
    @inlinable public static func gradientTensors(_ g: Gradients) -> [[T]] {
        switch g {
        case .linear(let g): return [g.weight.storage, g.bias]
        case .batchNorm1d(let g): return [g.weight, g.bias]
        case .conv2d(let g): return [g.weight.storage, g.bias]
        case .batchNorm2d(let g): return [g.weight, g.bias]
        case .none: return []
        }
    }
}

extension Sequential {
    /// Calls `body(position, &storage)` on every trainable tensor, positions counted from `offset`.
    /// - Returns: the position after the last tensor.
    @discardableResult
    @inlinable public mutating func updateParameters(from offset: Int = 0, _ body: (Int, inout [T]) -> Void) -> Int {
        var position = offset
        for i in layers.indices {
            layers[i].updateParameters { p in body(position, &p); position += 1 }
        }
        return position
    }

    /// All trainable tensors, in order.
    @inlinable public var parameterTensors: [[T]] { layers.flatMap { $0.parameterTensors } }

    /// How many trainable tensors there are (`parameterTensors.count` without gathering them).
    @inlinable public var parameterTensorCount: Int { layers.reduce(0) { $0 + $1.parameterTensorCount } }

    /// Gradients in the order of `parameterTensors`.
    @inlinable public static func gradientTensors(_ g: Gradients) -> [[T]] {
        g.layers.flatMap { Layer<T>.gradientTensors($0) }
    }
}

extension ContrastiveModel {
    /// Calls `body(position, &storage)` on every trainable tensor: the encoder's, then the head's.
    @inlinable public mutating func updateParameters(_ body: (Int, inout [T]) -> Void) {
        let next = encoder.updateParameters(from: 0, body)
        head.updateParameters(from: next, body)
    }

    /// All trainable tensors by position (encoder, then head).
    @inlinable public var parameterTensors: [[T]] { encoder.parameterTensors + head.parameterTensors }

    /// How many trainable tensors the model has (positions 0..<count).
    @inlinable public var parameterTensorCount: Int { encoder.parameterTensorCount + head.parameterTensorCount }

    /// The name of each position, as `namedParameters()` (the edge between positions and names).
    @inlinable public var parameterNames: [String] { namedParameters().map { $0.name } }

    /// Gradients by position, in the order of `parameterTensors`.
    @inlinable public static func gradientTensors(_ g: Gradients) -> [[T]] {
        Sequential<T>.gradientTensors(g.encoder) + Sequential<T>.gradientTensors(g.head)
    }

    /// Positional gradients with the names and PyTorch-like matrix shapes of `namedParameters()` —
    /// for traces and fixtures only.
    @inlinable public func namedGradients(positional g: [[T]]) -> NamedMatrices<T> {
        let named = namedParameters()
        precondition(named.count == g.count, "namedGradients: \(g.count) gradients for \(named.count) parameters")
        return zip(named, g).map { p, values in (p.name, Matrix(rows: p.value.rows, cols: p.value.cols, storage: values)) }
    }
}
