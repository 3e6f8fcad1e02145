import Foundation
import MCLNumerics

/// How closely a candidate tensor must match the reference ("expected") tensor.
///
/// Float tensors pass when, elementwise,
///
///     |a − e| ≤ atol + rtol·|e|                (e the reference, a the candidate)
///
/// the rule of NumPy's `assert_allclose` (asymmetric: the reference sets the scale). Integer and bool
/// tensors (cluster labels, batches, iteration counts) are compared exactly, whatever atol and rtol
/// say. Non-finite values:
/// - NaN against NaN passes only when `nanEqual` is true (a fixture must say so and why); NaN against
///   a number, or a number against NaN, always fails;
/// - +∞ matches only +∞, −∞ only −∞ (a finite value never matches an infinity).
///
/// Not guaranteed: the rule is not symmetric in a and e, and it says nothing about ULPs.
public struct ComparisonTolerance: Equatable, Sendable, CustomStringConvertible {
    /// Absolute slack, ≥ 0.
    public var atol: Double
    /// Slack relative to |expected|, ≥ 0.
    public var rtol: Double
    /// Whether NaN in both tensors at the same index counts as a match.
    public var nanEqual: Bool

    public init(atol: Double, rtol: Double, nanEqual: Bool = false) {
        precondition(atol >= 0 && rtol >= 0 && atol.isFinite && rtol.isFinite,
                     "ComparisonTolerance: atol=\(atol) and rtol=\(rtol) must be finite and >= 0")
        self.atol = atol
        self.rtol = rtol
        self.nanEqual = nanEqual
    }

    /// atol = rtol = 0: bit-for-bit equal values (−0 equals +0). Used for integer tensors.
    public static let exact = ComparisonTolerance(atol: 0, rtol: 0)

    public var description: String {
        self == .exact ? "exact" : "atol=\(ComparisonTolerance.format(atol)) rtol=\(ComparisonTolerance.format(rtol))"
            + (nanEqual ? " nan_equal" : "")
    }

    /// Compact scientific text for reports: `3.1e-07`, `0`, `inf`, `nan`.
    public static func format(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == 0 { return "0" }
        return String(format: "%.2e", x)
    }
}

/// The outcome of comparing one candidate tensor with its reference.
public struct ToleranceReport: Equatable, Sendable {
    /// True when every element is within tolerance (and shapes and kinds agree).
    public var passed: Bool
    /// max |a − e| over elements where both are finite (0 for empty tensors; ∞ if a non-finite
    /// mismatch occurred).
    public var maxAbsDiff: Double
    /// max |a − e| / |e| over finite elements (0 where a == e, ∞ where e == 0 ≠ a).
    public var maxRelDiff: Double
    /// Multi-index (C order, outermost first) of the worst element: the first NaN/∞ mismatch if
    /// any, else the element that exceeds its allowance by the most (or comes closest to it when
    /// all pass). Empty for scalars and empty tensors.
    public var worstIndex: [Int]
    /// Number of elements outside tolerance.
    public var mismatches: Int
    /// Number of elements compared.
    public var count: Int
    /// Why the comparison failed when it failed before looking at values (shape or dtype kind), or
    /// nil.
    public var problem: String?
    /// The candidate's and the reference's value at `worstIndex` (nil when there is no worst
    /// element: empty tensors, or a shape/dtype problem). Shown on a failure, as NumPy's
    /// `assert_allclose` shows the ACTUAL and DESIRED values.
    public var worstActual: Double?
    public var worstExpected: Double?

    public init(passed: Bool, maxAbsDiff: Double, maxRelDiff: Double, worstIndex: [Int], mismatches: Int,
                count: Int, problem: String? = nil, worstActual: Double? = nil, worstExpected: Double? = nil) {
        self.passed = passed; self.maxAbsDiff = maxAbsDiff; self.maxRelDiff = maxRelDiff
        self.worstIndex = worstIndex; self.mismatches = mismatches; self.count = count; self.problem = problem
        self.worstActual = worstActual; self.worstExpected = worstExpected
    }

    /// `[2, 0]`-style text of the worst index, `[]` for scalars.
    public var worstIndexText: String { "[" + worstIndex.map(String.init).joined(separator: ", ") + "]" }
}

