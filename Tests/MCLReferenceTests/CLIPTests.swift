import XCTest
@testable import MCLReference

/// The CLIP two-tower model: text tower, learnable logit scale, the step on the one engine, locked
/// text / trainable layers, stages from the pretrained weights, and the integration's similarity.
final class CLIPTests: XCTestCase {
    /// Captions of length 4 over a vocabulary of 7, with padding (0) and a repeated token.
    let captions = [[1, 2, 0, 0], [3, 3, 4, 0], [5, 6, 1, 2], [2, 0, 0, 0], [4, 5, 0, 0]]

    func testTextTowerPoolsNonPaddingTokensOnly() {
        var rng = RNG(seed: 3)
        let tower = TextTower<Double>(vocabularySize: 7, wordWidth: 3, hiddenWidth: 5, outputWidth: 2, rng: &rng)
        let (u, counts) = tower.pool([[3, 3, 4, 0], [0, 0, 0, 0]])
        XCTAssertEqual(counts, [3, 0])
        for c in 0..<3 {
            XCTAssertEqual(u[0, c], (2 * tower.embedding[3, c] + tower.embedding[4, c]) / 3, accuracy: 1e-15)
            XCTAssertEqual(u[1, c], 0)   // all padding: the zero vector
        }
    }

    /// Every parameter of the text tower (embedding scatter-add and MLP), central differences in Float64.
    func testTextTowerGradients() {
        var rng = RNG(seed: 4)
        let tower = TextTower<Double>(vocabularySize: 7, wordWidth: 3, hiddenWidth: 5, outputWidth: 2, rng: &rng)
        let w: Matrix<Double> = rng.normalMatrix(captions.count, 2)
        let (_, cache) = tower.forward(captions)
        let g = tower.backward(w, cache)
        checkGradient("dEmbedding", analytic: g.embedding, at: tower.embedding) { e in
            var t = tower; t.embedding = e; return weightedSum(t.forward(captions).output, w)
        }
        XCTAssertEqual(g.embedding[0, 0], 0, "padding row gets no gradient")
        let analytic = TextTower<Double>.gradientTensors(g)
        for k in 1..<analytic.count {
            let shape = tower.namedParameters()[k].value
            checkGradient("text \(tower.namedParameters()[k].name)",
                          analytic: Matrix(rows: shape.rows, cols: shape.cols, storage: analytic[k]), at: shape) { p in
                var t = tower
                t.updateParameters(from: 0) { pos, s in if pos == k { s = p.storage } }
                return weightedSum(t.forward(captions).output, w)
            }
        }
    }

    /// ∂L/∂θ of the CLIP loss with s = exp(θ), plain and with Eq. 3's labels.
    func testLogitScaleGradient() {
        var rng = RNG(seed: 5)
        let img: Matrix<Double> = rng.normalMatrix(5, 3), txt: Matrix<Double> = rng.normalMatrix(5, 3)
        for labels in [nil, [0, 1, 0, 1, 1]] {
            for theta in [0.3, log(1 / 0.07)] {
                let out = CLIPLoss<Double>(temperature: exp(-theta))(image: img, text: txt, labels: labels)
                checkGradient("dθ labels=\(labels != nil) θ=\(theta)", analytic: vec([out.dLogScale]), at: vec([theta])) { t in
                    CLIPLoss<Double>(temperature: exp(-t[0, 0]))(image: img, text: txt, labels: labels).loss
                }
            }
        }
    }

    /// Eq. 3 in both directions: with two groups the loss is the mean of each group's own CLIP loss
    /// weighted by its size (negatives never cross groups), in each direction.
    func testMaskedNegativesStayInTheGroup() {
        var rng = RNG(seed: 6)
        let img: Matrix<Double> = rng.normalMatrix(5, 3), txt: Matrix<Double> = rng.normalMatrix(5, 3)
        let labels = [0, 1, 0, 1, 1]
        let loss = CLIPLoss<Double>(temperature: 0.2)
        let masked = loss(image: img, text: txt, labels: labels).loss
        let g0 = [0, 2], g1 = [1, 3, 4]
        let l0 = loss(image: img.gatherRows(g0), text: txt.gatherRows(g0)).loss
        let l1 = loss(image: img.gatherRows(g1), text: txt.gatherRows(g1)).loss
        XCTAssertEqual(masked, (2 * l0 + 3 * l1) / 5, accuracy: 1e-12)
        XCTAssertNotEqual(masked, loss(image: img, text: txt).loss, accuracy: 1e-6)
    }

    func tinyModel(seed: UInt64, trainableLayers: Int? = nil) -> (CLIPTrainer<Double>, CLIPModel<Double>) {
        var c = MCLConfiguration.tiny(stages: 2, clusters: 2, epochs: 2, batchSize: 4, hidden: 6, representation: 4,
                                      headHidden: 5, embedding: 3, seed: seed)
        c.method = .clip
        c.trainableLayers = trainableLayers
        var trainer = CLIPTrainer<Double>(configuration: c)
        trainer.wordWidth = 3
        trainer.textHidden = 4
        return (trainer, trainer.initialModel(sampleShape: [5], vocabularySize: 7, stream: 1).0)
    }

