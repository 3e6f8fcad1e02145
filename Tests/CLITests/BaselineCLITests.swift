import Foundation
import XCTest
import MCLNumerics
import MCLReference
@testable import mcl_ref

/// The baseline flags of `train` and `demo --baselines` (issue 14): bad input is one line and exit 2,
/// and a tiny comparison prints the documented JSON.
final class BaselineCLITests: XCTestCase {
    let small = ["--samples", "64", "--batch-size", "16", "--epochs", "1", "--hidden", "8", "--rep-width", "4", "--threads", "1"]

    func assertRefused(_ args: [String], mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try runMCLRef(args + small)
        let shown = "mcl-ref \(args.joined(separator: " "))\nstderr: \(r.stderr)"
        XCTAssertEqual(r.status, 2, shown, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "expected one line — \(shown)", file: file, line: line)
        XCTAssert(r.stderr.hasPrefix("mcl-ref: error: "), shown, file: file, line: line)
        for m in mentions { XCTAssert(r.stderr.contains(m), "does not mention '\(m)' — \(shown)", file: file, line: line) }
        XCTAssertEqual(r.stdout, "", shown, file: file, line: line)
    }

    func testBadBaselineFlagsAreOneLineExit2() throws {
        try assertRefused(["train", "--ifm", "0.1", "--debiased", "0.1"], mentions: ["--ifm", "--debiased"])
        try assertRefused(["train", "--ifm", "-1"], mentions: ["--ifm", "≥ 0"])
        try assertRefused(["train", "--ifm-alpha", "2"], mentions: ["--ifm-alpha", "--ifm"])
        try assertRefused(["train", "--debiased", "1"], mentions: ["--debiased", "[0, 1)"])
        try assertRefused(["train", "--temperature-schedule", "cosine:0.5:0.1:10"], mentions: ["--temperature-schedule", "TMIN ≤ TMAX"])
        try assertRefused(["train", "--temperature-schedule", "linear:0.1:0.5:10"], mentions: ["--temperature-schedule", "cosine:TMIN:TMAX:PERIOD_EPOCHS"])
        try assertRefused(["train", "--temperature-schedule", "cosine:0.1:0.5:10", "--temperature", "0.2"], mentions: ["--temperature"])
        try assertRefused(["demo", "--quick"], mentions: ["--quick", "--baselines"])
        try assertRefused(["demo", "--baselines", "--taus", "0.1,-2"], mentions: ["--taus"])
        try assertRefused(["demo", "--baselines", "--temperature", "0.2"], mentions: ["--temperature", "--taus"])
        try assertRefused(["demo", "--baselines", "--images", "--dataset", "trifeature"], mentions: ["--dataset", "cifar-mnist-like"])
        try assertRefused(["demo", "--baselines", "--size", "16"], mentions: ["--size", "--images"])
        try assertRefused(["trace", "--ifm", "0.1", "--out", "/nonexistent/trace"], mentions: ["--ifm", "plain loss"])
        try assertRefused(["train", "--viewmaker", "0"], mentions: ["--viewmaker", "> 0"])
        try assertRefused(["train", "--viewmaker", "big"], mentions: ["--viewmaker", "number"])
        try assertRefused(["train", "--viewmaker", "--method", "moco"], mentions: ["--viewmaker", "simclr"])
        try assertRefused(["trace", "--viewmaker", "--out", "/nonexistent/trace"], mentions: ["--viewmaker", "plain loss"])
    }

    /// A bare `--viewmaker` is the official ε = 0.05, stored in the configuration (and so in a
    /// checkpoint, which `--resume` reads back).
    func testViewmakerImplicitBudgetAndJSONRoundTrip() throws {
        let bare = try mclConfiguration(try parseCommandLine(["train", "--viewmaker"], commands: [trainCommand]).1)
        XCTAssertEqual(bare.viewmakerBudget, 0.05)
        let given = try mclConfiguration(try parseCommandLine(["train", "--viewmaker", "0.2"], commands: [trainCommand]).1)
        XCTAssertEqual(given.viewmakerBudget, 0.2)
        let back = try MCLConfiguration(json: .object(given.json), path: "test")
        XCTAssertEqual(back.viewmakerBudget, 0.2)
        XCTAssertNil(try MCLConfiguration(json: .object(MCLConfiguration().json), path: "test").viewmakerBudget)
    }

    /// `--ifm-alpha` defaults to what its help says (the official α = 1).
    func testIFMAlphaDefaultIsTheAdvertisedOne() throws {
        let base = try mclConfiguration(try parseCommandLine(["train", "--ifm", "0.1"], commands: [trainCommand]).1)
        let explicit = try mclConfiguration(try parseCommandLine(["train", "--ifm", "0.1", "--ifm-alpha", "1"], commands: [trainCommand]).1)
        XCTAssertEqual(JSONValue.object(explicit.json), JSONValue.object(base.json))
        XCTAssert(baselineOptions.first { $0.name == "ifm-alpha" }?.help.contains("default 1") == true)
    }