/// The one tolerance checker of mcl-ref: fixtures, golden tests and `mcl-ref check` all use it.
public enum ToleranceCheck {
    /// The multi-index of flat C-order position `flat` in `shape`.
    public static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        var rest = flat
        var out = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 {
            out[d] = rest % shape[d]
            rest /= shape[d]
        }
        return out
    }

    /// Compares float values (`actual` against `expected`, both C order over `shape`).
    /// - Precondition: both arrays hold `shape`'s element count.
    public static func compare(actual: [Double], expected: [Double], shape: [Int],
                               tolerance: ComparisonTolerance) -> ToleranceReport {
        let n = expected.count
        precondition(actual.count == n && shape.reduce(1, *) == n,
                     "ToleranceCheck: \(actual.count) actual and \(n) expected values for shape \(NPYArray.describe(shape))")
        var maxAbs = 0.0, maxRel = 0.0
        var mismatches = 0
        var worst = -1
        var worstExcess = -Double.infinity
        var nonFiniteWorst = -1
        for i in 0..<n {
            let a = actual[i], e = expected[i]
            if !a.isFinite || !e.isFinite {
                let same = (a.isNaN && e.isNaN && tolerance.nanEqual) || (a.isInfinite && a == e)
                if !same {
                    mismatches += 1
                    maxAbs = .infinity
                    maxRel = .infinity
                    if nonFiniteWorst < 0 { nonFiniteWorst = i }
                }
                continue
            }
            let diff = abs(a - e)
            let allowed = tolerance.atol + tolerance.rtol * abs(e)
            maxAbs = max(maxAbs, diff)
            let rel = diff == 0 ? 0 : (e == 0 ? Double.infinity : diff / abs(e))
            maxRel = max(maxRel, rel)
            if diff > allowed { mismatches += 1 }
            let excess = diff - allowed
            if excess > worstExcess { worstExcess = excess; worst = i }
        }
        let w = nonFiniteWorst >= 0 ? nonFiniteWorst : worst
        return ToleranceReport(passed: mismatches == 0, maxAbsDiff: maxAbs, maxRelDiff: maxRel,
                               worstIndex: w >= 0 ? multiIndex(w, shape: shape) : [],
                               mismatches: mismatches, count: n,
                               worstActual: w >= 0 ? actual[w] : nil, worstExpected: w >= 0 ? expected[w] : nil)
    }

    /// Compares integer values exactly.
    public static func compareExact(actual: [Int], expected: [Int], shape: [Int]) -> ToleranceReport {
        let n = expected.count
        precondition(actual.count == n, "ToleranceCheck: \(actual.count) actual and \(n) expected values")
        var maxAbs = 0.0, maxRel = 0.0, mismatches = 0, worst = -1
        for i in 0..<n where actual[i] != expected[i] {
            mismatches += 1
            let diff = abs(Double(actual[i]) - Double(expected[i]))
            if worst < 0 || diff > maxAbs { worst = i }
            maxAbs = max(maxAbs, diff)
            maxRel = max(maxRel, expected[i] == 0 ? .infinity : diff / abs(Double(expected[i])))
        }
        return ToleranceReport(passed: mismatches == 0, maxAbsDiff: maxAbs, maxRelDiff: maxRel,
                               worstIndex: worst >= 0 ? multiIndex(worst, shape: shape) : [],
                               mismatches: mismatches, count: n,
                               worstActual: worst >= 0 ? Double(actual[worst]) : nil,
                               worstExpected: worst >= 0 ? Double(expected[worst]) : nil)
    }

    /// Compares two `.npy` arrays: shapes must be equal; integer/bool references are compared
    /// exactly against integer/bool candidates; float references against float candidates of
    /// either precision (values widened to `Double`) with `tolerance`. A float candidate for an
    /// integer reference, or the reverse, fails with `problem` set.
    public static func compare(actual: NPYArray, expected: NPYArray, tolerance: ComparisonTolerance) -> ToleranceReport {
        func failed(_ problem: String) -> ToleranceReport {
            ToleranceReport(passed: false, maxAbsDiff: .infinity, maxRelDiff: .infinity, worstIndex: [],
                            mismatches: expected.count, count: expected.count, problem: problem)
        }
        guard actual.shape == expected.shape else {
            return failed("shape \(NPYArray.describe(actual.shape)), expected \(NPYArray.describe(expected.shape))")
        }
        guard actual.dtype.isFloatingPoint == expected.dtype.isFloatingPoint else {
            return failed("dtype \(actual.dtype.descr), expected \(expected.dtype.isFloatingPoint ? "a float" : "an integer") dtype like \(expected.dtype.descr)")
        }
        do {
            if expected.dtype.isFloatingPoint {
                return compare(actual: try actual.asDoubles(), expected: try expected.asDoubles(),
                               shape: expected.shape, tolerance: tolerance)
            }
            return compareExact(actual: try actual.asInts().values, expected: try expected.asInts().values,
                                shape: expected.shape)
        } catch {
            return failed("\(error)")
        }
    }
}
