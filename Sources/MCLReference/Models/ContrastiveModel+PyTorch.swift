import Foundation

/// PyTorch's shapes and dtypes for a model's named tensors — the one place that decides how a state
/// dict, a gradient or an optimiser value leaves (and re-enters) mcl-ref.
///
/// mcl-ref holds every tensor as a matrix: a Linear weight out×in, a Conv2d weight O×(C·kh·kw) (the
/// same memory as PyTorch's (O, C, kh, kw)), every vector 1×n and a counter 1×1. PyTorch's
/// `state_dict()` of the same `nn.Sequential` has:
///
///     Linear      weight (out, in) float   bias (out,) float
///     Conv2d      weight (O, C, kh, kw)    bias (O,)
///     BatchNorm   weight, bias, running_mean, running_var (C,) float   num_batches_tracked () int64
///
/// Floats keep the model's precision (float32 for `Float`) and their bits; only the shape (and for the
/// counters the dtype) changes. Names are `state_dict()` names (`encoder.0.weight`); optimiser values
/// named `<parameter>.<field>` (`encoder.0.weight.exp_avg`) take their parameter's shape, except the
/// counter `<parameter>.step`, an int64 0-d tensor (as `torch.optim.Adam` keeps it).
public struct PyTorchLayout: Sendable, Equatable {
    /// (state-dict name, PyTorch shape) of every parameter and buffer, in `state_dict()` order.
    public let entries: [(name: String, shape: [Int])]
    private let shapes: [String: [Int]]

    /// The layout of `model`'s state dict (its architecture decides the shapes, not its values).
    public init<T: MCLFloat>(_ model: ContrastiveModel<T>) {
        entries = PyTorchLayout.entries(model.encoder, prefix: "encoder.") + PyTorchLayout.entries(model.head, prefix: "head.")
        shapes = Dictionary(entries.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
    }

    public static func == (a: PyTorchLayout, b: PyTorchLayout) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.shape == $1.shape }
    }

    private static func entries<T>(_ net: Sequential<T>, prefix: String) -> [(name: String, shape: [Int])] {
        net.layers.enumerated().flatMap { i, layer -> [(name: String, shape: [Int])] in
            (layer.namedParameters + layer.namedBuffers).map { field, m in
                let shape: [Int]
                switch (layer, field) {
                case (.linear, "weight"): shape = [m.rows, m.cols]
                case let (.conv2d(c), "weight"): shape = [c.outChannels, c.inChannels, c.geometry.kernelH, c.geometry.kernelW]
                case (_, "num_batches_tracked"): shape = []
                default: shape = [m.count]
                }
                return ("\(prefix)\(i).\(field)", shape)
            }
        }
    }

    /// Whether `name` is held as an int64 0-d tensor (a BatchNorm counter or an optimiser step).
    public static func isCounter(_ name: String) -> Bool {
        name.hasSuffix(".num_batches_tracked") || name.hasSuffix(".step")
    }

    /// PyTorch's shape of `name`: a state-dict entry, a gradient (its parameter's name), or an
    /// optimiser value `<parameter>.<field>`. Nil for a name the model does not have.
    public func shape(of name: String) -> [Int]? {
        if let s = shapes[name] { return s }
        if PyTorchLayout.isCounter(name) { return [] }
        guard let dot = name.lastIndex(of: ".") else { return nil }
        return shapes[String(name[..<dot])]
    }

    /// `m` (mcl-ref's matrix for `name`) as PyTorch's tensor: same float bits, PyTorch's shape; a
    /// counter as int64 0-d. Precondition: `name` belongs to the model and `m` has its element count.
    public func array<T: MCLFloat>(_ name: String, _ m: Matrix<T>) -> NPYArray {
        guard let shape = shape(of: name) else { preconditionFailure("PyTorchLayout: '\(name)' is not a tensor of this model") }
        if PyTorchLayout.isCounter(name) {
            precondition(m.count == 1, "PyTorchLayout: counter '\(name)' holds \(m.count) values")
            return try! NPYArray(ints: [Int(m.storage[0])], shape: [])
        }
        precondition(m.count == shape.reduce(1, *), "PyTorchLayout: '\(name)' is \(m.shapeDescription), PyTorch shape \(shape)")
        let flat = NPYArray(m)  // rows×cols of the model's precision
        return try! NPYArray(shape: shape, dtype: flat.dtype, bytes: flat.bytes)
    }

    /// Every entry of `list` in PyTorch's shape, in order.
    public func arrays<T: MCLFloat>(_ list: NamedMatrices<T>) -> [(name: String, array: NPYArray)] {
        list.map { ($0.name, array($0.name, $0.value)) }
    }

    /// The inverse of `array`: PyTorch's tensor for `name` as mcl-ref's `rows`×`cols` matrix. The
    /// shape must be PyTorch's exactly; floats must have `T`'s precision (so every bit is kept),
    /// counters an integer dtype. Errors are `StateLoadingError.shapeMismatch` naming the entry.
    public func matrix<T: MCLFloat>(_ name: String, _ a: NPYArray, rows: Int, cols: Int, as: T.Type = T.self) throws -> Matrix<T> {
        let want = T.self == Float.self ? NPYDType.float32 : .float64
        guard let shape = shape(of: name) else { throw StateLoadingError.unexpected([name]) }
        let expected = PyTorchLayout.isCounter(name) ? "int64 \(NPYArray.describe(shape))" : "\(want.descr) \(NPYArray.describe(shape))"
        let got = "\(a.dtype.descr) \(NPYArray.describe(a.shape))"
        guard a.shape == shape, PyTorchLayout.isCounter(name) ? !a.dtype.isFloatingPoint : a.dtype == want else {
            throw StateLoadingError.shapeMismatch(name: name, expected: expected, got: got)
        }
        if PyTorchLayout.isCounter(name) {
            return Matrix(rows: rows, cols: cols, storage: try a.asInts().values.map { T($0) })
        }
        return try NPYArray(shape: [rows, cols], dtype: a.dtype, bytes: a.bytes).asMatrix(T.self)
    }
}

extension ContrastiveModel {
    /// The model's `state_dict()` as PyTorch holds it (see `PyTorchLayout`): what `train --out`,
    /// checkpoints, `stage<j>.safetensors` and `trace` write.
    public func pytorchStateDict() -> [(name: String, array: NPYArray)] {
        PyTorchLayout(self).arrays(stateDict())
    }

    /// Loads a state dict in PyTorch's shapes and dtypes, as `load_state_dict(..., strict=True)`:
    /// every entry present, no other name, each with PyTorch's shape. Unchanged if it throws.
    public mutating func loadPyTorchStateDict(_ tensors: [(name: String, array: NPYArray)]) throws {
        let layout = PyTorchLayout(self)
        var given = [String: NPYArray]()
        for (name, a) in tensors {
            guard given.updateValue(a, forKey: name) == nil else { throw StateLoadingError.duplicate(name) }
        }
        let current = stateDict()
        let missing = current.map { $0.name }.filter { given[$0] == nil }
        if !missing.isEmpty { throw StateLoadingError.missing(missing) }
        let known = Set(current.map { $0.name })
        let extra = tensors.map { $0.name }.filter { !known.contains($0) }
        if !extra.isEmpty { throw StateLoadingError.unexpected(extra) }
        let list: NamedMatrices<T> = try current.map { name, m in
            (name, try layout.matrix(name, given[name]!, rows: m.rows, cols: m.cols, as: T.self))
        }
        try loadStateDict(list)
    }
}
