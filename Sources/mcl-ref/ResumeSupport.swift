import Foundation
import MCLReference

// `train --out DIR` keeps DIR/checkpoint.json up to date after every stage; `train --resume DIR`
// continues from the last completed stage. The format, and why a stage boundary needs no optimiser
// or RNG state, are described in Sources/MCLReference/Training/Checkpoint.swift.

/// Options that may accompany `--resume`: they change neither the run nor its numbers.
let resumeCompatibleOptions: Set<String> = ["resume", "threads", "quiet", "json", "help"]

/// Options that are not part of a run's definition (never stored in a checkpoint).
private let unstoredOptions: Set<String> = ["out", "resume", "threads", "quiet", "json", "help"]

/// Options holding file paths: stored absolute, so `--resume` works from any directory.
private let pathOptions: Set<String> = ["data", "labels", "test-data", "test-labels"]

/// A run to continue: its directory, its checkpoint, and the command line it was started with.
struct ResumePlan {
    var directory: String
    var checkpoint: MCLCheckpoint
    /// The stored options, with `--out DIR` and the current `--threads/--quiet/--json`.
    var arguments: ParsedArguments

    var checkpointPath: String { directory + "/" + MCLCheckpoint.fileName }

    /// Loads the completed stages after checking that the run is the one the checkpoint was made
    /// for: same configuration (as this mcl-ref derives it from the stored options) and same data.
    func loadStages(_ c: MCLConfiguration, train: LabeledData<Float>,
                    test: LabeledData<Float>) throws -> [StageArtifacts<Float>] {
        let now = JSONValue.object(c.json), stored = checkpoint.configuration
        if now != stored {
            let differing = (now.objectValue ?? []).filter { key, value in stored[key] != value }.map { $0.0 }
            throw CLIError("\(checkpointPath): the stored configuration does not match what its arguments give now "
                + "(differs in: \(differing.isEmpty ? "keys" : differing.joined(separator: ", "))); "
                + "was the checkpoint made by another version of mcl-ref?")
        }
        let fingerprint = MCLCheckpoint.fingerprint(train: train, test: test)
        guard fingerprint == checkpoint.dataFingerprint else {
            throw CLIError("\(checkpointPath): the data differ from those the run started with (fingerprint "
                + "\(fingerprint), checkpoint \(checkpoint.dataFingerprint)); were the input files changed?")
        }
        guard checkpoint.stages.count <= c.stages else {
            throw CLIError("\(checkpointPath): lists \(checkpoint.stages.count) completed stages, the run has \(c.stages)")
        }
        return try checkpoint.stages.indices.map {
            try checkpoint.loadStage($0, directory: directory, configuration: c, train: train, test: test)
        }
    }
}

/// The resume plan when `--resume DIR` is given (nil otherwise). Every other run-defining option
/// is refused: the settings are read from the checkpoint.
func prepareResume(_ args: ParsedArguments) throws -> ResumePlan? {
    guard let directory = args.string("resume") else { return nil }
    let extra = (Array(args.values.keys) + Array(args.flags)).filter { !resumeCompatibleOptions.contains($0) }.sorted()
    if let first = extra.first {
        throw CLIError("--\(first) cannot be combined with --resume (the run's settings are read from "
            + "\(directory)/\(MCLCheckpoint.fileName))")
    }
    let checkpoint = try MCLCheckpoint.read(directory: directory)
    var parsed: ParsedArguments
    do {
        parsed = try parseCommandLine(["train"] + checkpoint.arguments, commands: [trainCommand]).1
    } catch let e as CLIError {
        throw CLIError("\(directory)/\(MCLCheckpoint.fileName): stored arguments: \(e.message)")
    }
    if let bad = parsed.values.keys.first(where: { unstoredOptions.contains($0) }) {
        throw CLIError("\(directory)/\(MCLCheckpoint.fileName): stored arguments contain --\(bad)")
    }
    parsed.values["out"] = [directory]
    for name in ["threads"] { if let v = args.values[name] { parsed.values[name] = v } }
    for flag in ["quiet", "json"] where args.has(flag) { parsed.flags.insert(flag) }
    return ResumePlan(directory: directory, checkpoint: checkpoint, arguments: parsed)
}

/// The options that define a run, as stored in its checkpoint (sorted; file paths absolute).
func checkpointArguments(_ args: ParsedArguments) -> [String] {
    var out: [String] = []
    for name in args.values.keys.sorted() where !unstoredOptions.contains(name) {
        for value in args.values[name]! {
            out += ["--" + name, pathOptions.contains(name) ? URL(fileURLWithPath: value).standardizedFileURL.path : value]
        }
    }
    for flag in args.flags.sorted() where !unstoredOptions.contains(flag) { out.append("--" + flag) }
    return out
}

/// Refuses to start a new run in a directory that holds one (finished or not): its files would be
/// overwritten stage by stage. Checked before any data is read.
func refuseExistingRun(in directory: String) throws {
    if FileManager.default.fileExists(atPath: directory + "/" + MCLCheckpoint.fileName) {
        throw CLIError("--out: '\(directory)' already holds a run (\(MCLCheckpoint.fileName)); continue it with "
            + "'mcl-ref train --resume \(directory)' or choose another directory")
    }
}

/// Creates the run directory and writes the initial checkpoint (no stage completed yet).
func startCheckpoint(in directory: String, arguments: ParsedArguments, configuration c: MCLConfiguration,
                     train: LabeledData<Float>, test: LabeledData<Float>) throws -> MCLCheckpoint {
    try AtomicFile.prepareOutputDirectory(directory)
    let checkpoint = MCLCheckpoint(arguments: checkpointArguments(arguments), configuration: .object(c.json),
                                   dataFingerprint: MCLCheckpoint.fingerprint(train: train, test: test))
    try checkpoint.write(directory: directory)
    return checkpoint
}
