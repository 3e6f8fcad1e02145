import XCTest
@testable import MCLReference

final class ModelTests: XCTestCase {
    func makeModel(seed: UInt64 = 1) -> ContrastiveModel<Double> {
        var rng = RNG(seed: seed)
        return ContrastiveModel(encoder: .mlpEncoder(inputWidth: 4, hiddenWidths: [6], outputWidth: 5, rng: &rng),
                                head: .projectionHead(inputWidth: 5, hiddenWidth: 5, outputWidth: 3, rng: &rng))
    }

    func testPyTorchStyleNames() {
        let m = makeModel()
        XCTAssertEqual(m.namedParameters().map { $0.name }, [
            "encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias", "encoder.3.weight", "encoder.3.bias",
            "head.0.weight", "head.0.bias", "head.1.weight", "head.1.bias", "head.3.weight", "head.3.bias"])
        XCTAssertEqual(m.namedBuffers().map { $0.name }, [
            "encoder.1.running_mean", "encoder.1.running_var", "encoder.1.num_batches_tracked",
            "head.1.running_mean", "head.1.running_var", "head.1.num_batches_tracked"])
        XCTAssertEqual(m.stateDict().prefix(7).map { $0.name }, [
            "encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias",
            "encoder.1.running_mean", "encoder.1.running_var", "encoder.1.num_batches_tracked"])
        XCTAssertEqual(m.namedParameters()[0].value.shapeDescription, "6×4")
        XCTAssertEqual(m.namedParameters()[1].value.shapeDescription, "1×6")
    }

    func testStateDictRoundTripAndErrors() throws {
        var a = makeModel(seed: 1)
        _ = a.forward(RNG(seed: 2).normalMatrixCopy(4, 4), mode: .train)
        var b = makeModel(seed: 7)
        XCTAssertNotEqual(a, b)
        try b.loadStateDict(a.stateDict())
        XCTAssertEqual(a, b)
        var c = makeModel(seed: 7)
        try c.setParameters(a.namedParameters())
        XCTAssertEqual(c.namedParameters().map { $0.value }, a.namedParameters().map { $0.value })
        XCTAssertNotEqual(c.namedBuffers().map { $0.value }, a.namedBuffers().map { $0.value })
        var bad = a.stateDict(); bad.removeLast()
        XCTAssertThrowsError(try c.loadStateDict(bad)) { XCTAssertEqual($0 as? StateLoadingError, .missing(["head.3.bias"])) }
        var extra = a.stateDict(); extra.append(("head.9.weight", Matrix(rows: 1, cols: 1)))
        XCTAssertThrowsError(try c.loadStateDict(extra))
        XCTAssertNoThrow(try c.loadStateDict(extra, strict: false))
        var wrong = a.namedParameters(); wrong[0].value = Matrix(rows: 4, cols: 6)
        let before = c
        XCTAssertThrowsError(try c.setParameters(wrong)) {
            XCTAssertEqual($0 as? StateLoadingError, .shapeMismatch(name: "encoder.0.weight", expected: "6×4", got: "4×6"))
        }
        XCTAssertEqual(c, before)
    }

    func testEvalModeUsesRunningStatsAndTrainsNothing() {
        var m = makeModel()
        let x: Matrix<Double> = RNG(seed: 3).normalMatrixCopy(8, 4)
        let before = m
        XCTAssertEqual(m.forward(x, mode: .eval).representation, m.represent(x))
        XCTAssertEqual(m, before)
        _ = m.forward(x, mode: .train)
        XCTAssertNotEqual(m.namedBuffers().map { $0.value }, before.namedBuffers().map { $0.value })
    }

    func testTrainingStepsReduceLoss() {
        let m = makeModel()
        var rng = RNG(seed: 5)
        let base: Matrix<Double> = rng.normalMatrix(8, 4)
        let x = Matrix.vconcat([base, add(base, rng.normalMatrix(8, 4, std: 0.1))])
        var step = TrainingStep(model: m, objective: .simclr(NTXent(temperature: 0.5)), optimizer: .adam(Adam(lr: 1e-2)))
        var first = 0.0, last = 0.0
        for t in 0..<30 {
            let result = step(views: x, labels: nil, learningRate: 1e-2)
            XCTAssertEqual(result.status, .ok)
            if t == 0 { first = result.loss }
            last = result.loss
        }
        XCTAssertLessThan(last, first - 0.1)
    }
}

extension RNG {
    /// A matrix from a copy of the generator (for use in expressions).
    func normalMatrixCopy(_ r: Int, _ c: Int) -> Matrix<Double> { var g = self; return g.normalMatrix(r, c) }
}
