import XCTest
@testable import MCLReference
import MCLNumerics

/// BYOL, Barlow Twins and SparseHead on the one training step: gradients (model and BYOL's predictor)
/// against central differences in Float64, the predictor's optimiser update and the target's EMA, the
/// SparseHead sub-gradient inside the step, and whole one-stage runs (analysis in the report,
/// thread invariance, the refusal of stages > 0).
final class BYOLBarlowStepTests: XCTestCase {
    func smallModel(seed: UInt64 = 1) -> ContrastiveModel<Double> {
        var rng = RNG(seed: seed)
        return ContrastiveModel(encoder: .mlpEncoder(inputWidth: 5, hiddenWidths: [7], outputWidth: 4, rng: &rng),
                                head: .projectionHead(inputWidth: 4, hiddenWidth: 6, outputWidth: 3, rng: &rng))
    }

    func smallBYOL(model: ContrastiveModel<Double>, totalSteps: Int = 10) -> BYOL<Double> {
        var rng = RNG(seed: 11)
        var byol = BYOL(online: model, predictor: BYOL<Double>.makePredictor(width: 3, hiddenWidth: 5, rng: &rng),
                        baseDecay: 0.9, totalSteps: totalSteps)
        byol.targetModel = smallModel(seed: 12)   // a target different from the online model
        return byol
    }

