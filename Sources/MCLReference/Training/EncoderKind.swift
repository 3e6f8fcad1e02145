/// The image path of the MCL pipeline: which encoder a stage builds and which views it trains on.
///
/// Vectors (`encoder = .mlp`) use `Sequential.mlpEncoder` and `MCLConfiguration.augmentation`
/// (`VectorAugmentation`), exactly as before. Images (`encoder = .cnn`, samples with
/// `sampleShape == [C, H, W]`) use `Sequential.cnnEncoder(widths: convWidths)` and the
/// `ImageAugmentation` named by `imageAugmentation`; the projection head, loss, samplers, stages,
/// K-means and probes are the same for both.

/// The encoder architecture f of every stage (`--encoder mlp|cnn`).
public enum EncoderKind: String, Sendable, CaseIterable {
    /// `Sequential.mlpEncoder(hiddenWidths: encoderHidden)` on rows of D values.
    case mlp
    /// `Sequential.cnnEncoder(widths: convWidths)` on rows of C·H·W values (NCHW).
    case cnn
}

/// The image augmentation a CNN stage trains with (`--image-augmentation`), chosen by name so a
/// report or checkpoint can state it. See `ImageAugmentation` for what each step does and why each
/// built-in data set uses the steps it does.
public enum ImageAugmentationPreset: String, Sendable, CaseIterable {
    /// `ImageAugmentation.forTrifeature`: translation by S/8 only (colour is a feature; no flip).
    case trifeature
    /// `ImageAugmentation.forCifarMnistLike`: translation by S/16, contrast ±0.2 and brightness
    /// ±0.1 on channels 0–2 (the digit channels are left alone); no flip.
    case cifarMnistLike = "cifar-mnist-like"
    /// Translation by ⌊S/8⌋ pixels and nothing else: the default for user images, since it keeps
    /// colour, orientation and handedness intact.
    case translate
    /// Identity views (the two views differ only through BatchNorm's batch statistics).
    case none

    /// The augmentation for samples of `sampleShape` [C, H, W].
    public func augmentation(sampleShape: [Int]) -> ImageAugmentation {
        let shape = ImageShape(sampleShape)
        let size = min(shape.height, shape.width)
        switch self {
        case .trifeature, .translate:
            return ImageAugmentation(sampleShape: sampleShape, maxShift: size / 8)
        case .cifarMnistLike:
            return ImageAugmentation(sampleShape: sampleShape, maxShift: size / 16, brightness: 0.1, contrast: 0.2,
                                     jitterChannels: Array(0..<min(3, shape.channels)))
        case .none:
            return ImageAugmentation(sampleShape: sampleShape)
        }
    }
}

extension MCLConfiguration {
    /// The image settings as JSON entries; empty for the MLP encoder so vector reports are unchanged.
    var encoderJSON: [(String, JSONValue)] {
        guard encoder == .cnn else { return [] }
        return [("encoder", .string(encoder.rawValue)),
                ("conv_widths", .array(convWidths.map { .number(Double($0)) })),
                ("image_augmentation", .string(imageAugmentation.rawValue))]
    }

    /// Checks that samples of `sampleShape` fit the configured encoder; the message names the shape.
    public func validateInput(sampleShape: [Int]) throws {
        switch encoder {
        case .mlp:
            return
        case .cnn:
            guard sampleShape.count == 3, sampleShape.allSatisfy({ $0 > 0 }) else {
                throw TrainingError(message: "the cnn encoder needs image samples of shape [C, H, W], got "
                    + "\(sampleShape) (give images as a 4-D array (N, C, H, W), or use the MLP encoder)", settings: [.encoder])
            }
            guard !convWidths.isEmpty, convWidths.allSatisfy({ $0 > 0 }) else {
                throw TrainingError(message: "conv widths \(convWidths) must be non-empty and positive")
            }
        }
    }
}

extension StageTrainer {
    /// The two-view augmentation of a stage: vectors use `configuration.augmentation`; the CNN
    /// encoder uses the `imageAugmentation` preset for `sampleShape`.
    func makeAugmenter(sampleShape: [Int]) -> (Matrix<T>, inout RNG) -> Matrix<T> {
        let c = configuration
        switch c.encoder {
        case .mlp:
            let a = c.augmentation
            return { x, rng in a.apply(x, rng: &rng) }
        case .cnn:
            let a = c.imageAugmentation.augmentation(sampleShape: sampleShape)
            return { x, rng in a.apply(x, rng: &rng) }
        }
    }
}

extension ContrastiveModel {
    /// Whether the encoder contains a convolution (its evaluation is then chunked and parallel).
    @inlinable public var hasConvolution: Bool {
        encoder.layers.contains { if case .conv2d = $0 { return true } else { return false } }
    }

    /// Eval-mode representations of many images: rows in chunks of `chunk`, chunks in parallel.
    /// Eval mode treats every sample on its own, so the result equals one big `encoder(x)` row for
    /// row (the same products per row; GEMM results do not depend on the thread count).
    /// - Shape: x M×(C·H·W) → M×R.
    public func representInChunks(_ x: Matrix<T>, chunk: Int = 128) -> Matrix<T> {
        if x.rows <= chunk { return encoder(x) }
        let chunks = (x.rows + chunk - 1) / chunk
        var parts = [Matrix<T>?](repeating: nil, count: chunks)
        let enc = encoder
        parts.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(chunks) { i in
                let lo = i * chunk, hi = min(x.rows, lo + chunk)
                out[i] = enc(x.gatherRows(Array(lo..<hi)))
            }
        }
        return Matrix.vconcat(parts.map { $0! })
    }
}

extension ContrastiveModel {
    /// What the pipeline clusters and probes: `represent(x)` for vector encoders (unchanged),
    /// `representInChunks(x)` when the encoder convolves (bounded memory, parallel chunks).
    /// - Shape: x M×D → M×R.
    public func representations(_ x: Matrix<T>) -> Matrix<T> {
        hasConvolution ? representInChunks(x) : represent(x)
    }
}
