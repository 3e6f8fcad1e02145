import XCTest
@testable import MCLReference

/// FD's two stand-alone pieces: the L1 budget of the viewmaker's perturbation and the sign-flipped
/// (loss-increasing) update.
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
}
