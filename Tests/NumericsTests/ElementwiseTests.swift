import XCTest
@testable import MCLNumerics

final class ElementwiseTests: XCTestCase {
    func testBroadcastsAndMaps() {
        let x = Matrix<Double>([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(addRowVector(x, [10, 20, 30]), Matrix([[11, 22, 33], [14, 25, 36]]))
        XCTAssertEqual(scaleColumns(x, by: [1, 0, -1]), Matrix([[1, 0, -3], [4, 0, -6]]))
        XCTAssertEqual(scaleRows(x, by: [2, -1]), Matrix([[2, 4, 6], [-4, -5, -6]]))
        XCTAssertEqual(hadamard(x, x), Matrix([[1, 4, 9], [16, 25, 36]]))
        XCTAssertEqual(add(x, x), scaled(x, by: 2))
        XCTAssertEqual(subtract(x, x), Matrix(rows: 2, cols: 3))
        var y = x
        axpy(-1, x, &y)
        XCTAssertEqual(y, Matrix(rows: 2, cols: 3))
        var s = x; scale(&s, by: 3)
        XCTAssertEqual(s, x.map { $0 * 3 })
        XCTAssertEqual(Matrix.rowVector([1.0, 2]).shapeDescription, "1×2")
    }

    func testReductions() {
        let x = Matrix<Double>([[3, 4, 0], [1, -2, 2]])
        XCTAssertEqual(columnSums(x), [4, 2, 2])
        XCTAssertEqual(columnMeans(x), [2, 1, 1])
        XCTAssertEqual(rowSums(x), [7, 1])
        XCTAssertEqual(rowNorms(x), [5, 3])
        XCTAssertEqual(rowDots(x, x), [25, 9])
        XCTAssertEqual(sumAll(x), 8)
        XCTAssertEqual(maxAbsDifference(x, Matrix([[3, 4, 0], [1, -2, 2.5]])), 0.5)
    }

    func testFloatSumsAccumulateInDouble() {
        // 1e8 + 1 + … in Float loses the ones; accumulated in Double they survive until the final rounding.
        var x = Matrix<Float>(rows: 17, cols: 1, repeating: 1)
        x[0, 0] = 1e8
        x[16, 0] = -1e8
        XCTAssertEqual(columnSums(x), [15])
        XCTAssertEqual(rowNorms(Matrix<Float>([[3e30, 4e30]])), [5e30])   // no overflow of squares
    }
}
