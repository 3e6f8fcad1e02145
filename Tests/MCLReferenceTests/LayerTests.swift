import XCTest
@testable import MCLReference

final class LayerTests: XCTestCase {
    func testLinearForwardByHandAndInitBounds() {
        let l = Linear<Double>(weight: Matrix([[1, 2], [3, 4], [5, 6]]), bias: [0.5, -1, 0])
        let y = l.forward(Matrix([[1, -1], [2, 0.5]])).output
        XCTAssertEqual(y, Matrix([[-0.5, -2, -1], [3.5, 7, 13]]))
        var rng = RNG(seed: 1)
        let r = Linear<Float>(inFeatures: 16, outFeatures: 8, rng: &rng)
        XCTAssertEqual(r.weight.shapeDescription, "8×16")
        XCTAssertTrue((r.weight.storage + r.bias).allSatisfy { abs($0) <= 0.25 })
        XCTAssertGreaterThan(r.weight.storage.map { abs($0) }.max()!, 0.2)
    }

    func testReLUZeroAtKink() {
        let relu = ReLU<Double>()
        let (y, c) = relu.forward(Matrix([[-1, 0, 2]]))
        XCTAssertEqual(y, Matrix([[0, 0, 2]]))
        XCTAssertEqual(relu.backward(Matrix([[5, 5, 5]]), c).dInput, Matrix([[0, 0, 5]]))
    }

    func testBatchNormStatisticsLikePyTorch() {
        var bn = BatchNorm1d<Double>(numFeatures: 2)
        let x = Matrix<Double>([[1, 10], [2, 20], [3, 60]])
        let (y, _) = bn.forward(x, mode: .train)
        // Column 0: μ = 2, biased σ² = 2/3, unbiased 1.
        XCTAssertEqual(y[0, 0], -1 / (2.0 / 3 + 1e-5).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(bn.runningMean[0], 0.2, accuracy: 1e-15)
        XCTAssertEqual(bn.runningVar[0], 0.9 + 0.1 * 1, accuracy: 1e-15)
        XCTAssertEqual(bn.runningMean[1], 3, accuracy: 1e-12)
        XCTAssertEqual(bn.runningVar[1], 0.9 + 0.1 * 700, accuracy: 1e-12)
        XCTAssertEqual(bn.numBatchesTracked, 1)
        let before = bn
        let e = bn.forward(x, mode: .eval).output
        XCTAssertEqual(bn, before)  // eval changes nothing
        XCTAssertEqual(e[0, 1], (10 - 3) / (70.9 + 1e-5).squareRoot(), accuracy: 1e-12)
        // Train-mode output columns have mean 0 and biased variance ≈ 1.
        XCTAssertEqual(columnMeans(y)[1], 0, accuracy: 1e-12)
    }

    func testL2NormalizeUnitRowsAndZeroRow() {
        let l = L2Normalize<Double>()
        let (y, c) = l.forward(Matrix([[3, 4], [0, 0]]))
        XCTAssertEqual(y, Matrix([[0.6, 0.8], [0, 0]]))
        let dx = l.backward(Matrix([[0.6, 0.8], [1, 1]]), c).dInput
        XCTAssertEqual(dx[0, 0], 0, accuracy: 1e-15)   // radial direction has no gradient
        XCTAssertEqual(dx[1, 0], 1e12)                  // zero row: dy/ε, as PyTorch
    }

    func testFloatAndDoubleAgree() {
        var rng = RNG(seed: 3)
        let x: Matrix<Double> = rng.normalMatrix(6, 5)
        var r1 = RNG(seed: 9), r2 = RNG(seed: 9)
        var md = ContrastiveModel<Double>(encoder: .mlpEncoder(inputWidth: 5, hiddenWidths: [8], outputWidth: 4, rng: &r1),
                                  head: .projectionHead(inputWidth: 4, hiddenWidth: 4, outputWidth: 3, rng: &r1))
        var mf = ContrastiveModel<Float>(encoder: .mlpEncoder(inputWidth: 5, hiddenWidths: [8], outputWidth: 4, rng: &r2),
                                         head: .projectionHead(inputWidth: 4, hiddenWidth: 4, outputWidth: 3, rng: &r2))
        let zd = md.forward(x, mode: .train).embedding
        let zf = mf.forward(x.converted(to: Float.self), mode: .train).embedding
        XCTAssertLessThan(maxAbsDifference(zd, zf.converted(to: Double.self)), 1e-4)
    }
}
