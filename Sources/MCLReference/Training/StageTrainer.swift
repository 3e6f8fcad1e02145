import Foundation

/// A stage's training went wrong in a way that must stop the run (never a silently wrong number).
///
/// The message speaks in the library's terms ("lower the learning rate"); `settings` names the
/// configuration fields that would avoid the error, so a front end can name its own flags for them
/// (the CLI prints `(--lr)`).
public struct TrainingError: Error, CustomStringConvertible {
    /// An `MCLConfiguration` setting a user may change.
    public enum Setting: String, Sendable {
        case learningRate, temperature, batchSize, clusters, stages, sampler, encoder, lossVariant, viewmaker
    }
    public var message: String
    public var settings: [Setting]
    public init(message: String, settings: [Setting] = []) { self.message = message; self.settings = settings }
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

/// Trains one stage's encoder f_j from scratch (paper Sec. 4.1) with the configured method.
///
/// Each step: draw a batch from the sampler; make two augmented views of it; one `TrainingStep`
/// (forward, the objective — SimCLR's NT-Xent or MoCo's queue InfoNCE —, backward, optimiser). With
/// pseudo labels the objective sees each sample's group (Eq. 3) where it needs it
/// (`Objective.lossLabels`): under `cluster-batch` every batch is drawn from one pseudo-label group,
/// so SimCLR's *plain* loss is Eq. 3; MoCo masks its queue under both samplers.
public struct StageTrainer<T: MCLFloat> {
    public var configuration: MCLConfiguration
    /// Sees every stage start and step (TrainingObserver.swift); nil: nothing is recorded.
    public var observer: TrainingObserver<T>?
    /// W ≥ 1 simulated DistributedDataParallel ranks (DataParallelStep.swift): each step takes one
    /// batch per rank from the sampler's rank r and applies the all-reduced (mean) gradient. 1: the
    /// ordinary single-process step. SimCLR only.
    public var worldSize: Int = 1

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

    /// The objective of a stage for `model` (MoCo copies it into its key model and draws its initial
    /// queue from `rng`; BYOL copies it into its target and draws its predictor's weights from `rng`),
    /// the queue length MoCo uses for `sampleCount` training samples, and BYOL's EMA schedule over
    /// `totalSteps` optimiser steps.
    public func makeObjective(model: ContrastiveModel<T>, sampleCount: Int, totalSteps: Int = 1, rng: inout RNG) -> Objective<T> {
        let c = configuration
        switch c.method {
        case .simclr:
            return .simclr(NTXent(temperature: T(c.initialTemperature), variant: c.lossVariant))
        case .moco:
            var moco = MoCo(online: model, momentum: T(c.mocoMomentum), temperature: T(c.initialTemperature),
                            queueLength: min(c.queueLength, sampleCount), embeddingWidth: c.embeddingWidth, rng: &rng)
            moco.loss.variant = c.lossVariant
            return .moco(moco)
        case .byol:
            let predictor = BYOL<T>.makePredictor(width: c.embeddingWidth, hiddenWidth: c.headHidden, rng: &rng)
            return .byol(BYOL(online: model, predictor: predictor, baseDecay: c.byolBaseDecay, totalSteps: max(totalSteps, 1)))
        case .barlow:
            return .barlow(BarlowTwinsLoss(lambda: T(c.barlowLambda)))
        case .clip:
            preconditionFailure("StageTrainer: CLIP trains on image–caption pairs (CLIPTrainer), not through the unimodal trainer")
        }
    }

