import Foundation

/// A CLIP model: the image tower (encoder f + projection head g, what `TrainingStep.model` trains)
/// and the objective's text tower and logit scale.
public struct CLIPModel<T: MCLFloat>: Sendable {
    public var image: ContrastiveModel<T>
    public var clip: CLIP<T>

    public init(image: ContrastiveModel<T>, clip: CLIP<T>) { self.image = image; self.clip = clip }

    /// L2-normalised image embeddings (eval mode), N×E: the vectors compared with captions.
    public func imageEmbeddings(_ x: Matrix<T>) -> Matrix<T> {
        L2Normalize<T>().forward(image.head(image.representations(x))).output
    }

    /// L2-normalised text embeddings, N×E.
    public func textEmbeddings(_ captions: [[Int]]) -> Matrix<T> { clip.textEmbeddings(captions) }
}

/// What one CLIP stage leaves behind.
public struct CLIPStage<T: MCLFloat>: Sendable {
    public var stage: Int
    public var model: CLIPModel<T>
    /// Normalised image embeddings of the training images (what K-means clusters), M×E.
    public var trainEmbeddings: Matrix<T>
    /// K-means (K clusters, rows normalised) on `trainEmbeddings`: Y_j for the later stages.
    public var clustering: KMeansResult<T>
    /// The dense pseudo labels this stage trained with (Eq. 2; all 0 at stage 0).
    public var pseudoLabels: [Int]
    /// Mean loss per epoch.
    public var epochLosses: [Double]
    public var seconds: Double
}

/// Multistage CLIP as the paper's multimodal setting and the official code (official-code-notes §5):
///
/// - **Stage 0 (pretraining)**: both towers from scratch, plain CLIP loss, every parameter trained
///   (the paper starts from OpenAI's weights; here stage 0 *is* that pretraining).
/// - **Stage j ≥ 1**: K-means (K = `clusters`) on each earlier stage's normalised image embeddings of
///   the training images, pseudo labels of all earlier stages (Eq. 2), feature-aware negatives in the
///   CLIP loss (Eq. 3, both directions; `mask` or `cluster-batch` sampler), the stage **starts from
///   the stage-0 weights** (not the previous stage's), the **text tower locked** (stage 0's, no
///   backward, no update), and with `trainableLayers` = N only the last N *layers* of the image tower
///   trained.
/// - **Integration** (Eq. 5 with a shared locked text tower): the per-stage normalised image
///   embeddings concatenated, [â₀, …, â_{N−1}], against the text embedding repeated, [t̂, …, t̂]:
///   their dot product is Σ_j cos(â_j, t̂), the sum of the stages' cosines (`integratedSimilarity`).
///
/// **"Layer"** for `trainableLayers`: a *parameterised* layer of the image tower, counted over the
/// encoder then the head — Conv2d, Linear, BatchNorm (each holds two tensors); ReLU, pooling and
/// flatten have nothing to train and are not counted. N = 2 with the default head (Linear → BN → ReLU
/// → Linear) trains the head's BatchNorm and last Linear; N ≥ the number of such layers trains all.
/// (OpenCLIP's `lock_image_unlocked_groups` counts ViT blocks; a block here is one layer.) Frozen
/// layers' BatchNorm running statistics still move in train mode, as in PyTorch with
/// requires_grad = False.
///
/// Images are not augmented: the caption is each image's positive, as CLIP.
public struct CLIPTrainer<T: MCLFloat> {
    /// Method `.clip`; uses stages, clusters, epochs, batchSize, learningRate, weightDecay, optimizer,
    /// warmup/cosine, sampler, encoder (+ widths), head widths, embeddingWidth, trainableLayers,
    /// kmeansRestarts, seed.
    public var configuration: MCLConfiguration
    /// W and H of the text tower (its output is `embeddingWidth`).
    public var wordWidth = 32
    public var textHidden = 64

    public init(configuration: MCLConfiguration) { self.configuration = configuration }

    /// Number of parameterised layers of `model` (encoder then head), as `trainableLayers` counts them.
    public static func parameterisedLayerCount(_ model: ContrastiveModel<T>) -> Int {
        (model.encoder.layers + model.head.layers).filter { $0.parameterTensorCount > 0 }.count
    }

    /// The model positions frozen by "only the last n layers train" (the tensors of all earlier
    /// parameterised layers): 0 when n is nil or ≥ the layer count.
    public static func frozenPositions(_ model: ContrastiveModel<T>, trainableLayers n: Int?) -> Int {
        guard let n else { return 0 }
        let layers = (model.encoder.layers + model.head.layers).filter { $0.parameterTensorCount > 0 }
        let frozen = max(layers.count - n, 0)
        return layers.prefix(frozen).reduce(0) { $0 + $1.parameterTensorCount }
    }

