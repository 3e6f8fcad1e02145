import Foundation
import MCLNumerics
import MCLReference

/// `mcl-ref check`: compares a backend's outputs with reference fixtures.
let checkCommand = CommandSpec(
    words: ["check"],
    summary: "Compare a candidate directory of backend outputs with reference fixtures (exit 0 pass, 1 fail, 2 bad files).",
    discussion: """
    For every case of the reference (or each --case), every output listed in its manifest.json is
    read from the reference and from CANDIDATE/<case>/<same file name> and compared elementwise:
    |candidate − reference| ≤ atol + rtol·|reference| with the manifest's atol and rtol; integer
    outputs exactly; NaN only matches NaN where the manifest says nan_equal. One line per tensor:
    OK or FAIL, case/name, max abs diff, max rel diff, worst index; a FAIL line also shows the
    candidate and reference values at the worst index (as numpy.testing.assert_allclose does).
    A missing or malformed file (manifest or .npy), or a manifest without outputs, is named and
    exits 2. With --allow-missing, a candidate file that does not exist is a SKIP line instead (a
    backend that implements only some cases); the check passes (exit 0) only if at least one tensor
    was compared and none failed.
    """,
    options: [
        .value("reference", "DIR", "reference fixture directory (as written by 'mcl-ref fixtures')"),
        .value("candidate", "DIR", "directory with the backend's outputs, laid out like the reference"),
        .value("case", "NAME", "check only this case", repeatable: true),
        .flag("allow-missing", "report candidate files that do not exist as SKIP instead of exiting 2"),
        .flag("json", "print exactly one JSON object on stdout instead of lines"),
    ],
    run: runCheck
)

func runCheck(_ args: ParsedArguments) throws -> Int32 {
    guard let reference = args.string("reference") else { throw CLIError("--reference: missing (the reference fixture directory)") }
    guard let candidate = args.string("candidate") else { throw CLIError("--candidate: missing (the backend's output directory)") }
    let results: [TensorComparison]
    do {
        results = try FixtureCheck.compare(reference: reference, candidate: candidate, cases: args.strings("case"),
                                           allowMissing: args.has("allow-missing"))
    } catch let error as FixtureError {
        throw CLIError("\(error)")
    }
    let failed = results.filter { $0.failed }.count
    let skipped = results.filter { $0.skipped }.count
    let compared = results.count - skipped
    let passed = compared > 0 && failed == 0
    if args.has("json") {
        print(JSONValue.object([("passed", .bool(passed)), ("tensors", .number(Double(results.count))),
                                ("compared", .number(Double(compared))), ("failed", .number(Double(failed))),
                                ("skipped", .number(Double(skipped))),
                                ("results", .array(results.map { $0.json }))]).serialized())
    } else {
        for r in results { print(r.line) }
        let caseCount = Set(results.filter { !$0.skipped }.map { $0.caseName }).count
        var summary = "\(passed ? "PASSED" : "FAILED"): \(compared - failed)/\(compared) tensors within tolerance in \(caseCount) cases"
        if skipped > 0 { summary += "; \(skipped) skipped (no candidate file)" }
        if compared == 0 { summary += "; nothing was compared" }
        print(summary)
        if failed > 0 {
            print("(if mcl-ref itself changed on purpose, regenerate the reference with 'mcl-ref fixtures --out \(reference)'; see Fixtures/README.md)")
        }
    }
    return passed ? 0 : 1
}
