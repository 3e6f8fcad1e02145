import Foundation
import MCLReference

// `train --out DIR` keeps DIR/checkpoint.json up to date after every stage; `train --resume DIR`
// continues from the last completed stage. The run directory (`RunDirectory`) checks and loads the
// completed stages; docs/RUN-DIRECTORY.md describes the layout, and Checkpoint.swift why a stage
// boundary needs no optimiser or RNG state.

/// Options that may accompany `--resume`: they change neither the run nor its numbers.
let resumeCompatibleOptions: Set<String> = ["resume", "threads", "quiet", "json", "help"]

/// Options that are not part of a run's definition (never stored in a checkpoint).
private let unstoredOptions: Set<String> = ["out", "resume", "threads", "quiet", "json", "help"]

/// Options holding file paths: stored absolute, so `--resume` works from any directory.
private let pathOptions: Set<String> = ["data", "labels", "test-data", "test-labels", "tokens"]

/// A run to continue: its directory, its checkpoint, and the command line it was started with.
struct ResumePlan {
    var run: RunDirectory
    var checkpoint: MCLCheckpoint
    /// The stored options, with `--out DIR` and the current `--threads/--quiet/--json`.
    var arguments: ParsedArguments
    var directory: String { run.path }
}

/// The resume plan when `--resume DIR` is given (nil otherwise). Every other run-defining option
/// is refused: the settings are read from the checkpoint.
func prepareResume(_ args: ParsedArguments) throws -> ResumePlan? {
    guard let directory = args.string("resume") else { return nil }
    try refuseOptionsBesideResume(args, directory: directory)
    let run = RunDirectory(directory)
    let checkpoint = try run.readCheckpoint()
    return ResumePlan(run: run, checkpoint: checkpoint,
                      arguments: try resumedArguments(args, directory: directory, stored: checkpoint.arguments))
}

/// Refuses every run-defining option next to `--resume` (the settings are read from the checkpoint).
func refuseOptionsBesideResume(_ args: ParsedArguments, directory: String) throws {
    let extra = (Array(args.values.keys) + Array(args.flags)).filter { !resumeCompatibleOptions.contains($0) }.sorted()
    if let first = extra.first {
        throw CLIError("--\(first) cannot be combined with --resume (the run's settings are read from "
            + "\(directory)/\(MCLCheckpoint.fileName))")
    }
}

/// The stored options of a run (`checkpoint.json`'s "arguments") parsed again, with `--out DIR` and
/// the current `--threads/--quiet/--json`: the command line the run is continued with.
func resumedArguments(_ args: ParsedArguments, directory: String, stored: [String]) throws -> ParsedArguments {
    var parsed: ParsedArguments
    do {
        parsed = try parseCommandLine(["train"] + stored, commands: [trainCommand]).1
    } catch let e as CLIError {
        throw CLIError("\(directory)/\(MCLCheckpoint.fileName): stored arguments: \(e.message)")
    }
    if let bad = parsed.values.keys.first(where: { unstoredOptions.contains($0) }) {
        throw CLIError("\(directory)/\(MCLCheckpoint.fileName): stored arguments contain --\(bad)")
    }
    parsed.values["out"] = [directory]
    for name in ["threads"] { if let v = args.values[name] { parsed.values[name] = v } }
    for flag in ["quiet", "json"] where args.has(flag) { parsed.flags.insert(flag) }
    return parsed
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
    if RunDirectory(directory).holdsRun {
        throw CLIError("--out: '\(directory)' already holds a run (\(MCLCheckpoint.fileName)); continue it with "
            + "'mcl-ref train --resume \(directory)' or choose another directory")
    }
}