    /// FD: a fresh viewmaker for samples of `sampleShape` (MLP for vectors, convolutional for the CNN
    /// encoder's images; ViewmakerNetwork.swift), weights from `rng.split()`, noise from the rest of
    /// `rng`; nil when `viewmakerBudget` is off.
    public func makeViewmaker(sampleShape: [Int], rng: inout RNG) -> ViewmakerTraining<T>? {
        guard let budget = configuration.viewmakerBudget else { return nil }
        var initRNG = rng.split()
        let network = configuration.encoder == .cnn
            ? ViewmakerNetwork<T>.convolutional(inputShape: sampleShape, width: ViewmakerNetwork<T>.defaultConvWidth,
                                                budget: T(budget), rng: &initRNG)
            : ViewmakerNetwork<T>.mlp(inputWidth: sampleShape.reduce(1, *), hiddenWidth: ViewmakerNetwork<T>.defaultHiddenWidth,
                                      budget: T(budget), rng: &initRNG)
        return ViewmakerTraining(network: network, noiseRNG: rng.split())
    }

    /// The SparseHead penalty of the configuration (`sparseHeadLambda`), or nil.
    public var sparseHead: L21Penalty<T>? { configuration.sparseHeadLambda.map { L21Penalty(lambda: T($0)) } }

