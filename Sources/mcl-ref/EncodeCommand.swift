import Foundation
import MCLNumerics
import MCLReference

/// `mcl-ref encode`: a trained run's encoders applied to new data.
let encodeCommand = CommandSpec(
    words: ["encode"],
    summary: "Apply a trained run's encoders to new samples and write their representations.",
    discussion: """
    Reads the run in --run DIR (a 'train --out DIR'; every file is checked against the checksum in its
    checkpoint.json), standardises X.npy with the run's own train statistics (as 'train' did; nothing
    for built-in data or --no-standardize runs), and applies each stage's encoder in eval mode
    (BatchNorm running statistics). By default the output is the integrated representation of Eq. 5,
    [f_0(x), …, f_{N−1}(x)] of every completed stage (N×(R·stages)); --stage j writes f_j(x) alone
    (N×R). X.npy must have the run's sample shape: (N, D) for vectors, (N, C, H, W) for images. Given
    the run's own raw test samples, the output equals its integrated_test_representations.npy (or
    stage<j>_test_representations.npy) bit for bit. Z.npy is float32, written atomically.
    """,
    options: [
        .value("run", "DIR", "the run directory (written by 'train --out DIR')"),
        .value("data", "X.npy", "samples to encode, float32/float64 (N, D) or (N, C, H, W), unstandardised"),
        .value("out", "Z.npy", "where to write the representations"),
        .value("stage", "J", "only stage J's representation f_J(x) (default: all stages, integrated)"),
        .flag("integrated", "all completed stages concatenated, Eq. 5 (the default)"),
        .flag("json", "print exactly one JSON object describing the output on stdout"),
        .flag("quiet", "no progress on stderr"),
    ],
    run: runEncode
)

func runEncode(_ args: ParsedArguments) throws -> Int32 {
    guard let dir = args.string("run") else { throw CLIError("--run: missing (the directory of a 'train --out' run)") }
    guard let dataPath = args.string("data") else { throw CLIError("--data: missing (the samples X.npy to encode)") }
    guard let out = args.string("out"), !out.isEmpty else { throw CLIError("--out: missing (the file Z.npy to write)") }
    if args.string("stage") != nil && args.has("integrated") {
        throw CLIError("--stage and --integrated are mutually exclusive")
    }
    let stage = try args.int("stage", min: 0)
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
        throw CLIError("--run: '\(dir)' is not a directory")
    }
    if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), isDir.boolValue {
        throw CLIError("--out: '\(out)' is a directory (expected a file name Z.npy)")
    }
    if (try? RunDirectory(dir).holdsCLIPRun()) == true {
        throw CLIError("--run: \(dir) is a CLIP run (train --method clip); encode applies unimodal runs' encoders only (a CLIP "
            + "run's normalised image embeddings are its stage<j>_image_embeddings.npy and stage<j>_test_image_embeddings.npy)")
    }
    let printer = ProgressPrinter(quiet: args.has("quiet"))
    let encoder = try RunEncoder<Float>(RunDirectory(dir))
    guard encoder.completedStages > 0 else {
        throw CLIError("\(dir)/\(RunDirectory.File.checkpoint): no stage completed yet; nothing to encode with")
    }
    if let stage, stage >= encoder.completedStages {
        throw CLIError("--stage: \(stage) is not a completed stage of \(dir) (completed: 0..<\(encoder.completedStages))")
    }
    let (x, sampleShape) = try UserData.loadSamples(dataPath, as: Float.self)
    guard sampleShape == encoder.sampleShape else {
        func shape(_ s: [Int]) -> String { "(N, " + s.map(String.init).joined(separator: ", ") + ")" }
        throw CLIError("\(dataPath): samples of shape \(shape(sampleShape)), the run was trained on \(shape(encoder.sampleShape))")
    }
    let stages = stage.map { [$0] } ?? Array(0..<encoder.completedStages)
    if stage == nil && encoder.completedStages < encoder.configuration.stages {
        printer.warn("warning: \(dir) has \(encoder.completedStages) of \(encoder.configuration.stages) stages complete; "
            + "integrating those")
    }
    printer.log("mcl-ref encode: \(x.rows) samples of \(dataPath) through stage\(stages.count == 1 ? "" : "s") "
        + stages.map(String.init).joined(separator: ", ") + " of \(dir)"
        + (encoder.standardization.map { " (\($0.kind) standardisation)" } ?? ""))
    let z = encoder.encode(x, stages: stages)
    do {
        try NPY.write(z, to: out)
    } catch let e as FileWriteError {
        throw CLIError("--out: \(e)")
    }
    if args.has("json") {
        let summary: JSONValue = .object([
            ("out", .string(out)), ("rows", .number(Double(z.rows))), ("cols", .number(Double(z.cols))),
            ("dtype", .string(NPYDType.float32.descr)),
            ("stages", .array(stages.map { .number(Double($0)) })), ("integrated", .bool(stage == nil)),
            ("standardization", .string(encoder.standardization?.kind ?? "none")),
            ("run", .string(dir)), ("data", .string(dataPath)),
        ])
        print(summary.serialized())
    } else {
        print("wrote \(out) (\(z.rows)×\(z.cols) float32)")
    }
    return 0
}
