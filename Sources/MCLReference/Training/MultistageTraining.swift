import Foundation

/// Everything one MCL stage leaves behind.
public struct StageArtifacts<T: MCLFloat>: Sendable {
    public var stage: Int
    public var model: ContrastiveModel<T>
    /// f_j(x) for every training sample (Z_j in Sec. 4.1). Shape M×R.
    public var trainRepresentations: Matrix<T>
    /// f_j(x) for every held-out sample. Shape M′×R.
    public var testRepresentations: Matrix<T>
    /// K-means on the L2-normalised Z_j: the cluster assignments Y_j used by later stages.
    public var clustering: KMeansResult<T>
    /// The dense pseudo-label ids this stage trained with (Eq. 2; all 0 at stage 0).
    public var pseudoLabels: [Int]
    public var report: StageReport
}

/// The result of a whole run: the report and every stage's artifacts.
public struct MCLRun<T: MCLFloat>: Sendable {
    public var report: MCLReport
    public var stages: [StageArtifacts<T>]

    /// Cross-stage representation integration (Eq. 5): [f_0(x), …, f_{N−1}(x)] for the train set.
    public var integratedTrain: Matrix<T> { Matrix.hconcat(stages.map { $0.trainRepresentations }) }
    public var integratedTest: Matrix<T> { Matrix.hconcat(stages.map { $0.testRepresentations }) }
}

/// Multistage Contrastive Learning (paper Sec. 4, Fig. 2).
///
/// Stage 0 trains f_0 with plain SimCLR (Eq. 1). After stage j the whole train set is encoded,
/// Z_j = f_j(X), and clustered by K-means into Y_j. Stage j > 0 trains a fresh encoder f_j with the
/// pseudo label ŷ_(i,j) = [y_(i,0), …, y_(i,j−1)] (Eq. 2) restricting each anchor's negatives to its
/// own group (Eq. 3: `mask`, or `cluster-batch` batches). Eq. 4 (K^N ≤ M/b) is checked before each
/// stage and reported. The final representation concatenates all stages (Eq. 5).
public struct MultistageContrastiveLearning<T: MCLFloat> {
    public var configuration: MCLConfiguration
    /// Passed to every stage's trainer (not to the Multi-SimCLR members); see TrainingObserver.swift.
    public var observer: TrainingObserver<T>?
    /// Simulated DistributedDataParallel ranks of every stage's training (`StageTrainer.worldSize`).
    public var worldSize: Int = 1

    public init(configuration: MCLConfiguration, observer: TrainingObserver<T>? = nil) {
        self.configuration = configuration
        self.observer = observer
    }

    /// Pseudo labels of stage j from the cluster assignments of stages 0..<j (Eq. 2), and the Eq. 4
    /// budget they imply for batches of b. Stage 0 has one group.
    public func pseudoLabels(history: [[Int]], sampleCount: Int) throws -> (PseudoLabels, StageBudgetReport) {
        let p = try PseudoLabels(history: history, clusterCounts: history.map { _ in configuration.clusters },
                                 sampleCount: sampleCount)
        return (p, StageBudgetReport(pseudoLabels: p, batchSize: configuration.batchSize))
    }

