import XCTest
import MCLNumerics
@testable import MCLReference

/// `TrainingStep.dataParallel` and `StageTrainer.worldSize`: DistributedDataParallel simulated in
/// one process, the reference a PyTorch DDP run is checked against (`trace --world-size`).
final class DataParallelTests: XCTestCase {
    func tiny(seed: UInt64 = 5) -> MCLConfiguration {
        var c = MCLConfiguration()
        c.stages = 2; c.clusters = 2; c.epochs = 2; c.batchSize = 8
        c.encoderHidden = [6]; c.representationWidth = 3; c.headHidden = 5; c.embeddingWidth = 4
        c.kmeansRestarts = 1; c.sampler = .clusterBatch; c.seed = seed
        return c
    }

    func setup() -> (TrainingStep<Double>, [Matrix<Double>]) {
        let c = tiny()
        let trainer = StageTrainer<Double>(configuration: c)
        var (model, rng) = trainer.initialModel(sampleShape: [5], stream: 7)
        var buffersRNG = rng.split()   // make running statistics non-trivial before the step
        _ = model.forward(buffersRNG.normalMatrix(16, 5, std: 1.0), mode: .train)
        let views: [Matrix<Double>] = [rng.normalMatrix(2 * 4, 5, std: 1.0), rng.normalMatrix(2 * 4, 5, std: 1.0)]
        let step = TrainingStep(model: model, objective: .simclr(NTXent(temperature: 0.5)),
                                optimizer: Optimizer<Double>(.adam, lr: 1e-2, weightDecay: 0))
        return (step, views)
    }

    /// The mean over ranks of each rank's own loss (own batch, own BatchNorm statistics).
    func meanLoss(_ model: ContrastiveModel<Double>, _ views: [Matrix<Double>]) -> Double {
        views.map { v -> Double in
            var m = model
            return NTXent<Double>(temperature: 0.5)(m.forward(v, mode: .train).embedding).loss
        }.reduce(0, +) / Double(views.count)
    }

    /// The all-reduced gradient is the gradient of the mean of the ranks' losses (central differences
    /// in Float64), not of the union batch's loss; the loss reported is that mean.
    func testAllReducedGradientIsTheGradientOfTheMeanOfTheRanksLosses() {
        var (step, views) = setup()
        let model = step.model
        let dp = step.dataParallel(views: views, labels: [nil, nil], learningRate: 1e-2)
        XCTAssertEqual(dp.result.status, .ok)
        XCTAssertEqual(dp.rankLosses.count, 2)
        XCTAssertEqual(dp.result.loss, (dp.rankLosses[0] + dp.rankLosses[1]) / 2, accuracy: 1e-15)
        XCTAssertEqual(dp.result.loss, meanLoss(model, views), accuracy: 1e-14)
        let union = NTXent<Double>(temperature: 0.5)({ var m = model
            return m.forward(Matrix.vconcat([views[0].gatherRows(0..<4), views[1].gatherRows(0..<4),
                                             views[0].gatherRows(4..<8), views[1].gatherRows(4..<8)]), mode: .train).embedding }()).loss
        XCTAssertGreaterThan(abs(union - dp.result.loss), 1e-3, "the union batch's loss is a different objective")
        let h = 1e-6
        var worst = 0.0
        for (k, g) in dp.result.gradients.enumerated() {
            for i in stride(from: 0, to: g.count, by: max(1, g.count / 5)) {
                func shifted(_ d: Double) -> Double {
                    var m = model
                    m.updateParameters { pos, p in if pos == k { p[i] += d } }
                    return meanLoss(m, views)
                }
                let numeric = (shifted(h) - shifted(-h)) / (2 * h)
                worst = max(worst, abs(numeric - g[i]) / max(1e-3, abs(numeric)))
            }
        }
        XCTAssertLessThan(worst, 1e-5, "relative error of the all-reduced gradient vs central differences")
    }

    /// BatchNorm buffers after the step are rank 0's (DDP broadcasts them); with one rank the step is
    /// the ordinary step, bit for bit.
    func testBuffersAreRankZerosAndOneRankIsTheOrdinaryStep() {
        var (step, views) = setup()
        var ordinary = step
        var rank0 = step.model
        _ = rank0.forward(views[0], mode: .train)
        _ = step.dataParallel(views: views, labels: [nil, nil], learningRate: 1e-2)
        XCTAssertEqual(step.model.namedBuffers().map { $0.value }, rank0.namedBuffers().map { $0.value })
        var single = ordinary
        let a = single.dataParallel(views: [views[1]], labels: [nil], learningRate: 1e-2)
        let b = ordinary(views: views[1], labels: nil, learningRate: 1e-2)
        XCTAssertEqual(a.result.loss, b.loss)
        XCTAssertEqual(a.result.gradients, b.gradients)
        XCTAssertEqual(single.model, ordinary.model)
    }

    /// A stage trained on 2 ranks takes rank r's batch from the cluster-batch sampler of rank r (the
    /// stage's sampler seed, world size 2), records every rank's batch, views and loss, and reports
    /// the mean loss; world size 1 records no ranks.
    func testStageOnTwoRanksUsesEachRanksSamplerBatches() throws {
        let c = tiny()
        let x = EasyHardVectors.make(count: 96, seed: 2, as: Double.self).x
        let labels = (0..<96).map { $0 % 3 == 0 ? 1 : 0 }
        var records: [TrainingStepRecord<Double>] = []
        var trainer = StageTrainer<Double>(configuration: c, observer: { if case .step(let r) = $0 { records.append(r) } })
        trainer.worldSize = 2
        _ = try trainer.train(x, pseudoLabels: labels, stream: RNGStream.stageTraining(1), name: "s", progress: { _ in })
        var rng = RNG(seed: c.seed, stream: RNGStream.stageTraining(1))
        _ = rng.split()
        let seed = rng.next()
        let samplers = try (0..<2).map { try ClusterBatchSampler(pseudoLabels: labels, batchSize: 8, worldSize: 2, rank: $0, seed: seed) }
        let expected = (0..<2).flatMap { e in zip(samplers[0].batches(epoch: e), samplers[1].batches(epoch: e)).map { [$0, $1] } }
        XCTAssertEqual(records.count, expected.count)
        XCTAssertEqual(records.count, 2 * (64 / 16 + 32 / 16))
        for (r, e) in zip(records, expected) {
            let ranks = try XCTUnwrap(r.ranks)
            XCTAssertEqual(ranks.map { $0.batch }, e)
            XCTAssertEqual(r.batch, e[0])
            XCTAssertEqual(Set(e[0].map { labels[$0] }).count, 1, "one group per batch")
            XCTAssertEqual(r.loss, (ranks[0].loss + ranks[1].loss) / 2, accuracy: 1e-15)
            XCTAssertEqual(ranks[1].views.rows, 16)
        }
        var single: [TrainingStepRecord<Double>] = []
        let one = StageTrainer<Double>(configuration: c, observer: { if case .step(let r) = $0 { single.append(r) } })
        _ = try one.train(x, pseudoLabels: labels, stream: RNGStream.stageTraining(1), name: "s", progress: { _ in })
        XCTAssertTrue(single.allSatisfy { $0.ranks == nil })
        var moco = c
        moco.method = .moco
        var refused = StageTrainer<Double>(configuration: moco)
        refused.worldSize = 2
        XCTAssertThrowsError(try refused.train(x, pseudoLabels: nil, stream: RNGStream.stageTraining(0), name: "m", progress: { _ in }))
    }
}
