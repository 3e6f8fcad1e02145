import Foundation
import MCLNumerics

/// The comparison of one output tensor of one case, or the record that it was skipped.
public struct TensorComparison: Sendable {
    public var caseName: String
    public var output: FixtureTensorEntry
    public var tolerance: ComparisonTolerance
    /// The comparison; nil when the tensor was skipped (`skipReason`).
    public var report: ToleranceReport?
    /// Why nothing was compared (`check --allow-missing`: the candidate file does not exist).
    public var skipReason: String?

    public init(caseName: String, output: FixtureTensorEntry, tolerance: ComparisonTolerance,
                report: ToleranceReport?, skipReason: String? = nil) {
        precondition((report == nil) != (skipReason == nil), "TensorComparison: exactly one of report and skipReason")
        self.caseName = caseName; self.output = output; self.tolerance = tolerance
        self.report = report; self.skipReason = skipReason
    }

    /// Compared and within tolerance.
    public var passed: Bool { report?.passed ?? false }
    /// Compared and outside tolerance (or of the wrong shape or kind).
    public var failed: Bool { report.map { !$0.passed } ?? false }
    public var skipped: Bool { report == nil }

    /// `OK   case/name  max_abs=… max_rel=… worst=[i, j]  (atol=… rtol=…)`; on failure also the
    /// number of mismatches (or the problem) and the candidate and reference values at the worst
    /// index; `SKIP case/name  <reason>` for a skipped tensor.
    public var line: String {
        guard let report else { return "SKIP \(caseName)/\(output.name)  \(skipReason ?? "")" }
        var s = (report.passed ? "OK  " : "FAIL") + " \(caseName)/\(output.name)"
        s += "  max_abs=\(ComparisonTolerance.format(report.maxAbsDiff)) max_rel=\(ComparisonTolerance.format(report.maxRelDiff))"
        s += " worst=\(report.worstIndexText)  (\(tolerance))"
        if !report.passed {
            s += report.problem.map { "  \($0)" } ?? "  \(report.mismatches)/\(report.count) elements outside tolerance"
            if let a = report.worstActual, let e = report.worstExpected {
                s += "; at \(report.worstIndexText): candidate \(TensorComparison.value(a)), reference \(TensorComparison.value(e))"
            }
        }
        return s
    }

    /// A value as text that round-trips (shortest representation; integers without a fraction).
    static func value(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded(), abs(x) < 9.007_199_254_740_992e15 { return String(Int64(x)) }
        return "\(x)"
    }

    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("case", .string(caseName)), ("name", .string(output.name)),
            ("status", .string(report == nil ? "skip" : passed ? "ok" : "fail")), ("passed", .bool(passed)),
        ]
        guard let report else {
            return .object(pairs + [("skip_reason", .string(skipReason ?? ""))])
        }
        // JSON has no NaN or infinity: such values are written as the strings "nan", "inf", "-inf".
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .string(TensorComparison.value(x)) }
        pairs += [
            ("max_abs_diff", number(report.maxAbsDiff)), ("max_rel_diff", number(report.maxRelDiff)),
            ("worst_index", .array(report.worstIndex.map { .number(Double($0)) })),
            ("mismatches", .number(Double(report.mismatches))), ("count", .number(Double(report.count))),
            ("atol", .number(tolerance.atol)), ("rtol", .number(tolerance.rtol)),
        ]
        if let a = report.worstActual, let e = report.worstExpected {
            pairs += [("worst_candidate", number(a)), ("worst_reference", number(e))]
        }
        if let p = report.problem { pairs.append(("problem", .string(p))) }
        return .object(pairs)
    }
}

/// Compares a candidate directory (a backend's outputs) with a reference fixture directory.
public enum FixtureCheck {
    /// The case names in `directory`: subdirectories holding a `manifest.json`, sorted.
    public static func caseNames(in directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FixtureError(path: directory, "missing directory")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { !$0.hasPrefix(".") && FileManager.default.fileExists(atPath: "\(directory)/\($0)/manifest.json") }.sorted()
    }

    /// Compares every output of every case (or of `cases`, in that order).
    ///
    /// The candidate holds, for each compared case, `<candidate>/<case>/<file>` for every output
    /// `file` of the reference manifest (its own manifest, if any, is not read). Values outside
    /// tolerance, a wrong shape or an integer/float mix-up are failures (reported, not thrown);
    /// a missing or unreadable file is a thrown `FixtureError` naming it — except that with
    /// `allowMissing` a candidate file that does not exist is a skipped comparison (a backend that
    /// implements only some cases). A malformed candidate file is always an error.
    public static func compare(reference: String, candidate: String, cases: [String] = [],
                               allowMissing: Bool = false) throws -> [TensorComparison] {
        let names = cases.isEmpty ? try caseNames(in: reference) : cases
        if names.isEmpty { throw FixtureError(path: reference, "no fixture cases (no <case>/manifest.json)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FixtureError(path: candidate, "missing directory")
        }
        var results: [TensorComparison] = []
        for name in names {
            let referenceCase = "\(reference)/\(name)", candidateCase = "\(candidate)/\(name)"
            let manifest = try FixtureManifest.read(caseDirectory: referenceCase)
            for output in manifest.outputs {
                let expected = try FixtureManifest.readTensor(output, caseDirectory: referenceCase, checkEntry: true)
                let tolerance = output.tolerance ?? .exact
                let candidatePath = candidateCase + "/" + output.file
                if allowMissing && !FileManager.default.fileExists(atPath: candidatePath) {
                    results.append(TensorComparison(caseName: name, output: output, tolerance: tolerance, report: nil,
                                                    skipReason: "no candidate file \(candidatePath)"))
                    continue
                }
                let actual = try FixtureManifest.readTensor(output, caseDirectory: candidateCase, checkEntry: false)
                results.append(TensorComparison(caseName: name, output: output, tolerance: tolerance,
                                                report: ToleranceCheck.compare(actual: actual, expected: expected, tolerance: tolerance)))
            }
        }
        return results
    }
}
