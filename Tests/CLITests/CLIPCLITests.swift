import Foundation
import XCTest
import MCLNumerics
import MCLReference

/// `train --method clip` and `demo --clip`: the JSON layout (Table 3: stages, integrated), the stage
/// files, user pairs, and the one-line refusals.
final class CLIPCLITests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    let small = ["--samples", "96", "--epochs", "1", "--batch-size", "32", "--clusters", "2", "--stages", "2",
                 "--encoder", "mlp", "--hidden", "16", "--rep-width", "8", "--mmvp-threshold", "0.5", "--quiet"]

    func testTrainWritesStageFilesAndTheTable3JSON() throws {
        let out = scratch + "/run"
        let r = try runMCLRef(["train", "--method", "clip", "--json", "--out", out, "--trainable-layers", "2"] + small)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONValue.parse(r.stdout)
        for column in ["stage0", "stage1", "integrated"] {
            XCTAssertNotNil(json["mmvp"]?[column]?["overall"], "mmvp.\(column).overall in \(r.stdout.prefix(300))")
            XCTAssertNotNil(json["zero_shot"]?[column]?["direction"]?.doubleValue)
            XCTAssertNotNil(json["probe"]?[column]?["colour"]?.doubleValue)
        }
        XCTAssertEqual(json["configuration"]?["method"]?.stringValue, "clip")
        XCTAssertEqual(json["configuration"]?["trainable_layers"]?.doubleValue, 2)
        XCTAssertEqual(json["stages"]?.arrayValue?.count, 2)
        let emb = try NPY.read(out + "/stage1_image_embeddings.npy")
        XCTAssertEqual(emb.shape, [96, 32])
        XCTAssertEqual(try NPY.read(out + "/pseudo_labels_stage1.npy").shape, [96])
        let weights = try SafeTensors.read(out + "/stage1.safetensors")
        let names = Set(weights.tensors.map { $0.name })
        XCTAssert(names.contains("logit_scale") && names.contains("text.embedding.weight") && names.contains("image.head.3.weight"), "\(names)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.json"))
        let again = try runMCLRef(["train", "--method", "clip", "--out", out] + small)
        XCTAssertEqual(again.status, 2)
        XCTAssert(again.stderr.contains("already holds a run"), again.stderr)
    }

    func testUserPairsAndRefusals() throws {
        var rng = RNG(seed: 1)
        let images = (0..<(64 * 3 * 4 * 4)).map { _ in Float(rng.normal()) }
        try NPY.write(try NPYArray(floats: images, shape: [64, 3, 4, 4]), to: scratch + "/x.npy")
        let tokens = (0..<64).flatMap { i in [1 + i % 5, 1 + (i / 5) % 5, 0] }
        try NPY.write(try NPYArray(ints: tokens, shape: [64, 3]), to: scratch + "/t.npy")
        try NPY.write(try NPYArray(ints: (0..<64).map { $0 % 5 }, shape: [64]), to: scratch + "/y.npy")
        let user = ["train", "--method", "clip", "--data", scratch + "/x.npy", "--tokens", scratch + "/t.npy", "--epochs", "1",
                    "--batch-size", "16", "--clusters", "2", "--stages", "2", "--encoder", "mlp", "--hidden", "8", "--quiet"]
        let r = try runMCLRef(user + ["--labels", scratch + "/y.npy", "--out", scratch + "/user"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stdout.contains("integrated"), r.stdout)
        // The run directory stores --data, --tokens and --labels as absolute paths: it resumes from anywhere.
        try cutRunBack(scratch + "/user", to: scratch + "/user-cut", stages: 1)
        let resumed = try runMCLRef(["train", "--resume", scratch + "/user-cut", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.stdout, r.stdout.replacingOccurrences(of: scratch + "/user/", with: scratch + "/user-cut/"))
        for (args, message) in [
            (["train", "--method", "clip", "--data", scratch + "/x.npy"], "needs --tokens"),
            (["train", "--method", "clip", "--resume", scratch], scratch + "/checkpoint.json: missing file"),
            (["train", "--method", "clip", "--temperature", "0.1"], "--temperature does not apply to CLIP"),
            (["train", "--method", "clip", "--dataset", "easy-hard"], "needs image–caption pairs"),
            (["train", "--method", "clip", "--data", scratch + "/x.npy", "--tokens", scratch + "/y.npy"], "2-D array"),
        ] {
            let bad = try runMCLRef(args)
            XCTAssertEqual(bad.status, 2, "\(args): \(bad.stderr)")
            XCTAssert(bad.stderr.contains(message), bad.stderr)
            XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, "one line: \(bad.stderr)")
        }
    }

    func testDemoClipPrintsTable3Layout() throws {
        let r = try runMCLRef(["demo", "--clip", "--seeds", "0", "--no-control"] + small)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stdout.contains("MMVP-style pair accuracy"), r.stdout)
        for row in ["shape", "colour", "direction", "position", "count", "overall"] { XCTAssert(r.stdout.contains(row), row) }
        XCTAssert(r.stdout.contains("stage0") && r.stdout.contains("stage1") && r.stdout.contains("integrated"), r.stdout)
        XCTAssert(r.stdout.contains(" s for 1 seed"), "runtime stated: \(r.stdout)")
    }

    // MARK: Checkpoints and resume (issue 15: "as for the other methods")

    /// Every regular file of a run directory, sorted.
    func runFiles(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    /// A JSON value without its "seconds" (timings differ between runs; nothing else may).
    func withoutTimings(_ v: JSONValue) -> JSONValue {
        switch v {
        case let .object(pairs): return .object(pairs.filter { $0.0 != "seconds" }.map { ($0.0, withoutTimings($0.1)) })
        case let .array(items): return .array(items.map(withoutTimings))
        default: return v
        }
    }

    /// A run cut back after stage 0 or after stage 1 (as a kill there leaves it) and resumed — on
    /// another thread count — writes every file byte for byte as the uninterrupted run; checkpoint.json
    /// and report.json differ in timings only. The MLP tower with the mask sampler, the CNN tower with
    /// cluster-batch and --trainable-layers (BatchNorm running statistics and the frozen layers must
    /// come back exactly: every later stage starts from the stored stage-0 weights).
    func testACutRunResumesToTheSameFilesByteForByte() throws {
        let mlp = ["--samples", "96", "--epochs", "2", "--batch-size", "32", "--clusters", "2", "--stages", "3",
                   "--encoder", "mlp", "--hidden", "16", "--rep-width", "8", "--mmvp-threshold", "0.5"]
        let cnn = ["--samples", "64", "--epochs", "1", "--batch-size", "16", "--clusters", "2", "--stages", "3",
                   "--conv-widths", "4,8", "--hidden", "16", "--rep-width", "8", "--trainable-layers", "3",
                   "--sampler", "cluster-batch", "--mmvp-threshold", "0.5"]
        for (name, args) in [("mlp", mlp), ("cnn", cnn)] {
            let full = scratch + "/" + name
            let reference = try runMCLRef(["train", "--method", "clip", "--out", full, "--threads", "1", "--quiet"] + args)
            XCTAssertEqual(reference.status, 0, reference.stderr)
            let names = try runFiles(full)
            XCTAssert(names.contains("stage2.safetensors") && names.contains("stage2_centroids.npy"), "\(names)")
            XCTAssertEqual(try JSONValue.read(full + "/checkpoint.json")["completed_stages"]?.intValue, 3)
            for done in [1, 2] {
                let cut = scratch + "/\(name)-cut\(done)"
                try cutRunBack(full, to: cut, stages: done)
                XCTAssertFalse(try runFiles(cut).contains("stage\(done).safetensors"))
                let resumed = try runMCLRef(["train", "--resume", cut, "--threads", "2"])
                XCTAssertEqual(resumed.status, 0, resumed.stderr)
                XCTAssert(resumed.stderr.contains("resuming \(cut): \(done) of 3 stages complete"), resumed.stderr)
                XCTAssertFalse(resumed.stderr.contains("stage 0 done"), "stage 0 was retrained:\n\(resumed.stderr)")
                XCTAssertEqual(try runFiles(cut), names)
                for file in names where !file.hasSuffix(".json") {
                    XCTAssertEqual(FileManager.default.contents(atPath: full + "/" + file),
                                   FileManager.default.contents(atPath: cut + "/" + file), "\(name), cut at \(done): \(file) differs")
                }
                for file in ["report.json", "checkpoint.json"] {
                    XCTAssertEqual(withoutTimings(try JSONValue.read(cut + "/" + file)), withoutTimings(try JSONValue.read(full + "/" + file)),
                                   "\(name), cut at \(done): \(file) differs beyond timings")
                }
            }
        }
    }

    func testResumeRefusesChangesAndTheOtherKindOfRun() throws {
        let dir = scratch + "/run"
        let args = ["train", "--method", "clip", "--samples", "64", "--epochs", "1", "--batch-size", "32", "--clusters", "2",
                    "--stages", "2", "--encoder", "mlp", "--hidden", "8", "--rep-width", "4", "--mmvp-threshold", "0.5", "--quiet"]
        XCTAssertEqual(try runMCLRef(args + ["--out", dir]).status, 0)
        let mcl = scratch + "/simclr"
        let unimodal = try runMCLRef(["train", "--samples", "64", "--stages", "1", "--epochs", "1", "--batch-size", "16",
                                      "--hidden", "8", "--rep-width", "4", "--quiet", "--out", mcl])
        XCTAssertEqual(unimodal.status, 0, unimodal.stderr)
        func contents() throws -> [Data?] {
            try (runFiles(dir).map { dir + "/" + $0 } + runFiles(mcl).map { mcl + "/" + $0 }).map { FileManager.default.contents(atPath: $0) }
        }
        let before = try contents()
        func assertRefused(_ args: [String], _ mentions: [String], line: UInt = #line) throws {
            let r = try runMCLRef(args)
            XCTAssertEqual(r.status, 2, r.stderr, line: line)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, line: line)
            for m in mentions { XCTAssert(r.stderr.contains(m), "missing '\(m)' in \(r.stderr)", line: line) }
            XCTAssertEqual(try contents(), before, "a run directory changed", line: line)
        }
        // A new run into it; a setting given with --resume; the other kind of run.
        try assertRefused(args + ["--out", dir], ["already holds a run", "--resume \(dir)"])
        try assertRefused(["train", "--resume", dir, "--clusters", "3"], ["--clusters cannot be combined with --resume"])
        try assertRefused(["train", "--resume", dir, "--method", "simclr"], ["--method simclr cannot be combined", "holds a clip run"])
        try assertRefused(["train", "--method", "clip", "--resume", mcl], ["--method clip cannot be combined", "holds a simclr run"])
        try assertRefused(["encode", "--run", dir, "--data", scratch + "/x.npy", "--out", scratch + "/z.npy"], ["is a CLIP run"])
        try assertRefused(["report", dir, "--out", scratch + "/r.html"], ["a CLIP run", "report draws unimodal runs only"])

        // checkpoint.json changed: its configuration (refused by name), its arguments (which give
        // another configuration now), the other kind's parser, a stage file (its checksum).
        let checkpoint = dir + "/checkpoint.json"
        let saved = try XCTUnwrap(FileManager.default.contents(atPath: checkpoint))
        func edit(_ change: (String, JSONValue) -> JSONValue) throws {
            guard case let .object(pairs) = try JSONValue.read(checkpoint) else { return XCTFail("not an object") }
            try JSONValue.object(pairs.map { ($0.0, change($0.0, $0.1)) }).serialized()
                .write(toFile: checkpoint, atomically: true, encoding: .utf8)
        }
        try edit { key, value in
            guard key == "configuration", case let .object(c) = value else { return value }
            return .object(c.map { $0.0 == "trainable_layers" ? ($0.0, .number(1)) : $0 })
        }
        var r = try runMCLRef(["train", "--resume", dir])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssert(r.stderr.contains(checkpoint) && r.stderr.contains("differs in: trainable_layers"), r.stderr)
        try saved.write(to: URL(fileURLWithPath: checkpoint))
        try edit { key, value in
            guard key == "arguments", case let .array(a) = value else { return value }
            return .array(a + [.string("--lr"), .string("0.01")])
        }
        r = try runMCLRef(["train", "--resume", dir])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssert(r.stderr.contains("differs in: lr"), r.stderr)
        try saved.write(to: URL(fileURLWithPath: checkpoint))
        XCTAssertThrowsError(try RunDirectory(dir).readCheckpoint()) { e in
            XCTAssert("\(e)".contains("is the checkpoint of a CLIP run"), "\(e)")
        }
        XCTAssertThrowsError(try CLIPRunDirectory(mcl).readCheckpoint()) { e in
            XCTAssert("\(e)".contains("is the checkpoint of a simclr run, not of a CLIP run"), "\(e)")
        }
        let weights = dir + "/stage0.safetensors"
        let original = try XCTUnwrap(FileManager.default.contents(atPath: weights))
        var bytes = [UInt8](original)
        bytes[bytes.count - 3] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: weights))
        r = try runMCLRef(["train", "--resume", dir])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssert(r.stderr.contains(weights + ": changed since stage 0 wrote it"), r.stderr)
        try original.write(to: URL(fileURLWithPath: weights))
        // Undamaged, the finished run resumes with nothing to train.
        let again = try runMCLRef(["train", "--resume", dir, "--json"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(again.stderr.contains(" done in "), again.stderr)
        XCTAssertEqual(try JSONValue.parse(again.stdout)["stages"]?.arrayValue?.count, 2)
    }

    /// Options that would do nothing where they are given are refused with one line.
    func testOptionsWithoutEffectAreRefused() throws {
        let clip = ["train", "--method", "clip"]
        for (args, message) in [
            (["demo", "--method", "clip"], "--method clip: the CLIP demo is 'mcl-ref demo --clip'"),
            (clip + ["--viewmaker"], "--viewmaker does not apply to CLIP"),
            (clip + ["--sparse-head"], "--sparse-head does not apply to CLIP"),
            (clip + ["--temperature-schedule", "cosine:0.1:0.5:10"], "--temperature-schedule does not apply to CLIP"),
            (clip + ["--ifm", "0.1"], "--ifm does not apply to CLIP"),
            (clip + ["--ifm-alpha", "1"], "--ifm-alpha does not apply to CLIP"),
            (clip + ["--knn", "3"], "--knn does not apply to CLIP"),
            (clip + ["--stages", "1", "--trainable-layers", "2"], "--trainable-layers applies to the MCL stages ≥ 1"),
            (clip + ["--stages", "1", "--sampler", "cluster-batch"], "--sampler applies to the MCL stages ≥ 1"),
            (clip + ["--encoder", "mlp", "--conv-widths", "4"], "--conv-widths applies to --encoder cnn only"),
            (clip + ["--labels", "y.npy"], "--labels applies to --data only"),
            (clip + ["--no-standardize"], "--no-standardize applies to --data only"),
            (clip + ["--data", "x.npy", "--tokens", "t.npy", "--samples", "10"], "--samples applies to built-in data only"),
            (clip + ["--data", "x.npy", "--tokens", "t.npy", "--mmvp-pairs", "3"], "without --labels"),
            (clip + ["--data", "x.npy", "--tokens", "t.npy", "--feature-names", "a"], "--feature-names: without --labels"),
            (clip + ["--test-labels", "y.npy"], "--test-labels: --method clip holds out"),
            (["train", "--trainable-layers", "2"], "--trainable-layers applies to --method clip only"),
            (["train", "--tokens", "t.npy"], "--tokens applies to --method clip only"),
            (["demo", "--mmvp-threshold", "0.5"], "--mmvp-threshold applies to demo --clip only"),
            (["demo", "--encoder", "cnn"], "--encoder applies to demo --clip only"),
            (["demo", "--clip", "--images"], "--images does not apply to demo --clip"),
            (["demo", "--clip", "--baselines"], "--baselines does not apply to demo --clip"),
        ] {
            let r = try runMCLRef(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssert(r.stderr.contains(message), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
        }
        // demo --help states CLIP's own defaults next to the unimodal ones.
        let help = try runMCLRef(["demo", "--help"])
        XCTAssertEqual(help.status, 0)
        let clusters = try XCTUnwrap(help.stdout.split(separator: "\n").first { $0.contains("--clusters") })
        XCTAssert(clusters.contains("clip: 10") && clusters.contains("default: 5"), String(clusters))
    }
}
