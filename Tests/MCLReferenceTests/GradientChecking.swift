import XCTest
@testable import MCLReference

/// Gradient checking by central finite differences, in Float64.
///
///     ∂f/∂x_k ≈ (f(x + h·e_k) − f(x − h·e_k)) / (2h),   h = 1e-6
///
/// Why h = 1e-6: the truncation error is h²·|f'''|/6 ≈ 1e-12 and the rounding error ≈ ε·|f|/h ≈ 2e-10
/// for f of order 1 (ε = 2.2e-16); their sum is far below the tolerance, and h matches PyTorch's
/// `gradcheck` so results are comparable. Inputs are kept ≥ 1e-3 from any kink so ±h never crosses one.
///
/// Comparison: |a − e| ≤ atol + rtol·|e| elementwise, a the analytic gradient, e the numerical one
/// (the reference). Defaults atol = 1e-6, rtol = 1e-5: ~10⁴× the expected finite-difference error,
/// and ~10⁴× tighter than any real backward bug (which gives O(|e|) errors).
struct Tolerance {
    var atol = 1e-6
    var rtol = 1e-5
}

struct ComparisonReport {
    var passed: Bool
    var maxAbsDifference: Double
    var worstIndex: Int
    var worstActual: Double
    var worstExpected: Double
}

/// Compares elementwise; the worst index is the one with the largest excess |a − e| − (atol + rtol|e|).
func compare(_ actual: [Double], _ expected: [Double], _ tol: Tolerance) -> ComparisonReport {
    precondition(actual.count == expected.count, "compare: \(actual.count) vs \(expected.count) elements")
    var report = ComparisonReport(passed: true, maxAbsDifference: 0, worstIndex: -1, worstActual: 0, worstExpected: 0)
    var worstExcess = -Double.infinity
    for k in actual.indices {
        let d = abs(actual[k] - expected[k])
        let excess = d.isNaN ? .infinity : d - (tol.atol + tol.rtol * abs(expected[k]))
        report.maxAbsDifference = max(report.maxAbsDifference, d.isNaN ? .infinity : d)
        if excess > worstExcess {
            worstExcess = excess
            report.worstIndex = k; report.worstActual = actual[k]; report.worstExpected = expected[k]
        }
    }
    report.passed = worstExcess <= 0 || actual.isEmpty
    return report
}

func assertClose(_ actual: Matrix<Double>, _ expected: Matrix<Double>, _ tol: Tolerance = Tolerance(),
                 _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.rows, expected.rows, "\(what): rows", file: file, line: line)
    XCTAssertEqual(actual.cols, expected.cols, "\(what): cols", file: file, line: line)
    guard actual.count == expected.count else { return }
    let r = compare(actual.storage, expected.storage, tol)
    if !r.passed {
        let i = r.worstIndex / max(1, actual.cols), j = r.worstIndex % max(1, actual.cols)
        XCTFail("\(what): mismatch, max |Δ| = \(r.maxAbsDifference); worst at (\(i), \(j)): actual \(r.worstActual), expected \(r.worstExpected) (atol \(tol.atol), rtol \(tol.rtol))",
                file: file, line: line)
    }
}

/// Central-difference gradient of a scalar function of a matrix.
func numericalGradient(at x: Matrix<Double>, h: Double = 1e-6, _ f: (Matrix<Double>) -> Double) -> Matrix<Double> {
    var g = Matrix<Double>(rows: x.rows, cols: x.cols)
    var xp = x
    for k in 0..<x.count {
        let v = x.storage[k]
        xp.storage[k] = v + h; let fp = f(xp)
        xp.storage[k] = v - h; let fm = f(xp)
        xp.storage[k] = v
        g.storage[k] = (fp - fm) / (2 * h)
    }
    return g
}

/// Checks `analytic` against the central-difference gradient of `f` at `x`.
func checkGradient(_ what: String, analytic: Matrix<Double>, at x: Matrix<Double>, _ tol: Tolerance = Tolerance(),
                   file: StaticString = #filePath, line: UInt = #line, _ f: (Matrix<Double>) -> Double) {
    assertClose(analytic, numericalGradient(at: x, f), tol, what, file: file, line: line)
}

/// Σ w ⊙ y: a scalar loss whose gradient w.r.t. y is w (random, so every output element matters).
func weightedSum(_ y: Matrix<Double>, _ w: Matrix<Double>) -> Double { sumAll(hadamard(y, w)) }

func vec(_ v: [Double]) -> Matrix<Double> { .rowVector(v) }
