import Foundation
import MCLNumerics
import MCLReference

/// The file of a run directory that `report` reads (written last by `train --out DIR`).
let runReportFileName = RunDirectory.File.report

/// `mcl-ref report DIR --out FILE`: one self-contained HTML page about a finished run.
let reportCommand = CommandSpec(
    words: ["report"],
    summary: "Write a self-contained HTML page with charts (inline SVG) about a finished 'train --out DIR' run.",
    discussion: """
    Reads DIR/\(runReportFileName) and writes one HTML file with no scripts and nothing loaded from
    elsewhere: per feature, linear-probe and kNN accuracy of each stage alone and of stages 0…j
    integrated (bars; SimCLR, Multi-SimCLR and the raw input as reference lines), the loss of each
    stage per epoch, the pseudo-label group and K-means cluster sizes of each stage against the
    batch size (Eq. 4), all numbers as a table, the settings and the provenance recorded in the
    report. The file is written atomically. `demo --report FILE` writes the same page for a demo.
    """,
    options: [
        .value("out", "FILE", "the HTML file to write (required), e.g. report.html"),
        .value("title", "TEXT", "the page title", default: "MCL run report"),
        .flag("json", "print one JSON object (file written, stages, features) on stdout"),
    ],
    run: runReport,
    positional: (name: "run", valueName: "DIR")
)

func runReport(_ args: ParsedArguments) throws -> Int32 {
    guard let directory = args.string("run") else {
        throw CLIError("missing the run directory (usage: mcl-ref report DIR --out report.html)")
    }
    guard let out = args.string("out") else { throw CLIError("--out: missing (the HTML file to write)") }
    try checkReportDestination(out, option: "out")
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw CLIError("\(directory): no such directory (expected a 'mcl-ref train --out DIR' run)")
    }
    if (try? RunDirectory(directory).holdsCLIPRun()) == true {
        throw CLIError("\(directory): a CLIP run (train --method clip); report draws unimodal runs only (a CLIP run's MMVP, "
            + "zero-shot and probe tables are printed by train and stored in \(directory)/\(runReportFileName))")
    }
    let path = directory + "/" + runReportFileName
    guard FileManager.default.fileExists(atPath: path) else {
        throw CLIError("\(path): missing file (the run has not finished, or \(directory) is not a 'train --out' directory)")
    }
    let summary: RunSummary
    do {
        summary = try RunSummary.read(path)
    } catch let e as ReportInputError {
        throw CLIError("\(e)")
    }
    let title = args.string("title") ?? "MCL run report"
    try writeHTMLReport(HTMLReport(summary: summary, title: title, source: path), to: out, option: "out")
    if args.has("json") {
        print(JSONValue.object([("wrote", .string(out)), ("stages", .number(Double(summary.stages.count))),
                                ("features", .array(summary.features.map { .string($0) }))]).serialized())
    } else {
        print("wrote \(out) (\(summary.stages.count) stages, features \(summary.features.joined(separator: ", ")))")
    }
    return 0
}

/// Refuses an HTML destination that cannot be written, before any work is done (`--out`, `--report`).
func checkReportDestination(_ out: String, option: String) throws {
    if out.isEmpty { throw CLIError("--\(option): expected a file name, got ''") }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), isDirectory.boolValue {
        throw CLIError("--\(option): '\(out)' is a directory; expected an HTML file name such as report.html")
    }
    let parent = out.range(of: "/", options: .backwards).map { String(out[..<$0.lowerBound]) } ?? ""
    if !parent.isEmpty, !(FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) && isDirectory.boolValue) {
        throw CLIError("--\(option): the directory '\(parent)' of '\(out)' does not exist")
    }
}

/// Writes the page atomically (a failure leaves no partial file).
func writeHTMLReport(_ report: HTMLReport, to out: String, option: String) throws {
    do {
        try AtomicFile.write(report.html, to: out)
    } catch let e as FileWriteError {
        throw CLIError("--\(option): \(e)")
    }
}