    /// The whole step's gradients — image tower (through BatchNorm in train mode), text tower and θ —
    /// against central differences of the step's own loss, with masked negatives.
    func testStepGradientsEveryParameter() {
        let (_, m) = tinyModel(seed: 7)
        var rng = RNG(seed: 8)
        let x: Matrix<Double> = rng.normalMatrix(5, 5)
        let labels = [0, 1, 0, 1, 1]
        var step = TrainingStep(model: m.image, objective: .clip(m.clip), optimizer: Optimizer(.sgd, lr: 0.1, weightDecay: 0))
        let g = step.lossAndGradients(views: x, labels: labels, captions: captions)
        XCTAssertEqual(g.status, .ok)
        let names = step.parameterNames
        XCTAssertEqual(names.count, g.gradients.count)
        XCTAssertEqual(names.last, "logit_scale")
        XCTAssertTrue(names.contains("text.embedding.weight"))
        func lossWith(position k: Int, values: [Double]) -> Double {
            var s = TrainingStep(model: m.image, objective: .clip(m.clip), optimizer: Optimizer(.sgd, lr: 0.1, weightDecay: 0))
            let modelCount = s.model.parameterTensors.count
            if k < modelCount {
                s.model.updateParameters { pos, p in if pos == k { p = values } }
            } else {
                s.objective.updateTrainableParameters(from: modelCount) { pos, p in if pos == k { p = values } }
            }
            return s.lossAndGradients(views: x, labels: labels, captions: captions).loss
        }
        let tensors = step.model.parameterTensors + step.objective.trainableTensors
        for k in tensors.indices {
            let at = Matrix<Double>.rowVector(tensors[k])
            checkGradient(names[k], analytic: Matrix<Double>.rowVector(g.gradients[k]), at: at) { lossWith(position: k, values: $0.storage) }
        }
    }

    /// θ near ln 100 with a gradient that pushes it up: after the update it is exactly ln 100.
    func testLogitScaleClampedAt100() {
        let (_, m) = tinyModel(seed: 9)
        var clip = m.clip
        clip.logScale = [log(100) - 1e-3]
        var step = TrainingStep(model: m.image, objective: .clip(clip), optimizer: Optimizer(.sgd, lr: 10, weightDecay: 0))
        var rng = RNG(seed: 10)
        let x: Matrix<Double> = rng.normalMatrix(5, 5)
        let g = step.lossAndGradients(views: x, labels: nil, captions: captions)
        let dTheta = g.gradients.last![0]
        // SGD with lr 10 moves θ by −10·dθ (momentum buffer starts at the gradient): push up if dθ < 0.
        if dTheta < 0 {
            _ = step.update(gradients: g.gradients, learningRate: 10, batchSize: 5)
            guard case .clip(let after) = step.objective else { return XCTFail("objective kind") }
            XCTAssertEqual(Double(after.logScale[0]), log(100), accuracy: 0)
        } else {
            var neg = g.gradients; neg[neg.count - 1] = [-1]
            _ = step.update(gradients: neg, learningRate: 10, batchSize: 5)
            guard case .clip(let after) = step.objective else { return XCTFail("objective kind") }
            XCTAssertEqual(Double(after.logScale[0]), log(100), accuracy: 0)
        }
    }

    /// Locked text tower: no gradient tensors for it, unchanged after a step; θ still trains; with
    /// `trainableLayers` only the last parameterised layers of the image tower move.
    func testLockedTextAndTrainableLayers() {
        let (_, m) = tinyModel(seed: 11)
        var clip = m.clip
        clip.textLocked = true
        var step = TrainingStep(model: m.image, objective: .clip(clip), optimizer: Optimizer(.adam, lr: 0.01, weightDecay: 0))
        let layers = CLIPTrainer<Double>.parameterisedLayerCount(m.image)
        XCTAssertEqual(layers, 6)   // encoder Linear, BN, Linear; head Linear, BN, Linear
        step.frozenModelPositions = CLIPTrainer<Double>.frozenPositions(m.image, trainableLayers: 2)
        XCTAssertEqual(step.frozenModelPositions, 8)
        XCTAssertEqual(CLIPTrainer<Double>.frozenPositions(m.image, trainableLayers: 9), 0)
        XCTAssertEqual(step.parameterNames.count, m.image.parameterTensors.count + 1, "locked: only θ besides the image tower")
        var rng = RNG(seed: 12)
        let x: Matrix<Double> = rng.normalMatrix(5, 5)
        let before = step.model.parameterTensors
        let r = step(views: x, labels: nil, learningRate: 0.01, captions: captions)
        XCTAssertEqual(r.status, .ok)
        let after = step.model.parameterTensors
        for k in 0..<8 { XCTAssertEqual(after[k], before[k], "frozen position \(k) moved") }
        for k in 8..<after.count { XCTAssertNotEqual(after[k], before[k], "trainable position \(k) did not move") }
        guard case .clip(let trained) = step.objective else { return XCTFail("objective kind") }
        XCTAssertEqual(trained.textTower, m.clip.textTower)
        XCTAssertNotEqual(trained.logScale, m.clip.logScale)
    }

