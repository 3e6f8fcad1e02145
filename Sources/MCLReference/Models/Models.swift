/// The networks of the synthetic experiments: an MLP encoder f and a SimCLR projection head g, and
/// the pair run together (x → representation h = f(x) → embedding z = g(h)).
///
/// Dimension legend: B batch, D input width, R representation width, E embedding width.
extension Sequential {
    /// MLP encoder D → hidden… → R. Each hidden width w adds the block Linear(·, w) → BatchNorm1d(w) →
    /// ReLU; the last layer is Linear(·, R), followed by BatchNorm1d(R) when `batchNormOnOutput`, and
    /// no activation (the representation may be negative, as the output of a linear probe's input
    /// usually is in MLP encoders). E.g. D=8, hidden [32], R=16:
    /// `0` Linear(8,32), `1` BN(32), `2` ReLU, `3` Linear(32,16). With `batchNorm: false` the hidden
    /// blocks are Linear → ReLU (indices shift accordingly).
    @inlinable public static func mlpEncoder(inputWidth: Int, hiddenWidths: [Int], outputWidth: Int,
                                              batchNormOnOutput: Bool = false, batchNorm: Bool = true,
                                              rng: inout RNG) -> Sequential {
        var layers = [Layer<T>]()
        var width = inputWidth
        for w in hiddenWidths {
            layers.append(.linear(Linear(inFeatures: width, outFeatures: w, rng: &rng)))
            if batchNorm { layers.append(.batchNorm1d(BatchNorm1d(numFeatures: w))) }
            layers.append(.relu(ReLU()))
            width = w
        }
        layers.append(.linear(Linear(inFeatures: width, outFeatures: outputWidth, rng: &rng)))
        if batchNormOnOutput { layers.append(.batchNorm1d(BatchNorm1d(numFeatures: outputWidth))) }
        return Sequential(layers)
    }

    /// Small CIFAR-style convolutional encoder (C, H, W) → R for the image data sets.
    ///
    /// - Stem: Conv2d(C, w₀, 3×3, stride 1, padding 1) → BatchNorm2d(w₀) → ReLU, with no max-pool
    ///   (as CIFAR ResNets: 32×32 inputs are too small to downsample at the stem).
    /// - For each further width wᵢ: Conv2d(wᵢ₋₁, wᵢ, 3×3, stride 2, padding 1) → BatchNorm2d(wᵢ) → ReLU,
    ///   halving H and W (rounding up: ⌊(H − 1)/2⌋ + 1).
    /// - GlobalAvgPool (PyTorch `AdaptiveAvgPool2d(1)`) → Flatten → Linear(w_last, R). No activation on
    ///   the representation, as `mlpEncoder`.
    ///
    /// The convolutions keep their bias (PyTorch `bias=True`); before BatchNorm it has no effect in
    /// train mode (its gradient is 0 up to rounding) but keeps the state dict of a plain `nn.Conv2d`.
    /// E.g. inputShape [3, 32, 32], widths [16, 32, 64], R = 128: `0` Conv2d(3,16) 32×32, `1` BN2d,
    /// `2` ReLU, `3` Conv2d(16,32,s2) 16×16, `4` BN2d, `5` ReLU, `6` Conv2d(32,64,s2) 8×8, `7` BN2d,
    /// `8` ReLU, `9` GlobalAvgPool, `10` Flatten, `11` Linear(64,128); the PyTorch equivalent is the
    /// same `nn.Sequential` of `nn.Conv2d`/`nn.BatchNorm2d`/`nn.ReLU`/`nn.AdaptiveAvgPool2d(1)`/
    /// `nn.Flatten()`/`nn.Linear`, with conv weights reshaped to O×(C·3·3).
    /// - Shape: x B×(C·H·W) → representation B×R.
    @inlinable public static func cnnEncoder(inputShape: [Int], widths: [Int], outputWidth: Int,
                                             rng: inout RNG) -> Sequential {
        precondition(!widths.isEmpty && widths.allSatisfy { $0 > 0 },
                     "cnnEncoder: widths=\(widths) must be non-empty and positive")
        precondition(outputWidth > 0, "cnnEncoder: outputWidth=\(outputWidth) must be positive")
        var shape = ImageShape(inputShape)
        var layers = [Layer<T>]()
        for (i, w) in widths.enumerated() {
            let conv = Conv2d<T>(inputShape: shape, outChannels: w, kernelSize: 3, stride: i == 0 ? 1 : 2,
                                 padding: 1, rng: &rng)
            layers.append(.conv2d(conv))
            layers.append(.batchNorm2d(BatchNorm2d(numFeatures: w)))
            layers.append(.relu(ReLU()))
            shape = conv.outputShape
        }
        layers.append(.globalAvgPool(GlobalAvgPool(channels: shape.channels)))
        layers.append(.flatten(Flatten(inputShape: ImageShape(channels: shape.channels, height: 1, width: 1))))
        layers.append(.linear(Linear(inFeatures: shape.channels, outFeatures: outputWidth, rng: &rng)))
        return Sequential(layers)
    }

