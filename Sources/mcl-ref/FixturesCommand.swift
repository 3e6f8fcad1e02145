import Foundation
import MCLNumerics
import MCLReference

/// `mcl-ref fixtures`: writes the oracle's fixture cases (inputs, mcl-ref's outputs, tolerances).
let fixturesCommand = CommandSpec(
    words: ["fixtures"],
    summary: "Write test-oracle fixtures: per case a manifest.json and one .npy per input and output.",
    discussion: """
    Each case is computed by mcl-ref from seeded inputs and written to DIR/<case>/ atomically (a
    temporary directory renamed into place), so a case directory is never half-written. The seeds
    are fixed per case and recorded in each manifest; --seed does not change them. Fixtures/README.md
    describes the format and the comparison rule.
    """,
    options: [
        .value("out", "DIR", "directory to write the case directories into"),
        .value("case", "NAME", "write only this case", repeatable: true),
        .value("precision", "f32|f64", "precision of the computation and of the float tensors", default: "f64"),
        .flag("list", "list the cases (name, component, summary) and exit"),
    ],
    run: runFixtures
)

/// The cases named by `--case` (all when none), or a CLIError naming an unknown one.
func selectedCases(_ args: ParsedArguments) throws -> [FixtureCase] {
    let names = args.strings("case")
    if names.isEmpty { return FixtureCase.all }
    return try names.map { name in
        guard let c = FixtureCase.named(name) else {
            throw CLIError("--case: unknown case '\(name)' (see 'mcl-ref fixtures --list')")
        }
        return c
    }
}

func runFixtures(_ args: ParsedArguments) throws -> Int32 {
    let cases = try selectedCases(args)
    if args.has("list") {
        let width = (FixtureCase.all.map { $0.name.count }.max() ?? 0) + 2
        for c in cases {
            print(c.name.padding(toLength: width, withPad: " ", startingAt: 0)
                  + c.component.padding(toLength: 21, withPad: " ", startingAt: 0) + c.summary)
        }
        return 0
    }
    guard let out = try outOption(args) else { throw CLIError("--out: missing (the directory to write fixtures into)") }
    let precision = FixturePrecision(rawValue: try args.choice("precision", ["f32", "f64"], default: "f64"))!
    for c in cases {
        do {
            let manifest = try FixtureWriter.write(c, precision: precision, to: out)
            printError("wrote \(out)/\(c.name) (\(manifest.inputs.count) inputs, \(manifest.outputs.count) outputs, seed \(manifest.seed), \(precision.rawValue))")
        } catch let error as FileWriteError {
            throw CLIError("\(error)")
        }
    }
    return 0
}