    /// Trains a fresh model on `x`.
    /// - Parameters:
    ///   - pseudoLabels: dense group id per sample (Eq. 2), or nil for plain SimCLR (stage 0).
    ///   - stream: the RNG stream of this stage (`RNGStream.stageTraining(j)`).
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
        try c.validateBaselines()
        if c.method == .clip {
            throw TrainingError(message: "\(name): CLIP trains on image–caption pairs (CLIPTrainer), not on unpaired samples")
        }
        if pseudoLabels != nil && !c.method.hasNegatives {
            throw TrainingError(message: "\(name): \(c.method.rawValue) has no negatives, so MCL's feature-aware negatives "
                + "(Eq. 3) cannot apply; train it with one stage", settings: [.stages])
        }
        // Stage stream, split in this order: initial weights, sampler seed, augmentation, MoCo queue.
        var (model, rng) = initialModel(sampleShape: shape, stream: stream)
        let augment = makeAugmenter(sampleShape: shape)
        let groups = pseudoLabels ?? [Int](repeating: 0, count: x.rows)
        let strategy: NegativeSamplingStrategy = pseudoLabels == nil ? .mask : c.sampler
        guard worldSize == 1 || c.viewmakerBudget == nil else {
            throw TrainingError(message: "\(name): FD's viewmaker is not modelled under data parallelism (world size \(worldSize))",
                                settings: [.viewmaker])
        }
        guard worldSize == 1 || c.method == .simclr else {
            throw TrainingError(message: "\(name): data parallelism (world size \(worldSize)) is modelled for SimCLR only",
                                settings: [])
        }
        let samplerSeed = rng.next()
        let samplers = try (0..<max(worldSize, 1)).map { r in
            try makeBatchSampler(strategy, pseudoLabels: groups, batchSize: c.batchSize, worldSize: worldSize, rank: r,
                                 seed: samplerSeed, dropLast: true)
        }
        let sampler = samplers[0]
        var augRNG = rng.split()
        var objectiveRNG = rng.split()
        let batchesPerEpoch = sampler.batches(epoch: 0).count
        guard batchesPerEpoch > 0 else {
            throw TrainingError(message: "\(name): no batch of \(c.batchSize) samples can be formed from \(x.rows) samples")
        }
        let totalSteps = batchesPerEpoch * c.epochs
        let objective = makeObjective(model: model, sampleCount: x.rows, totalSteps: totalSteps, rng: &objectiveRNG)
        var step = TrainingStep(model: model, objective: objective,
                                optimizer: Optimizer<T>(c.optimizer, lr: c.learningRate, weightDecay: c.weightDecay),
                                sparseHead: sparseHead)
        if c.viewmakerBudget != nil {
            // FD: the stage's own viewmaker, from the stream's next split (earlier draws unchanged).
            var viewmakerRNG = rng.split()
            step.viewmaker = makeViewmaker(sampleShape: shape, rng: &viewmakerRNG)
        }
        let schedule = CosineSchedule(baseLR: c.learningRate, totalSteps: totalSteps,
                                      warmupSteps: Int((c.warmupFraction * Double(totalSteps)).rounded()),
                                      finalLR: c.cosineSchedule ? 0 : c.learningRate)
        let masked = objective.lossLabels(batchLabels: pseudoLabels == nil ? nil : [], sampler: strategy) != nil
        try observer?(.stageStarted(StageStartRecord(name: name, stream: stream, model: model, pseudoLabels: pseudoLabels,
                                                     maskedLoss: masked, batchesPerEpoch: batchesPerEpoch, totalSteps: totalSteps,
                                                     objective: objective)))
        var t = 0
        var lastLoss = Double.nan
        var lastFinite: Double?
        func fmt(_ v: Double) -> String { String(format: "%.6g", v) }
        for epoch in 0..<c.epochs {
            let start = DispatchTime.now().uptimeNanoseconds
            var sum = 0.0, count = 0, samples = 0
            if let schedule = c.temperatureSchedule { step.objective.temperature = T(schedule.temperature(epoch: epoch)) }
            let rankBatches = samplers.map { $0.batches(epoch: epoch) }
            for (index, batch) in rankBatches[0].enumerated() {
                // One batch per rank (one rank unless worldSize > 1), augmented in rank order.
                let batches = rankBatches.map { $0[index] }
                let rankViews = batches.map { b in
                    let xb = x.gatherRows(b)
                    return Matrix.vconcat([augment(xb, &augRNG), augment(xb, &augRNG)])
                }
                let rankLabels = batches.map { b in
                    objective.lossLabels(batchLabels: pseudoLabels == nil ? nil : b.map { groups[$0] }, sampler: strategy)
                }
                let (views, labels) = (rankViews[0], rankLabels[0])
                let lr = schedule.lr(at: t)
                let result: TrainingStep<T>.Result
                var ranks: [RankStepRecord<T>]? = nil
                if worldSize == 1 {
                    result = step(views: views, labels: labels, learningRate: lr)
                } else {
                    let dp = step.dataParallel(views: rankViews, labels: rankLabels, learningRate: lr)
                    result = dp.result
                    ranks = batches.indices.map { r in
                        RankStepRecord(batch: batches[r], views: rankViews[r], maskLabels: rankLabels[r], loss: dp.rankLosses[r])
                    }
                }
                let value = Double(result.loss)
                switch result.status {
                case .ok: break
                case .nonFiniteLoss:
                    throw TrainingError(message: "\(name), step \(t): the loss or its gradient is not finite "
                        + "(last finite loss \(lastFinite.map(fmt) ?? "none")); lower the learning rate or raise the temperature",
                                        settings: [.learningRate, .temperature])
                case .nonFiniteGradient:
                    throw TrainingError(message: "\(name), step \(t): a parameter gradient is not finite "
                        + "(last finite loss \(fmt(value))); lower the learning rate", settings: [.learningRate])
                case .nonFiniteParameter(let k):
                    throw TrainingError(message: "\(name), step \(t): parameter \(step.parameterNames[k]) is not finite "
                        + "after the optimiser step (last finite loss \(fmt(value)), learning rate \(String(format: "%.3g", lr))); "
                        + "lower the learning rate", settings: [.learningRate])
                }
                lastFinite = value
                if let observer {
                    try observer(.step(TrainingStepRecord(name: name, epoch: epoch, step: t, batch: batch, views: views,
                                                          maskLabels: labels, loss: result.loss, learningRate: lr,
                                                          gradients: step.model.namedGradients(positional: Array(result.gradients.prefix(step.model.parameterTensorCount))),
                                                          model: step.model, optimizer: step.optimizer,
                                                          objective: step.objective, ranks: ranks)))
                }
                sum += value
                count += 1
                samples += batch.count * batches.count
                t += 1
            }
            lastLoss = sum / Double(max(count, 1))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            progress(.epoch(stage: name, epoch: epoch + 1, epochs: c.epochs, loss: lastLoss,
                            samplesPerSecond: Double(samples) / max(seconds, 1e-9)))
        }
        return (step.model, lastLoss)
    }
}