    /// SimCLR projection head R → hidden → E: Linear(R, hidden) → BatchNorm1d(hidden) (when
    /// `batchNorm`, as lightly's `SimCLRProjectionHead`; SimCLR v1 has none) → ReLU → Linear(hidden, E).
    /// Indices: with BN `0` Linear, `1` BN, `2` ReLU, `3` Linear; without BN `0` Linear, `1` ReLU,
    /// `2` Linear.
    @inlinable public static func projectionHead(inputWidth: Int, hiddenWidth: Int, outputWidth: Int,
                                                  batchNorm: Bool = true, rng: inout RNG) -> Sequential {
        var layers: [Layer<T>] = [.linear(Linear(inFeatures: inputWidth, outFeatures: hiddenWidth, rng: &rng))]
        if batchNorm { layers.append(.batchNorm1d(BatchNorm1d(numFeatures: hiddenWidth))) }
        layers.append(.relu(ReLU()))
        layers.append(.linear(Linear(inFeatures: hiddenWidth, outFeatures: outputWidth, rng: &rng)))
        return Sequential(layers)
    }
}

/// Encoder f followed by projection head g. Names: `encoder.<i>.<field>`, then `head.<i>.<field>`.
/// The loss is computed on the embedding z; downstream tasks use the representation h.
public struct ContrastiveModel<T: MCLFloat>: Equatable, Sendable {
    public var encoder: Sequential<T>
    public var head: Sequential<T>

    @inlinable public init(encoder: Sequential<T>, head: Sequential<T>) {
        self.encoder = encoder; self.head = head
    }

    public struct Cache: Sendable {
        public var encoder: Sequential<T>.Cache
        public var head: Sequential<T>.Cache
        @inlinable public init(encoder: Sequential<T>.Cache, head: Sequential<T>.Cache) { self.encoder = encoder; self.head = head }
    }

    public struct Gradients: Equatable, Sendable {
        public var encoder: Sequential<T>.Gradients
        public var head: Sequential<T>.Gradients
        @inlinable public init(encoder: Sequential<T>.Gradients, head: Sequential<T>.Gradients) { self.encoder = encoder; self.head = head }
    }

    /// h = f(x), z = g(h). In `.train`, BatchNorm running statistics are updated.
    /// - Shape: x B×D → representation B×R, embedding B×E.
    /// With a `profiler`, layers are timed under "<scope>encoder …" and "<scope>head …".
    @inlinable public mutating func forward(_ x: Matrix<T>, mode: Mode, profiler: StepProfiler? = nil, scope: String = "")
        -> (representation: Matrix<T>, embedding: Matrix<T>, cache: Cache) {
        profiler?.scope = scope + "encoder"
        let (h, ce) = encoder.forward(x, mode: mode, profiler: profiler)
        profiler?.scope = scope + "head"
        let (z, ch) = head.forward(h, mode: mode, profiler: profiler)
        profiler?.scope = ""
        return (h, z, Cache(encoder: ce, head: ch))
    }

