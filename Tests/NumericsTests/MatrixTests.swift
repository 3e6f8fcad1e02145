import XCTest
@testable import MCLNumerics

final class MatrixTests: XCTestCase {
    func testRowMajorLayoutAndAccessors() {
        let m = Matrix<Double>([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(m.rows, 2)
        XCTAssertEqual(m.cols, 3)
        XCTAssertEqual(m.storage, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(m[1, 0], 4)
        XCTAssertEqual(m.row(1), [4, 5, 6])
        XCTAssertEqual(m.transposed(), Matrix([[1, 4], [2, 5], [3, 6]]))
        XCTAssertEqual(m.columns(1..<3), Matrix([[2, 3], [5, 6]]))
        XCTAssertEqual(m.gatherRows([1, 1, 0]), Matrix([[4, 5, 6], [4, 5, 6], [1, 2, 3]]))
    }

    func testConcatenationKeepsBlocks() {
        let a = Matrix<Float>([[1, 2], [3, 4]]), b = Matrix<Float>([[5], [6]])
        let h = Matrix.hconcat([a, b])
        XCTAssertEqual(h, Matrix([[1, 2, 5], [3, 4, 6]]))
        XCTAssertEqual(h.columns(0..<2), a)
        XCTAssertEqual(h.columns(2..<3), b)
        XCTAssertEqual(Matrix.vconcat([a, a]).rows, 4)
    }

    func testPrecisionConversion() {
        let d = Matrix<Double>([[0.1, 1e-50]])
        let f: Matrix<Float> = d.converted()
        XCTAssertEqual(f[0, 0], Float(0.1))
        XCTAssertEqual(f[0, 1], 0)
    }
}
