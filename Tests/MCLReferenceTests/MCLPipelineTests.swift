import XCTest
@testable import MCLReference

/// The pieces of MCL composed: samplers with the loss (the two named strategies of Eq. 3), and small
/// whole runs (determinism, Eq. 2 wiring, Eq. 5 blocks, failure on a non-finite loss).
final class MCLPipelineTests: XCTestCase {
    /// A tiny, fast configuration: enough to exercise every step, not to learn much.
    func tinyConfiguration(seed: UInt64 = 3) -> MCLConfiguration {
        .tiny(stages: 3, clusters: 3, batchSize: 32, hidden: 24, representation: 6, headHidden: 12, embedding: 8,
              kmeansRestarts: 2, seed: seed)
    }

    func tinyData(seed: UInt64 = 3) -> (LabeledData<Double>, LabeledData<Double>) {
        let all = EasyHardVectors.make(count: 320, seed: seed, as: Double.self)
        return (all.subset(Array(0..<192)), all.subset(Array(192..<320)))
    }

    /// Under `cluster-batch` every batch is drawn from one pseudo-label group, so Eq. 3's mask admits
    /// every negative: the masked loss equals the plain loss, bit for bit, on every batch.
    func testClusterBatchBatchesMakeTheMaskedLossEqualThePlainLoss() throws {
        var rng = RNG(seed: 21)
        let labels = (0..<300).map { _ in rng.int(below: 4) }
        let sampler = try ClusterBatchSampler(pseudoLabels: labels, batchSize: 16, seed: 5)
        let loss = NTXent<Double>(temperature: 0.1)
        var checked = 0
        for epoch in 0..<3 {
            for batch in sampler.batches(epoch: epoch) {
                let z: Matrix<Double> = rng.normalMatrix(2 * batch.count, 7)
                let plain = loss(z), masked = loss(z, pseudoLabels: sampler.pseudoLabels(of: batch))
                XCTAssertEqual(plain.loss, masked.loss)
                XCTAssertEqual(plain.dEmbeddings, masked.dEmbeddings)
                XCTAssert(masked.admissibleNegatives.allSatisfy { $0 == 2 * batch.count - 2 })
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 20)
    }

    /// Under `mask` batches mix groups; each anchor keeps exactly the other views of its own group as
    /// negatives (2·n_g − 2 of them, n_g = its group's count in the batch): no negative crosses groups.
    func testMaskBatchesAdmitOnlySameGroupNegatives() throws {
        var rng = RNG(seed: 8)
        let labels = (0..<200).map { _ in rng.int(below: 5) }
        let sampler = try MaskBatchSampler(pseudoLabels: labels, batchSize: 40, seed: 2, dropLast: true)
        let loss = NTXent<Double>(temperature: 0.5)
        for batch in sampler.batches(epoch: 0) {
            let groups = sampler.pseudoLabels(of: batch)
            let out = loss(rng.normalMatrix(2 * batch.count, 4), pseudoLabels: groups)
            for i in 0..<(2 * batch.count) {
                let g = groups[i % batch.count]
                XCTAssertEqual(out.admissibleNegatives[i], 2 * groups.filter { $0 == g }.count - 2)
            }
        }
    }

    /// What differs between the two samplers (docs/ALGORITHM.md, Eq. 3). Under `mask` an anchor of a
    /// group with n_g of the M samples keeps on average 2(B−1)(n_g−1)/(M−1) ≈ p·(2B−2) negatives
    /// (p = n_g/M; hypergeometric count of its group in a random batch), and a sample alone in its
    /// group never has one (loss 0, no gradient); under `cluster-batch` every trained anchor has all
    /// 2B − 2, and a group smaller than a batch is never drawn at all.
    func testNegativesPerAnchorDifferBetweenMaskAndClusterBatch() throws {
        let sizes = [500, 300, 150, 49, 1], batch = 50
        let labels = sizes.enumerated().flatMap { g, n in [Int](repeating: g, count: n) }
        let m = labels.count
        let loss = NTXent<Double>(temperature: 0.5)
        var rng = RNG(seed: 4)
        var sum = [Double](repeating: 0, count: sizes.count), count = [Int](repeating: 0, count: sizes.count)
        let mask = try MaskBatchSampler(pseudoLabels: labels, batchSize: batch, seed: 6, dropLast: true)
        for epoch in 0..<40 {
            for b in mask.batches(epoch: epoch) {
                let groups = mask.pseudoLabels(of: b)
                let out = loss(rng.normalMatrix(2 * b.count, 3), pseudoLabels: groups)
                for i in 0..<(2 * b.count) {
                    sum[groups[i % b.count]] += Double(out.admissibleNegatives[i])
                    count[groups[i % b.count]] += 1
                }
            }
        }
        for (g, n) in sizes.enumerated() {
            let mean = sum[g] / Double(count[g])
            let expected = 2 * Double(batch - 1) * Double(n - 1) / Double(m - 1)
            let share = Double(n) / Double(m) * Double(2 * batch - 2)
            XCTAssertEqual(mean, expected, accuracy: 0.05 * expected + 0.05, "group \(g) (\(n) samples)")
            XCTAssertEqual(expected, share, accuracy: 0.01 * share + 0.1, "≈ p·(2B−2)")
        }
        XCTAssertEqual(sum[4], 0, "a singleton group never has a negative under mask")
        XCTAssertGreaterThan(count[4], 0, "although it is in batches")

        let clusterBatch = try ClusterBatchSampler(pseudoLabels: labels, batchSize: batch, seed: 6)
        var drawn = Set<Int>()
        for epoch in 0..<5 {
            for b in clusterBatch.batches(epoch: epoch) {
                let out = loss(rng.normalMatrix(2 * b.count, 3), pseudoLabels: clusterBatch.pseudoLabels(of: b))
                XCTAssert(out.admissibleNegatives.allSatisfy { $0 == 2 * batch - 2 })
                drawn.formUnion(clusterBatch.pseudoLabels(of: b))
            }
        }
        XCTAssertEqual(drawn, [0, 1, 2], "groups of 49 and 1 (< B = 50) are never drawn under cluster-batch")
    }

    func testRunWiresEquationsTwoAndFiveAndReportsEveryStage() throws {
        let (train, test) = tinyData()
        var c = tinyConfiguration()
        c.multiSimCLR = true
        let mcl = MultistageContrastiveLearning<Double>(configuration: c)
        let run = try mcl.run(train: train, test: test)
        XCTAssertEqual(run.stages.count, 3)
        XCTAssertEqual(run.report.stages.map(\.stage), [0, 1, 2])
        // Stage 0 trains without pseudo labels; stage j with the dense ids of stages 0..<j (Eq. 2).
        XCTAssertEqual(Set(run.stages[0].pseudoLabels), [0])
        for j in 1..<3 {
            let expected = try PseudoLabels(history: run.stages[..<j].map { $0.clustering.labels },
                                            clusterCounts: Array(repeating: 3, count: j))
            XCTAssertEqual(run.stages[j].pseudoLabels, expected.labels)
            XCTAssertEqual(run.report.stages[j].groups, expected.groupCount)
        }
        // Eq. 5: the integrated representation holds each stage's block unchanged.
        let integrated = run.integratedTrain
        XCTAssertEqual(integrated.cols, 3 * c.representationWidth)
        for j in 0..<3 {
            XCTAssertEqual(integrated.columns((j * 6)..<((j + 1) * 6)), run.stages[j].trainRepresentations)
        }
        for s in run.report.stages {
            XCTAssert(s.loss.isFinite)
            XCTAssert((s.alone.probe + s.integrated.probe + s.alone.knn).allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        XCTAssertNotNil(run.report.multiSimCLR)
        // The JSON contract of `train --json`.
        let json = run.report.json
        XCTAssertEqual(json["features"], ["easy", "hard"])
        XCTAssertEqual(json["per_stage"]?.arrayValue?.count, 3)
        XCTAssertEqual(json["integrated"]?.arrayValue?.last?["stages"]?.intValue, 3)
        XCTAssertNotNil(json["per_stage"]?.arrayValue?.first?["probe"]?["hard"]?.doubleValue)
        XCTAssertNotNil(json["multi_simclr"]?["knn"]?["easy"])
    }

    /// The same seed gives the same bits with 1 and 2 threads (and on a repeat).
    func testSameSeedSameBitsForAnyThreadCount() throws {
        let (train, test) = tinyData(seed: 9)
        let c = tinyConfiguration(seed: 9)
        let saved = Parallel.maxThreads
        defer { Parallel.maxThreads = saved }
        var runs: [MCLRun<Double>] = []
        for threads in [1, 2, 3] {
            Parallel.maxThreads = threads
            runs.append(try MultistageContrastiveLearning<Double>(configuration: c).run(train: train, test: test))
        }
        for r in runs.dropFirst() {
            for j in 0..<c.stages {
                XCTAssertEqual(r.stages[j].trainRepresentations, runs[0].stages[j].trainRepresentations, "stage \(j)")
                XCTAssertEqual(r.stages[j].clustering.labels, runs[0].stages[j].clustering.labels, "stage \(j)")
                XCTAssertEqual(r.report.stages[j].loss, runs[0].report.stages[j].loss, "stage \(j)")
            }
        }
        // A different seed gives a different run.
        let other = try MultistageContrastiveLearning<Double>(configuration: tinyConfiguration(seed: 10))
            .run(train: train, test: test)
        XCTAssertNotEqual(other.stages[0].trainRepresentations, runs[0].stages[0].trainRepresentations)
    }

    /// The same at the demo's shapes in Float32, where the GEMMs are large enough to be split over
    /// workers (512 views × 32 → 128 is 4 MFLOP, the 512×512 NT-Xent logits 16 MFLOP; the pool uses
    /// a worker per ≥ 1 MFLOP), so the parallel paths really run with 2 and 3 threads.
    func testSameBitsForAnyThreadCountAtParallelSizes() throws {
        let all = EasyHardVectors.make(count: 1536, seed: 21, as: Float.self)
        let train = all.subset(Array(0..<1024)), test = all.subset(Array(1024..<1536))
        var c = MCLConfiguration()
        c.stages = 2
        c.epochs = 1
        c.kmeansRestarts = 1
        c.seed = 21
        let saved = Parallel.maxThreads
        defer { Parallel.maxThreads = saved }
        var runs: [MCLRun<Float>] = []
        for threads in [1, 2, 3] {
            Parallel.maxThreads = threads
            runs.append(try MultistageContrastiveLearning<Float>(configuration: c).run(train: train, test: test))
        }
        for (t, r) in zip([2, 3], runs.dropFirst()) {
            for j in 0..<c.stages {
                XCTAssertEqual(r.stages[j].trainRepresentations, runs[0].stages[j].trainRepresentations, "stage \(j), \(t) threads")
                XCTAssertEqual(r.stages[j].clustering.labels, runs[0].stages[j].clustering.labels, "stage \(j), \(t) threads")
                XCTAssertEqual(r.report.stages[j].loss, runs[0].report.stages[j].loss, "stage \(j), \(t) threads")
                XCTAssertEqual(r.stages[j].model.stateDict().map { $0.value }, runs[0].stages[j].model.stateDict().map { $0.value })
            }
        }
    }

    /// Multi-SimCLR member j uses stage j's seeds without pseudo labels; with one cluster every
    /// pseudo label is the same, so MCL's stages *are* the Multi-SimCLR members.
    func testOneClusterMakesMCLEqualMultiSimCLR() throws {
        let (train, test) = tinyData(seed: 4)
        var c = tinyConfiguration(seed: 4)
        c.stages = 2
        c.clusters = 1
        let mcl = MultistageContrastiveLearning<Double>(configuration: c)
        let run = try mcl.run(train: train, test: test)
        let trainer = StageTrainer<Double>(configuration: c)
        let (plain, _) = try trainer.train(train.x, pseudoLabels: nil, stream: 1001, name: "plain", progress: { _ in })
        XCTAssertEqual(plain.represent(train.x), run.stages[1].trainRepresentations)
    }

    func testClusterBatchReportsUntrainableSamplesAndFailsWhenNoBatchFits() throws {
        let (train, test) = tinyData(seed: 5)
        var c = tinyConfiguration(seed: 5)
        c.sampler = .clusterBatch
        c.stages = 2
        c.batchSize = 24
        let run = try MultistageContrastiveLearning<Double>(configuration: c).run(train: train, test: test)
        let budget = try MultistageContrastiveLearning<Double>(configuration: c)
            .pseudoLabels(history: [run.stages[0].clustering.labels], sampleCount: train.count).1
        XCTAssertEqual(run.report.stages[1].untrainedSamples, budget.samplesInGroupsSmallerThanBatch)
        c.batchSize = 150  // no group of 3 clusters over 192 samples reaches 150
        XCTAssertThrowsError(try MultistageContrastiveLearning<Double>(configuration: c).run(train: train, test: test)) {
            XCTAssert("\($0)".contains("cannot form a single batch"), "\($0)")
        }
    }

    func testNonFiniteLossStopsWithStageStepAndHint() throws {
        let (train, test) = tinyData(seed: 6)
        var c = tinyConfiguration(seed: 6)
        c.learningRate = 1e300  // the first step overflows the weights to ±∞
        c.optimizer = .sgd
        c.epochs = 5
        XCTAssertThrowsError(try MultistageContrastiveLearning<Double>(configuration: c).run(train: train, test: test)) {
            let message = "\($0)"
            XCTAssert(message.contains("stage 0, step"), message)
            XCTAssert(message.contains("lower the learning rate"), message)
        }
    }
}
