import XCTest
@testable import MCLNumerics

/// `fastExp` (FastExp.swift) against `Double.exp`, the reference: the documented bound of 2⁻²¹
/// relative error on [−87.33, 88], and the documented values outside it.
final class FastExpTests: XCTestCase {
    /// The bound of the contract.
    let bound = 0x1p-21

    func relativeError(_ x: Float) -> Double {
        let e = Double.exp(Double(x))
        return abs(Double(fastExp(x)) - e) / e
    }

    func testRelativeErrorWithinBoundOnADenseSweepAndRandomInputs() {
        var worst = 0.0, worstX: Float = 0
        let steps = 200_000
        let lo = Double(fastExpLowerBound), hi = Double(fastExpUpperBound)
        var xs = (0...steps).map { Float(lo + (hi - lo) * Double($0) / Double(steps)) }
        var rng = RNG(seed: 11)
        xs += (0..<50_000).map { _ in Float(rng.uniform(-4.0, 0.0)) }          // where softmax rows live
        xs += [0, -0.0, 1e-8, -1e-8, Float.leastNormalMagnitude, -0.3465736, 0.3465736, -87.3, 87.9, 88]
        for x in xs {
            let r = relativeError(x)
            if r > worst { worst = r; worstX = x }
        }
        print("fastExp: max relative error \(worst) (\(worst / 0x1p-24) × 2⁻²⁴) at x = \(worstX); bound \(bound)")
        XCTAssertLessThanOrEqual(worst, bound, "at x = \(worstX)")
        XCTAssertEqual(fastExp(0), 1)
    }

    func testValuesOutsideTheRange() {
        for x: Float in [-.infinity, -1e30, -200, -88, -87.34] { XCTAssertEqual(fastExp(x), 0, "x = \(x)") }
        for x: Float in [88.01, 89, 1e30, .infinity] { XCTAssertEqual(fastExp(x), .infinity, "x = \(x)") }
        XCTAssert(fastExp(Float.nan).isNaN)
        // Just inside the lower end the result is a normal number close to exp(x).
        XCTAssertLessThanOrEqual(relativeError(fastExpLowerBound), bound)
        XCTAssertGreaterThanOrEqual(fastExp(fastExpLowerBound), Float.leastNormalMagnitude)
    }

    func testLanesAgreeWithTheScalarForm() {
        var rng = RNG(seed: 3)
        for _ in 0..<100 {
            let v = SIMD8<Float>((0..<8).map { _ in Float(rng.uniform(-100.0, 90.0)) })
            let e = fastExp(v)
            for l in 0..<8 { XCTAssertEqual(e[l].bitPattern, fastExp(v[l]).bitPattern) }
        }
    }

    /// The shifted row sum on awkward lengths (tails of 1…7, one element, masked −∞ columns).
    func testShiftedSumOnAwkwardLengths() {
        var rng = RNG(seed: 5)
        for count in [1, 2, 7, 8, 9, 13, 17, 31, 64] {
            var x = (0..<count).map { _ in Float(rng.uniform(-30.0, 30.0)) }
            if count > 2 { x[1] = -.infinity }
            let mu = x.max()!
            var e = [Float](repeating: .nan, count: count)
            let sum = x.withUnsafeBufferPointer { px in
                e.withUnsafeMutableBufferPointer { pe in fastExpShiftedSum(px.baseAddress!, count: count, shift: mu, into: pe.baseAddress!) }
            }
            var reference = 0.0
            for j in 0..<count {
                let r = Double.exp(Double(x[j] - mu))   // the contract is about exp of the Float difference
                reference += r
                XCTAssertLessThanOrEqual(abs(Double(e[j]) - r), bound * r + Double(Float.leastNormalMagnitude), "count \(count), j \(j)")
            }
            XCTAssertEqual(sum, reference, accuracy: bound * reference, "count \(count)")
            if count > 2 { XCTAssertEqual(e[1], 0) }
        }
    }
}