    /// Representations in eval mode (no state change): what is clustered and probed.
    /// - Shape: x B×D → B×R.
    @inlinable public func represent(_ x: Matrix<T>) -> Matrix<T> { encoder(x) }

    /// Backpropagates dL/dz (and optionally an extra dL/dh on the representation) to all parameters.
    /// With `inputGradient: false` (only parameter gradients wanted) the encoder's first layer may
    /// skip dInput (a Conv2d stem returns B×0).
    /// - Shape: dEmbedding B×E, dRepresentation B×R → dInput B×D.
    @inlinable public func backward(_ dEmbedding: Matrix<T>, _ cache: Cache, dRepresentation: Matrix<T>? = nil,
                                    inputGradient: Bool = true,
                                    profiler: StepProfiler? = nil) -> (dInput: Matrix<T>, gradients: Gradients) {
        profiler?.scope = "head"
        var (dh, gh) = head.backward(dEmbedding, cache.head, profiler: profiler)
        if let extra = dRepresentation { axpy(1, extra, &dh) }
        profiler?.scope = "encoder"
        let (dx, ge) = encoder.backward(dh, cache.encoder, inputGradient: inputGradient, profiler: profiler)
        profiler?.scope = ""
        return (dx, Gradients(encoder: ge, head: gh))
    }

    /// Trainable parameters: `encoder.*` then `head.*`.
    @inlinable public func namedParameters() -> NamedMatrices<T> {
        encoder.namedParameters(prefix: "encoder.") + head.namedParameters(prefix: "head.")
    }

    /// Buffers (BatchNorm running statistics and counters).
    @inlinable public func namedBuffers() -> NamedMatrices<T> {
        encoder.namedBuffers(prefix: "encoder.") + head.namedBuffers(prefix: "head.")
    }

    /// Parameters and buffers in PyTorch `state_dict()` order.
    @inlinable public func stateDict() -> NamedMatrices<T> {
        encoder.stateDict(prefix: "encoder.") + head.stateDict(prefix: "head.")
    }

    /// Gradients with the names and order of `namedParameters()`.
    @inlinable public func namedGradients(_ g: Gradients) -> NamedMatrices<T> {
        encoder.namedGradients(g.encoder, prefix: "encoder.") + head.namedGradients(g.head, prefix: "head.")
    }

    /// Throws `.unexpected` for names that belong to neither the encoder nor the head (the parts
    /// reject unknown names under their own prefix).
    @inlinable static func rejectOutsideNames(_ list: NamedMatrices<T>) throws {
        let extra = list.map { $0.name }.filter { !$0.hasPrefix("encoder.") && !$0.hasPrefix("head.") }
        if !extra.isEmpty { throw StateLoadingError.unexpected(extra) }
    }

    /// Loads trainable parameters by name (buffer entries ignored). Unchanged if it throws.
    @inlinable public mutating func setParameters(_ list: NamedMatrices<T>, strict: Bool = true) throws {
        var copy = self
        try copy.encoder.setParameters(list, prefix: "encoder.", strict: strict)
        try copy.head.setParameters(list, prefix: "head.", strict: strict)
        if strict { try ContrastiveModel.rejectOutsideNames(list) }
        self = copy
    }

    /// Loads parameters and buffers by name, as `load_state_dict`. Unchanged if it throws.
    @inlinable public mutating func loadStateDict(_ list: NamedMatrices<T>, strict: Bool = true) throws {
        var copy = self
        try copy.encoder.loadStateDict(list, prefix: "encoder.", strict: strict)
        try copy.head.loadStateDict(list, prefix: "head.", strict: strict)
        if strict { try ContrastiveModel.rejectOutsideNames(list) }
        self = copy
    }
}
