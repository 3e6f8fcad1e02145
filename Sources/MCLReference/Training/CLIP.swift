import Foundation

/// CLIP (Radford et al. 2021) as an objective of the one training step (TrainingStep.swift): the
/// step's model is the **image tower** (encoder f + projection head g), this objective holds the
/// **text tower** (Models/TextTower.swift) and the learnable **logit scale**.
///
/// Dimension legend: B pairs in the batch, D image width (C·H·W), L caption length, E joint embedding width.
///
/// One step on B (image, caption) pairs: z = g(f(x)) (B×E, train mode), y = TextTower(captions)
/// (B×E), L = `CLIPLoss` with τ = 1/s, s = exp(θ), over the B×B image–text logits, pairs on the
/// diagonal; with pseudo labels (MCL stages, Eq. 3) pair j is a negative for anchor i only if their
/// labels are equal, image→text and text→image. dL/dz goes back through the image tower (the step);
/// dL/dy through the text tower unless it is **locked**; dL/dθ always.
///
/// Trainable tensors the objective owns (`Objective.trainableTensors`, positions after the image
/// tower's): the text tower's (embedding, MLP) unless locked, then θ (`logit_scale`, one element,
/// PyTorch/OpenCLIP's name — it stores the log of the scale). A locked text tower gets neither a
/// backward pass nor an update (OpenCLIP's `lock_text`: requires_grad = False).
///
/// **The clamp.** θ starts at ln(1/0.07) and after every optimiser update is clamped to [0, ln 100],
/// as OpenCLIP does in its training loop (`logit_scale.clamp_(0, math.log(100))` under no_grad). It is
/// a projection after the step, not part of the graph: the gradient is the unclamped ∂L/∂θ
/// (`CLIPLoss.Output.dLogScale`); at the bound a positive update is simply undone (Adam's moments keep
/// the gradient's history).
public struct CLIP<T: MCLFloat>: Sendable {
    public var textTower: TextTower<T>
    /// θ, one element: the logit scale is s = exp(θ).
    public var logScale: [T]
    /// Locked: no backward through the text tower and no update of it (MCL stages ≥ 1).
    public var textLocked: Bool

    /// ln(1/0.07), CLIP's initial θ.
    public static var initialLogScale: Double { Foundation.log(1 / 0.07) }
    /// ln 100, the largest θ (s ≤ 100).
    public static var maxLogScale: Double { Foundation.log(100.0) }

    public init(textTower: TextTower<T>, logScale: Double = CLIP.initialLogScale, textLocked: Bool = false) {
        precondition(logScale.isFinite, "CLIP: logScale must be finite, got \(logScale)")
        self.textTower = textTower
        self.logScale = [T(min(max(logScale, 0), CLIP.maxLogScale))]
        self.textLocked = textLocked
    }

    /// s = exp(θ).
    public var logitScale: T { T(Foundation.exp(Double(logScale[0]))) }

    /// The loss at the current scale.
    public var loss: CLIPLoss<T> { CLIPLoss(temperature: 1 / logitScale) }

    /// What one loss evaluation gives the step.
    public struct StepLoss: Sendable {
        public var loss: T
        /// z, the image embeddings B×E.
        public var imageEmbeddings: Matrix<T>
        /// dL/dz, B×E, and the image tower's cache for the step's backward.
        public var dImage: Matrix<T>
        public var cache: ContrastiveModel<T>.Cache
        /// The objective's own gradients in `trainableTensors` order (text tower unless locked, then θ).
        public var objectiveGradients: [[T]]
    }

    /// Forward both towers and the loss; backward through the text tower (unless locked); ∂L/∂θ.
    /// - Shape: images B×D, captions B×L, labels B (or nil) → image embeddings B×E.
    public func stepLoss(model: inout ContrastiveModel<T>, images: Matrix<T>, captions: [[Int]], labels: [Int]?,
                         profiler: StepProfiler? = nil) -> StepLoss {
        precondition(captions.count == images.rows, "CLIP: \(captions.count) captions for \(images.rows) images")
        let (_, z, cache) = model.forward(images, mode: .train, profiler: profiler)
        let (y, textCache) = textTower.forward(captions)
        let clipLoss = loss
        let out = clipLoss(image: z, text: y, labels: labels)
        var grads: [[T]] = []
        if !textLocked {
            grads = TextTower<T>.gradientTensors(textTower.backward(out.dText, textCache))
        }
        grads.append([out.dLogScale])
        return StepLoss(loss: out.loss, imageEmbeddings: z, dImage: out.dImage, cache: cache, objectiveGradients: grads)
    }

    /// The tensors the optimiser updates after the image tower's.
    public var trainableTensors: [[T]] { (textLocked ? [] : textTower.parameterTensors) + [logScale] }

    /// `text.embedding.weight`, `text.mlp.<i>.<field>` (unless locked), `logit_scale`.
    public var trainableNames: [String] {
        (textLocked ? [] : textTower.namedParameters(prefix: "text.").map { $0.name }) + ["logit_scale"]
    }

    /// Calls `body` on each trainable tensor (positions from `offset`), then clamps θ to [0, ln 100].
    public mutating func updateTrainableParameters(from offset: Int, _ body: (Int, inout [T]) -> Void) {
        var next = offset
        if !textLocked { next = textTower.updateParameters(from: offset, body) }
        body(next, &logScale)
        logScale[0] = T(min(max(Double(logScale[0]), 0), CLIP<T>.maxLogScale))
    }

    // MARK: Evaluation

    /// L2-normalised text embeddings of `captions` (B×E), for similarity matrices.
    public func textEmbeddings(_ captions: [[Int]]) -> Matrix<T> {
        L2Normalize<T>().forward(textTower.forward(captions).output).output
    }
}
