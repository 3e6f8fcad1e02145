/// A network as a list of layers run in order, PyTorch's `nn.Sequential`.
///
/// Dimension legend: B batch; widths are per layer.
///
/// Layers are values of the `Layer` enum, so new kinds are new cases — no protocol hierarchy. Image
/// layers (Conv2d, BatchNorm2d, MaxPool2d, AvgPool2d, GlobalAvgPool, Flatten) take B×(C·H·W) rows in
/// NCHW order; those that need the spatial shape store their input (C, H, W), which
/// `Sequential.cnnEncoder` computes layer by layer. Parameter names follow PyTorch: `<prefix><index>.<field>`, where index is the
/// position in `layers` (parameter-free layers such as ReLU take an index too), e.g. for
/// [Linear, BatchNorm1d, ReLU, Linear] with prefix `"head."`:
///
///     head.0.weight  head.0.bias
///     head.1.weight  head.1.bias  head.1.running_mean  head.1.running_var  head.1.num_batches_tracked
///     head.3.weight  head.3.bias

/// One layer of a `Sequential`.
public enum Layer<T: MCLFloat>: Equatable, Sendable {
    case linear(Linear<T>)
    case batchNorm1d(BatchNorm1d<T>)
    case relu(ReLU<T>)
    case l2Normalize(L2Normalize<T>)
    case conv2d(Conv2d<T>)
    case batchNorm2d(BatchNorm2d<T>)
    case maxPool2d(MaxPool2d<T>)
    case avgPool2d(AvgPool2d<T>)
    case globalAvgPool(GlobalAvgPool<T>)
    case flatten(Flatten<T>)

    /// What the layer's backward needs.
    public enum Cache: Sendable {
        case linear(Linear<T>.Cache)
        case batchNorm1d(BatchNorm1d<T>.Cache)
        case relu(ReLU<T>.Cache)
        case l2Normalize(L2Normalize<T>.Cache)
        case conv2d(Conv2d<T>.Cache)
        case batchNorm2d(BatchNorm2d<T>.Cache)
        case maxPool2d(MaxPool2d<T>.Cache)
        case avgPool2d(AvgPool2d<T>.Cache)
        case globalAvgPool(GlobalAvgPool<T>.Cache)
        case flatten(Flatten<T>.Cache)
    }

    /// The layer's parameter gradients (`.none` for parameter-free layers).
    public enum Gradients: Equatable, Sendable {
        case linear(Linear<T>.Gradients)
        case batchNorm1d(BatchNorm1d<T>.Gradients)
        case conv2d(Conv2d<T>.Gradients)
        case batchNorm2d(BatchNorm2d<T>.Gradients)
        case none
    }

    /// Runs the layer; BatchNorm1d/2d in `.train` update their running statistics.
    /// - Shape: x B×in → y B×out.
    @inlinable public mutating func forward(_ x: Matrix<T>, mode: Mode) -> (output: Matrix<T>, cache: Cache) {
        switch self {
        case .linear(let l): let (y, c) = l.forward(x); return (y, .linear(c))
        case .relu(let l): let (y, c) = l.forward(x); return (y, .relu(c))
        case .l2Normalize(let l): let (y, c) = l.forward(x); return (y, .l2Normalize(c))
        case .batchNorm1d(var l):
            let (y, c) = l.forward(x, mode: mode)
            self = .batchNorm1d(l)
            return (y, .batchNorm1d(c))
        case .conv2d(let l): let (y, c) = l.forward(x); return (y, .conv2d(c))
        case .batchNorm2d(var l):
            let (y, c) = l.forward(x, mode: mode)
            self = .batchNorm2d(l)
            return (y, .batchNorm2d(c))
        case .maxPool2d(let l): let (y, c) = l.forward(x); return (y, .maxPool2d(c))
        case .avgPool2d(let l): let (y, c) = l.forward(x); return (y, .avgPool2d(c))
        case .globalAvgPool(let l): let (y, c) = l.forward(x); return (y, .globalAvgPool(c))
        case .flatten(let l): let (y, c) = l.forward(x); return (y, .flatten(c))
        }
    }

