import Foundation
import XCTest
import MCLNumerics

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
        let r = try runMCLRef(user + ["--labels", scratch + "/y.npy"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stdout.contains("integrated"), r.stdout)
        for (args, message) in [
            (["train", "--method", "clip", "--data", scratch + "/x.npy"], "needs --tokens"),
            (["train", "--method", "clip", "--resume", scratch], "--resume"),
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
}