    /// Runs stages 0..<N on `train`, evaluating every stage (alone and integrated) on `test`.
    /// `stageCompleted` is called after each stage (e.g. to write its files) before the next starts.
    /// `completed` resumes a run: stages 0..<completed.count are taken as given (e.g. loaded by
    /// `MCLCheckpoint.loadStage`) and training starts at stage completed.count (see Checkpoint.swift).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func run(train: LabeledData<T>, test: LabeledData<T>,
                    progress: (TrainingEvent) -> Void = { _ in },
                    resuming completed: [StageArtifacts<T>] = [],
                    stageCompleted: (StageArtifacts<T>) throws -> Void = { _ in }) throws -> MCLRun<T> {
        let c = configuration
        var trainer = StageTrainer<T>(configuration: c, observer: observer)
        trainer.worldSize = worldSize
        var result = MCLRun<T>(report: MCLReport(features: train.featureNames, configuration: c.json), stages: [])
        if c.probeRawInput {
            result.report.rawInput = try evaluateRepresentations(
                train: train.x, trainLabels: train.labels, test: test.x, testLabels: test.labels, knnK: c.knnK)
        }
        precondition(completed.count <= c.stages && completed.indices.allSatisfy { completed[$0].stage == $0 },
                     "run: resumed stages must be 0..<n with n ≤ \(c.stages)")
        result.stages = completed
        // A resumed stage's report comes from the checkpoint, which does not hold the analysis: it is
        // recomputed from the stored model and representations (deterministic, so the same numbers).
        for j in completed.indices where completed[j].report.analysis == nil {
            result.stages[j].report.analysis = StageAnalysis(
                model: completed[j].model, train: completed[j].trainRepresentations, test: completed[j].testRepresentations,
                integratedTrain: j == 0 ? nil : Matrix.hconcat(completed[0...j].map { $0.trainRepresentations }),
                integratedTest: j == 0 ? nil : Matrix.hconcat(completed[0...j].map { $0.testRepresentations }))
        }
        result.report.stages = result.stages.map { $0.report }
        var history: [[Int]] = completed.map { $0.clustering.labels }
        for j in completed.count..<c.stages {
            let start = DispatchTime.now().uptimeNanoseconds
            var labels: [Int]? = nil
            var groups = 1, untrained = 0
            var groupSizes = [train.count]
            if j > 0 {
                let (p, budget) = try pseudoLabels(history: history, sampleCount: train.count)
                labels = p.labels
                groups = p.groupCount
                groupSizes = p.groupSizes
                if !budget.satisfiesEquation4 && !(c.sampler == .clusterBatch && budget.noGroupCanFormBatch) {
                    progress(.note("warning: stage \(j): Eq. 4 violated: K^N = \(budget.possibleGroups) possible groups > M/b = "
                        + String(format: "%.1f", budget.bound) + "; \(budget.samplesInGroupsSmallerThanBatch) of "
                        + "\(train.count) samples are in \(budget.groupsSmallerThanBatch) groups smaller than a batch"
                        + (c.sampler == .clusterBatch ? " and cannot be trained" : " (they keep few negatives under mask)")))
                }
                if c.sampler == .clusterBatch {
                    if budget.noGroupCanFormBatch {
                        throw TrainingError(message: "stage \(j): no pseudo-label group has \(c.batchSize) samples, "
                            + "so cluster-batch cannot form a single batch (largest group \(p.groupSizes.max() ?? 0)); "
                            + "lower the batch size, the clusters or the stages, or use the mask sampler",
                            settings: [.batchSize, .clusters, .stages, .sampler])
                    }
                    untrained = budget.samplesInGroupsSmallerThanBatch
                    if budget.satisfiesEquation4 && untrained > 0 {
                        progress(.note("warning: stage \(j): Eq. 4 holds, but \(untrained) of \(train.count) samples are in "
                            + "\(budget.groupsSmallerThanBatch) groups smaller than a batch of \(c.batchSize) and cannot be trained "
                            + "under cluster-batch"))
                    }
                } else {
                    warnAboutAnchorsWithoutNegatives(stage: j, pseudoLabels: p.labels, trainer: trainer,
                                                     sampleShape: train.sampleShape, progress: progress)
                }
            }
            var epochLosses: [Double] = []
            let (model, loss) = try trainer.train(train.x, pseudoLabels: labels, stream: RNGStream.stageTraining(j),
                                                  name: "stage \(j)", sampleShape: train.sampleShape) { event in
                if case let .epoch(_, _, _, epochLoss, _) = event { epochLosses.append(epochLoss) }
                progress(event)
            }
            let z = model.representations(train.x), zTest = model.representations(test.x)
            var kmRNG = RNG(seed: c.seed, stream: RNGStream.kmeans(j))
            let clustering = try KMeans<T>(clusterCount: c.clusters, nInit: c.kmeansRestarts, normalizeRows: true,
                                           seed: kmRNG.next()).fit(z)
            history.append(clustering.labels)
            let distinct = Set(clustering.labels).count
            if distinct < c.clusters {
                progress(.note("warning: stage \(j): K-means found only \(distinct) distinct clusters of K = \(c.clusters) "
                    + "(the representations have fewer than K separate points); later pseudo labels have fewer groups"))
            }
            let alone = try evaluateRepresentations(train: z, trainLabels: train.labels, test: zTest,
                                                    testLabels: test.labels, knnK: c.knnK)
            let integrated: FeatureScores
            let integratedTrain = j == 0 ? nil : Matrix.hconcat(result.stages.map { $0.trainRepresentations } + [z])
            let integratedTest = j == 0 ? nil : Matrix.hconcat(result.stages.map { $0.testRepresentations } + [zTest])
            if let integratedTrain, let integratedTest {
                integrated = try evaluateRepresentations(train: integratedTrain, trainLabels: train.labels, test: integratedTest,
                                                         testLabels: test.labels, knnK: c.knnK)
            } else {
                integrated = alone
            }
            var clusterSizes = [Int](repeating: 0, count: c.clusters)
            for label in clustering.labels { clusterSizes[label] += 1 }
            let analysis = StageAnalysis(model: model, train: z, test: zTest,
                                         integratedTrain: integratedTrain, integratedTest: integratedTest)
            let report = StageReport(stage: j, loss: loss, alone: alone, integrated: integrated, groups: groups,
                                     untrainedSamples: untrained, inertia: clustering.inertia,
                                     seconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9,
                                     epochLosses: epochLosses, clusterSizes: clusterSizes, groupSizes: groupSizes,
                                     analysis: analysis)
            let artifacts = StageArtifacts(stage: j, model: model, trainRepresentations: z, testRepresentations: zTest,
                                           clustering: clustering,
                                           pseudoLabels: labels ?? [Int](repeating: 0, count: train.count),
                                           report: report)
            result.stages.append(artifacts)
            result.report.stages.append(report)
            progress(.stageFinished(report))
            try stageCompleted(artifacts)
        }
        if c.multiSimCLR {
            result.report.multiSimCLR = try multiSimCLR(train: train, test: test, stage0: result.stages.first,
                                                        progress: progress)
        }
        return result
    }

    /// Warns how many anchor views of stage j under `mask` have no negative at all (their group has
    /// no other sample in their batch), counted on the batches the stage's sampler draws (the same
    /// seed as `StageTrainer.train`: the first draw of the RNG `initialModel` leaves), over its
    /// epochs (at most 100 counted).
    func warnAboutAnchorsWithoutNegatives(stage j: Int, pseudoLabels: [Int], trainer: StageTrainer<T>,
                                          sampleShape: [Int], progress: (TrainingEvent) -> Void) {
        var (_, rng) = trainer.initialModel(sampleShape: sampleShape, stream: 1000 + UInt64(j))
        guard let sampler = try? makeBatchSampler(.mask, pseudoLabels: pseudoLabels, batchSize: configuration.batchSize,
                                                  seed: rng.next(), dropLast: true) else { return }
        let count = MaskNegativeCount(sampler: sampler, epochs: min(configuration.epochs, 100))
        guard count.anchorsWithoutNegatives > 0 else { return }
        let share = 100 * Double(count.anchorsWithoutNegatives) / Double(max(count.anchors, 1))
        progress(.note("warning: stage \(j): \(count.anchorsWithoutNegatives) of \(count.anchors) anchor views "
            + "(\(String(format: "%.1f", share))%) over \(count.epochs) epoch\(count.epochs == 1 ? "" : "s") have no negative "
            + "at all under mask (alone in their pseudo-label group within the batch; their loss term is 0)"))
    }

    /// The Multi-SimCLR ablation (paper Table 5): N plain SimCLR encoders, concatenated. Member j uses
    /// stage j's RNG stream, so it differs from MCL's stage j only in having no pseudo labels; member 0
    /// *is* stage 0 and is reused when given.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func multiSimCLR(train: LabeledData<T>, test: LabeledData<T>, stage0: StageArtifacts<T>?,
                            progress: (TrainingEvent) -> Void) throws -> FeatureScores {
        let trainer = StageTrainer<T>(configuration: configuration)
        var zs: [Matrix<T>] = [], zTests: [Matrix<T>] = []
        for j in 0..<configuration.stages {
            if j == 0, let s = stage0 {
                zs.append(s.trainRepresentations)
                zTests.append(s.testRepresentations)
                continue
            }
            let (model, _) = try trainer.train(train.x, pseudoLabels: nil, stream: RNGStream.stageTraining(j),
                                               name: "multi-simclr \(j)", sampleShape: train.sampleShape, progress: progress)
            zs.append(model.representations(train.x))
            zTests.append(model.representations(test.x))
        }
        return try evaluateRepresentations(train: Matrix.hconcat(zs), trainLabels: train.labels,
                                           test: Matrix.hconcat(zTests), testLabels: test.labels,
                                           knnK: configuration.knnK)
    }
}