    /// Backpropagates through the layer. With `inputGradient: false` a layer may skip dx (Conv2d
    /// does, returning B×0); the others compute it anyway.
    /// - Shape: dy B×out → dx B×in.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache, inputGradient: Bool = true)
        -> (dInput: Matrix<T>, gradients: Gradients) {
        switch (self, cache) {
        case (.linear(let l), .linear(let c)): let (dx, g) = l.backward(dOut, c); return (dx, .linear(g))
        case (.batchNorm1d(let l), .batchNorm1d(let c)): let (dx, g) = l.backward(dOut, c); return (dx, .batchNorm1d(g))
        case (.relu(let l), .relu(let c)): return (l.backward(dOut, c).dInput, .none)
        case (.l2Normalize(let l), .l2Normalize(let c)): return (l.backward(dOut, c).dInput, .none)
        case (.conv2d(let l), .conv2d(let c)):
            let (dx, g) = l.backward(dOut, c, inputGradient: inputGradient); return (dx, .conv2d(g))
        case (.batchNorm2d(let l), .batchNorm2d(let c)): let (dx, g) = l.backward(dOut, c); return (dx, .batchNorm2d(g))
        case (.maxPool2d(let l), .maxPool2d(let c)): return (l.backward(dOut, c).dInput, .none)
        case (.avgPool2d(let l), .avgPool2d(let c)): return (l.backward(dOut, c).dInput, .none)
        case (.globalAvgPool(let l), .globalAvgPool(let c)): return (l.backward(dOut, c).dInput, .none)
        case (.flatten(let l), .flatten(let c)): return (l.backward(dOut, c).dInput, .none)
        default: preconditionFailure("Layer.backward: cache \(cache) does not belong to layer \(self.kindName)")
        }
    }

    /// The PyTorch-like class name: "Linear", "BatchNorm1d", "ReLU", "L2Normalize", "Conv2d",
    /// "BatchNorm2d", "MaxPool2d", "AvgPool2d", "GlobalAvgPool" or "Flatten".
    @inlinable public var kindName: String {
        switch self {
        case .linear: return "Linear"
        case .batchNorm1d: return "BatchNorm1d"
        case .relu: return "ReLU"
        case .l2Normalize: return "L2Normalize"
        case .conv2d: return "Conv2d"
        case .batchNorm2d: return "BatchNorm2d"
        case .maxPool2d: return "MaxPool2d"
        case .avgPool2d: return "AvgPool2d"
        case .globalAvgPool: return "GlobalAvgPool"
        case .flatten: return "Flatten"
        }
    }

    /// Trainable parameters as (field name, matrix), PyTorch order.
    @inlinable public var namedParameters: NamedMatrices<T> {
        switch self {
        case .linear(let l): return [("weight", l.weight), ("bias", .rowVector(l.bias))]
        case .batchNorm1d(let l): return [("weight", .rowVector(l.weight)), ("bias", .rowVector(l.bias))]
        case .conv2d(let l): return [("weight", l.weight), ("bias", .rowVector(l.bias))]
        case .batchNorm2d(let l): return [("weight", .rowVector(l.weight)), ("bias", .rowVector(l.bias))]
        case .relu, .l2Normalize, .maxPool2d, .avgPool2d, .globalAvgPool, .flatten: return []
        }
    }

    /// Buffers (not trained) as (field name, matrix), PyTorch order.
    @inlinable public var namedBuffers: NamedMatrices<T> {
        switch self {
        case .batchNorm1d(let l):
            return [("running_mean", .rowVector(l.runningMean)), ("running_var", .rowVector(l.runningVar)),
                    ("num_batches_tracked", Matrix(rows: 1, cols: 1, storage: [T(l.numBatchesTracked)]))]
        case .batchNorm2d(let l):
            return [("running_mean", .rowVector(l.runningMean)), ("running_var", .rowVector(l.runningVar)),
                    ("num_batches_tracked", Matrix(rows: 1, cols: 1, storage: [T(l.numBatchesTracked)]))]
        default: return []
        }
    }

