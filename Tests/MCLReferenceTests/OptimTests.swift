import XCTest
@testable import MCLReference

final class OptimTests: XCTestCase {
    func testSGDMomentumByHand() {
        var opt = SGD<Double>(lr: 0.1, momentum: 0.9, weightDecay: 0.5)
        var p = Matrix<Double>([[1]])
        // step 1: g = 2 + 0.5·1 = 2.5; buf = 2.5; p = 1 − 0.25 = 0.75
        opt.update(&p, gradient: Matrix([[2]]), name: "w")
        XCTAssertEqual(p[0, 0], 0.75, accuracy: 1e-15)
        // step 2: g = 2 + 0.375 = 2.375; buf = 0.9·2.5 + 2.375 = 4.625; p = 0.75 − 0.4625
        opt.update(&p, gradient: Matrix([[2]]), name: "w")
        XCTAssertEqual(p[0, 0], 0.2875, accuracy: 1e-15)
        var nes = SGD<Double>(lr: 0.1, momentum: 0.9, nesterov: true)
        var q = Matrix<Double>([[1]])
        nes.update(&q, gradient: Matrix([[1]]), name: "w")   // buf = 1, g = 1 + 0.9 = 1.9
        XCTAssertEqual(q[0, 0], 0.81, accuracy: 1e-15)
        nes.update(&q, gradient: Matrix([[1]]), name: "w")   // buf = 1.9, g = 1 + 1.71 = 2.71
        XCTAssertEqual(q[0, 0], 0.81 - 0.271, accuracy: 1e-15)
    }

    func testAdamAndAdamWByHand() {
        // First Adam step moves by lr·g/(|g| + ε') ≈ lr·sign(g) whatever |g|.
        var adam = Adam<Double>(lr: 0.1)
        var p = Matrix<Double>([[1, 1]])
        adam.update(&p, gradient: Matrix([[3, -0.01]]), name: "p")
        XCTAssertEqual(p[0, 0], 1 - 0.1 * 3 / (3 + 1e-8), accuracy: 1e-14)
        XCTAssertEqual(p[0, 1], 1 + 0.1 * 0.01 / (0.01 + 1e-8), accuracy: 1e-14)
        // Second step, by the formula: m = 0.9·0.3 + 0.1·g, v = 0.999·0.009 + 0.001·g².
        adam.update(&p, gradient: Matrix([[1, 0]]), name: "p")
        let m = 0.9 * 0.3 + 0.1, v = 0.999 * 0.009 + 0.001
        let expected = 1 - 0.1 * 3 / (3 + 1e-8) - (0.1 / (1 - 0.81)) * m / (v.squareRoot() / (1 - 0.999 * 0.999).squareRoot() + 1e-8)
        XCTAssertEqual(p[0, 0], expected, accuracy: 1e-14)
        // AdamW: decay first (p·(1 − lr·wd)), then the Adam step; Adam's L2 adds wd·p to g.
        var w = Adam<Double>.adamW(lr: 0.1, weightDecay: 0.5)
        var q = Matrix<Double>([[2]])
        w.update(&q, gradient: Matrix([[1]]), name: "q")
        XCTAssertEqual(q[0, 0], 2 * 0.95 - 0.1 / (1 + 1e-8), accuracy: 1e-14)
        var l2 = Adam<Double>(lr: 0.1, weightDecay: 0.5)
        var r = Matrix<Double>([[2]])
        l2.update(&r, gradient: Matrix([[-1]]), name: "r")   // g = −1 + 1 = 0: no move
        XCTAssertEqual(r[0, 0], 2)
    }

    func testStateExportImportContinuesIdentically() throws {
        var rng = RNG(seed: 1)
        var params: NamedMatrices<Double> = [("a", rng.normalMatrix(2, 3)), ("b", rng.normalMatrix(1, 3))]
        let grads: NamedMatrices<Double> = [("a", rng.normalMatrix(2, 3)), ("b", rng.normalMatrix(1, 3))]
        var adam = Adam<Double>.adamW(lr: 0.01)
        var sgd = SGD<Double>(lr: 0.01, momentum: 0.9)
        adam.step(&params, gradients: grads)
        sgd.step(&params, gradients: grads)
        var adam2 = Adam<Double>.adamW(lr: 0.01), sgd2 = SGD<Double>(lr: 0.01, momentum: 0.9)
        try adam2.loadState(adam.state())
        try sgd2.loadState(sgd.state())
        XCTAssertEqual(adam.state().map { $0.name }, ["a.exp_avg", "a.exp_avg_sq", "a.step", "b.exp_avg", "b.exp_avg_sq", "b.step"])
        XCTAssertEqual(sgd.state().map { $0.name }, ["a.momentum_buffer", "b.momentum_buffer"])
        var p1 = params, p2 = params
        adam.step(&p1, gradients: grads); sgd.step(&p1, gradients: grads)
        adam2.step(&p2, gradients: grads); sgd2.step(&p2, gradients: grads)
        XCTAssertEqual(p1.map { $0.value }, p2.map { $0.value })
    }

    func testMinimisesAQuadratic() {
        // f(p) = ½ Σ c_k (p_k − t_k)², gradient c ⊙ (p − t).
        let c = Matrix<Double>([[1, 10, 0.1]]), t = Matrix<Double>([[3, -2, 1]])
        func run(_ update: (inout Matrix<Double>, Matrix<Double>) -> Void, steps: Int) -> Double {
            var p = Matrix<Double>([[0, 0, 0]])
            for _ in 0..<steps { update(&p, hadamard(c, subtract(p, t))) }
            return maxAbsDifference(p, t)
        }
        var sgd = SGD<Double>(lr: 0.05, momentum: 0.9)
        XCTAssertLessThan(run({ sgd.update(&$0, gradient: $1, name: "p") }, steps: 2000), 1e-6)
        var adam = Adam<Double>(lr: 0.05)
        XCTAssertLessThan(run({ adam.update(&$0, gradient: $1, name: "p") }, steps: 3000), 1e-3)
    }

    func testCosineScheduleWithWarmup() {
        let s = CosineSchedule(baseLR: 1, totalSteps: 12, warmupSteps: 2, finalLR: 0.1)
        XCTAssertEqual(s.lr(at: 0), 0.5)
        XCTAssertEqual(s.lr(at: 1), 1)
        XCTAssertEqual(s.lr(at: 2), 1, accuracy: 1e-15)
        XCTAssertEqual(s.lr(at: 7), 0.55, accuracy: 1e-15)   // half way: final + ½(base − final)
        XCTAssertEqual(s.lr(at: 12), 0.1)
        XCTAssertEqual(s.lr(at: 100), 0.1)
        for t in 2..<12 { XCTAssertGreaterThanOrEqual(s.lr(at: t), s.lr(at: t + 1)) }
    }
}
