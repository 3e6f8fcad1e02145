import Foundation

/// A stage's training went wrong in a way that must stop the run (never a silently wrong number).
public struct TrainingError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// What the trainer reports while it runs (printed on stderr by the CLI).
public enum TrainingEvent: Sendable {
    /// End of an epoch: mean loss over its batches and throughput.
    case epoch(stage: String, epoch: Int, epochs: Int, loss: Double, samplesPerSecond: Double)
    /// A warning or note (e.g. the Eq. 4 budget is exceeded).
    case note(String)
    case stageFinished(StageReport)
}

/// Trains one stage's encoder f_j with SimCLR, from scratch (paper Sec. 4.1).
///
/// Each step: draw a batch from the sampler; make two augmented views of it; z = g(f(views)) in
/// train mode; loss = NT-Xent over the 2b views (Eq. 1), or its feature-aware form (Eq. 3) when the
/// sampler is `mask` and pseudo labels are given; backpropagate; one optimiser step. Under
/// `cluster-batch` every batch is drawn from one pseudo-label group, so the *plain* loss is Eq. 3.
public struct StageTrainer<T: MCLFloat> {
    public var configuration: MCLConfiguration
    /// Sees every stage start and step (TrainingObserver.swift); nil: nothing is recorded.
    public var observer: TrainingObserver<T>?

    public init(configuration: MCLConfiguration, observer: TrainingObserver<T>? = nil) {
        self.configuration = configuration
        self.observer = observer
    }