    /// Gradients as (field name, matrix), in the order of `namedParameters`.
    @inlinable public static func namedGradients(_ g: Gradients) -> NamedMatrices<T> {
        switch g {
        case .linear(let g): return [("weight", g.weight), ("bias", .rowVector(g.bias))]
        case .batchNorm1d(let g): return [("weight", .rowVector(g.weight)), ("bias", .rowVector(g.bias))]
        case .conv2d(let g): return [("weight", g.weight), ("bias", .rowVector(g.bias))]
        case .batchNorm2d(let g): return [("weight", .rowVector(g.weight)), ("bias", .rowVector(g.bias))]
        case .none: return []
        }
    }

    /// Replaces the field called `name` (a parameter or buffer) with `value`, checking its shape.
    @inlinable public mutating func set(_ name: String, _ value: Matrix<T>, qualifiedName: String) throws {
        func vector(_ current: [T]) throws -> [T] {
            guard value.rows == 1 && value.cols == current.count else {
                throw StateLoadingError.shapeMismatch(name: qualifiedName, expected: "1×\(current.count)", got: value.shapeDescription)
            }
            return value.storage
        }
        switch (self, name) {
        case (.linear(var l), "weight"):
            guard value.rows == l.weight.rows && value.cols == l.weight.cols else {
                throw StateLoadingError.shapeMismatch(name: qualifiedName, expected: l.weight.shapeDescription, got: value.shapeDescription)
            }
            l.weight = value; self = .linear(l)
        case (.linear(var l), "bias"): l.bias = try vector(l.bias); self = .linear(l)
        case (.batchNorm1d(var l), "weight"): l.weight = try vector(l.weight); self = .batchNorm1d(l)
        case (.batchNorm1d(var l), "bias"): l.bias = try vector(l.bias); self = .batchNorm1d(l)
        case (.batchNorm1d(var l), "running_mean"): l.runningMean = try vector(l.runningMean); self = .batchNorm1d(l)
        case (.batchNorm1d(var l), "running_var"): l.runningVar = try vector(l.runningVar); self = .batchNorm1d(l)
        case (.batchNorm1d(var l), "num_batches_tracked"):
            let v = try vector([0])
            l.numBatchesTracked = Int(v[0]); self = .batchNorm1d(l)
        case (.conv2d(var l), "weight"):
            // A (O, C, kh, kw) tensor arrives reshaped to O×(C·kh·kw): same memory, checked as 2-D.
            guard value.rows == l.weight.rows && value.cols == l.weight.cols else {
                throw StateLoadingError.shapeMismatch(name: qualifiedName, expected: l.weight.shapeDescription, got: value.shapeDescription)
            }
            l.weight = value; self = .conv2d(l)
        case (.conv2d(var l), "bias"): l.bias = try vector(l.bias); self = .conv2d(l)
        case (.batchNorm2d(var l), "weight"): l.weight = try vector(l.weight); self = .batchNorm2d(l)
        case (.batchNorm2d(var l), "bias"): l.bias = try vector(l.bias); self = .batchNorm2d(l)
        case (.batchNorm2d(var l), "running_mean"): l.runningMean = try vector(l.runningMean); self = .batchNorm2d(l)
        case (.batchNorm2d(var l), "running_var"): l.runningVar = try vector(l.runningVar); self = .batchNorm2d(l)
        case (.batchNorm2d(var l), "num_batches_tracked"):
            let v = try vector([0])
            l.numBatchesTracked = Int(v[0]); self = .batchNorm2d(l)
        default: throw StateLoadingError.unexpected([qualifiedName])
        }
    }
}

