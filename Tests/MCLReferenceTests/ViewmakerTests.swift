import XCTest
@testable import MCLReference

/// FD: the L1 budget of the viewmaker's perturbation and the sign-flipped (loss-increasing) update on
/// their own, the viewmaker networks (MLP, convolutional) with budget and view gradient-checked end to
/// end in Float64, and the viewmaker inside the one training step.
final class ViewmakerTests: XCTestCase {
    func testBudgetPutsEachRowOnTheL1SphereKeepingSigns() {
        var rng = RNG(seed: 60)
        var y: Matrix<Double> = rng.normalMatrix(4, 7, std: 2)
        for j in 0..<7 { y[3, j] *= 1e-3 }  // a nearly-zero row: tanh ≈ y, m ≈ 1e-3 — κ matters there
        let budget = ViewmakerBudget<Double>(budget: 0.05)
        let (delta, cache) = budget.forward(y)
        for i in 0..<4 {
            let m = (0..<7).map { abs(tanh(y[i, $0])) }.reduce(0, +) / 7
            let l1 = (0..<7).map { abs(delta[i, $0]) }.reduce(0, +)
            XCTAssertEqual(l1, 0.05 * 7 * m / (m + 1e-4), accuracy: 1e-14, "row \(i): ‖δ‖₁ = ε·D·m/(m + κ)")
            XCTAssertEqual(cache.meanAbs[i], m, accuracy: 1e-15)
            for j in 0..<7 { XCTAssertEqual(delta[i, j].sign, y[i, j].sign) }
        }
        XCTAssertEqual((0..<7).map { abs(delta[0, $0]) }.reduce(0, +) / 7, 0.05, accuracy: 1e-3, "‖δ‖₁ ≈ ε·D for an O(1) row")
    }

    func testBudgetBackwardGradientChecks() {
        var rng = RNG(seed: 61)
        let y: Matrix<Double> = rng.normalMatrix(3, 5)
        let w: Matrix<Double> = rng.normalMatrix(3, 5)
        let budget = ViewmakerBudget<Double>(budget: 0.1)
        let (_, cache) = budget.forward(y)
        checkGradient("ViewmakerBudget dy", analytic: budget.backward(w, cache), at: y) { weightedSum(budget.forward($0).delta, w) }
    }

    /// A linear viewmaker y = x·Wᵀ perturbs both views of a batch; the contrastive loss of the views
    /// (identity encoder) goes up after `adversarialStep` and down after a plain step with the same
    /// gradient, rate and optimiser — and that gradient (through the budget) is checked by differences.
    func testSignFlippedStepIncreasesTheLoss() {
        var rng = RNG(seed: 62)
        let b = 4, d = 5
        let x1: Matrix<Double> = rng.normalMatrix(b, d), x2: Matrix<Double> = rng.normalMatrix(b, d, std: 0.3)
        let w0: Matrix<Double> = rng.normalMatrix(d, d)
        let budget = ViewmakerBudget<Double>(budget: 0.5)
        let loss = NTXent<Double>(temperature: 0.5)
        let x = Matrix.vconcat([x1, add(x1, x2)])
        func lossAndGradient(_ w: Matrix<Double>) -> (Double, Matrix<Double>) {
            var y = Matrix<Double>(rows: 2 * b, cols: d)
            gemm(x, w, transB: .transpose, into: &y)
            let (delta, cache) = budget.forward(y)
            let out = loss(add(x, delta))
            let dy = budget.backward(out.dEmbeddings, cache)
            var dw = Matrix<Double>(rows: d, cols: d)
            gemm(dy, x, transA: .transpose, into: &dw)
            return (out.loss, dw)
        }
        let (l0, g) = lossAndGradient(w0)
        checkGradient("viewmaker dL/dW", analytic: g, at: w0) { lossAndGradient($0).0 }
        for kind in ["sgd", "adam"] {
            func optimizer() -> Optimizer<Double> { kind == "sgd" ? .sgd(SGD(lr: 1e-2)) : .adam(Adam(lr: 1e-3)) }
            var up = [w0.storage], down = [w0.storage]
            var o1 = optimizer(), o2 = optimizer()
            Viewmaker.adversarialStep(&o1, parameters: &up, lossGradients: [g.storage])
            o2.step(&down, gradients: [g.storage])
            XCTAssertGreaterThan(lossAndGradient(Matrix(rows: d, cols: d, storage: up[0])).0, l0, kind)
            XCTAssertLessThan(lossAndGradient(Matrix(rows: d, cols: d, storage: down[0])).0, l0, kind)
            for k in 0..<(d * d) { XCTAssertEqual(up[0][k] - w0.storage[k], -(down[0][k] - w0.storage[k]), accuracy: 1e-15) }
        }
    }