    /// A fresh CLIP model: the image tower as `StageTrainer.initialModel` (stream `stream`), then the
    /// text tower from the RNG that leaves; θ = ln(1/0.07). Returns the RNG left for the sampler.
    public func initialModel(sampleShape: [Int], vocabularySize: Int, stream: UInt64) -> (CLIPModel<T>, RNG) {
        var (image, rng) = StageTrainer<T>(configuration: configuration).initialModel(sampleShape: sampleShape, stream: stream)
        var textRNG = rng.split()
        let text = TextTower<T>(vocabularySize: vocabularySize, wordWidth: wordWidth, hiddenWidth: textHidden,
                                outputWidth: configuration.embeddingWidth, rng: &textRNG)
        return (CLIPModel(image: image, clip: CLIP(textTower: text)), rng)
    }

    /// Trains one stage from `start` (stage 0: a fresh model; later: the stage-0 model, text locked).
    /// - Parameters:
    ///   - images: M×D rows of shape `sampleShape`; captions: M token rows.
    ///   - pseudoLabels: dense group per image (Eq. 2), nil at stage 0.
    ///   - stream: the stage's RNG stream (sampler seed; stage 0 also its initial weights).
    /// - Returns: the trained model and the mean loss of each epoch.
    ///   - fromPretrained: a later stage's setting (text tower locked, `trainableLayers`); default: when
    ///     pseudo labels are given.
    public func trainStage(images: Matrix<T>, captions: [[Int]], start: CLIPModel<T>, pseudoLabels: [Int]?,
                           fromPretrained: Bool? = nil, rng startRNG: RNG, name: String,
                           progress: (TrainingEvent) -> Void) throws -> (CLIPModel<T>, [Double]) {
        let later = fromPretrained ?? (pseudoLabels != nil)
        let c = configuration
        precondition(captions.count == images.rows, "CLIPTrainer: \(captions.count) captions for \(images.rows) images")
        var rng = startRNG
        let strategy: NegativeSamplingStrategy = pseudoLabels == nil ? .mask : c.sampler
        let groups = pseudoLabels ?? [Int](repeating: 0, count: images.rows)
        let sampler = try makeBatchSampler(strategy, pseudoLabels: groups, batchSize: c.batchSize, seed: rng.next(), dropLast: true)
        let batchesPerEpoch = sampler.batches(epoch: 0).count
        guard batchesPerEpoch > 0 else {
            throw TrainingError(message: "\(name): no batch of \(c.batchSize) pairs can be formed from \(images.rows) pairs",
                                settings: [.batchSize])
        }
        let totalSteps = batchesPerEpoch * c.epochs
        var clip = start.clip
        clip.textLocked = later
        let objective = Objective<T>.clip(clip)
        var step = TrainingStep(model: start.image, objective: objective,
                                optimizer: Optimizer<T>(c.optimizer, lr: c.learningRate, weightDecay: c.weightDecay))
        if later { step.frozenModelPositions = Self.frozenPositions(start.image, trainableLayers: c.trainableLayers) }
        let schedule = CosineSchedule(baseLR: c.learningRate, totalSteps: totalSteps,
                                      warmupSteps: Int((c.warmupFraction * Double(totalSteps)).rounded()),
                                      finalLR: c.cosineSchedule ? 0 : c.learningRate)
        var t = 0
        var epochLosses: [Double] = []
        for epoch in 0..<c.epochs {
            let began = DispatchTime.now().uptimeNanoseconds
            var sum = 0.0, samples = 0
            let batches = sampler.batches(epoch: epoch)
            for batch in batches {
                let labels = objective.lossLabels(batchLabels: pseudoLabels == nil ? nil : batch.map { groups[$0] }, sampler: strategy)
                let lr = schedule.lr(at: t)
                let result = step(views: images.gatherRows(batch), labels: labels, learningRate: lr,
                                  captions: batch.map { captions[$0] })
                switch result.status {
                case .ok: break
                case .nonFiniteLoss, .nonFiniteGradient:
                    throw TrainingError(message: "\(name), step \(t): the loss or a gradient is not finite; lower the learning rate",
                                        settings: [.learningRate])
                case .nonFiniteParameter(let k):
                    throw TrainingError(message: "\(name), step \(t): parameter \(step.parameterNames[k]) is not finite after the "
                        + "optimiser step; lower the learning rate", settings: [.learningRate])
                }
                sum += Double(result.loss)
                samples += batch.count
                t += 1
            }
            let loss = sum / Double(max(batches.count, 1))
            epochLosses.append(loss)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) * 1e-9
            progress(.epoch(stage: name, epoch: epoch + 1, epochs: c.epochs, loss: loss,
                            samplesPerSecond: Double(samples) / max(seconds, 1e-9)))
        }
        guard case .clip(let trained) = step.objective else { preconditionFailure("CLIPTrainer: the objective changed kind") }
        return (CLIPModel(image: step.model, clip: trained), epochLosses)
    }

    /// Stages 0..<N (see the type's doc comment). `resuming` stages 0..<n are taken as given;
    /// `stageCompleted` is called after each new stage (to write its files) before the next starts.
    public func run(images: Matrix<T>, captions: [[Int]], sampleShape: [Int], vocabularySize: Int,
                    progress: (TrainingEvent) -> Void = { _ in }, resuming completed: [CLIPStage<T>] = [],
                    stageCompleted: (CLIPStage<T>) throws -> Void = { _ in }) throws -> [CLIPStage<T>] {
        let c = configuration
        try c.validateInput(sampleShape: sampleShape)
        precondition(completed.count <= c.stages, "CLIPTrainer.run: \(completed.count) resumed stages of \(c.stages)")
        var stages = completed
        var history = completed.map { $0.clustering.labels }
        for j in completed.count..<c.stages {
            let began = DispatchTime.now().uptimeNanoseconds
            var (fresh, rng) = initialModel(sampleShape: sampleShape, vocabularySize: vocabularySize,
                                            stream: RNGStream.stageTraining(j))
            var labels: [Int]? = nil
            if j > 0 {
                fresh = stages[0].model   // every later stage starts again from the pretrained weights
                let p = try PseudoLabels(history: history, clusterCounts: history.map { _ in c.clusters }, sampleCount: images.rows)
                labels = p.labels
                if c.sampler == .clusterBatch && (p.groupSizes.max() ?? 0) < c.batchSize {
                    throw TrainingError(message: "stage \(j): no pseudo-label group has \(c.batchSize) pairs (largest "
                        + "\(p.groupSizes.max() ?? 0)), so cluster-batch cannot form a batch; lower the batch size or the "
                        + "clusters, or use the mask sampler", settings: [.batchSize, .clusters, .sampler])
                }
            }
            let (model, losses) = try trainStage(images: images, captions: captions, start: fresh, pseudoLabels: labels,
                                                 rng: rng, name: "stage \(j)", progress: progress)
            let z = model.imageEmbeddings(images)
            var kmRNG = RNG(seed: c.seed, stream: RNGStream.kmeans(j))
            let clustering = try KMeans<T>(clusterCount: c.clusters, nInit: c.kmeansRestarts, normalizeRows: true,
                                           seed: kmRNG.next()).fit(z)
            history.append(clustering.labels)
            let stage = CLIPStage(stage: j, model: model, trainEmbeddings: z, clustering: clustering,
                                  pseudoLabels: labels ?? [Int](repeating: 0, count: images.rows), epochLosses: losses,
                                  seconds: Double(DispatchTime.now().uptimeNanoseconds - began) * 1e-9)
            stages.append(stage)
            try stageCompleted(stage)
        }
        return stages
    }

    /// The control for a later stage: the same training from the stage-0 model (text locked,
    /// `trainableLayers`, stage 1's RNG stream, so the same batches under `mask`) but with the plain
    /// CLIP loss — no pseudo labels. What stage 1 gains over it is Eq. 3's doing, not more epochs.
    public func continuedWithoutPseudoLabels(images: Matrix<T>, captions: [[Int]], pretrained: CLIPModel<T>,
                                             sampleShape: [Int], vocabularySize: Int,
                                             progress: (TrainingEvent) -> Void = { _ in }) throws -> CLIPModel<T> {
        let (_, rng) = initialModel(sampleShape: sampleShape, vocabularySize: vocabularySize, stream: RNGStream.stageTraining(1))
        return try trainStage(images: images, captions: captions, start: pretrained, pseudoLabels: nil, fromPretrained: true,
                              rng: rng, name: "control", progress: progress).0
    }

    // MARK: Similarities for evaluation

    /// S[a, b] = cos(image a, caption b) with one stage's towers.
    /// - Shape: images N×D, captions K×L → N×K.
    public static func similarity(_ model: CLIPModel<T>, images: Matrix<T>, captions: [[Int]]) -> Matrix<T> {
        matmul(model.imageEmbeddings(images), model.textEmbeddings(captions), transB: .transpose)
    }

    /// The integration's similarity: [â₀, …, â_{N−1}]·[t̂, …, t̂]ᵀ = Σ_j cos_j(image, caption), with the
    /// text embedding of stage 0 (locked in every later stage, so it is every stage's).
    /// - Shape: images N×D, captions K×L → N×K.
    public static func integratedSimilarity(_ stages: [CLIPModel<T>], images: Matrix<T>, captions: [[Int]]) -> Matrix<T> {
        precondition(!stages.isEmpty, "integratedSimilarity: no stages")
        let text = stages[0].textEmbeddings(captions)
        let a = Matrix.hconcat(stages.map { $0.imageEmbeddings(images) })
        let t = Matrix.hconcat([Matrix<T>](repeating: text, count: stages.count))
        return matmul(a, t, transB: .transpose)
    }
}
