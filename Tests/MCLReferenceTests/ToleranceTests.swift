import XCTest
import MCLNumerics
@testable import MCLReference

/// The one tolerance checker: the rule, its reports, and that a mismatch fails.
final class ToleranceTests: XCTestCase {
    func testRuleIsAtolPlusRtolTimesExpected() {
        let t = ComparisonTolerance(atol: 1e-3, rtol: 1e-2)
        // allowed at e = 10: 1e-3 + 0.1 = 0.101
        XCTAssertTrue(ToleranceCheck.compare(actual: [10.1], expected: [10], shape: [1], tolerance: t).passed)
        XCTAssertFalse(ToleranceCheck.compare(actual: [10.102], expected: [10], shape: [1], tolerance: t).passed)
        // at e = 0 only atol counts
        XCTAssertTrue(ToleranceCheck.compare(actual: [0.0009], expected: [0], shape: [1], tolerance: t).passed)
        XCTAssertFalse(ToleranceCheck.compare(actual: [0.0011], expected: [0], shape: [1], tolerance: t).passed)
        // asymmetric: the reference sets the scale
        XCTAssertFalse(ToleranceCheck.compare(actual: [10], expected: [0], shape: [1], tolerance: ComparisonTolerance(atol: 0, rtol: 0.5)).passed)
        XCTAssertTrue(ToleranceCheck.compare(actual: [0], expected: [10], shape: [1], tolerance: ComparisonTolerance(atol: 0, rtol: 1)).passed)
    }

    func testAMismatchFailsAndReportsTheWorstMultiIndex() {
        let expected = (0..<24).map { Double($0) }
        var actual = expected
        actual[17] += 0.5   // index [1, 1, 1] in shape (2, 3, 4)
        actual[3] += 1e-9   // within tolerance
        let r = ToleranceCheck.compare(actual: actual, expected: expected, shape: [2, 3, 4], tolerance: ComparisonTolerance(atol: 1e-6, rtol: 1e-6))
        XCTAssertFalse(r.passed)
        XCTAssertEqual(r.mismatches, 1)
        XCTAssertEqual(r.worstIndex, [1, 1, 1])
        XCTAssertEqual(r.maxAbsDiff, 0.5, accuracy: 1e-12)
        XCTAssertEqual(r.maxRelDiff, 0.5 / 17, accuracy: 1e-12)
        XCTAssertEqual(ToleranceCheck.multiIndex(23, shape: [2, 3, 4]), [1, 2, 3])
        XCTAssertEqual(ToleranceCheck.multiIndex(0, shape: []), [])
    }

    func testNaNAndInfinities() {
        let t = ComparisonTolerance(atol: 1, rtol: 1)
        XCTAssertFalse(ToleranceCheck.compare(actual: [.nan], expected: [.nan], shape: [1], tolerance: t).passed,
                       "NaN equals NaN only when the fixture says so")
        XCTAssertTrue(ToleranceCheck.compare(actual: [.nan], expected: [.nan], shape: [1],
                                             tolerance: ComparisonTolerance(atol: 1, rtol: 1, nanEqual: true)).passed)
        let r = ToleranceCheck.compare(actual: [1, .nan], expected: [1, 2], shape: [2], tolerance: ComparisonTolerance(atol: 1, rtol: 1, nanEqual: true))
        XCTAssertFalse(r.passed)
        XCTAssertEqual(r.worstIndex, [1])
        XCTAssertFalse(ToleranceCheck.compare(actual: [1], expected: [.nan], shape: [1], tolerance: t).passed)
        XCTAssertTrue(ToleranceCheck.compare(actual: [.infinity], expected: [.infinity], shape: [1], tolerance: .exact).passed)
        XCTAssertFalse(ToleranceCheck.compare(actual: [-.infinity], expected: [.infinity], shape: [1], tolerance: t).passed)
        XCTAssertFalse(ToleranceCheck.compare(actual: [1e300], expected: [.infinity], shape: [1], tolerance: t).passed)
    }

    func testIntegerTensorsAreComparedExactlyWhateverTheTolerance() throws {
        let e = try NPYArray(ints: [0, 1, 2, 2], shape: [4])
        let a = try NPYArray(ints: [0, 1, 1, 2], shape: [4])
        let r = ToleranceCheck.compare(actual: a, expected: e, tolerance: ComparisonTolerance(atol: 10, rtol: 10))
        XCTAssertFalse(r.passed)
        XCTAssertEqual(r.worstIndex, [2])
        XCTAssertTrue(ToleranceCheck.compare(actual: e, expected: e, tolerance: .exact).passed)
        // int32 candidate against int64 reference: same values pass
        XCTAssertTrue(ToleranceCheck.compare(actual: try NPYArray(ints: [0, 1, 2, 2], shape: [4], dtype: .int32),
                                             expected: e, tolerance: .exact).passed)
    }

    func testShapeAndKindMismatchesFailWithAProblem() throws {
        let e = try NPYArray(doubles: [1, 2, 3, 4], shape: [2, 2])
        let wrongShape = ToleranceCheck.compare(actual: try NPYArray(doubles: [1, 2, 3, 4], shape: [4]), expected: e, tolerance: .exact)
        XCTAssertFalse(wrongShape.passed)
        XCTAssert(wrongShape.problem?.contains("shape (4,)") == true, wrongShape.problem ?? "")
        let wrongKind = ToleranceCheck.compare(actual: try NPYArray(ints: [1, 2, 3, 4], shape: [2, 2]), expected: e, tolerance: .exact)
        XCTAssertFalse(wrongKind.passed)
        XCTAssertNotNil(wrongKind.problem)
        // float32 candidate against a float64 reference is compared in float64
        let f32 = try NPYArray(floats: [1, 2, 3, 4.000001], shape: [2, 2])
        XCTAssertTrue(ToleranceCheck.compare(actual: f32, expected: e, tolerance: ComparisonTolerance(atol: 0, rtol: 1e-6)).passed)
        XCTAssertFalse(ToleranceCheck.compare(actual: f32, expected: e, tolerance: .exact).passed)
    }

    func testEmptyAndScalarTensors() {
        let r = ToleranceCheck.compare(actual: [], expected: [], shape: [0, 3], tolerance: .exact)
        XCTAssertTrue(r.passed)
        XCTAssertEqual(r.worstIndex, [])
        let s = ToleranceCheck.compare(actual: [2], expected: [1], shape: [], tolerance: .exact)
        XCTAssertFalse(s.passed)
        XCTAssertEqual(s.worstIndex, [])
    }
}