    // MARK: The viewmaker network

    /// Checks every `stride`-th entry of each tensor's gradient against central differences of `loss`.
    func checkTensors(_ what: String, gradients: [[Double]], tensors: [[Double]], stride: Int = 3,
                      file: StaticString = #filePath, line: UInt = #line, _ loss: ([[Double]]) -> Double) {
        XCTAssertEqual(gradients.count, tensors.count, file: file, line: line)
        let h = 1e-6
        var checked = 0
        for k in tensors.indices {
            XCTAssertEqual(gradients[k].count, tensors[k].count, file: file, line: line)
            for i in Swift.stride(from: k % stride, to: tensors[k].count, by: stride) {
                var plus = tensors, minus = tensors
                plus[k][i] += h; minus[k][i] -= h
                let numeric = (loss(plus) - loss(minus)) / (2 * h)
                XCTAssertEqual(gradients[k][i], numeric, accuracy: 1e-6 + 1e-5 * abs(numeric), "\(what) tensor \(k)[\(i)]",
                               file: file, line: line)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 20, file: file, line: line)
    }

    func withTensors(_ network: ViewmakerNetwork<Double>, _ tensors: [[Double]]) -> ViewmakerNetwork<Double> {
        var n = network
        n.net.updateParameters { k, p in p = tensors[k] }
        return n
    }

    /// views = x + budget(v([x, u])): the view is x plus a δ on the L1 sphere, and dL/dθ (network,
    /// budget and view together) matches central differences, for the MLP and the convolutional net.
    func testViewmakerNetworksGradientCheckEndToEnd() {
        var rng = RNG(seed: 63)
        let mlp = ViewmakerNetwork<Double>.mlp(inputWidth: 5, hiddenWidth: 6, budget: 0.3, rng: &rng)
        let conv = ViewmakerNetwork<Double>.convolutional(inputShape: [2, 4, 3], width: 3, budget: 0.3, rng: &rng)
        XCTAssertEqual(mlp.parameterNames, ["viewmaker.0.weight", "viewmaker.0.bias", "viewmaker.2.weight",
                                            "viewmaker.2.bias", "viewmaker.4.weight", "viewmaker.4.bias"])
        for (name, network, d) in [("mlp", mlp, 5), ("conv", conv, 24)] {
            XCTAssertEqual(network.noiseWidth, name == "mlp" ? 5 : 12, "one noise value per input value / per pixel")
            let x: Matrix<Double> = rng.normalMatrix(4, d)
            let noise = network.drawNoise(rows: 4, rng: &rng)
            XCTAssert(noise.storage.allSatisfy { $0 >= 0 && $0 < 1 }, "u uniform in [0, 1)")
            let w: Matrix<Double> = rng.normalMatrix(4, d)
            let (views, delta, cache) = network.forward(x, noise: noise)
            XCTAssertEqual(views.storage, add(x, delta).storage)
            for i in 0..<4 {
                let l1 = (0..<d).map { abs(delta[i, $0]) }.reduce(0, +) / Double(d)
                XCTAssertLessThanOrEqual(l1, 0.3 + 1e-12, "\(name): mean |δ| ≤ ε")
                XCTAssertGreaterThan(l1, 0.2, "\(name): mean |δ| close to ε for an O(1) output")
            }
            let grads = network.backward(w, cache)
            checkTensors(name, gradients: grads, tensors: network.parameterTensors, stride: name == "mlp" ? 2 : 1) { t in
                weightedSum(self.withTensors(network, t).forward(x, noise: noise).views, w)
            }
        }
    }

    // MARK: The viewmaker in the training step

    func fdStep(optimizer: Optimizer<Double> = .sgd(SGD(lr: 0.05))) -> (TrainingStep<Double>, Matrix<Double>) {
        var rng = RNG(seed: 64)
        let model = ContrastiveModel<Double>(encoder: .mlpEncoder(inputWidth: 5, hiddenWidths: [7], outputWidth: 4, rng: &rng),
                                             head: .projectionHead(inputWidth: 4, hiddenWidth: 6, outputWidth: 3, rng: &rng))
        var step = TrainingStep(model: model, objective: .simclr(NTXent(temperature: 0.5)), optimizer: .sgd(SGD(lr: 0.1)))
        step.viewmaker = ViewmakerTraining(network: .mlp(inputWidth: 5, hiddenWidth: 6, budget: 0.5, rng: &rng),
                                           optimizer: optimizer, noiseRNG: RNG(seed: 65))
        let views: Matrix<Double> = rng.normalMatrix(8, 5)
        return (step, views)
    }

    /// The loss of `step` with the viewmaker's tensors replaced (same noise: the step is a value, so its
    /// noise stream is copied too), no update.
    func stepLoss(_ step: TrainingStep<Double>, viewmaker tensors: [[Double]], views: Matrix<Double>) -> Double {
        var s = step
        s.viewmaker!.network = withTensors(step.viewmaker!.network, tensors)
        return Double(s.lossAndGradients(views: views, labels: nil).loss)
    }

    /// Inside the step: the encoder's gradients are those of the plain step on the perturbed views, the
    /// viewmaker's are dL/dθ through views, budget and network (central differences), and the step's
    /// names list the viewmaker's positions after the model's.
    func testStepGradientsReachTheViewmaker() {
        let (step, views) = fdStep()
        var s = step
        let g = s.lossAndGradients(views: views, labels: nil)
        XCTAssertEqual(g.status, .ok)
        var noiseRNG = step.viewmaker!.noiseRNG
        let noise = step.viewmaker!.network.drawNoise(rows: 8, rng: &noiseRNG)
        let perturbed = step.viewmaker!.network.forward(views, noise: noise).views
        var plain = TrainingStep(model: step.model, objective: step.objective, optimizer: .sgd(SGD(lr: 0.1)))
        let p = plain.lossAndGradients(views: perturbed, labels: nil)
        XCTAssertEqual(g.loss, p.loss)
        XCTAssertEqual(g.gradients, p.gradients, "the encoder sees x + δ and nothing else changes")
        XCTAssertEqual(step.parameterNames.suffix(6).first, "viewmaker.0.weight")
        checkTensors("step viewmaker", gradients: g.viewmakerGradients, tensors: step.viewmaker!.network.parameterTensors) { t in
            self.stepLoss(step, viewmaker: t, views: views)
        }
    }

    /// The min-max game in one step: the viewmaker's update *raises* the loss for the encoder it
    /// played against (same noise), by SGD exactly θ + lr·dL/dθ, while the encoder's update lowers it
    /// for the viewmaker it saw; with Adam the first move is +lr per entry in the gradient's direction.
    func testSignFlippedViewmakerStepInsideTheStep() {
        for kind in ["sgd", "adam"] {
            let (step, views) = fdStep(optimizer: kind == "sgd" ? .sgd(SGD(lr: 0.05)) : .adam(Adam(lr: 1e-3)))
            let before = step.viewmaker!.network.parameterTensors
            let l0 = stepLoss(step, viewmaker: before, views: views)
            var s = step
            let result = s(views: views, labels: nil, learningRate: 0.1)
            XCTAssertEqual(result.status, .ok)
            let after = s.viewmaker!.network.parameterTensors
            for k in before.indices {
                for i in before[k].indices {
                    let g = result.viewmakerGradients[k][i]
                    if kind == "sgd" {
                        XCTAssertEqual(after[k][i], before[k][i] + 0.05 * g, accuracy: 1e-15)
                    } else if abs(g) > 1e-6 {
                        XCTAssertEqual(after[k][i] - before[k][i], 1e-3 * (g > 0 ? 1 : -1), accuracy: 1e-11 / abs(g) + 1e-14)
                    }
                }
            }
            XCTAssertGreaterThan(stepLoss(step, viewmaker: after, views: views), l0, "\(kind): the viewmaker's step raises the loss")
            var encoderMoved = step
            encoderMoved.model = s.model
            XCTAssertLessThan(stepLoss(encoderMoved, viewmaker: before, views: views), l0, "\(kind): the encoder's step lowers it")
        }
    }

    /// Two views of the same rows get different noise, so different δ (the official network draws
    /// fresh noise on every call).
    func testEveryViewGetsItsOwnNoise() {
        var (step, _) = fdStep()
        var rng = RNG(seed: 66)
        let x: Matrix<Double> = rng.normalMatrix(4, 5)
        let out = step.viewmaker!.perturb(Matrix.vconcat([x, x])).views
        XCTAssertNotEqual(out.gatherRows(0..<4).storage, out.gatherRows(4..<8).storage)
    }
}