public struct Sequential<T: MCLFloat>: Equatable, Sendable {
    public var layers: [Layer<T>]

    @inlinable public init(_ layers: [Layer<T>]) { self.layers = layers }

    /// Per-layer caches, in layer order.
    public struct Cache: Sendable {
        public var layers: [Layer<T>.Cache]
        @inlinable public init(layers: [Layer<T>.Cache]) { self.layers = layers }
    }

    /// Per-layer gradients, in layer order (mirrors `layers`).
    public struct Gradients: Equatable, Sendable {
        public var layers: [Layer<T>.Gradients]
        @inlinable public init(layers: [Layer<T>.Gradients]) { self.layers = layers }
    }

    /// Runs every layer in order. In `.train`, BatchNorm layers update their running statistics.
    /// A BatchNorm2d followed by a ReLU runs as one pass (`BatchNorm2d.forward(relu: true)`), which
    /// gives the same bits as the two layers one after the other; each still gets its own cache.
    /// - Shape: x B×in → y B×out.
    /// With a `profiler`, each layer's forward is timed under "<LayerKind> forward" (a fused pair
    /// under "BatchNorm2d+ReLU forward").
    @inlinable public mutating func forward(_ x: Matrix<T>, mode: Mode,
                                            profiler: StepProfiler? = nil) -> (output: Matrix<T>, cache: Cache) {
        var h = x
        var caches = [Layer<T>.Cache]()
        caches.reserveCapacity(layers.count)
        var i = 0
        while i < layers.count {
            if case .batchNorm2d(var bn) = layers[i], i + 1 < layers.count, case .relu = layers[i + 1] {
                let (y, c) = profiler.map { p in p.measure("BatchNorm2d+ReLU forward") { bn.forward(h, mode: mode, relu: true) } }
                    ?? bn.forward(h, mode: mode, relu: true)
                layers[i] = .batchNorm2d(bn)
                caches.append(.batchNorm2d(c))
                caches.append(.relu(ReLU<T>.Cache(output: y)))
                h = y
                i += 2
                continue
            }
            let (y, c) = profiler.map { p in p.measure("\(layers[i].kindName) forward") { layers[i].forward(h, mode: mode) } }
                ?? layers[i].forward(h, mode: mode)
            caches.append(c)
            h = y
            i += 1
        }
        return (h, Cache(layers: caches))
    }

    /// Evaluation-mode output only (no caches, no state change).
    /// - Shape: x B×in → y B×out.
    @inlinable public func callAsFunction(_ x: Matrix<T>) -> Matrix<T> {
        var copy = self
        return copy.forward(x, mode: .eval).output
    }

