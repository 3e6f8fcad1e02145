import XCTest
@testable import MCLReference

final class StandardizeTests: XCTestCase {
    func testTrainStatisticsAppliedToTestAndConstantColumns() {
        var rng = RNG(seed: 3)
        var x: Matrix<Double> = rng.normalMatrix(50, 3, std: 4)
        for i in 0..<50 { x[i, 1] = 7; x[i, 2] = 2 + 3 * x[i, 2] }
        let s = Standardizer(fitting: x)
        XCTAssertEqual(s.scale[1], 1)
        let z = s.transform(x)
        for j in [0, 2] {
            let col = (0..<50).map { z[$0, j] }
            let mean = col.reduce(0, +) / 50
            let variance = col.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 50
            XCTAssertEqual(mean, 0, accuracy: 1e-12)
            XCTAssertEqual(variance, 1, accuracy: 1e-12)
        }
        XCTAssertTrue((0..<50).allSatisfy { z[$0, 1] == 0 })
        let t = Matrix<Double>([[1, 8, 0]])
        let zt = s.transform(t)
        XCTAssertEqual(zt[0, 0], (1 - s.mean[0]) / s.scale[0])
        XCTAssertEqual(zt[0, 1], 1)
        // Float in, Float out, statistics in Double.
        XCTAssertEqual(Standardizer(fitting: x.converted(to: Float.self)).mean[1], 7)
    }
}
