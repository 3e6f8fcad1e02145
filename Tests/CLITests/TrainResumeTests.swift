import Foundation
import XCTest
import MCLNumerics

/// Checkpoints and `train --resume`, runs that go wrong, and the Eq. 4 budget (warning vs error).
final class TrainResumeTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// Three stages of ~0.5 s each on one thread (stage time is what gives the kill room to land).
    let runArguments = ["train", "--samples", "256", "--stages", "3", "--clusters", "3", "--epochs", "100",
                        "--batch-size", "32", "--hidden", "16", "--rep-width", "4", "--threads", "1", "--seed", "7"]

    func completedStages(_ dir: String) throws -> Int? {
        let path = dir + "/checkpoint.json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try JSONValue.read(path)["completed_stages"]?.intValue
    }

    /// Every regular file below `dir` (relative paths), sorted.
    func files(_ dir: String) throws -> [String] {
        let e = try XCTUnwrap(FileManager.default.enumerator(atPath: dir))
        return e.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir + "/" + $0, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }

    /// The report without timings (they differ between runs; everything else must not).
    /// report.json without timings, and without what depends on the invocation: `provenance.command`
    /// (the resuming command line) and `warnings` (those of stages completed before the resume are
    /// not repeated).
    func reportWithoutTimings(_ dir: String) throws -> JSONValue {
        let report = try JSONValue.read(dir + "/report.json")
        func strip(_ v: JSONValue) -> JSONValue {
            switch v {
            case let .object(pairs):
                return .object(pairs.filter { !["seconds", "command", "warnings"].contains($0.0) }.map { ($0.0, strip($0.1)) })
            case let .array(items): return .array(items.map(strip))
            default: return v
            }
        }
        return strip(report)
    }

    func testKillDuringStage2ThenResumeIsBitIdenticalToAnUninterruptedRun() throws {
        let full = scratch + "/full", killed = scratch + "/killed"
        let reference = try runMCLRef(runArguments + ["--out", full, "--quiet"])
        XCTAssertEqual(reference.status, 0, reference.stderr)

        // Start the same run and SIGKILL it as soon as the checkpoint says stages 0 and 1 are
        // complete, i.e. while stage 2 trains.
        let process = Process()
        process.executableURL = try mclRefBinary()
        process.arguments = runArguments + ["--out", killed]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        var sawStage2Start = false
        while process.isRunning && Date() < deadline {
            if let done = try completedStages(killed), done >= 2 {
                XCTAssertEqual(done, 2, "the run got past stage 2 before the test saw it start")
                kill(process.processIdentifier, SIGKILL)
                sawStage2Start = true
                break
            }
            usleep(2_000)
        }
        if process.isRunning && !sawStage2Start { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        XCTAssertTrue(sawStage2Start, "never saw stage 2 start")
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "the run was not killed (it finished first?)")
        XCTAssertEqual(process.terminationStatus, SIGKILL)
        // The kill landed inside stage 2: two stages committed, no final outputs.
        XCTAssertEqual(try completedStages(killed), 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: killed + "/report.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: killed + "/stage2_representations.npy"))

        // Resume on a different thread count: the numbers must not depend on it either.
        let resumed = try runMCLRef(["train", "--resume", killed, "--threads", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssert(resumed.stderr.contains("resuming \(killed): 2 of 3 stages complete"), resumed.stderr)
        XCTAssertFalse(resumed.stderr.contains("stage 0 done"), "stage 0 was retrained:\n\(resumed.stderr)")
        XCTAssert(resumed.stderr.contains("stage 2 done"), resumed.stderr)
        XCTAssertEqual(try completedStages(killed), 3)

        // Every file bit for bit: representations, cluster labels, centroids, pseudo labels,
        // weights and the integrated representations. Only checkpoint.json / report.json differ
        // (timings).
        let names = try files(full)
        XCTAssertEqual(try files(killed), names)
        let compared = names.filter { $0.hasSuffix(".npy") }
        XCTAssertGreaterThan(compared.count, 20)
        for name in compared {
            XCTAssertEqual(FileManager.default.contents(atPath: full + "/" + name),
                           FileManager.default.contents(atPath: killed + "/" + name), "\(name) differs after resume")
        }
        XCTAssertEqual(try reportWithoutTimings(killed), try reportWithoutTimings(full))
        // And resuming a finished run only rewrites its final outputs.
        let again = try runMCLRef(["train", "--resume", killed, "--json"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(again.stderr.contains(" done in "), again.stderr)
        XCTAssertEqual(try JSONValue.parse(again.stdout)["per_stage"]?.arrayValue?.count, 3, "--json: one JSON object")
        XCTAssertEqual(FileManager.default.contents(atPath: full + "/integrated_representations.npy"),
                       FileManager.default.contents(atPath: killed + "/integrated_representations.npy"))
    }

    /// A CNN run resumes too: the stored weights are loaded into a rebuilt convolutional model (the
    /// checkpoint is cut back to stage 0 by hand, as a kill after stage 0 would leave it).
    func testResumingACNNRunRebuildsTheConvolutionalModel() throws {
        let full = scratch + "/cnn", cut = scratch + "/cnn-cut"
        let args = ["train", "--dataset", "trifeature", "--samples", "64", "--epochs", "1", "--stages", "2",
                    "--batch-size", "32", "--conv-widths", "4,8", "--rep-width", "8", "--clusters", "2", "--quiet"]
        let reference = try runMCLRef(args + ["--out", full])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        try cutRunBack(full, to: cut, stages: 1)
        let resumed = try runMCLRef(["train", "--resume", cut, "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let names = try files(full).filter { $0.hasSuffix(".npy") }
        XCTAssert(names.contains("stage1_weights/encoder.0.weight.npy"), "\(names)")
        XCTAssertEqual(try files(cut).filter { $0.hasSuffix(".npy") }, names)
        for name in names {
            XCTAssertEqual(FileManager.default.contents(atPath: full + "/" + name),
                           FileManager.default.contents(atPath: cut + "/" + name), "\(name) differs after resume")
        }
    }

    func testResumeRefusesWhatDoesNotMatchTheCheckpoint() throws {
        let x = scratch + "/x.npy", y = scratch + "/y.npy", dir = scratch + "/run"
        let values: [Float] = (0..<(40 * 3)).map { Float(($0 * 37) % 11) - 5 }
        try NPY.write(floats: values, shape: [40, 3], to: x)
        try NPY.write(ints: (0..<40).map { $0 % 2 }, shape: [40], to: y)
        let small = ["--stages", "2", "--clusters", "2", "--epochs", "1", "--batch-size", "8", "--hidden", "8",
                     "--rep-width", "4", "--threads", "1", "--quiet"]
        XCTAssertEqual(try runMCLRef(["train", "--data", x, "--labels", y, "--out", dir] + small).status, 0)
        let before = try files(dir).map { FileManager.default.contents(atPath: dir + "/" + $0) }

        func assertRefused(_ args: [String], _ mentions: [String], line: UInt = #line) throws {
            let r = try runMCLRef(args)
            XCTAssertEqual(r.status, 2, r.stderr, line: line)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, line: line)
            for m in mentions { XCTAssert(r.stderr.contains(m), "missing '\(m)' in \(r.stderr)", line: line) }
            XCTAssertEqual(try files(dir).map { FileManager.default.contents(atPath: dir + "/" + $0) }, before,
                           "the run directory changed", line: line)
        }
        // A new run into a directory holding one.
        try assertRefused(["train", "--data", x, "--labels", y, "--out", dir] + small,
                          ["--out", dir, "already holds a run", "--resume"])
        // Settings come from the checkpoint; changing one is refused, naming it.
        try assertRefused(["train", "--resume", dir, "--lr", "0.1"], ["--lr cannot be combined with --resume"])
        try assertRefused(["train", "--resume", dir, "--out", scratch + "/elsewhere"], ["--out cannot be combined"])
        // The data changed since the checkpoint.
        var changed = values
        changed[0] += 1
        try NPY.write(floats: changed, shape: [40, 3], to: x)
        try assertRefused(["train", "--resume", dir], [dir + "/checkpoint.json", "the data differ"])
        try NPY.write(floats: values, shape: [40, 3], to: x)
        // A stage file changed on disk after its stage completed is refused by name, even when it is
        // a valid .npy of the right shape and range (one cluster label flipped): the checkpoint holds
        // a checksum of every stage file.
        for (name, change) in [("stage1_cluster_labels.npy", "one label"), ("stage0.safetensors", "one weight byte"),
                               ("input_mean.npy", "one mean")] {
            let file = dir + "/" + name
            let saved = try XCTUnwrap(FileManager.default.contents(atPath: file))
            switch name {
            case "stage1_cluster_labels.npy":
                var labels = try NPY.readIntArray(file).values
                labels[3] = 1 - labels[3]
                try NPY.write(ints: labels, shape: [labels.count], to: file)
            case "input_mean.npy":
                var mean = try NPY.read(file).asDoubles()
                mean[0] = mean[0].nextUp
                try NPY.write(doubles: mean, shape: [mean.count], to: file)
            default:
                var bytes = [UInt8](saved)
                bytes[bytes.count - 5] ^= 1
                try Data(bytes).write(to: URL(fileURLWithPath: file))
            }
            let r = try runMCLRef(name == "input_mean.npy"
                ? ["encode", "--run", dir, "--data", x, "--out", scratch + "/z.npy"] : ["train", "--resume", dir])
            XCTAssertEqual(r.status, 2, "\(change): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssert(r.stderr.contains(file + ": changed since") && r.stderr.contains("checksum"), "\(change): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/z.npy"))
            try saved.write(to: URL(fileURLWithPath: file))
        }
        // No checkpoint at all; a malformed one.
        try assertRefused(["train", "--resume", scratch], [scratch + "/checkpoint.json", "missing file"])
        try "{\"format\": \"mcl-ref checkpoint\", \"format_version\": 2".write(
            toFile: scratch + "/checkpoint.json", atomically: true, encoding: .utf8)
        try assertRefused(["train", "--resume", scratch], [scratch + "/checkpoint.json", "malformed JSON"])
        // The undamaged run still resumes (nothing to train, final outputs rewritten).
        XCTAssertEqual(try runMCLRef(["train", "--resume", dir, "--quiet"]).status, 0)
    }

    // MARK: Runs that go wrong

    func testNonFiniteLossStopsNamingStageStepAndLastFiniteLoss() throws {
        let dir = scratch + "/diverged"
        // SGD at lr 1e30 overflows the weights on the first step; the next forward pass is not finite.
        let r = try runMCLRef(["train", "--samples", "64", "--stages", "2", "--clusters", "2", "--epochs", "3",
                               "--batch-size", "16", "--hidden", "8", "--rep-width", "4", "--optimizer", "sgd",
                               "--lr", "1e30", "--threads", "1", "--quiet", "--out", dir])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        let message = try XCTUnwrap(r.stderr.split(separator: "\n").first.map(String.init))
        let pattern = #"^mcl-ref: error: stage 0, step \d+: .*not finite.*last finite loss [0-9.]+.*lower the learning rate.* \(--lr(, --temperature)?\)$"#
        XCTAssertNotNil(message.range(of: pattern, options: .regularExpression), message)
        XCTAssertEqual(r.stdout, "")
        // Nothing completed: only the initial checkpoint, which lists no stage.
        XCTAssertEqual(try files(dir), ["checkpoint.json"])
        XCTAssertEqual(try completedStages(dir), 0)
    }

    // MARK: Eq. 4: K^N > M/b

    func testEquation4ViolationUnderMaskIsAWarningEvenWhenQuiet() throws {
        // M = 64, b = 16: M/b = 4; stage 2 has K^2 = 16 possible groups.
        let r = try runMCLRef(["train", "--samples", "64", "--stages", "3", "--clusters", "4", "--batch-size", "16",
                               "--epochs", "1", "--hidden", "8", "--rep-width", "4", "--threads", "1", "--quiet", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let warnings = r.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: ") && $0.contains("Eq. 4") }
        XCTAssertEqual(warnings.count, 1, r.stderr)
        XCTAssert(warnings.first?.contains("stage 2: Eq. 4 violated: K^N = 16 possible groups > M/b = 4.0") == true, r.stderr)
        XCTAssert(warnings.first?.contains("of 64 samples are in") == true, r.stderr)
        let report = try JSONValue.parse(r.stdout)
        XCTAssertEqual(report["per_stage"]?.arrayValue?.compactMap { $0["untrained_samples"]?.intValue }, [0, 0, 0])
        // Every warning on stderr is also in the report; here some anchors under mask have no negative.
        let all = r.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: ") }.map { String($0.dropFirst(9)) }
        XCTAssertEqual(report["warnings"]?["count"]?.intValue, all.count)
        XCTAssertEqual(report["warnings"]?["messages"]?.arrayValue?.compactMap { $0.stringValue }, all)
        XCTAssert(all.contains { $0.contains("anchor views") && $0.contains("have no negative at all under mask") }, r.stderr)
    }

    func testEquation4UnderClusterBatchWarnsWithTheUntrainableCount() throws {
        // M = 64, K = 5, b = 16: at least one of the 5 groups has ≤ 12 < 16 samples.
        let r = try runMCLRef(["train", "--samples", "64", "--stages", "2", "--clusters", "5", "--batch-size", "16",
                               "--sampler", "cluster-batch", "--epochs", "1", "--hidden", "8", "--rep-width", "4",
                               "--threads", "1", "--quiet", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let warning = try XCTUnwrap(r.stderr.split(separator: "\n").first { $0.hasPrefix("warning: stage 1: Eq. 4 violated") },
                                    r.stderr)
        let count = try XCTUnwrap(warning.firstMatch(of: #/; (\d+) of 64 samples are in \d+ groups smaller than a batch and cannot be trained/#)
            .flatMap { Int($0.1) }, String(warning))
        XCTAssert(count > 0 && count < 64, String(warning))
        let report = try JSONValue.parse(r.stdout)
        XCTAssertEqual(report["per_stage"]?.arrayValue?.compactMap { $0["untrained_samples"]?.intValue }, [0, count])
    }

    func testNoGroupFormingABatchIsAnErrorAndCompletedStagesStay() throws {
        // M = 64 in K = 8 non-empty clusters: the largest group has at most 57 < b = 60 samples.
        let dir = scratch + "/run"
        let r = try runMCLRef(["train", "--samples", "64", "--stages", "3", "--clusters", "8", "--batch-size", "60",
                               "--sampler", "cluster-batch", "--epochs", "1", "--hidden", "8", "--rep-width", "4",
                               "--threads", "1", "--quiet", "--out", dir])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssert(r.stderr.hasPrefix("mcl-ref: error: stage 1: no pseudo-label group has 60 samples"), r.stderr)
        XCTAssert(r.stderr.contains("use the mask sampler") && r.stderr.contains("--sampler"), r.stderr)
        // Stage 0 finished before the error: its files and checkpoint entry stay.
        XCTAssertEqual(try completedStages(dir), 1)
        for name in ["stage0_representations.npy", "stage0_cluster_labels.npy", "stage0_test_representations.npy",
                     "stage0_centroids.npy", "pseudo_labels_stage0.npy"] {
            XCTAssertNotNil(try? NPY.read(dir + "/" + name), name)
        }
        XCTAssertFalse(try files(dir).contains { $0.hasPrefix("stage1") || $0 == "report.json" })
    }
}
