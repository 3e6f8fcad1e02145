import XCTest
@testable import MCLNumerics

final class SoftmaxTests: XCTestCase {
    func testMatchesNaiveFormulaOnModerateLogits() {
        var rng = RNG(seed: 4)
        let x: Matrix<Double> = rng.normalMatrix(5, 7, std: 3)
        let lse = logSumExpRows(x)
        for i in 0..<5 {
            let naive = Double.log(x.row(i).reduce(0) { $0 + Double.exp($1) })
            XCTAssertEqual(lse[i], naive, accuracy: 1e-12)
        }
        let s = softmaxRows(x)
        for i in 0..<5 { XCTAssertEqual(s.row(i).reduce(0, +), 1, accuracy: 1e-12) }
    }

    func testStableAtHugeLogitsAndMinusInfinity() {
        let x = Matrix<Float>([[1e4, 1e4 - 1, -1e4], [-1e4, -1e4, -1e4], [-.infinity, 0, -.infinity],
                               [-.infinity, -.infinity, -.infinity]])
        let lse = logSumExpRows(x)
        XCTAssertEqual(Double(lse[0]), 1e4 + Double.log(1 + Double.exp(-1)), accuracy: 1e-2)
        XCTAssertEqual(Double(lse[1]), -1e4 + Double.log(3), accuracy: 1e-2)
        XCTAssertEqual(lse[2], 0)
        XCTAssertEqual(lse[3], -.infinity)
        let s = softmaxRows(x)
        XCTAssert(s.storage.allSatisfy { !$0.isNaN })
        XCTAssertEqual(s.row(2), [0, 1, 0])
        XCTAssertEqual(s.row(3), [0, 0, 0])
        let ls = logSoftmaxRows(x)
        XCTAssertEqual(ls[2, 1], 0)
        XCTAssertEqual(ls[2, 0], -.infinity)
        XCTAssertEqual(Double(ls[0, 0]), -Double.log(1 + Double.exp(-1)), accuracy: 1e-3)
    }
}