    /// Backpropagates through the layers in reverse order. A ReLU preceded by a BatchNorm2d runs
    /// with it as one pass (`BatchNorm2d.backward(reluOutput:)`, the same bits as the two layers).
    /// With `inputGradient: false` the first layer may skip dx (the input is data; Conv2d then
    /// returns B×0).
    /// - Shape: dy B×out → dx B×in.
    /// With a `profiler`, each layer's backward is timed under "<LayerKind> backward" (a fused pair
    /// under "BatchNorm2d+ReLU backward").
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache, inputGradient: Bool = true,
                                    profiler: StepProfiler? = nil) -> (dInput: Matrix<T>, gradients: Gradients) {
        precondition(cache.layers.count == layers.count,
                     "Sequential.backward: \(cache.layers.count) caches for \(layers.count) layers")
        var g = dOut
        var grads = [Layer<T>.Gradients](repeating: .none, count: layers.count)
        var i = layers.count - 1
        while i >= 0 {
            if i >= 1, case .relu = layers[i], case .relu(let reluCache) = cache.layers[i],
               case .batchNorm2d(let bn) = layers[i - 1], case .batchNorm2d(let bnCache) = cache.layers[i - 1] {
                let (dx, lg) = profiler.map { p in p.measure("BatchNorm2d+ReLU backward") { bn.backward(g, bnCache, reluOutput: reluCache.output) } }
                    ?? bn.backward(g, bnCache, reluOutput: reluCache.output)
                grads[i - 1] = .batchNorm2d(lg)
                g = dx
                i -= 2
                continue
            }
            let needsInput = inputGradient || i > 0
            let (dx, lg) = profiler.map { p in
                p.measure("\(layers[i].kindName) backward") { layers[i].backward(g, cache.layers[i], inputGradient: needsInput) }
            } ?? layers[i].backward(g, cache.layers[i], inputGradient: needsInput)
            grads[i] = lg
            g = dx
            i -= 1
        }
        return (g, Gradients(layers: grads))
    }

    /// Trainable parameters, `<prefix><index>.<field>`, in layer order.
    @inlinable public func namedParameters(prefix: String = "") -> NamedMatrices<T> {
        layers.enumerated().flatMap { i, l in l.namedParameters.map { ("\(prefix)\(i).\($0.name)", $0.value) } }
    }

    /// Buffers (running statistics), `<prefix><index>.<field>`, in layer order.
    @inlinable public func namedBuffers(prefix: String = "") -> NamedMatrices<T> {
        layers.enumerated().flatMap { i, l in l.namedBuffers.map { ("\(prefix)\(i).\($0.name)", $0.value) } }
    }

    /// Parameters and buffers interleaved per layer, as PyTorch's `state_dict()`.
    @inlinable public func stateDict(prefix: String = "") -> NamedMatrices<T> {
        layers.enumerated().flatMap { i, l in
            (l.namedParameters + l.namedBuffers).map { ("\(prefix)\(i).\($0.name)", $0.value) }
        }
    }

    /// Gradients with the names and order of `namedParameters(prefix:)`.
    @inlinable public func namedGradients(_ g: Gradients, prefix: String = "") -> NamedMatrices<T> {
        precondition(g.layers.count == layers.count,
                     "Sequential.namedGradients: \(g.layers.count) gradients for \(layers.count) layers")
        return g.layers.enumerated().flatMap { i, lg in
            Layer<T>.namedGradients(lg).map { ("\(prefix)\(i).\($0.name)", $0.value) }
        }
    }

    /// Sets every entry of `list` whose name starts with `prefix`. `expected` names must all be present;
    /// with `strict`, no other name under `prefix` may appear. Nothing changes if an error is thrown.
    @inlinable mutating func _load(_ list: NamedMatrices<T>, expected: [String], prefix: String, strict: Bool) throws {
        let ours = list.filter { $0.name.hasPrefix(prefix) }
        let allowed = Set(stateDict(prefix: prefix).map { $0.name })
        let dict = try _dictionary(ours, expected: expected, allowed: allowed, strict: strict)
        var updated = self
        for name in expected {
            let rest = name.dropFirst(prefix.count)
            guard let dot = rest.firstIndex(of: "."), let index = Int(rest[rest.startIndex..<dot]),
                  index >= 0 && index < layers.count else { throw StateLoadingError.unexpected([name]) }
            try updated.layers[index].set(String(rest[rest.index(after: dot)...]), dict[name]!, qualifiedName: name)
        }
        self = updated
    }

    /// Loads trainable parameters by name; buffer entries in `list` are ignored.
    @inlinable public mutating func setParameters(_ list: NamedMatrices<T>, prefix: String = "", strict: Bool = true) throws {
        try _load(list, expected: namedParameters(prefix: prefix).map { $0.name }, prefix: prefix, strict: strict)
    }

    /// Loads parameters and buffers by name, as PyTorch's `load_state_dict`. With `strict`, every
    /// entry must be present and no other name under `prefix` may appear.
    @inlinable public mutating func loadStateDict(_ list: NamedMatrices<T>, prefix: String = "", strict: Bool = true) throws {
        try _load(list, expected: stateDict(prefix: prefix).map { $0.name }, prefix: prefix, strict: strict)
    }
}