    /// Two seeds, one τ, two stages, one epoch: every method key, τ key and feature, with mean, sd
    /// and one accuracy per seed; progress on stderr only.
    func testTinyComparisonJSON() throws {
        let r = try runMCLRef(["demo", "--baselines", "--seeds", "0,1", "--taus", "0.5", "--stages", "2", "--json"] + small)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONValue.parse(r.stdout)
        let baselines = try XCTUnwrap(json["baselines"]?.objectValue)
        XCTAssertEqual(baselines.map(\.0), ["simclr", "mcl", "multi_simclr", "ifm", "ts", "fd", "dcl"])
        for (method, byTau) in baselines {
            let taus = try XCTUnwrap(byTau.objectValue).map(\.0)
            XCTAssertEqual(taus, method == "ts" ? ["cosine:0.1:1:2"] : ["0.5"], method)
            for (_, byFeature) in try XCTUnwrap(byTau.objectValue) {
                XCTAssertEqual(try XCTUnwrap(byFeature.objectValue).map(\.0), ["easy", "hard"])
                for (_, cell) in try XCTUnwrap(byFeature.objectValue) {
                    let perSeed = try XCTUnwrap(cell["per_seed"]?.arrayValue?.compactMap(\.doubleValue))
                    XCTAssertEqual(perSeed.count, 2)
                    XCTAssert(perSeed.allSatisfy { $0 >= 0 && $0 <= 1 })
                    let mean = try XCTUnwrap(cell["mean"]?.doubleValue)
                    XCTAssertEqual(mean, perSeed.reduce(0, +) / 2, accuracy: 1e-4)
                    XCTAssertNotNil(cell["sd"]?.doubleValue)
                }
            }
        }
        XCTAssertNil(json["not_run"], "every method ran")
        XCTAssertEqual(json["settings"]?["fd_budget"]?.doubleValue, 0.05)
        XCTAssert(r.stderr.contains("baselines: seed 1"), "progress goes to stderr")
    }

    /// `--images`: the same JSON on cifar-mnist-like (features natural, digit) with a tiny CNN, FD with
    /// the convolutional viewmaker.
    func testTinyImageComparisonJSON() throws {
        let r = try runMCLRef(["demo", "--baselines", "--images", "--seeds", "0", "--taus", "0.5", "--stages", "2", "--json",
                               "--conv-widths", "4,8", "--size", "16"] + small)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONValue.parse(r.stdout)
        XCTAssertEqual(json["dataset"]?.stringValue, "cifar-mnist-like")
        let baselines = try XCTUnwrap(json["baselines"]?.objectValue)
        XCTAssertEqual(baselines.map(\.0), ["simclr", "mcl", "multi_simclr", "ifm", "ts", "fd", "dcl"])
        let fd = try XCTUnwrap(json["baselines"]?["fd"]?["0.5"]?.objectValue)
        XCTAssertEqual(fd.map(\.0), ["natural", "digit"])
        XCTAssertEqual(fd[0].1["per_seed"]?.arrayValue?.count, 1)
    }

    /// An FD run cut back to its stage-0 checkpoint resumes to the same files, bit for bit: each stage
    /// trains a fresh viewmaker from its own RNG stream, so a stage boundary needs no viewmaker state,
    /// and `--viewmaker` is among the stored arguments.
    func testViewmakerRunResumesBitIdentically() throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let full = scratch + "/full", cut = scratch + "/cut"
        let args = ["train", "--viewmaker", "0.1", "--stages", "2", "--samples", "96", "--batch-size", "16", "--epochs", "2",
                    "--hidden", "8", "--rep-width", "4", "--threads", "1", "--quiet", "--out", full]
        let first = try runMCLRef(args)
        XCTAssertEqual(first.status, 0, first.stderr)
        let config = try JSONValue.read(full + "/checkpoint.json")["configuration"]
        XCTAssertEqual(config?["viewmaker_budget"]?.doubleValue, 0.1)
        try cutRunBack(full, to: cut, stages: 1)
        let resumed = try runMCLRef(["train", "--resume", cut, "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let fm = FileManager.default
        let npys = try XCTUnwrap(fm.enumerator(atPath: full)).compactMap { $0 as? String }.filter { $0.hasSuffix(".npy") }.sorted()
        XCTAssert(npys.contains("stage1_representations.npy"), "\(npys)")
        for name in npys {
            XCTAssertEqual(fm.contents(atPath: full + "/" + name), fm.contents(atPath: cut + "/" + name), "\(name) differs after resume")
        }
    }
}