    /// Stage 1 starts from stage 0's weights with stage 0's text tower locked; deterministic.
    func testStagesStartFromPretrainedWeights() throws {
        let (trainer, _) = tinyModel(seed: 13, trainableLayers: 3)
        var rng = RNG(seed: 14)
        let x: Matrix<Double> = rng.normalMatrix(16, 5)
        let caps = (0..<16).map { i in [1 + i % 6, 1 + (i / 6) % 6, 0, 0] }
        let stages = try trainer.run(images: x, captions: caps, sampleShape: [5], vocabularySize: 7)
        XCTAssertEqual(stages.count, 2)
        XCTAssertEqual(stages[1].model.clip.textTower, stages[0].model.clip.textTower, "text tower locked")
        XCTAssertEqual(stages[1].pseudoLabels, stages[0].clustering.labels.map { l in
            // dense ids of one earlier stage's clusters, ascending
            Array(Set(stages[0].clustering.labels)).sorted().firstIndex(of: l)! })
        // frozen layers of stage 1 equal stage 0's trained weights (it started from them)
        let frozen = CLIPTrainer<Double>.frozenPositions(stages[0].model.image, trainableLayers: 3)
        XCTAssertGreaterThan(frozen, 0)
        XCTAssertEqual(Array(stages[1].model.image.parameterTensors.prefix(frozen)),
                       Array(stages[0].model.image.parameterTensors.prefix(frozen)))
        XCTAssertNotEqual(stages[1].model.image.parameterTensors.last, stages[0].model.image.parameterTensors.last)
        let again = try trainer.run(images: x, captions: caps, sampleShape: [5], vocabularySize: 7)
        XCTAssertEqual(again[1].model.image.parameterTensors, stages[1].model.image.parameterTensors)
    }

    /// The integration: concatenated normalised image embeddings against the repeated text embedding
    /// give the sum of the stages' cosines.
    func testIntegratedSimilarityIsSumOfCosines() throws {
        let (trainer, _) = tinyModel(seed: 15)
        var rng = RNG(seed: 16)
        let x: Matrix<Double> = rng.normalMatrix(16, 5)
        let caps = (0..<16).map { i in [1 + i % 6, 0, 0, 0] }
        let stages = try trainer.run(images: x, captions: caps, sampleShape: [5], vocabularySize: 7)
        let models = stages.map { $0.model }
        let integrated = CLIPTrainer<Double>.integratedSimilarity(models, images: x, captions: captions)
        let sum = add(CLIPTrainer<Double>.similarity(models[0], images: x, captions: captions),
                      CLIPTrainer<Double>.similarity(models[1], images: x, captions: captions))
        assertClose(integrated, sum, Tolerance(atol: 1e-12, rtol: 1e-12), "integrated = Σ cos")
        XCTAssertLessThanOrEqual(integrated.storage.map(abs).max()!, 2 + 1e-12)
    }

    /// Both samplers: under `cluster-batch` each batch is one pseudo-label group, so the CLIP loss sees
    /// no labels (its plain loss is Eq. 3); `mask` passes them. A stage whose groups are all smaller
    /// than a batch is refused with a message naming the settings.
    func testClusterBatchSampler() throws {
        let (trainer, m) = tinyModel(seed: 17)
        let objective = Objective<Double>.clip(m.clip)
        XCTAssertNil(objective.lossLabels(batchLabels: [0, 0, 0, 0], sampler: .clusterBatch))
        XCTAssertEqual(objective.lossLabels(batchLabels: [0, 1, 0, 1], sampler: .mask), [0, 1, 0, 1])
        var rng = RNG(seed: 18)
        let x: Matrix<Double> = rng.normalMatrix(32, 5)
        let caps = (0..<32).map { i in [1 + i % 6, 1 + (i / 6) % 6, 0, 0] }
        var c = trainer.configuration
        c.sampler = .clusterBatch
        var clusterTrainer = trainer
        clusterTrainer.configuration = c
        let stages = try clusterTrainer.run(images: x, captions: caps, sampleShape: [5], vocabularySize: 7)
        XCTAssertEqual(stages.count, 2)
        XCTAssertNotEqual(stages[1].model.image.parameterTensors.last, stages[0].model.image.parameterTensors.last)
        c.batchSize = 30   // two clusters of 32 samples: no group can hold 30 unless K-means is very lopsided
        clusterTrainer.configuration = c
        do {
            let s = try clusterTrainer.run(images: x, captions: caps, sampleShape: [5], vocabularySize: 7)
            // no error: then some stage-0 cluster must hold a whole batch
            let sizes = Dictionary(grouping: s[0].clustering.labels, by: { $0 }).values.map(\.count)
            XCTAssertGreaterThanOrEqual(sizes.max() ?? 0, 30, "ran although no group holds a batch of 30")
        } catch let e as TrainingError {
            XCTAssert(e.message.contains("cluster-batch cannot form a batch"), e.message)
            XCTAssertEqual(e.settings, [.batchSize, .clusters, .sampler])
        }
    }
}
