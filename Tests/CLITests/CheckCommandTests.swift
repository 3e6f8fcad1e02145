import Foundation
import XCTest
import MCLNumerics

final class CheckCommandTests: XCTestCase {
    var scratch = ""
    var reference: String { scratch + "/ref" }
    var candidate: String { scratch + "/cand" }

    override func setUpWithError() throws {
        scratch = try makeScratchDirectory()
        for dir in [reference, candidate] {
            let r = try runMCLRef(["fixtures", "--out", dir, "--case", "linear", "--case", "kmeans_lloyd"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    func check(_ extra: [String] = []) throws -> ProcessResult {
        try runMCLRef(["check", "--reference", reference, "--candidate", candidate] + extra)
    }

    func testIdenticalOutputsPassWithOneLinePerTensor() throws {
        let r = try check()
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("OK") }.count, 8, r.stdout)
        XCTAssert(lines.contains { $0.hasPrefix("OK   kmeans_lloyd/labels  max_abs=0 max_rel=0 worst=") }, r.stdout)
        XCTAssert(lines.last!.hasPrefix("PASSED: 8/8"), r.stdout)
        XCTAssertEqual(try check(["--case", "linear"]).stdout.split(separator: "\n").filter { $0.hasPrefix("OK") }.count, 4)
    }

    func testAPerturbedTensorFailsWithExitOneAndItsWorstIndex() throws {
        let path = candidate + "/linear/d_weight.npy"
        var values = try NPY.read(path).asDoubles()
        values[7] *= 1.001  // shape (3, 5): index [1, 2]
        try NPY.write(doubles: values, shape: [3, 5], to: path)
        let r = try check()
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        let fail = r.stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL ") }
        XCTAssertEqual(fail.count, 1, r.stdout)
        XCTAssert(fail[0].hasPrefix("FAIL linear/d_weight") && fail[0].contains("worst=[1, 2]"), String(fail[0]))
        XCTAssert(r.stdout.contains("FAILED: 7/8"), r.stdout)

        let json = try check(["--json"])
        XCTAssertEqual(json.status, 1)
        let parsed = try JSONValue.parse(json.stdout)
        XCTAssertEqual(parsed["passed"], .bool(false))
        XCTAssertEqual(parsed["failed"], .number(1))
        XCTAssertEqual(parsed["results"]?.arrayValue?.count, 8)
    }

    func testWrongLabelsAndWrongShapesFail() throws {
        try NPY.write(ints: Array(repeating: 0, count: 24), shape: [24], to: candidate + "/kmeans_lloyd/labels.npy")
        try NPY.write(doubles: [1, 2, 3], shape: [3], to: candidate + "/linear/y.npy")
        let r = try check()
        XCTAssertEqual(r.status, 1)
        XCTAssert(r.stdout.contains("FAIL kmeans_lloyd/labels"), r.stdout)
        XCTAssert(r.stdout.contains("FAIL linear/y") && r.stdout.contains("shape (3,), expected (4, 3)"), r.stdout)
    }

    func testMissingOrMalformedFilesExitTwoAndAreNamed() throws {
        let y = candidate + "/linear/y.npy"
        try FileManager.default.removeItem(atPath: y)
        var r = try check()
        XCTAssertEqual(r.status, 2)
        XCTAssert(r.stderr.contains(y) && r.stderr.contains("missing file"), r.stderr)

        try Data("not an npy file".utf8).write(to: URL(fileURLWithPath: y))
        r = try check()
        XCTAssertEqual(r.status, 2)
        XCTAssert(r.stderr.contains(y) && r.stderr.contains("malformed .npy"), r.stderr)

        let manifest = reference + "/kmeans_lloyd/manifest.json"
        try Data("{ \"format_version\": 1, ".utf8).write(to: URL(fileURLWithPath: manifest))
        r = try check(["--case", "kmeans_lloyd"])
        XCTAssertEqual(r.status, 2)
        XCTAssert(r.stderr.contains(manifest), r.stderr)

        r = try check(["--case", "no_such_case"])
        XCTAssertEqual(r.status, 2)
        XCTAssert(r.stderr.contains(reference + "/no_such_case/manifest.json: missing file"), r.stderr)

        r = try runMCLRef(["check", "--reference", reference, "--candidate", scratch + "/absent"])
        XCTAssertEqual(r.status, 2)
        XCTAssert(r.stderr.contains(scratch + "/absent"), r.stderr)

        r = try runMCLRef(["check", "--candidate", candidate])
        XCTAssertEqual(r.status, 2)
        XCTAssert(r.stderr.contains("--reference"), r.stderr)
    }

    /// Examples/numpy_backend.py passes, and its --broken variant is caught (needs python3 + numpy).
    func testNumpyExampleBackendPassesAndItsBrokenVariantFails() throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/python3" }
        let python = path.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let python, try runProcess(URL(fileURLWithPath: python), ["-c", "import numpy"]).status == 0 else {
            throw XCTSkip("python3 with numpy not available")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("Examples/numpy_backend.py").path
        let fixtures = root.appendingPathComponent("Fixtures/golden/f64").path
        let cases = ["--case", "simclr_step", "--case", "kmeans_lloyd"]
        for (flag, expected) in [([String](), Int32(0)), (["--broken"], Int32(1))] {
            let out = scratch + "/numpy\(flag.joined())"
            let run = try runProcess(URL(fileURLWithPath: python), [script, "--fixtures", fixtures, "--out", out] + flag)
            XCTAssertEqual(run.status, 0, run.stderr)
            let r = try runMCLRef(["check", "--reference", fixtures, "--candidate", out] + cases)
            XCTAssertEqual(r.status, expected, "numpy_backend.py \(flag):\n\(r.stdout)\(r.stderr)")
            if expected == 1 { XCTAssert(r.stdout.contains("FAIL simclr_step/loss"), r.stdout) }
        }
    }
}
