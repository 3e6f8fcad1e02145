import XCTest
@testable import MCLReference
import MCLNumerics

/// MoCo-v2 on the one training step: the momentum update and the queue by hand, the gradient by
/// finite differences, Eq. 3 over the queue, and whole MCL-MoCo runs (determinism across threads).
final class MoCoTests: XCTestCase {
    func smallModel(seed: UInt64 = 1) -> ContrastiveModel<Double> {
        var rng = RNG(seed: seed)
        return ContrastiveModel(encoder: .mlpEncoder(inputWidth: 5, hiddenWidths: [7], outputWidth: 4, rng: &rng),
                                head: .projectionHead(inputWidth: 4, hiddenWidth: 6, outputWidth: 3, rng: &rng))
    }

    func testMomentumUpdateIsAnExponentialMovingAverageOfEveryParameter() {
        var rng = RNG(seed: 2)
        let online = smallModel(seed: 1)
        var moco = MoCo(online: online, momentum: 0.75, temperature: 0.2, queueLength: 5, embeddingWidth: 3, rng: &rng)
        XCTAssertEqual(moco.keyModel, online, "the key model starts as a copy")
        var other = smallModel(seed: 9)
        other.updateParameters { _, p in for i in p.indices { p[i] += 1 } }
        let before = moco.keyModel.parameterTensors
        moco.momentumUpdate(from: other)
        let after = moco.keyModel.parameterTensors, q = other.parameterTensors
        XCTAssertEqual(after.count, 12, "Linear, BatchNorm1d, Linear in encoder and head: a weight and a bias each")
        for k in after.indices {
            for i in after[k].indices { XCTAssertEqual(after[k][i], 0.75 * before[k][i] + 0.25 * q[k][i], accuracy: 1e-15) }
        }
        // Buffers are not averaged.
        XCTAssertEqual(moco.keyModel.namedBuffers().map { $0.value }, online.namedBuffers().map { $0.value })
    }

    func testQueueStartsAsUnitVectorsAndIsARingOfKeysWithTheirLabels() {
        var rng = RNG(seed: 3)
        var moco = MoCo(online: smallModel(), momentum: 0.9, temperature: 0.2, queueLength: 5, embeddingWidth: 3, rng: &rng)
        for r in 0..<5 {
            let n = (0..<3).map { moco.queue[r, $0] * moco.queue[r, $0] }.reduce(0, +)
            XCTAssertEqual(n, 1, accuracy: 1e-12)
        }
        XCTAssertEqual(moco.queueLabels, [-1, -1, -1, -1, -1])
        let keys = Matrix<Double>((0..<3).map { i in [Double(i), 0, 0] })
        moco.enqueue(keys, labels: [7, 8, 9])
        moco.enqueue(Matrix([[10, 0, 0], [11, 0, 0], [12, 0, 0]]), labels: [1, 2, 3])
        // Slots 0–2, then 3, 4 and (wrapping) 0.
        XCTAssertEqual((0..<5).map { moco.queue[$0, 0] }, [12, 1, 2, 10, 11])
        XCTAssertEqual(moco.queueLabels, [3, 8, 9, 1, 2])
        XCTAssertEqual(moco.queuePointer, 1)
    }