    /// A fresh model for stage stream `stream` and samples of `sampleShape` ([D], or [C, H, W] for
    /// the CNN encoder), and the RNG left for sampling and augmentation.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func initialModel(sampleShape: [Int], stream: UInt64) -> (ContrastiveModel<T>, RNG) {
        let c = configuration
        var rng = RNG(seed: c.seed, stream: stream)
        var initRNG = rng.split()
        let encoder = c.encoder == .cnn
            ? Sequential<T>.cnnEncoder(inputShape: sampleShape, widths: c.convWidths,
                                       outputWidth: c.representationWidth, rng: &initRNG)
            : Sequential<T>.mlpEncoder(inputWidth: sampleShape.reduce(1, *), hiddenWidths: c.encoderHidden,
                                       outputWidth: c.representationWidth, batchNorm: c.batchNorm, rng: &initRNG)
        let head = Sequential<T>.projectionHead(inputWidth: c.representationWidth, hiddenWidth: c.headHidden,
                                                outputWidth: c.embeddingWidth, batchNorm: c.batchNorm,
                                                rng: &initRNG)
        return (ContrastiveModel(encoder: encoder, head: head), rng)
    }

    /// Trains a fresh model on `x`.
    /// - Parameters:
    ///   - pseudoLabels: dense group id per sample (Eq. 2), or nil for plain SimCLR (stage 0).
    ///   - stream: the RNG stream of this stage (`1000 + j`).
    ///   - name: how progress names the stage, e.g. "stage 1".
    ///   - sampleShape: [C, H, W] of image rows (needed by the CNN encoder); nil means [D].
    /// - Returns: the trained model and the mean loss of the last epoch.
    /// - Shape: x M×D (D = C·H·W for images).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func train(_ x: Matrix<T>, pseudoLabels: [Int]?, stream: UInt64, name: String, sampleShape: [Int]? = nil,
                      progress: (TrainingEvent) -> Void) throws -> (model: ContrastiveModel<T>, loss: Double) {
        let c = configuration
        let shape = sampleShape ?? [x.cols]
        try c.validateInput(sampleShape: shape)
        var (model, rng) = initialModel(sampleShape: shape, stream: stream)
        let augment = makeAugmenter(sampleShape: shape)
        let groups = pseudoLabels ?? [Int](repeating: 0, count: x.rows)
        let strategy: NegativeSamplingStrategy = pseudoLabels == nil ? .mask : c.sampler
        let sampler = try makeBatchSampler(strategy, pseudoLabels: groups, batchSize: c.batchSize,
                                           seed: rng.next(), dropLast: true)
        var augRNG = rng.split()
        let useMask = pseudoLabels != nil && strategy == .mask
        let loss = NTXent<T>(temperature: T(c.temperature))
        var optimizer = Optimizer<T>(c.optimizer, lr: c.learningRate, weightDecay: c.weightDecay)
        let batchesPerEpoch = sampler.batches(epoch: 0).count
        guard batchesPerEpoch > 0 else {
            throw TrainingError(message: "\(name): no batch of \(c.batchSize) samples can be formed from \(x.rows) samples")
        }
        let totalSteps = batchesPerEpoch * c.epochs
        let schedule = CosineSchedule(baseLR: c.learningRate, totalSteps: totalSteps,
                                      warmupSteps: Int((c.warmupFraction * Double(totalSteps)).rounded()),
                                      finalLR: c.cosineSchedule ? 0 : c.learningRate)
        try observer?(.stageStarted(StageStartRecord(name: name, stream: stream, model: model, pseudoLabels: pseudoLabels,
                                                     maskedLoss: useMask, batchesPerEpoch: batchesPerEpoch, totalSteps: totalSteps)))
        var step = 0
        var lastLoss = Double.nan
        var lastFinite: Double?
        for epoch in 0..<c.epochs {
            let start = DispatchTime.now().uptimeNanoseconds
            var sum = 0.0, count = 0, samples = 0
            for batch in sampler.batches(epoch: epoch) {
                let xb = x.gatherRows(batch)
                let views = Matrix.vconcat([augment(xb, &augRNG), augment(xb, &augRNG)])
                let (_, z, cache) = model.forward(views, mode: .train)
                let out = loss(z, pseudoLabels: useMask ? batch.map { groups[$0] } : nil)
                let value = Double(out.loss)
                guard value.isFinite, out.dEmbeddings.isFinite else {
                    throw TrainingError(message: "\(name), step \(step): the loss or its gradient is not finite "
                        + "(last finite loss \(lastFinite.map { String(format: "%.6g", $0) } ?? "none")); "
                        + "lower the learning rate (--lr) or raise the temperature (--temperature)")
                }
                lastFinite = value
                let (_, grads) = model.backward(out.dEmbeddings, cache)
                var params = model.namedParameters()
                let named = model.namedGradients(grads)
                guard named.allSatisfy({ $0.value.isFinite }) else {
                    throw TrainingError(message: "\(name), step \(step): a parameter gradient is not finite "
                        + "(last finite loss \(String(format: "%.6g", value))); lower the learning rate (--lr)")
                }
                optimizer.lr = schedule.lr(at: step)
                optimizer.step(&params, gradients: named)
                if let bad = params.first(where: { !$0.value.isFinite }) {
                    throw TrainingError(message: "\(name), step \(step): parameter \(bad.name) is not finite after the "
                        + "optimiser step (last finite loss \(String(format: "%.6g", value)), learning rate "
                        + "\(String(format: "%.3g", optimizer.lr))); lower the learning rate (--lr)")
                }
                try model.setParameters(params)
                if let observer {
                    try observer(.step(TrainingStepRecord(name: name, epoch: epoch, step: step, batch: batch, views: views,
                                                          maskLabels: useMask ? batch.map { groups[$0] } : nil, loss: out.loss,
                                                          learningRate: optimizer.lr, gradients: named, model: model,
                                                          optimizer: optimizer)))
                }
                sum += value
                count += 1
                samples += batch.count
                step += 1
            }
            lastLoss = sum / Double(max(count, 1))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            progress(.epoch(stage: name, epoch: epoch + 1, epochs: c.epochs, loss: lastLoss,
                            samplesPerSecond: Double(samples) / max(seconds, 1e-9)))
        }
        return (model, lastLoss)
    }
}
