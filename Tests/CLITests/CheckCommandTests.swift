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
        let original = values[7]
        values[7] *= 1.001  // shape (3, 5): index [1, 2]
        try NPY.write(doubles: values, shape: [3, 5], to: path)
        let r = try check()
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        let fail = r.stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL ") }
        XCTAssertEqual(fail.count, 1, r.stdout)
        XCTAssert(fail[0].hasPrefix("FAIL linear/d_weight") && fail[0].contains("worst=[1, 2]"), String(fail[0]))
        // the values at the worst index, as numpy.testing.assert_allclose shows ACTUAL and DESIRED
        XCTAssert(fail[0].hasSuffix("1/15 elements outside tolerance; at [1, 2]: candidate \(values[7]), reference \(original)"),
                  String(fail[0]))
        XCTAssert(r.stdout.contains("FAILED: 7/8"), r.stdout)

        let json = try check(["--json"])
        XCTAssertEqual(json.status, 1)
        let parsed = try JSONValue.parse(json.stdout)
        XCTAssertEqual(parsed["passed"], .bool(false))
        XCTAssertEqual(parsed["failed"], .number(1))
        XCTAssertEqual(parsed["results"]?.arrayValue?.count, 8)
        let failure = parsed["results"]?.arrayValue?.first { $0["status"] == .string("fail") }
        XCTAssertEqual(failure?["worst_candidate"], .number(values[7]))
        XCTAssertEqual(failure?["worst_reference"], .number(original))
    }

    func testWrongClusterLabelsShowBothIntegersAtTheWorstIndex() throws {
        let path = candidate + "/kmeans_lloyd/labels.npy"
        var labels = try NPY.readIntArray(path).values
        let original = labels[5]
        labels[5] = original + 2
        try NPY.write(ints: labels, shape: [labels.count], to: path)
        let r = try check(["--case", "kmeans_lloyd"])
        XCTAssertEqual(r.status, 1)
        XCTAssert(r.stdout.contains("FAIL kmeans_lloyd/labels") && r.stdout.contains(
            "1/\(labels.count) elements outside tolerance; at [5]: candidate \(original + 2), reference \(original)"), r.stdout)
    }

    /// A backend that implements some cases: absent candidate files are SKIP with --allow-missing,
    /// and the run passes only if something was compared and nothing failed.
    func testAllowMissingSkipsAbsentCandidateFilesButNeedsOneComparison() throws {
        try FileManager.default.removeItem(atPath: candidate + "/linear")
        try FileManager.default.removeItem(atPath: candidate + "/kmeans_lloyd/inertia.npy")
        XCTAssertEqual(try check().status, 2, "without --allow-missing a missing file is an error")

        var r = try check(["--allow-missing"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("SKIP ") }.count, 5, r.stdout)
        XCTAssert(lines.contains("SKIP kmeans_lloyd/inertia  no candidate file \(candidate)/kmeans_lloyd/inertia.npy"), r.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("OK ") }.count, 3, r.stdout)
        XCTAssertEqual(lines.last, "PASSED: 3/3 tensors within tolerance in 1 cases; 5 skipped (no candidate file)")

        let json = try JSONValue.parse(try check(["--allow-missing", "--json"]).stdout)
        XCTAssertEqual(json["passed"], .bool(true))
        XCTAssertEqual(json["compared"], .number(3))
        XCTAssertEqual(json["skipped"], .number(5))
        XCTAssertEqual(json["results"]?.arrayValue?.filter { $0["status"] == .string("skip") }.count, 5)

        // a compared tensor that fails still fails the run
        try NPY.write(ints: Array(repeating: 0, count: 24), shape: [24], to: candidate + "/kmeans_lloyd/labels.npy")
        r = try check(["--allow-missing"])
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssert(r.stdout.contains("FAIL kmeans_lloyd/labels") && r.stdout.contains("FAILED: 2/3"), r.stdout)

        // a malformed candidate file is still an error, not a skip
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: candidate + "/kmeans_lloyd/labels.npy"))
        r = try check(["--allow-missing"])
        XCTAssertEqual(r.status, 2)
        XCTAssert(r.stderr.contains("kmeans_lloyd/labels.npy: malformed .npy"), r.stderr)

        // nothing compared at all: not a pass
        try FileManager.default.removeItem(atPath: candidate + "/kmeans_lloyd")
        r = try check(["--allow-missing"])
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssert(r.stdout.contains("FAILED: 0/0 tensors") && r.stdout.contains("8 skipped") && r.stdout.contains("nothing was compared"), r.stdout)
        XCTAssertEqual(try JSONValue.parse(try check(["--allow-missing", "--json"]).stdout)["passed"], .bool(false))
    }

    func testAManifestWithoutOutputsIsABadFixture() throws {
        let path = reference + "/linear/manifest.json"
        var json = try JSONValue.read(path)
        guard case var .object(pairs) = json, let i = pairs.firstIndex(where: { $0.0 == "outputs" }) else {
            return XCTFail("manifest without outputs list")
        }
        pairs[i].1 = .array([])
        json = .object(pairs)
        try Data(json.serialized().utf8).write(to: URL(fileURLWithPath: path))
        for extra in [[], ["--allow-missing"]] {
            let r = try check(extra)
            XCTAssertEqual(r.status, 2, r.stdout)
            XCTAssert(r.stderr.contains(path + ": 'outputs' is empty"), r.stderr)
            XCTAssertEqual(r.stdout, "")
        }
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
