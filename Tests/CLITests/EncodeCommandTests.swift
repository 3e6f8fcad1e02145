import Foundation
import XCTest
import MCLNumerics
import MCLReference

/// `mcl-ref encode`: a run's encoders on new data reproduce the run's own test representations bit
/// for bit (user vectors with per-column standardisation, user images with per-channel
/// standardisation and the CNN, a built-in data set without standardisation); bad input exits 2 with
/// one line and writes nothing.
final class EncodeCommandTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// Encodes `data` with `run` (integrated, then each stage alone) and compares with the run's files.
    func assertReproducesTestRepresentations(run: String, data: String, stages: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let z = scratch + "/z.npy"
        let r = try runMCLRef(["encode", "--run", run, "--data", data, "--out", z, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        let summary = try JSONValue.parse(r.stdout)
        XCTAssertEqual(summary["stages"]?.arrayValue?.count, stages, file: file, line: line)
        XCTAssertEqual(summary["integrated"]?.boolValue, true, file: file, line: line)
        XCTAssertNotNil(bytes(z), file: file, line: line)
        XCTAssertEqual(bytes(z), bytes(run + "/integrated_test_representations.npy"), "integrated", file: file, line: line)
        for j in 0..<stages {
            let zj = scratch + "/z\(j).npy"
            let rj = try runMCLRef(["encode", "--run", run, "--data", data, "--out", zj, "--stage", String(j), "--quiet"])
            XCTAssertEqual(rj.status, 0, rj.stderr, file: file, line: line)
            XCTAssertEqual(bytes(zj), bytes(run + "/stage\(j)_test_representations.npy"), "stage \(j)", file: file, line: line)
        }
    }

    func testUserVectorRunIsReproducedFromTheRawTestFile() throws {
        var rng = RNG(seed: 9)
        let x = scratch + "/x.npy", y = scratch + "/y.npy", xt = scratch + "/xt.npy", yt = scratch + "/yt.npy"
        // Columns far from mean 0 / sd 1, so the standardisation matters.
        let train: [Double] = (0..<(64 * 5)).map { _ in 40 + 9 * rng.normal() }
        let test: [Double] = (0..<(30 * 5)).map { _ in 40 + 9 * rng.normal() }
        try NPY.write(doubles: train, shape: [64, 5], to: x)
        try NPY.write(doubles: test, shape: [30, 5], to: xt)
        try NPY.write(ints: (0..<64).map { train[$0 * 5] > 40 ? 1 : 0 }, shape: [64], to: y)
        try NPY.write(ints: (0..<30).map { test[$0 * 5] > 40 ? 1 : 0 }, shape: [30], to: yt)
        let run = scratch + "/run"
        let t = try runMCLRef(["train", "--data", x, "--labels", y, "--test-data", xt, "--test-labels", yt, "--stages", "2",
                               "--clusters", "2", "--epochs", "2", "--batch-size", "16", "--hidden", "8", "--rep-width", "4",
                               "--quiet", "--out", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertEqual(try NPY.read(run + "/input_mean.npy").shape, [5])
        try assertReproducesTestRepresentations(run: run, data: xt, stages: 2)
        try assertNumpyReadsTheWeights(run: run, data: xt)
        // Standardisation is part of it: the same rows already standardised give other numbers.
        let zs = scratch + "/zs.npy"
        let mean = try NPY.read(run + "/input_mean.npy").asDoubles(), sd = try NPY.read(run + "/input_std.npy").asDoubles()
        let standardized: [Double] = test.indices.map { i in (test[i] - mean[i % 5]) / sd[i % 5] }
        try NPY.write(doubles: standardized, shape: [30, 5], to: zs)
        XCTAssertEqual(try runMCLRef(["encode", "--run", run, "--data", zs, "--out", scratch + "/other.npy", "--quiet"]).status, 0)
        XCTAssertNotEqual(bytes(scratch + "/other.npy"), bytes(run + "/integrated_test_representations.npy"))
    }

    /// Examples/load_safetensors.py (numpy only) parses every stage<j>.safetensors, finds the same
    /// tensors as stage<j>_weights/*.npy, and its own float64 forward pass with PyTorch's conventions
    /// (x @ W.T + b, (O, C, kh, kw) convolutions) gives the run's test representations to 1e-4.
    func assertNumpyReadsTheWeights(run: String, data: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/python3" }
        guard let python = path.first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
              try runProcess(URL(fileURLWithPath: python), ["-c", "import numpy"]).status == 0 else { return }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("Examples/load_safetensors.py").path
        let r = try runProcess(URL(fileURLWithPath: python),
                               [script, run, "--data", data, "--expect", run + "/integrated_test_representations.npy"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr, file: file, line: line)
        XCTAssert(r.stdout.contains("OK   vs ") && !r.stdout.contains("FAIL"), r.stdout, file: file, line: line)
    }

    func testUserImageRunWithTheCNNIsReproduced() throws {
        var rng = RNG(seed: 4)
        let x = scratch + "/x.npy", y = scratch + "/y.npy", xt = scratch + "/xt.npy", yt = scratch + "/yt.npy"
        let train: [Double] = (0..<(64 * 2 * 8 * 8)).map { _ in 0.5 + 0.2 * rng.normal() }
        let test: [Double] = (0..<(20 * 2 * 8 * 8)).map { _ in 0.5 + 0.2 * rng.normal() }
        try NPY.write(doubles: train, shape: [64, 2, 8, 8], dtype: .float32, to: x)
        try NPY.write(doubles: test, shape: [20, 2, 8, 8], dtype: .float32, to: xt)
        try NPY.write(ints: (0..<64).map { $0 % 2 }, shape: [64], to: y)
        try NPY.write(ints: (0..<20).map { $0 % 2 }, shape: [20], to: yt)
        let run = scratch + "/run"
        let t = try runMCLRef(["train", "--data", x, "--labels", y, "--test-data", xt, "--test-labels", yt, "--stages", "2",
                               "--clusters", "2", "--epochs", "1", "--batch-size", "32", "--conv-widths", "4,8", "--rep-width", "4",
                               "--quiet", "--out", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertEqual(try JSONValue.read(run + "/checkpoint.json")["input"]?["standardization"]?.stringValue, "per-channel")
        XCTAssertEqual(try NPY.read(run + "/stage0_weights/encoder.0.weight.npy").shape, [4, 2, 3, 3], "Conv2d (O, C, kh, kw)")
        try assertReproducesTestRepresentations(run: run, data: xt, stages: 2)
        try assertNumpyReadsTheWeights(run: run, data: xt)
        // Vectors of the same size are not images of the run's shape.
        try NPY.write(doubles: test, shape: [20, 128], to: scratch + "/flat.npy")
        let flat = try runMCLRef(["encode", "--run", run, "--data", scratch + "/flat.npy", "--out", scratch + "/f.npy"])
        XCTAssertEqual(flat.status, 2)
        XCTAssert(flat.stderr.contains("samples of shape (N, 128), the run was trained on (N, 2, 8, 8)"), flat.stderr)
    }

    func testBuiltInRunIsReproducedFromItsRegeneratedTestSet() throws {
        let run = scratch + "/run"
        let t = try runMCLRef(["train", "--samples", "96", "--stages", "2", "--clusters", "3", "--epochs", "2", "--batch-size", "32",
                               "--hidden", "16", "--rep-width", "4", "--seed", "5", "--quiet", "--out", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertEqual(try JSONValue.read(run + "/checkpoint.json")["input"]?["standardization"]?.stringValue, "none")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/input_mean.npy"))
        // The built-in test set: the second half of the 2n samples `train` draws.
        let test = EasyHardVectors.make(count: 192, seed: 5, as: Float.self).subset(Array(96..<192))
        try NPY.write(test.x, to: scratch + "/test.npy")
        try assertReproducesTestRepresentations(run: run, data: scratch + "/test.npy", stages: 2)
    }

    func testBadInputExits2WithOneLineAndWritesNothing() throws {
        let run = scratch + "/run", z = scratch + "/z.npy"
        XCTAssertEqual(try runMCLRef(["train", "--samples", "64", "--stages", "2", "--clusters", "2", "--epochs", "1",
                                      "--batch-size", "32", "--hidden", "8", "--rep-width", "4", "--quiet", "--out", run]).status, 0)
        let data = scratch + "/x.npy"
        try NPY.write(floats: [Float](repeating: 0.5, count: 10 * 32), shape: [10, 32], to: data)
        try NPY.write(ints: [Int](repeating: 1, count: 10 * 32), shape: [10, 32], to: scratch + "/ints.npy")
        try NPY.write(floats: [Float](repeating: .nan, count: 32), shape: [1, 32], to: scratch + "/nan.npy")
        let cases: [([String], String)] = [
            (["--data", data, "--out", z], "--run: missing"),
            (["--run", run, "--out", z], "--data: missing"),
            (["--run", run, "--data", data], "--out: missing"),
            (["--run", scratch + "/nope", "--data", data, "--out", z], "is not a directory"),
            (["--run", scratch, "--data", data, "--out", z], scratch + "/checkpoint.json: missing file"),
            (["--run", run, "--data", data, "--out", z, "--stage", "2"], "--stage: 2 is not a completed stage"),
            (["--run", run, "--data", data, "--out", z, "--stage", "1", "--integrated"], "mutually exclusive"),
            (["--run", run, "--data", data, "--out", scratch], "is a directory"),
            (["--run", run, "--data", scratch + "/ints.npy", "--out", z], "expected float32 or float64"),
            (["--run", run, "--data", scratch + "/nan.npy", "--out", z], "must be finite"),
            (["--run", run, "--data", scratch + "/missing.npy", "--out", z], "missing.npy"),
        ]
        for (args, message) in cases {
            let r = try runMCLRef(["encode"] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssert(r.stderr.hasPrefix("mcl-ref: error: ") && r.stderr.contains(message), "expected '\(message)': \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: z), "\(args) wrote \(z)")
        }
        let help = try runMCLRef(["encode", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssert(help.stdout.contains("--integrated") && help.stdout.contains("bit for bit"), help.stdout)
    }
}
