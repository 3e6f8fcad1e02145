import Foundation
import MCLNumerics

/// The comparison of one output tensor of one case.
public struct TensorComparison: Sendable {
    public var caseName: String
    public var output: FixtureTensorEntry
    public var tolerance: ComparisonTolerance
    public var report: ToleranceReport

    /// `OK   case/name  max_abs=… max_rel=… worst=[i, j]  (atol=… rtol=…)`, plus the number of
    /// mismatches and the problem on failure.
    public var line: String {
        var s = (report.passed ? "OK  " : "FAIL") + " \(caseName)/\(output.name)"
        s += "  max_abs=\(ComparisonTolerance.format(report.maxAbsDiff)) max_rel=\(ComparisonTolerance.format(report.maxRelDiff))"
        s += " worst=\(report.worstIndexText)  (\(tolerance))"
        if !report.passed {
            s += report.problem.map { "  \($0)" } ?? "  \(report.mismatches)/\(report.count) elements outside tolerance"
        }
        return s
    }

    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("case", .string(caseName)), ("name", .string(output.name)), ("passed", .bool(report.passed)),
            ("max_abs_diff", .number(report.maxAbsDiff)), ("max_rel_diff", .number(report.maxRelDiff)),
            ("worst_index", .array(report.worstIndex.map { .number(Double($0)) })),
            ("mismatches", .number(Double(report.mismatches))), ("count", .number(Double(report.count))),
            ("atol", .number(tolerance.atol)), ("rtol", .number(tolerance.rtol)),
        ]
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
    /// a missing or unreadable file is a thrown `FixtureError` naming it.
    public static func compare(reference: String, candidate: String, cases: [String] = []) throws -> [TensorComparison] {
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
                let actual = try FixtureManifest.readTensor(output, caseDirectory: candidateCase, checkEntry: false)
                let tolerance = output.tolerance ?? .exact
                results.append(TensorComparison(caseName: name, output: output, tolerance: tolerance,
                                                report: ToleranceCheck.compare(actual: actual, expected: expected, tolerance: tolerance)))
            }
        }
        return results
    }
}
