import XCTest
@testable import MCLReference

final class OptimTests: XCTestCase {
    func testSGDMomentumByHand() {
        var opt = SGD<Double>(lr: 0.1, momentum: 0.9, weightDecay: 0.5)
        var p: [Double] = [1]
        // step 1: g = 2 + 0.5·1 = 2.5; buf = 2.5; p = 1 − 0.25 = 0.75
        opt.update(&p, gradient: [2], position: 0)
        XCTAssertEqual(p[0], 0.75, accuracy: 1e-15)
        // step 2: g = 2 + 0.375 = 2.375; buf = 0.9·2.5 + 2.375 = 4.625; p = 0.75 − 0.4625
        opt.update(&p, gradient: [2], position: 0)
        XCTAssertEqual(p[0], 0.2875, accuracy: 1e-15)
        var nes = SGD<Double>(lr: 0.1, momentum: 0.9, nesterov: true)
        var q: [Double] = [1]
        nes.update(&q, gradient: [1], position: 0)   // buf = 1, g = 1 + 0.9 = 1.9
        XCTAssertEqual(q[0], 0.81, accuracy: 1e-15)
        nes.update(&q, gradient: [1], position: 0)   // buf = 1.9, g = 1 + 1.71 = 2.71
        XCTAssertEqual(q[0], 0.81 - 0.271, accuracy: 1e-15)
    }

    func testAdamAndAdamWByHand() {
        // First Adam step moves by lr·g/(|g| + ε') ≈ lr·sign(g) whatever |g|.
        var adam = Adam<Double>(lr: 0.1)
        var p: [Double] = [1, 1]
        adam.update(&p, gradient: [3, -0.01], position: 0)
        XCTAssertEqual(p[0], 1 - 0.1 * 3 / (3 + 1e-8), accuracy: 1e-14)
        XCTAssertEqual(p[1], 1 + 0.1 * 0.01 / (0.01 + 1e-8), accuracy: 1e-14)
        // Second step, by the formula: m = 0.9·0.3 + 0.1·g, v = 0.999·0.009 + 0.001·g².
        adam.update(&p, gradient: [1, 0], position: 0)
        let m = 0.9 * 0.3 + 0.1, v = 0.999 * 0.009 + 0.001
        let expected = 1 - 0.1 * 3 / (3 + 1e-8) - (0.1 / (1 - 0.81)) * m / (v.squareRoot() / (1 - 0.999 * 0.999).squareRoot() + 1e-8)
        XCTAssertEqual(p[0], expected, accuracy: 1e-14)
        // AdamW: decay first (p·(1 − lr·wd)), then the Adam step; Adam's L2 adds wd·p to g.
        var w = Adam<Double>.adamW(lr: 0.1, weightDecay: 0.5)
        var q: [Double] = [2]
        w.update(&q, gradient: [1], position: 0)
        XCTAssertEqual(q[0], 2 * 0.95 - 0.1 / (1 + 1e-8), accuracy: 1e-14)
        var l2 = Adam<Double>(lr: 0.1, weightDecay: 0.5)
        var r: [Double] = [2]
        l2.update(&r, gradient: [-1], position: 0)   // g = −1 + 1 = 0: no move
        XCTAssertEqual(r[0], 2)
    }

    /// State is kept by position: two tensors at positions 0 and 1 have independent moments, and a
    /// tensor first stepped at position 3 leaves 0–2 untouched.
    func testStateIsPerPosition() {
        var adam = Adam<Double>(lr: 0.1)
        var a: [Double] = [1], b: [Double] = [1]
        adam.update(&a, gradient: [1], position: 0)
        adam.update(&b, gradient: [1], position: 1)
        adam.update(&b, gradient: [1], position: 1)
        XCTAssertEqual(adam.states[0]?.step, 1)
        XCTAssertEqual(adam.states[1]?.step, 2)
        var c: [Double] = [5]
        adam.update(&c, gradient: [-2], position: 3)
        XCTAssertNil(adam.states[2])
        XCTAssertEqual(adam.states[3]?.expAvg[0] ?? 0, (1 - 0.9) * -2, accuracy: 1e-15)
    }

    func testStateExportImportContinuesIdentically() throws {
        var rng = RNG(seed: 1)
        let names = ["a", "b"]
        let shapes = [(2, 3), (1, 3)]
        var params: [[Double]] = shapes.map { (rng.normalMatrix($0.0, $0.1) as Matrix<Double>).storage }
        let grads: [[Double]] = shapes.map { (rng.normalMatrix($0.0, $0.1) as Matrix<Double>).storage }
        func named(_ t: [[Double]]) -> NamedMatrices<Double> {
            zip(names, zip(shapes, t)).map { ($0, Matrix(rows: $1.0.0, cols: $1.0.1, storage: $1.1)) }
        }
        var adam = Optimizer<Double>.adam(.adamW(lr: 0.01))
        var sgd = Optimizer<Double>.sgd(SGD(lr: 0.01, momentum: 0.9))
        adam.step(&params, gradients: grads)
        sgd.step(&params, gradients: grads)
        var adam2 = Optimizer<Double>.adam(.adamW(lr: 0.01)), sgd2 = Optimizer<Double>.sgd(SGD(lr: 0.01, momentum: 0.9))
        try adam2.loadNamedState(adam.namedState(like: named(params)), names: names)
        try sgd2.loadNamedState(sgd.namedState(like: named(params)), names: names)
        XCTAssertEqual(adam.namedState(like: named(params)).map { $0.name },
                       ["a.exp_avg", "a.exp_avg_sq", "a.step", "b.exp_avg", "b.exp_avg_sq", "b.step"])
        XCTAssertEqual(adam.namedState(like: named(params))[0].value.shapeDescription, "2×3")
        XCTAssertEqual(sgd.namedState(like: named(params)).map { $0.name }, ["a.momentum_buffer", "b.momentum_buffer"])
        var p1 = params, p2 = params
        adam.step(&p1, gradients: grads); sgd.step(&p1, gradients: grads)
        adam2.step(&p2, gradients: grads); sgd2.step(&p2, gradients: grads)
        XCTAssertEqual(p1, p2)
        XCTAssertThrowsError(try adam2.loadNamedState([("zzz.step", Matrix(rows: 1, cols: 1))], names: names))
        XCTAssertThrowsError(try sgd2.loadNamedState([("zzz.momentum_buffer", Matrix(rows: 1, cols: 1))], names: names))
    }

    func testMinimisesAQuadratic() {
        // f(p) = ½ Σ c_k (p_k − t_k)², gradient c ⊙ (p − t).
        let c: [Double] = [1, 10, 0.1], t: [Double] = [3, -2, 1]
        func run(_ update: (inout [Double], [Double]) -> Void, steps: Int) -> Double {
            var p: [Double] = [0, 0, 0]
            for _ in 0..<steps { update(&p, (0..<3).map { c[$0] * (p[$0] - t[$0]) }) }
            return (0..<3).map { abs(p[$0] - t[$0]) }.max()!
        }
        var sgd = SGD<Double>(lr: 0.05, momentum: 0.9)
        XCTAssertLessThan(run({ sgd.update(&$0, gradient: $1, position: 0) }, steps: 2000), 1e-6)
        var adam = Adam<Double>(lr: 0.05)
        XCTAssertLessThan(run({ adam.update(&$0, gradient: $1, position: 0) }, steps: 3000), 1e-3)
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
