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
    OK or FAIL, case/name, max abs diff, max rel diff, worst index. A missing or malformed file
    (manifest or .npy) is named and exits 2.
    """,
    options: [
        .value("reference", "DIR", "reference fixture directory (as written by 'mcl-ref fixtures')"),
        .value("candidate", "DIR", "directory with the backend's outputs, laid out like the reference"),
        .value("case", "NAME", "check only this case", repeatable: true),
        .flag("json", "print exactly one JSON object on stdout instead of lines"),
    ],
    run: runCheck
)

func runCheck(_ args: ParsedArguments) throws -> Int32 {
    guard let reference = args.string("reference") else { throw CLIError("--reference: missing (the reference fixture directory)") }
    guard let candidate = args.string("candidate") else { throw CLIError("--candidate: missing (the backend's output directory)") }
    let results: [TensorComparison]
    do {
        results = try FixtureCheck.compare(reference: reference, candidate: candidate, cases: args.strings("case"))
    } catch let error as FixtureError {
        throw CLIError("\(error)")
    }
    let failed = results.filter { !$0.report.passed }.count
    if args.has("json") {
        print(JSONValue.object([("passed", .bool(failed == 0)), ("tensors", .number(Double(results.count))),
                                ("failed", .number(Double(failed))), ("results", .array(results.map { $0.json }))]).serialized())
    } else {
        for r in results { print(r.line) }
        let caseCount = Set(results.map { $0.caseName }).count
        print("\(failed == 0 ? "PASSED" : "FAILED"): \(results.count - failed)/\(results.count) tensors within tolerance in \(caseCount) cases")
        if failed > 0 {
            print("(if mcl-ref itself changed on purpose, regenerate the reference with 'mcl-ref fixtures --out \(reference)'; see Fixtures/README.md)")
        }
    }
    return failed == 0 ? 0 : 1
}