    /// The step's gradient is dL/dθ_q of InfoNCE(q(θ_q); k, queue) with keys held fixed (m = 1 keeps
    /// the key model still), checked by central differences in Float64.
    func testMoCoStepGradientMatchesFiniteDifferences() {
        var rng = RNG(seed: 4)
        let model = smallModel(seed: 5)
        var moco = MoCo(online: model, momentum: 1, temperature: 0.3, queueLength: 7, embeddingWidth: 3, rng: &rng)
        moco.keyModel = smallModel(seed: 6)
        moco.queueLabels = [0, 1, -1, 1, 0, 2, 1]
        let views: Matrix<Double> = rng.normalMatrix(8, 5)
        let labels = [0, 1, 1, 2]
        var step = TrainingStep(model: model, objective: .moco(moco), optimizer: .sgd(SGD(lr: 0)))
        let result = step(views: views, labels: labels, learningRate: 0)
        XCTAssertEqual(result.status, .ok)
        // The keys as the step computed them (key model in train mode on view 2).
        var keyModel = moco.keyModel
        let keys = L2Normalize<Double>().forward(keyModel.forward(views.gatherRows(4..<8), mode: .train).embedding).output
        func loss(_ m: ContrastiveModel<Double>) -> Double {
            var m = m
            let z = m.forward(views.gatherRows(0..<4), mode: .train).embedding
            return moco.loss(queries: z, positiveKeys: keys, queue: moco.queue, queryLabels: labels,
                             queueLabels: moco.queueLabels).loss
        }
        XCTAssertEqual(result.loss, loss(model), accuracy: 1e-14)
        let h = 1e-6
        var checked = 0
        for k in result.gradients.indices {
            for i in result.gradients[k].indices where i % 3 == 0 {
                var plus = model, minus = model
                plus.updateParameters { kk, p in if kk == k { p[i] += h } }
                minus.updateParameters { kk, p in if kk == k { p[i] -= h } }
                let numeric = (loss(plus) - loss(minus)) / (2 * h)
                XCTAssertEqual(result.gradients[k][i], numeric, accuracy: 1e-6 + 1e-5 * abs(numeric),
                               "\(model.parameterNames[k])[\(i)]")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 30)
    }

    /// Eq. 3 over the queue: a queue entry of another group (or an initial, unlabelled one) is no
    /// negative; with labels nil (stage 0) every entry is. Under MCL an anchor with no same-group
    /// entry has loss 0.
    func testQueueNegativesAreMaskedByPseudoLabel() {
        var rng = RNG(seed: 7)
        let model = smallModel()
        var moco = MoCo(online: model, momentum: 0.99, temperature: 0.2, queueLength: 6, embeddingWidth: 3, rng: &rng)
        moco.queueLabels = [0, 0, 1, 1, -1, -1]
        let q: Matrix<Double> = rng.normalMatrix(3, 3), k: Matrix<Double> = rng.normalMatrix(3, 3)
        let masked = moco.loss(queries: q, positiveKeys: k, queue: moco.queue, queryLabels: [0, 1, 5], queueLabels: moco.queueLabels)
        XCTAssertEqual(masked.admissibleNegatives, [2, 2, 0])
        XCTAssertEqual(masked.perAnchorLoss[2], 0)
        let plain = moco.loss(queries: q, positiveKeys: k, queue: moco.queue)
        XCTAssertEqual(plain.admissibleNegatives, [6, 6, 6])
    }

    func tinyMoCo(seed: UInt64 = 3, sampler: NegativeSamplingStrategy = .mask) -> MCLConfiguration {
        var c = MCLConfiguration.tiny(stages: 2, clusters: 2, batchSize: 32, hidden: 16, representation: 4, headHidden: 8,
                                      embedding: 8, seed: seed)
        c.method = .moco
        c.temperature = 0.2
        c.queueLength = 64
        c.sampler = sampler
        return c
    }

    /// A 2-stage MCL-MoCo run is bit-identical with 1 and 3 threads, under both samplers, and its
    /// stage 1 uses the stage-0 clusters as pseudo labels (Eq. 2).
    func testMCLMoCoRunIsThreadInvariantUnderBothSamplers() throws {
        let all = EasyHardVectors.make(count: 320, seed: 3, as: Float.self)
        let (train, test) = (all.subset(Array(0..<192)), all.subset(Array(192..<320)))
        for sampler in NegativeSamplingStrategy.allCases {
            let c = tinyMoCo(sampler: sampler)
            func run(threads: Int) throws -> MCLRun<Float> {
                let saved = Parallel.maxThreads
                Parallel.maxThreads = threads
                defer { Parallel.maxThreads = saved }
                return try MultistageContrastiveLearning<Float>(configuration: c).run(train: train, test: test)
            }
            let one = try run(threads: 1), three = try run(threads: 3)
            XCTAssertEqual(one.stages.count, 2)
            for (a, b) in zip(one.stages, three.stages) {
                XCTAssertEqual(a.model, b.model, "\(sampler) stage \(a.stage)")
                XCTAssertEqual(a.trainRepresentations, b.trainRepresentations)
            }
            XCTAssertEqual(one.stages[1].pseudoLabels.count, train.count)
            XCTAssertEqual(Set(one.stages[1].pseudoLabels).count, Set(one.stages[0].clustering.labels).count)
            XCTAssert(one.stages.allSatisfy { $0.report.loss.isFinite })
        }
    }

    /// Stage 0 of MoCo differs from stage 0 of SimCLR (another objective), and a MoCo stage's key
    /// model and queue are rebuilt per stage: training stage 1 alone twice gives the same model.
    func testMoCoIsItsOwnObjectiveAndEachStageStartsFresh() throws {
        let x = EasyHardVectors.make(count: 96, seed: 1, as: Double.self).x
        var c = tinyMoCo()
        c.epochs = 1
        let trainer = StageTrainer<Double>(configuration: c)
        let (moco, _) = try trainer.train(x, pseudoLabels: nil, stream: RNGStream.stageTraining(0), name: "m", progress: { _ in })
        let (again, _) = try trainer.train(x, pseudoLabels: nil, stream: RNGStream.stageTraining(0), name: "m", progress: { _ in })
        XCTAssertEqual(moco, again)
        c.method = .simclr
        let (simclr, _) = try StageTrainer<Double>(configuration: c).train(x, pseudoLabels: nil, stream: RNGStream.stageTraining(0),
                                                                          name: "s", progress: { _ in })
        XCTAssertNotEqual(moco, simclr)
    }
}