    /// Checks every third entry of `gradients[k]` against central differences of `loss` when the
    /// tensor at position k (of `tensors`) moves by ±h.
    func checkGradients(_ gradients: [[Double]], tensors: [[Double]], names: [String],
                        file: StaticString = #filePath, line: UInt = #line, _ loss: ([[Double]]) -> Double) {
        XCTAssertEqual(gradients.count, tensors.count, "one gradient per tensor", file: file, line: line)
        let h = 1e-6
        var checked = 0
        for k in gradients.indices {
            for i in gradients[k].indices where i % 3 == 0 {
                var plus = tensors, minus = tensors
                plus[k][i] += h; minus[k][i] -= h
                let numeric = (loss(plus) - loss(minus)) / (2 * h)
                XCTAssertEqual(gradients[k][i], numeric, accuracy: 1e-6 + 1e-5 * abs(numeric), "\(names[k])[\(i)]",
                               file: file, line: line)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 40, file: file, line: line)
    }

    /// A model (and predictor) with the given positional tensors.
    func with(_ tensors: [[Double]], _ model: ContrastiveModel<Double>, _ predictor: Sequential<Double>)
        -> (ContrastiveModel<Double>, Sequential<Double>) {
        var (m, p) = (model, predictor)
        m.updateParameters { k, t in t = tensors[k] }
        p.updateParameters(from: m.parameterTensors.count) { k, t in t = tensors[k] }
        return (m, p)
    }

    /// The BYOL step's gradients w.r.t. the online model *and the predictor* (positions after the
    /// model's) are those of L(θ, φ) = BYOLLoss(q_φ(g_θ(f_θ(x₁))), q_φ(g_θ(f_θ(x₂))); z′₁, z′₂) with the
    /// target outputs held fixed (stop-gradient), each view its own train-mode pass.
    func testBYOLStepGradientMatchesFiniteDifferences() {
        let model = smallModel(seed: 5)
        let byol = smallBYOL(model: model)
        var rng = RNG(seed: 4)
        let views: Matrix<Double> = rng.normalMatrix(8, 5)
        var step = TrainingStep(model: model, objective: .byol(byol), optimizer: .sgd(SGD(lr: 0)))
        let result = step(views: views, labels: nil, learningRate: 0)
        XCTAssertEqual(result.status, .ok)
        XCTAssertEqual(result.embeddings.rows, 8)
        var target = byol.targetModel
        let t1 = target.forward(views.gatherRows(0..<4), mode: .train).embedding
        let t2 = target.forward(views.gatherRows(4..<8), mode: .train).embedding
        func loss(_ tensors: [[Double]]) -> Double {
            var (m, p) = with(tensors, model, byol.predictor)
            let z1 = m.forward(views.gatherRows(0..<4), mode: .train).embedding
            let z2 = m.forward(views.gatherRows(4..<8), mode: .train).embedding
            let p1 = p.forward(z1, mode: .train).output, p2 = p.forward(z2, mode: .train).output
            return BYOLLoss<Double>()(prediction1: p1, prediction2: p2, target1: t1, target2: t2).loss
        }
        let tensors = model.parameterTensors + byol.predictor.parameterTensors
        XCTAssertEqual(result.loss, loss(tensors), accuracy: 1e-14)
        XCTAssertEqual(result.gradients.count, 12 + 6, "model (12 tensors), then predictor Linear, BN, Linear (6)")
        XCTAssertEqual(step.parameterNames.suffix(6).first, "predictor.0.weight")
        checkGradients(result.gradients, tensors: tensors, names: step.parameterNames, loss)
    }

    /// After a step: the predictor moved by the optimiser (SGD: φ − lr·g at its own positions) and the
    /// target is τ(0)·θ′ + (1 − τ(0))·θ_new with the *updated* online parameters (official `_update_fn`);
    /// the next update uses τ(1) of the cosine schedule.
    func testBYOLStepTrainsThePredictorAndMovesTheTargetByEMA() {
        let model = smallModel(seed: 5)
        let byol = smallBYOL(model: model, totalSteps: 4)
        var rng = RNG(seed: 6)
        let views: Matrix<Double> = rng.normalMatrix(8, 5)
        var step = TrainingStep(model: model, objective: .byol(byol), optimizer: .sgd(SGD(lr: 0.1)))
        let result = step(views: views, labels: nil, learningRate: 0.1)
        XCTAssertEqual(result.status, .ok)
        guard case .byol(let after) = step.objective else { return XCTFail("objective changed") }
        let n = model.parameterTensors.count
        for (k, (before, now)) in zip(byol.predictor.parameterTensors, after.predictor.parameterTensors).enumerated() {
            for i in before.indices { XCTAssertEqual(now[i], before[i] - 0.1 * result.gradients[n + k][i], accuracy: 1e-15) }
        }
        XCTAssertNotEqual(after.predictor, byol.predictor)
        let online = step.model.parameterTensors, old = byol.targetModel.parameterTensors, new = after.targetModel.parameterTensors
        XCTAssertEqual(BYOLTargetEMA.decay(step: 0, totalSteps: 4, base: 0.9), 0.9)
        for k in new.indices {
            for i in new[k].indices { XCTAssertEqual(new[k][i], 0.9 * old[k][i] + 0.1 * online[k][i], accuracy: 1e-15) }
        }
        XCTAssertEqual(after.stepsTaken, 1)
        XCTAssertEqual(after.currentDecay, 1 - 0.1 * (cos(Double.pi / 4) + 1) / 2, accuracy: 1e-15)
    }

    /// Barlow Twins through the step: the gradient of BarlowTwinsLoss(g(f(x₁)), g(f(x₂))), two passes.
    func testBarlowStepGradientMatchesFiniteDifferences() {
        let model = smallModel(seed: 7)
        var rng = RNG(seed: 8)
        let views: Matrix<Double> = rng.normalMatrix(10, 5)
        let barlow = BarlowTwinsLoss<Double>(lambda: 0.05)
        var step = TrainingStep(model: model, objective: .barlow(barlow), optimizer: .sgd(SGD(lr: 0)))
        let result = step(views: views, labels: nil, learningRate: 0)
        XCTAssertEqual(result.status, .ok)
        func loss(_ tensors: [[Double]]) -> Double {
            var m = model
            m.updateParameters { k, t in t = tensors[k] }
            let z1 = m.forward(views.gatherRows(0..<5), mode: .train).embedding
            let z2 = m.forward(views.gatherRows(5..<10), mode: .train).embedding
            return barlow(z1, z2).loss
        }
        XCTAssertEqual(result.loss, loss(model.parameterTensors), accuracy: 1e-12)
        checkGradients(result.gradients, tensors: model.parameterTensors, names: model.parameterNames, loss)
    }

    /// SparseHead inside the step: the loss gains λ·‖W‖₂,₁ of the head's last Linear weight, whose
    /// gradient gains the sub-gradient — 0 on an exactly zero column (PyTorch's norm backward at 0) —
    /// and the whole (loss + penalty) gradient matches central differences, for every method.
    func testSparseHeadAddsTheSubgradientOfTheLastHeadWeightInsideTheStep() {
        var model = smallModel(seed: 9)
        guard let (w0, position) = model.headLastLinearWeight else { return XCTFail("no head Linear") }
        XCTAssertEqual(position, 10, "encoder 6 tensors + head Linear, BN (4), then head.3.weight")
        XCTAssertEqual(model.parameterNames[position], "head.3.weight")
        XCTAssertEqual(w0.rows, 3); XCTAssertEqual(w0.cols, 6)
        model.updateParameters { k, p in if k == position { for r in 0..<3 { p[r * 6 + 2] = 0 } } }   // column 2 = 0
        var rng = RNG(seed: 10)
        let views: Matrix<Double> = rng.normalMatrix(8, 5)
        let penalty = L21Penalty<Double>(lambda: 0.3)
        var queueRNG = RNG(seed: 13)
        var moco = MoCo(online: model, momentum: 1, temperature: 0.2, queueLength: 5, embeddingWidth: 3, rng: &queueRNG)
        moco.keyModel = smallModel(seed: 14)   // m = 1: keys do not move with the online model (stop-gradient = finite differences)
        for objective in [Objective<Double>.simclr(NTXent(temperature: 0.5)), .moco(moco), .byol(smallBYOL(model: model)),
                          .barlow(BarlowTwinsLoss(lambda: 0.05))] {
            var plain = TrainingStep(model: model, objective: objective, optimizer: .sgd(SGD(lr: 0)))
            var sparse = TrainingStep(model: model, objective: objective, optimizer: .sgd(SGD(lr: 0)), sparseHead: penalty)
            let a = plain(views: views, labels: nil, learningRate: 0), b = sparse(views: views, labels: nil, learningRate: 0)
            let w = model.headLastLinearWeight!.weight
            XCTAssertEqual(b.loss, a.loss + penalty.value(w), accuracy: 1e-14)
            let sub = penalty.gradient(w)
            for k in a.gradients.indices {
                for i in a.gradients[k].indices {
                    let extra = k == position ? sub.storage[i] : 0
                    XCTAssertEqual(b.gradients[k][i], a.gradients[k][i] + extra, accuracy: 1e-15)
                }
            }
            for r in 0..<3 { XCTAssertEqual(b.gradients[position][r * 6 + 2], a.gradients[position][r * 6 + 2], "zero column: subgradient 0") }
            // Finite differences of loss + penalty w.r.t. the head weight (away from the zero column's kink).
            let h = 1e-6
            for i in [0, 1, 3, 4, 5, 7, 10, 17] {
                func total(_ d: Double) -> Double {
                    var m = model
                    m.updateParameters { k, p in if k == position { p[i] += d } }
                    var s = TrainingStep(model: m, objective: objective, optimizer: .sgd(SGD(lr: 0)), sparseHead: penalty)
                    return s(views: views, labels: nil, learningRate: 0).loss
                }
                let numeric = (total(h) - total(-h)) / (2 * h)
                XCTAssertEqual(b.gradients[position][i], numeric, accuracy: 1e-6 + 1e-5 * abs(numeric), "head.3.weight[\(i)]")
            }
        }
    }

    func tiny(_ method: ContrastiveMethod) -> MCLConfiguration {
        var c = MCLConfiguration.tiny(stages: 1, clusters: 2, batchSize: 32, hidden: 16, representation: 4, headHidden: 8,
                                      embedding: 8, seed: 3)
        c.method = method
        return c
    }

    /// One-stage BYOL and Barlow runs (with SparseHead) are bit-identical with 1 and 3 threads and
    /// report the analysis: active head columns, spectra summing to 1, effective ranks in [1, R],
    /// min-max ratios ≥ 0, for representations and embeddings.
    func testBYOLAndBarlowRunsAreThreadInvariantAndReportTheAnalysis() throws {
        let all = EasyHardVectors.make(count: 320, seed: 3, as: Float.self)
        let (train, test) = (all.subset(Array(0..<192)), all.subset(Array(192..<320)))
        for method in [ContrastiveMethod.byol, .barlow] {
            var c = tiny(method)
            c.sparseHeadLambda = 1e-3
            func run(threads: Int) throws -> MCLRun<Float> {
                let saved = Parallel.maxThreads
                Parallel.maxThreads = threads
                defer { Parallel.maxThreads = saved }
                return try MultistageContrastiveLearning<Float>(configuration: c).run(train: train, test: test)
            }
            let one = try run(threads: 1), three = try run(threads: 3)
            XCTAssertEqual(one.stages[0].model, three.stages[0].model, "\(method)")
            let r = one.report.stages[0]
            XCTAssert(r.loss.isFinite)
            let a = try XCTUnwrap(r.analysis)
            XCTAssertEqual(a.headColumns, 8)
            XCTAssert((1...8).contains(a.activeHeadColumns))
            for v in [a.representation.raw, a.representation.l2Normalized, a.embedding.raw] {
                XCTAssertEqual(v.testSpectrum.normalized.reduce(0, +), 1, accuracy: 1e-9)
                XCTAssert(v.testSpectrum.effectiveRank >= 1 - 1e-9)
                XCTAssert(v.testMinMaxRatio.mean >= 0)
            }
            XCTAssertEqual(a.representation.features, 4); XCTAssertEqual(a.embedding.features, 8)
            XCTAssert(a.representation.raw.testSpectrum.effectiveRank <= 4 + 1e-9)
            let json = one.report.json["per_stage"]?.arrayValue?.first
            XCTAssertEqual(json?["active_head_columns"]?.doubleValue, Double(a.activeHeadColumns))
            XCTAssertNotNil(json?["embedding_analysis"]?["raw"]?["test_min_max_ratio"])
            XCTAssertEqual(one.report.json["configuration"]?["sparse_head_lambda"]?.doubleValue, 1e-3)
            // easy-hard draws a per-sample offset, so no test row repeats: Eq. 9 over all rows and over the
            // distinct rows agree, and no query has a duplicate (user data may repeat rows; then they differ).
            XCTAssertEqual(a.representation.raw.testMinMaxRatio.duplicateQueries, 0)
            let distinct = try XCTUnwrap(a.representationDistinct)
            XCTAssertEqual(distinct.rows, test.count)
            XCTAssertEqual(distinct.raw.duplicateQueries, 0)
            XCTAssert(distinct.raw.mean.isFinite && distinct.raw.mean > 0)
            XCTAssertNotNil(json?["test_min_max_ratio_distinct_rows"]?["embedding"]?["raw"]?.doubleValue)
        }
    }

    func testDistinctRowsKeepsFirstOccurrences() {
        let x = Matrix<Double>([[1, 2], [3, 4], [1, 2], [0, 0], [3, 4]])
        XCTAssertEqual(StageAnalysis.distinctRows(x), Matrix([[1, 2], [3, 4], [0, 0]]))
    }

    /// SparseHead with MCL stages: a 2-stage SimCLR run with the penalty trains both stages (with
    /// pseudo labels at stage 1) and reports the analysis per stage and for the integrated representation.
    func testSparseHeadWorksWithMCLStages() throws {
        let all = EasyHardVectors.make(count: 320, seed: 4, as: Float.self)
        var c = tiny(.simclr)
        c.stages = 2
        c.sparseHeadLambda = 1e-2
        let run = try MultistageContrastiveLearning<Float>(configuration: c).run(train: all.subset(Array(0..<192)),
                                                                                 test: all.subset(Array(192..<320)))
        XCTAssertEqual(run.report.stages.count, 2)
        XCTAssertNil(run.report.stages[0].analysis?.integrated)
        XCTAssertEqual(run.report.stages[1].analysis?.integrated?.features, 8, "stages 0–1 integrated: 2·R")
        XCTAssertNotNil(run.report.json["integrated"]?.arrayValue?.last?["representation_analysis"]?["raw"])
        var plain = c
        plain.sparseHeadLambda = nil
        let without = try MultistageContrastiveLearning<Float>(configuration: plain).run(train: all.subset(Array(0..<192)),
                                                                                         test: all.subset(Array(192..<320)))
        XCTAssertNotEqual(run.stages[1].model, without.stages[1].model, "the penalty changes training")
    }

    /// No negatives: a stage with pseudo labels is refused, naming the stages setting.
    func testBYOLAndBarlowRefusePseudoLabels() {
        let x = EasyHardVectors.make(count: 64, seed: 1, as: Double.self).x
        for method in [ContrastiveMethod.byol, .barlow] {
            XCTAssertFalse(method.hasNegatives)
            XCTAssertThrowsError(try StageTrainer<Double>(configuration: tiny(method)).train(
                x, pseudoLabels: [Int](repeating: 0, count: 64), stream: RNGStream.stageTraining(1), name: "stage 1",
                progress: { _ in })) { error in
                XCTAssertEqual((error as? TrainingError)?.settings, [.stages])
                XCTAssert("\(error)".contains("no negatives"), "\(error)")
            }
        }
    }

    /// The configuration's own keys round-trip through the checkpoint JSON.
    func testBYOLBarlowAndSparseHeadSettingsRoundTrip() throws {
        for method in [ContrastiveMethod.byol, .barlow] {
            var c = tiny(method)
            c.byolBaseDecay = 0.95
            c.barlowLambda = 0.01
            c.sparseHeadLambda = 2e-4
            let back = try MCLConfiguration(json: .object(c.json), path: "x")
            XCTAssertEqual(JSONValue.object(back.json), JSONValue.object(c.json))
            XCTAssertEqual(back.sparseHeadLambda, 2e-4)
        }
        XCTAssertNil(try MCLConfiguration(json: .object(MCLConfiguration().json), path: "x").sparseHeadLambda)
    }
}
